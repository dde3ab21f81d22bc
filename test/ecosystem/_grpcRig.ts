/**
 * The grpc-js rig of the ecosystem tests: a service on raw Buffers (no .proto), its handlers,
 * a grpc-js server fed by an alts-record createServer through a connection injector, and
 * clients on altsChannelCredentials whose conns (and their closes) are collected.
 */
import * as grpc from '@grpc/grpc-js';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type AltsServer } from '../../src/api.js';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { altsChannelCredentials, type AltsChannelOptions } from '../../src/integrations/grpc.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { closeOf, newKey, protocol } from './_helpers.js';

export const CHUNK = 64 * 1024;
export const STREAM_CHUNKS = 32; // 2 MiB per streaming RPC
export const UNARY_BYTES = 1024 * 1024;

export const sha256 = (...parts: Uint8Array[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const bytesMethod = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/alts.test.Bytes/${name}`,
  requestStream,
  responseStream,
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
});
export const BytesService = {
  echo: bytesMethod('Echo', false, false),
  download: bytesMethod('Download', false, true),
  upload: bytesMethod('Upload', true, false),
  chat: bytesMethod('Chat', true, true),
} satisfies grpc.ServiceDefinition;
export const BytesClient = grpc.makeGenericClientConstructor(BytesService, 'Bytes');
export type Client = InstanceType<typeof BytesClient> & Record<string, (...args: any[]) => any>;

const handlers: grpc.UntypedServiceImplementation = {
  echo(call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) {
    if (call.metadata.get('x-token')[0] !== 'sesame') return done({ code: grpc.status.UNAUTHENTICATED });
    done(null, call.request);
  },
  // Sends `count` random chunks; their sha256 goes in the trailers.
  download(call: grpc.ServerWritableStream<Buffer, Buffer>) {
    const count = call.request.readUInt32BE(0);
    const hash = createHash('sha256');
    for (let i = 0; i < count; i++) {
      const chunk = randomBytes(CHUNK);
      hash.update(chunk);
      call.write(chunk);
    }
    const trailers = new grpc.Metadata();
    trailers.set('x-sha256', hash.digest('hex'));
    call.end(trailers);
  },
  // Answers "<bytes> <sha256>" of everything the client sent.
  upload(call: grpc.ServerReadableStream<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) {
    const hash = createHash('sha256');
    let bytes = 0;
    call.on('data', (d: Buffer) => {
      hash.update(d);
      bytes += d.length;
    });
    call.on('end', () => done(null, Buffer.from(`${bytes} ${hash.digest('hex')}`)));
  },
  chat(call: grpc.ServerDuplexStream<Buffer, Buffer>) {
    call.on('data', (d: Buffer) => call.write(d));
    call.on('end', () => call.end());
  },
};

export interface Rig {
  grpcServer: grpc.Server;
  alts: AltsServer;
  port: number;
  key: Uint8Array;
  serverPool: BufferPool;
  serverConns: AltsConn[];
  closes: Promise<void>[];
}
let rig: Rig | null = null;

export async function startServer(): Promise<Rig> {
  const key = newKey();
  const serverPool = new BufferPool();
  const grpcServer = new grpc.Server();
  grpcServer.addService(BytesService, handlers);
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const serverConns: AltsConn[] = [];
  const closes: Promise<void>[] = [];
  // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
  const alts = createServer({ protocol, side: 'server', key, unsafeSharedKey: true, pool: serverPool }, (conn) => {
    serverConns.push(conn);
    closes.push(closeOf(conn));
    injector.injectConnection(conn.toDuplex());
  });
  const { port } = await alts.listen(0, '127.0.0.1');
  return (rig = { grpcServer, alts, port, key, serverPool, serverConns, closes });
}

export function shutdown(r: Rig): Promise<void> {
  return new Promise((resolve, reject) => r.grpcServer.tryShutdown((e) => (e ? reject(e) : resolve())));
}

/** For afterEach: force down what a test left running (one that does not check its own shutdown, or failed). */
export async function stopRig(): Promise<void> {
  const r = rig;
  rig = null;
  if (r === null) return;
  r.grpcServer.forceShutdown();
  await r.alts.close(); // resolves at once if the test closed it already
}

/** A client over ALTS; its conns are collected (and their closes) as the channel opens them. */
export function altsClient(r: Rig, o: Partial<AltsChannelOptions> & { key?: Uint8Array } = {}) {
  const conns: AltsConn[] = [];
  const token = grpc.credentials.createFromMetadataGenerator((_params, cb) => {
    const md = new grpc.Metadata();
    md.set('x-token', 'sesame');
    cb(null, md);
  });
  const creds = altsChannelCredentials({
    protocol,
    key: r.key,
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    unsafeSharedKey: true,
    ...o,
    onConn: (c) => {
      conns.push(c);
      r.closes.push(closeOf(c));
    },
  }).compose(token);
  const client = new BytesClient(`127.0.0.1:${r.port}`, creds) as Client;
  return { client, conns };
}

export function unary(client: Client, req: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => client.echo(req, (e: Error | null, r: Buffer) => (e ? reject(e) : resolve(r))));
}

/** The server conns made so far, once every conn made so far has closed. */
export async function closedServerConns(r: Rig): Promise<AltsConn[]> {
  const conns = r.serverConns.slice(); // made with their close promises, so the two lists agree
  await Promise.all(r.closes);
  return conns;
}

export function rpcError(p: Promise<unknown>): Promise<grpc.ServiceError> {
  return p.then(
    () => {
      throw new Error('the RPC succeeded');
    },
    (e: grpc.ServiceError) => e,
  );
}
