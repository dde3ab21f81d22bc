/**
 * One suite, both readers (bufferutil style): the same conn behaviour through the native
 * readiness reader (fd taken over from a paused net.Socket) and the stream reader (over the
 * net.Socket itself), on loopback TCP.
 */
import net from 'node:net';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { wrap } from '../../src/api.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { createProtector } from '../../src/protector.js';
import { native } from './harness.js';
import { bytes, keyFor, readExactly } from './harness.js';

const protocol = 'ALTSRP_GCM_AES128_REKEY' as const;
const key = keyFor(protocol);
const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** Two plain loopback TCP sockets, neither read by Node yet: the client paused, the server's accepted with pauseOnConnect. */
async function rawTcpPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer({ pauseOnConnect: true });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1' });
  client.pause();
  await once(client, 'connect');
  const [sock] = await accepted;
  return [client, sock];
}

/** A loopback TCP pair wrapped on both ends with `reader`. */
async function tcpPair(reader: 'native' | 'stream', o: { pool?: BufferPool; serverProtected?: Uint8Array; smallBuffers?: boolean } = {}) {
  const pool = o.pool ?? new BufferPool();
  const [client, sock] = await rawTcpPair();
  if (o.smallBuffers) {
    // A small send buffer forces partial writes and EAGAIN; the receive side keeps its default
    // (a tiny receive window makes TCP wait on its persist timer, which only slows the test).
    native.setSocketBuffers((client as unknown as { _handle: { fd: number } })._handle.fd, 0, 4096);
  }
  const c = wrap(client, { protocol, side: 'client', key, pool, reader });
  const s = wrap(sock, { protocol, side: 'server', key, pool, reader, ...(o.serverProtected && { protected: o.serverProtected }) });
  return { c, s, pool };
}

describe.each(['native', 'stream'] as const)('%s reader', (reader) => {
  it('reports which reader it uses', async () => {
    const { c, s } = await tcpPair(reader);
    expect(c.reader).toBe(reader);
    expect(s.reader).toBe(reader);
    c.close();
    s.close();
  });

  it('echoes 2 MiB both ways, with end() giving the peer a clean EOF, and returns every buffer', async () => {
    const { c, s, pool } = await tcpPair(reader);
    const msg = bytes(2 * 1024 * 1024, 3);
    const echo = (async () => {
      const into = new Uint8Array(50_000);
      for (let n; (n = await s.read(into)) > 0; ) await s.write(into.subarray(0, n));
      await s.end();
    })();
    const [got] = await Promise.all([readExactly(c, msg.length, 30_000), c.write(msg).then(() => c.end())]);
    await echo;
    expect(Buffer.compare(got, msg)).toBe(0);
    expect(await c.read(new Uint8Array(1))).toBe(0);
    expect(c.state).toBe('closed');
    expect(pool.outstanding).toBe(0);
    c.close();
    s.close();
  });

  it('writes larger than the socket buffers complete when the peer drains them', async () => {
    const { c, s, pool } = await tcpPair(reader, { smallBuffers: true });
    const msg = bytes(600_000, 4);
    const written = c.write(msg);
    const got = await readExactly(s, msg.length);
    await written;
    expect(Buffer.compare(got, msg)).toBe(0);
    expect(pool.outstanding).toBe(0);
    c.close();
    s.close();
  });

  it('readOnReady hands plaintext up in a buffer from the caller pool, null at EOF', async () => {
    const { c, s, pool } = await tcpPair(reader);
    const mine = new BufferPool();
    await c.write(bytes(40_000, 5));
    const parts: Uint8Array[] = [];
    let total = 0;
    while (total < 40_000) {
      const r = (await s.readOnReady(10_000, mine))!;
      expect(r.buf.length).toBe(r.n); // exactly the bytes delivered (docs/spec.md §6)
      expect(r.n).toBeLessThanOrEqual(10_000);
      parts.push(r.buf.slice(0, r.n));
      total += r.n;
      mine.put(r.buf);
    }
    expect(Buffer.compare(Buffer.concat(parts), bytes(40_000, 5))).toBe(0);
    await c.end();
    expect(await s.readOnReady(10_000, mine)).toBeNull();
    expect(mine.outstanding).toBe(0);
    expect(pool.outstanding).toBe(0);
    c.close();
    s.close();
  });

  it('parses the handshake leftovers (protected) before the socket', async () => {
    const peer = createProtector({ protocol, side: 'client', key });
    const frames = peer.protect(bytes(100, 6));
    const [raw, sock] = await rawTcpPair();
    // The handshake read the first 50 bytes of the record stream: they come as `protected`.
    const s = wrap(sock, { protocol, side: 'server', key, reader, protected: frames.subarray(0, 50) });
    const into = new Uint8Array(100);
    const first = s.read(into);
    raw.write(frames.subarray(50));
    expect(await first).toBe(100);
    expect(into).toEqual(bytes(100, 6));
    s.close();
    raw.destroy();
  });

  it('toDuplex pipes through node:stream', async () => {
    const { c, s, pool } = await tcpPair(reader);
    const cd = c.toDuplex();
    const sd = s.toDuplex();
    const msg = bytes(300_000, 8);
    const chunks: Buffer[] = [];
    await Promise.all([
      pipeline(Readable.from([msg.subarray(0, 100_000), msg.subarray(100_000)]), cd),
      pipeline(sd, new Writable({ write(chunk: Buffer, _e, cb) { chunks.push(chunk); cb(); } })),
    ]);
    expect(Buffer.compare(Buffer.concat(chunks), msg)).toBe(0);
    cd.destroy();
    sd.destroy();
    expect(pool.outstanding).toBe(0);
  });

  it('toDuplex sends chunks written together (cork, or behind a write in flight) as one message', async () => {
    const { c, s, pool } = await tcpPair(reader);
    const cd = c.toDuplex();
    cd.cork();
    for (const part of [bytes(9, 1), bytes(1000, 2), bytes(9, 3)]) cd.write(part);
    process.nextTick(() => cd.uncork());
    const got = await readExactly(s, 1018);
    expect(Buffer.compare(got, Buffer.concat([bytes(9, 1), bytes(1000, 2), bytes(9, 3)]))).toBe(0);
    expect(s.stats.framesOpened).toBe(1); // one frame for the three chunks, not three
    cd.destroy();
    s.close();
    expect(pool.outstanding).toBe(0);
  });
});

