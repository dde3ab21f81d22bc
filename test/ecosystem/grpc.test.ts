/**
 * @grpc/grpc-js over alts-record (issue 6, item 7): the server accepts TCP with createServer
 * (native reader) and injects each conn's Duplex with Server#createConnectionInjector; the
 * client's channel runs on altsChannelCredentials (src/integrations/grpc.ts), which takes
 * grpc-js's own TCP socket over. Unary, server-, client-streaming and bidi RPCs of several MiB
 * with every byte checked, ALTS on the wire both ways (a plain client and a wrong key fail),
 * and a clean shutdown: conns closed by the sessions' end, pools balanced, fds closed.
 */
import * as grpc from '@grpc/grpc-js';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type AltsServer } from '../../src/api.js';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { isAltsError } from '../../src/errors.js';
import { altsChannelCredentials, type AltsChannelOptions } from '../../src/integrations/grpc.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { createProtector } from '../../src/protector.js';
import { closeCallbacksRan, closeOf, newKey, openFds, protocol } from './_helpers.js';

const CHUNK = 64 * 1024;
const STREAM_CHUNKS = 32; // 2 MiB per streaming RPC
const UNARY_BYTES = 1024 * 1024;

const sha256 = (...parts: Uint8Array[]): string => {
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
const BytesService = {
  echo: bytesMethod('Echo', false, false),
  download: bytesMethod('Download', false, true),
  upload: bytesMethod('Upload', true, false),
  chat: bytesMethod('Chat', true, true),
} satisfies grpc.ServiceDefinition;
const BytesClient = grpc.makeGenericClientConstructor(BytesService, 'Bytes');
type Client = InstanceType<typeof BytesClient> & Record<string, (...args: any[]) => any>;

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

interface Rig {
  grpcServer: grpc.Server;
  alts: AltsServer;
  port: number;
  key: Uint8Array;
  serverPool: BufferPool;
  serverConns: AltsConn[];
  closes: Promise<void>[];
}
let rig: Rig | null = null;

async function startServer(): Promise<Rig> {
  const key = newKey();
  const serverPool = new BufferPool();
  const grpcServer = new grpc.Server();
  grpcServer.addService(BytesService, handlers);
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const serverConns: AltsConn[] = [];
  const closes: Promise<void>[] = [];
  const alts = createServer({ protocol, side: 'server', key, pool: serverPool }, (conn) => {
    serverConns.push(conn);
    closes.push(closeOf(conn));
    injector.injectConnection(conn.toDuplex());
  });
  const { port } = await alts.listen(0, '127.0.0.1');
  return (rig = { grpcServer, alts, port, key, serverPool, serverConns, closes });
}

function shutdown(r: Rig): Promise<void> {
  return new Promise((resolve, reject) => r.grpcServer.tryShutdown((e) => (e ? reject(e) : resolve())));
}

afterEach(async () => {
  // The tests that do not check their own shutdown (and any failed one) leave it to here.
  if (rig === null) return;
  rig.grpcServer.forceShutdown();
  await rig.alts.close();
  rig = null;
});

/** A client over ALTS; its conns are collected (and their closes) as the channel opens them. */
function altsClient(r: Rig, o: Partial<AltsChannelOptions> & { key?: Uint8Array } = {}) {
  const conns: AltsConn[] = [];
  const token = grpc.credentials.createFromMetadataGenerator((_params, cb) => {
    const md = new grpc.Metadata();
    md.set('x-token', 'sesame');
    cb(null, md);
  });
  const creds = altsChannelCredentials({
    protocol,
    key: r.key,
    ...o,
    onConn: (c) => {
      conns.push(c);
      r.closes.push(closeOf(c));
    },
  }).compose(token);
  const client = new BytesClient(`127.0.0.1:${r.port}`, creds) as Client;
  return { client, conns };
}

function unary(client: Client, req: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => client.echo(req, (e: Error | null, r: Buffer) => (e ? reject(e) : resolve(r))));
}

async function serverStreaming(client: Client): Promise<void> {
  const req = Buffer.alloc(4);
  req.writeUInt32BE(STREAM_CHUNKS);
  const call = client.download(req) as grpc.ClientReadableStream<Buffer>;
  const status = once(call, 'status');
  const got: Buffer[] = [];
  for await (const chunk of call) got.push(chunk as Buffer);
  const [st] = (await status) as [grpc.StatusObject];
  expect(got.reduce((n, c) => n + c.length, 0)).toBe(STREAM_CHUNKS * CHUNK);
  expect(st.metadata.get('x-sha256')[0]).toBe(sha256(...got));
}

async function clientStreaming(client: Client): Promise<void> {
  const chunks = Array.from({ length: STREAM_CHUNKS }, () => randomBytes(CHUNK));
  const reply = new Promise<Buffer>((resolve, reject) => {
    const call = client.upload((e: Error | null, r: Buffer) => (e ? reject(e) : resolve(r))) as grpc.ClientWritableStream<Buffer>;
    for (const c of chunks) call.write(c);
    call.end();
  });
  expect((await reply).toString()).toBe(`${STREAM_CHUNKS * CHUNK} ${sha256(...chunks)}`);
}

async function bidi(client: Client): Promise<void> {
  const chunks = Array.from({ length: STREAM_CHUNKS / 2 }, () => randomBytes(2 * CHUNK));
  const call = client.chat() as grpc.ClientDuplexStream<Buffer, Buffer>;
  const got: Buffer[] = [];
  const done = (async () => {
    for await (const m of call) got.push(m as Buffer);
  })();
  for (const c of chunks) call.write(c);
  call.end();
  await done;
  expect(got.map((m) => m.length)).toEqual(chunks.map((c) => c.length)); // one reply per message, in order
  expect(sha256(...got)).toBe(sha256(...chunks)); // (toEqual on MiBs of Buffers is slow)
}

/** The server conns made so far, once every conn made so far has closed. */
async function closedServerConns(r: Rig): Promise<AltsConn[]> {
  const conns = r.serverConns.slice(); // made with their close promises, so the two lists agree
  await Promise.all(r.closes);
  return conns;
}

function rpcError(p: Promise<unknown>): Promise<grpc.ServiceError> {
  return p.then(
    () => {
      throw new Error('the RPC succeeded');
    },
    (e: grpc.ServiceError) => e,
  );
}

describe('grpc-js over alts-record (native reader, loopback TCP)', () => {
  it('unary, server-, client-streaming and bidi RPCs, several MiB, ALTS both ways; clean shutdown', async () => {
    const fdsBefore = openFds();
    const r = await startServer();
    const clientPool = new BufferPool();
    const { client, conns } = altsClient(r, { pool: clientPool });

    const req = randomBytes(UNARY_BYTES);
    expect((await unary(client, req)).equals(req)).toBe(true);
    await Promise.all([serverStreaming(client), clientStreaming(client), bidi(client), unary(client, req)]);

    // One connection each way, both native, both opening ALTS frames of more than the plaintext.
    expect(conns).toHaveLength(1);
    expect(r.serverConns).toHaveLength(1);
    const [conn] = conns as [AltsConn];
    const [serverConn] = r.serverConns as [AltsConn];
    for (const c of [conn, serverConn]) {
      expect(c.reader).toBe('native');
      expect(c.stats.framesOpened).toBeGreaterThan(0);
    }
    const eachWay = 2 * UNARY_BYTES + 2 * STREAM_CHUNKS * CHUNK; // unary twice, one streaming RPC, bidi
    expect(conn.stats.bytesRead).toBeGreaterThan(eachWay);
    expect(serverConn.stats.bytesRead).toBeGreaterThan(eachWay);

    // Clean shutdown: the channel, then the server's sessions; the conns end with them.
    client.close();
    await shutdown(r);
    await Promise.all(r.closes);
    expect(r.alts.connections.size).toBe(0); // closed by the sessions, not by alts.close()
    await r.alts.close();
    rig = null;
    for (const pool of [r.serverPool, clientPool]) {
      expect(pool.stats.lent).toBe(0);
      expect(pool.outstanding).toBe(0);
    }
    await closeCallbacksRan();
    expect(openFds()).toBe(fdsBefore);
  });

  it('a plain (insecure) grpc-js client fails: UNAVAILABLE, and the server saw no ALTS frame', async () => {
    const r = await startServer();
    const client = new BytesClient(`127.0.0.1:${r.port}`, grpc.credentials.createInsecure()) as Client;
    const err = await rpcError(unary(client, Buffer.from('hi')));
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    client.close();
    const serverConns = await closedServerConns(r);
    expect(serverConns.length).toBeGreaterThan(0);
    for (const c of serverConns) expect(c.error?.code).toBe('FRAME_TOO_LARGE');
  });

  it('a client with another key fails: UNAVAILABLE, and the server could not authenticate its frames', async () => {
    const r = await startServer();
    const { client, conns } = altsClient(r, { key: newKey() });
    const err = await rpcError(unary(client, Buffer.from('hi')));
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    client.close();
    const serverConns = await closedServerConns(r);
    expect(conns.length).toBeGreaterThan(0);
    expect(serverConns.length).toBeGreaterThan(0);
    for (const c of serverConns) expect(c.error?.code).toBe('AUTH_FAILED');
  });

  it("reader: 'stream' runs the channel on the stream reader", async () => {
    const r = await startServer();
    const { client, conns } = altsClient(r, { reader: 'stream' });
    const req = randomBytes(CHUNK);
    expect((await unary(client, req)).equals(req)).toBe(true);
    expect(conns.map((c) => c.reader)).toEqual(['stream']);
    client.close();
    await shutdown(r);
    await Promise.all(r.closes);
  });
});

describe('altsChannelCredentials', () => {
  it('closes the conn when onConn throws, and the RPC fails UNAVAILABLE', async () => {
    const r = await startServer();
    const conns: AltsConn[] = [];
    const creds = altsChannelCredentials({
      protocol,
      key: r.key,
      onConn: (c) => {
        conns.push(c);
        r.closes.push(closeOf(c));
        throw new Error('onConn refused');
      },
    });
    const client = new BytesClient(`127.0.0.1:${r.port}`, creds) as Client;
    const err = await rpcError(unary(client, Buffer.from('hi')));
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    client.close();
    await Promise.all(r.closes);
    expect(conns.length).toBeGreaterThan(0);
    for (const c of conns) expect(c.state).toBe('closed');
  });

  it('checks its options: types, and the key before any connection', () => {
    expect(() => altsChannelCredentials(null as never)).toThrow(TypeError);
    expect(() => altsChannelCredentials({ protocol, key: newKey(), onConn: 1 as never })).toThrow(TypeError);
    expect(() => altsChannelCredentials({ protocol, key: newKey(), reader: 'poll' as never })).toThrow(RangeError);
    let err: unknown = null;
    try {
      altsChannelCredentials({ protocol, key: new Uint8Array(16) });
    } catch (e) {
      err = e;
    }
    expect(isAltsError(err, 'BAD_KEY')).toBe(true);
  });

  it('is secure (composes with call credentials) and equal only to itself', () => {
    const a = altsChannelCredentials({ protocol, key: newKey() });
    const b = altsChannelCredentials({ protocol, key: newKey() });
    expect(a._isSecure()).toBe(true);
    expect(a._equals(a)).toBe(true);
    expect(a._equals(b)).toBe(false);
    expect(a._equals(grpc.credentials.createInsecure())).toBe(false);
  });

  it('falls back to the stream reader, losing nothing, when Node has already read from the socket', async () => {
    const key = newKey();
    const peer = createProtector({ protocol, side: 'server', key });
    const tcp = net.createServer((s) => s.end(peer.protect(new TextEncoder().encode('early bytes'))));
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    const socket = net.connect((tcp.address() as net.AddressInfo).port, '127.0.0.1');
    await once(socket, 'readable'); // bytes in Node's buffer, unread by anyone
    expect(socket.readableLength).toBeGreaterThan(0);

    const conns: AltsConn[] = [];
    const creds = altsChannelCredentials({ protocol, key, onConn: (c) => conns.push(c) });
    const connector = creds._createSecureConnector({ path: '127.0.0.1' }, {});
    await connector.waitForReady();
    expect(connector.getCallCredentials()).toBeInstanceOf(grpc.CallCredentials);
    const { socket: duplex, secure } = await connector.connect(socket);
    expect(secure).toBe(true);
    expect(conns.map((c) => c.reader)).toEqual(['stream']);
    let text = '';
    for await (const d of duplex) text += String(d);
    expect(text).toBe('early bytes');
    connector.destroy();
    duplex.destroy();
    tcp.close();
    await once(tcp, 'close');
  });
});
