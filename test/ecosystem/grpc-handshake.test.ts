/**
 * grpc-js over ALTS with the handshake: a client on altsChannelCredentials({ handshaker }) and a
 * grpc-js server fed by createServer({ handshaker }) through AltsPeers, every handshake through
 * the fake handshaker service. A unary and a streaming call, and the handler reaching the
 * peer's identity (the client's service account) through AltsPeers.contextOf(call).
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../../src/api.js';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { isAltsError } from '../../src/errors.js';
import { AltsPeers, altsChannelCredentials } from '../../src/integrations/grpc.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import net from 'node:net';
import { once } from 'node:events';
import { handshakerClient } from '../../src/handshake/service.js';
import { hostileService } from '../handshake/_hostile.js';
import { fakeForFile } from '../handshake/_rig.js';

const fake = fakeForFile();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const SERVER_ACCOUNT = 'grpc-server@alts-record.test';
const CLIENT_ACCOUNT = 'grpc-client@alts-record.test';
const method = (name: string, responseStream: boolean) => ({
  path: `/alts.test.Who/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
});
const WhoService = { whoAmI: method('WhoAmI', false), count: method('Count', true) } satisfies grpc.ServiceDefinition;
const WhoClient = grpc.makeGenericClientConstructor(WhoService, 'Who');

const peersSeen: string[] = [];

async function startServer(): Promise<{ port: number; serverConns: AltsConn[] }> {
  const g = new grpc.Server();
  const peers = new AltsPeers(g.createConnectionInjector(grpc.ServerCredentials.createInsecure()));
  g.addService(WhoService, {
    // Answers with the peer's service account as the ALTS handshake established it.
    whoAmI(call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) {
      peersSeen.push(call.getPeer());
      const ctx = peers.contextOf(call);
      if (ctx === null) return done({ code: grpc.status.UNAUTHENTICATED, details: `no ALTS context for ${call.getPeer()}` });
      done(null, Buffer.from(`${ctx.peerServiceAccount} ${ctx.recordProtocol} ${ctx.securityLevel}`));
    },
    count(call: grpc.ServerWritableStream<Buffer, Buffer>) {
      const n = call.request.readUInt32BE(0);
      const who = peers.contextOf(call)?.peerServiceAccount ?? '?';
      for (let i = 0; i < n; i++) call.write(Buffer.from(`${who} #${i}`));
      call.end();
    },
  });
  const serverConns: AltsConn[] = [];
  const pool = new BufferPool();
  const alts = createServer({ handshaker: { address: fake.svc.address, localServiceAccount: SERVER_ACCOUNT }, pool }, (conn) => {
    serverConns.push(conn);
    peers.inject(conn);
  });
  const { port } = await alts.listen(0, '127.0.0.1');
  cleanups.push(() => g.forceShutdown(), () => alts.close());
  return { port, serverConns };
}

describe('grpc-js with the ALTS handshake', () => {
  it('unary and streaming calls over altsChannelCredentials({ handshaker }); the handler sees the client identity', async () => {
    const { port, serverConns } = await startServer();
    const clientConns: AltsConn[] = [];
    const creds = altsChannelCredentials({
      handshaker: { address: fake.svc.address, targetServiceAccounts: [SERVER_ACCOUNT], localServiceAccount: CLIENT_ACCOUNT },
      onConn: (c) => clientConns.push(c),
    });
    const client = new WhoClient(`127.0.0.1:${port}`, creds) as InstanceType<typeof WhoClient> & Record<string, (...a: any[]) => any>;
    cleanups.push(() => client.close());
    const answer = await new Promise<Buffer>((resolve, reject) => client.whoAmI(Buffer.alloc(0), (e: Error | null, r: Buffer) => (e ? reject(e) : resolve(r))));
    expect(answer.toString()).toBe(`${CLIENT_ACCOUNT} ALTSRP_GCM_AES128_REKEY INTEGRITY_AND_PRIVACY`);
    // What grpc-js itself says about an injected connection's peer: nothing (docs/ecosystem.md).
    expect(peersSeen.at(-1)).toBe('unknown');
    const got: string[] = [];
    const req = Buffer.alloc(4);
    req.writeUInt32BE(3);
    const stream = client.count(req) as grpc.ClientReadableStream<Buffer>;
    for await (const m of stream) got.push((m as Buffer).toString());
    expect(got).toEqual([0, 1, 2].map((i) => `${CLIENT_ACCOUNT} #${i}`));
    expect(clientConns.length).toBeGreaterThan(0);
    expect(clientConns[0]!.altsContext?.peerServiceAccount).toBe(SERVER_ACCOUNT);
    expect(serverConns[0]!.altsContext?.peerServiceAccount).toBe(CLIENT_ACCOUNT);
  });

  it('a channel whose target account is not the server fails the call UNAVAILABLE', async () => {
    const { port } = await startServer();
    const creds = altsChannelCredentials({ handshaker: { address: fake.svc.address, targetServiceAccounts: ['not-the-server@x'] } });
    const client = new WhoClient(`127.0.0.1:${port}`, creds) as InstanceType<typeof WhoClient> & Record<string, (...a: any[]) => any>;
    cleanups.push(() => client.close());
    const err = await new Promise<grpc.ServiceError>((resolve) => client.whoAmI(Buffer.alloc(0), { deadline: Date.now() + 5000 }, (e: grpc.ServiceError) => resolve(e)));
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('closing the channel mid-handshake cancels it: the peer socket closes and the service slot is freed before the deadline', async () => {
    let requested!: () => void;
    const asked = new Promise<void>((r) => (requested = r));
    const svc = await hostileService(() => requested()); // takes the request, never answers
    cleanups.push(() => svc.close());
    const peer = net.createServer();
    peer.listen(0, '127.0.0.1');
    await once(peer, 'listening');
    cleanups.push(() => new Promise((r) => peer.close(r)));
    const accepted = once(peer, 'connection') as Promise<[net.Socket]>;
    // A deadline far beyond the test's own bound: only the cancellation can end it in time.
    const creds = altsChannelCredentials({ handshaker: { address: svc.address, timeoutMs: 60_000 } });
    const client = new WhoClient(`127.0.0.1:${(peer.address() as net.AddressInfo).port}`, creds) as InstanceType<typeof WhoClient> & Record<string, (...a: any[]) => any>;
    const call = new Promise<grpc.ServiceError>((resolve) => client.whoAmI(Buffer.alloc(0), { deadline: Date.now() + 60_000 }, (e: grpc.ServiceError) => resolve(e)));
    const [sock] = await accepted;
    sock.on('error', () => {});
    const peerClosed = once(sock, 'close');
    await asked;
    const limiter = handshakerClient(svc.address).limiters.client;
    expect(limiter.inFlight).toBe(1);
    client.close();
    await peerClosed;
    expect(limiter.inFlight).toBe(0);
    expect((await call).code).toBe(grpc.status.UNAVAILABLE);
  }, 10_000);

  it('altsChannelCredentials refuses one fixed key unless unsafeSharedKey, and handshaker with a key', () => {
    const key = new Uint8Array(44);
    expect(() => altsChannelCredentials({ protocol: 'ALTSRP_GCM_AES128_REKEY', key })).toThrow(/unsafeSharedKey/);
    expect(() => altsChannelCredentials({ handshaker: { address: fake.svc.address }, key })).toThrow(TypeError);
    expect(() => altsChannelCredentials({ protocol: 'ALTSRP_GCM_AES128_REKEY', key: () => key })).not.toThrow();
    expect(() => new AltsPeers({} as never)).toThrow(TypeError);
    expect(isAltsError(null)).toBe(false);
  });
});
