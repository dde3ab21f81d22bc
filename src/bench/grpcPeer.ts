/**
 * The bench peer's gRPC scenarios (`bench grpc-idle`; dispatched by peer.ts): one process serves,
 * another dials, so each holds one side of every connection.
 *   grpc-serve   a grpc-js server with one unary method, over alts-record (createServer with the
 *                handshaker + the server's connection injector), TLS or insecure (`grpc-serving`).
 *   grpc-dial    `count` more clients, each its own channel and, with a local subchannel pool,
 *                its own connection; one unary RPC done on each (`grpc-dialed`), then idle.
 *   grpc-settle  on the server, wait until `calls` RPCs have been answered; collect garbage and
 *                reply with memory (`grpc-settled`).
 * @module
 */
import type * as Grpc from '@grpc/grpc-js';
import { createServer } from '../api.js';
import { loadGrpcJs } from '../handshake/service.js';
import { AltsPeers, altsChannelCredentials } from '../integrations/grpc.js';
import { settledMemory } from './memory.js';
import type { Msg } from './peerLink.js';
import { openMany } from './transports.js';

export type GrpcKind = 'alts' | 'tls' | 'insecure';

/** What both processes are told: the transport, and the material for it. */
export interface GrpcSpec {
  kind: GrpcKind;
  /** alts: the handshaker service's address. */
  handshaker?: string;
  /** tls: the certificate (the client trusts it) and, on the server, its key. */
  cert?: string;
  key?: string;
}

const SERVER_ACCOUNT = 'bench-server@alts-record.test';
const CLIENT_ACCOUNT = 'bench-client@alts-record.test';
const identity = (b: Buffer) => b;
const PING = {
  path: '/alts.bench.Idle/Ping',
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
};

let answered = 0;
let onAnswer: () => void = () => {};
const clients: Grpc.Client[] = [];

async function serve(m: Msg): Promise<Msg> {
  const grpc = loadGrpcJs();
  const spec = m.spec as GrpcSpec;
  const server = new grpc.Server();
  server.addService({ ping: PING } as Grpc.ServiceDefinition, {
    ping: (_call: Grpc.ServerUnaryCall<Buffer, Buffer>, done: Grpc.sendUnaryData<Buffer>) => {
      done(null, Buffer.alloc(0));
      answered++;
      onAnswer();
    },
  } as Grpc.UntypedServiceImplementation);
  let port: number;
  if (spec.kind === 'alts') {
    const peers = new AltsPeers(server.createConnectionInjector(grpc.ServerCredentials.createInsecure()));
    const alts = createServer({ handshaker: { address: spec.handshaker!, localServiceAccount: SERVER_ACCOUNT } }, (c) => peers.inject(c));
    port = (await alts.listen(0, '127.0.0.1')).port;
  } else {
    const creds =
      spec.kind === 'tls'
        ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(spec.cert!), private_key: Buffer.from(spec.key!) }], false)
        : grpc.ServerCredentials.createInsecure();
    port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))));
  }
  return { op: 'grpc-serving', port };
}

function channelCredentials(grpc: typeof Grpc, spec: GrpcSpec): Grpc.ChannelCredentials {
  if (spec.kind === 'alts') return altsChannelCredentials({ handshaker: { address: spec.handshaker!, targetServiceAccounts: [SERVER_ACCOUNT], localServiceAccount: CLIENT_ACCOUNT } });
  if (spec.kind === 'tls') return grpc.credentials.createSsl(Buffer.from(spec.cert!));
  return grpc.credentials.createInsecure();
}

async function dial(m: Msg): Promise<Msg> {
  const grpc = loadGrpcJs();
  const spec = m.spec as GrpcSpec;
  const creds = channelCredentials(grpc, spec);
  // Its own subchannel pool per client: without it, clients to one target share one connection.
  const options: Grpc.ChannelOptions = { 'grpc.use_local_subchannel_pool': 1 };
  if (spec.kind === 'tls') options['grpc.ssl_target_name_override'] = 'localhost';
  const got = await openMany(m.count as number, async () => {
    const client = new grpc.Client(`127.0.0.1:${m.port as number}`, creds, options);
    await new Promise<void>((resolve, reject) =>
      client.makeUnaryRequest(PING.path, identity, identity, Buffer.alloc(0), (e) => (e ? reject(e) : resolve())),
    );
    return client;
  }, undefined, 32);
  clients.push(...got);
  return { op: 'grpc-dialed', clients: clients.length };
}

async function settle(m: Msg): Promise<Msg> {
  const want = (m.calls as number | undefined) ?? 0;
  await new Promise<void>((resolve) => {
    onAnswer = () => {
      if (answered >= want) resolve();
    };
    onAnswer();
  });
  onAnswer = () => {};
  return { op: 'grpc-settled', ...(await settledMemory()), answered };
}

/** peer.ts's handlers for these commands: each replies with the message its promise gives. */
export const grpcHandlers: Record<string, (m: Msg) => Promise<Msg>> = {
  'grpc-serve': serve,
  'grpc-dial': dial,
  'grpc-settle': settle,
};
