/**
 * @grpc/grpc-js over alts-record: the server accepts TCP with createServer
 * (native reader) and injects each conn's Duplex with Server#createConnectionInjector; the
 * client's channel runs on altsChannelCredentials (src/integrations/grpc.ts), which takes
 * grpc-js's own TCP socket over. Unary, server-, client-streaming and bidi RPCs of several MiB
 * with every byte checked, ALTS on the wire both ways (a plain client and a wrong key fail),
 * and a clean shutdown: conns closed by the sessions' end, pools balanced, fds closed.
 */
import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { closeCallbacksRan, newKey, openFds } from './_helpers.js';
import {
  altsClient,
  BytesClient,
  CHUNK,
  type Client,
  closedServerConns,
  rpcError,
  sha256,
  shutdown,
  startServer,
  stopRig,
  STREAM_CHUNKS,
  unary,
  UNARY_BYTES,
} from './_grpcRig.js';

afterEach(stopRig);

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
