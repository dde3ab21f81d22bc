/**
 * The fake handshaker service (docs/handshake.md §7) on a grpc-js server: one FakeSession per
 * DoHandshake stream. For tests and demos on one machine, never for production: its key is
 * computable from the handshake bytes.
 * @module
 */
import { createHash } from 'node:crypto';
import type * as Grpc from '@grpc/grpc-js';
import { aint } from '../../_check.js';
import { decodeHandshakerReq, encodeHandshakerResp, type HandshakerReq } from '../messages.js';
import { DO_HANDSHAKE, loadGrpcJs } from '../service.js';
import { FakeSession, Status } from './session.js';

export interface FakeHandshakerOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
}

export interface FakeHandshaker {
  /** host:port, as the `handshaker.address` option takes it. */
  readonly address: string;
  readonly port: number;
  /** Streams opened so far. */
  readonly streams: number;
  /** Results returned so far (one per end of each connection). */
  readonly results: number;
  /** Distinct keys among them (both ends of a connection get the same one): one per connection, never reused. */
  readonly distinctKeys: number;
  /** Stop at once; open streams are cancelled. */
  close(): Promise<void>;
}

type Call = Grpc.ServerDuplexStream<HandshakerReq, Uint8Array>;

interface Counts {
  streams: number;
  results: number;
  /** SHA-256 of each key issued: counts keys without keeping them. */
  keys: Set<string>;
}

function serve(call: Call, counts: Counts): void {
  counts.streams++;
  const session = new FakeSession();
  call.on('data', (req: HandshakerReq | Error) => {
    if (session.ended) return;
    const resp = req instanceof Error ? { status: { code: Status.INVALID_ARGUMENT, details: 'a request that does not decode' } } : session.handle(req);
    if (resp.result?.keyData) {
      counts.results++;
      counts.keys.add(createHash('sha256').update(resp.result.keyData).digest('hex'));
    }
    call.write(encodeHandshakerResp(resp));
    if (resp.status) call.end(); // a refused handshake is over
  });
  call.on('end', () => call.end());
  call.on('error', () => {}); // a cancelled client: nothing to clean up
}

// A request that does not decode becomes an Error for the handler, not a stream failure.
const decodeOrError = (b: Buffer): HandshakerReq | Error => {
  try {
    return decodeHandshakerReq(b);
  } catch (e) {
    return e as Error;
  }
};

export async function startFakeHandshaker(o: FakeHandshakerOptions = {}): Promise<FakeHandshaker> {
  const host = o.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '') throw new TypeError('"host" expected a non-empty string');
  const port = o.port ?? 0;
  aint('port', port, 0, 65535);
  const grpc = loadGrpcJs();
  const server = new grpc.Server();
  const counts: Counts = { streams: 0, results: 0, keys: new Set() };
  server.addService(
    {
      DoHandshake: {
        path: DO_HANDSHAKE,
        requestStream: true,
        responseStream: true,
        requestDeserialize: decodeOrError,
        requestSerialize: () => Buffer.alloc(0),
        responseSerialize: (m: Uint8Array) => Buffer.from(m.buffer, m.byteOffset, m.byteLength),
        responseDeserialize: (b: Buffer) => b,
      },
    } as Grpc.ServiceDefinition,
    { DoHandshake: (call: Call) => serve(call, counts) } as Grpc.UntypedServiceImplementation,
  );
  const bound = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const actual = await new Promise<number>((resolve, reject) =>
    server.bindAsync(bound, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const address = `${host.includes(':') ? `[${host}]` : host}:${actual}`;
  return {
    address,
    port: actual,
    get streams() {
      return counts.streams;
    },
    get results() {
      return counts.results;
    },
    get distinctKeys() {
      return counts.keys.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}
