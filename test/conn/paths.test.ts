/**
 * The less travelled paths, each on the real thing: a caller pool that cannot lend, an empty
 * frame, write and connect failures, the readers' own misuse errors.
 */
import net from 'node:net';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { connect, createServer } from '../../src/api.js';
import { createCrypters } from '../../src/crypto/index.js';
import { NativeReader } from '../../src/io/NativeReader.js';
import { StreamReader } from '../../src/io/StreamReader.js';
import { AGAIN } from '../../src/io/types.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { bytes, closeCallbacksRan, keyFor, makePair, native } from './harness.js';
import { testHooks } from '../../src/conn/testHooks.js';

describe('paths', () => {
  it('readOnReady waits for the caller pool when it cannot lend, holding the data meanwhile', async () => {
    const { conn, peer, send, pool } = makePair();
    const mine = new BufferPool({ budget: 1024 });
    const hog = mine.get(1024)!;
    send(peer.protect(bytes(500, 2)));
    const got = conn.readOnReady(1000, mine);
    await once(conn, 'state'); // the frame arrived: decrypted, waiting for the caller's pool
    expect(conn.state).toBe('decrypted');
    expect(testHooks(conn).watching).toBe(false);
    mine.put(hog);
    const r = (await got)!;
    expect(r.n).toBe(500);
    expect(r.buf.subarray(0, 500)).toEqual(bytes(500, 2));
    mine.put(r.buf);
    expect(pool.outstanding).toBe(0);
    conn.close();
  });

  it('an empty frame is authenticated and skipped, never read as EOF', async () => {
    const key = keyFor('ALTSRP_GCM_AES128_REKEY');
    const { conn, send } = makePair();
    const { outbound } = createCrypters({ protocol: 'ALTSRP_GCM_AES128_REKEY', side: 'server', key });
    const empty = new Uint8Array(24);
    new DataView(empty.buffer).setUint32(0, 20, true);
    new DataView(empty.buffer).setUint32(4, 6, true);
    outbound.seal(empty, 8, 0);
    const msg = bytes(30, 3);
    const next = new Uint8Array(24 + 30);
    new DataView(next.buffer).setUint32(0, 50, true);
    new DataView(next.buffer).setUint32(4, 6, true);
    next.set(msg, 8);
    outbound.seal(next, 8, 30);
    send(new Uint8Array([...empty, ...next]));
    const into = new Uint8Array(100);
    expect(await conn.read(into)).toBe(30);
    expect(into.subarray(0, 30)).toEqual(msg);
    expect(conn.stats.framesOpened).toBe(2);
    conn.close();
  });

  it('a write to a peer that has gone fails with IO_ERROR, nothing left pending', async () => {
    const { conn, hangUp } = makePair();
    hangUp();
    await closeCallbacksRan();
    const err = await conn.write(bytes(1 << 20)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'IO_ERROR', fault: 'io' });
    expect(['EPIPE', 'ECONNRESET']).toContain((err as { errno: string }).errno);
    conn.close();
  });

  it('connect to a port nobody listens on is IO_ERROR ECONNREFUSED', async () => {
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const key = keyFor('ALTSRP_GCM_AES128');
    const err = await connect({ protocol: 'ALTSRP_GCM_AES128', side: 'client', key, host: '127.0.0.1', port }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'IO_ERROR', errno: 'ECONNREFUSED' });
  });

  it('createServer checks the key up front and forwards errors', async () => {
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    expect(() => createServer({ protocol: 'ALTSRP_GCM_AES128', side: 'server', key: new Uint8Array(3), unsafeSharedKey: true }, () => {})).toThrow(
      expect.objectContaining({ code: 'BAD_KEY' }),
    );
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    expect(() => createServer({ protocol: 'ALTSRP_GCM_AES128', side: 'server', key: new Uint8Array(16), unsafeSharedKey: true }, 'x' as never)).toThrow(TypeError);
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    const server = createServer({ protocol: 'ALTSRP_GCM_AES128', side: 'server', key: new Uint8Array(16), unsafeSharedKey: true }, () => {});
    const seen = new Promise((resolve) => server.on('error', resolve));
    expect(server.on('error', () => {})).toBe(server);
    (server as unknown as { listen: (p: number, h: string) => Promise<unknown> }).listen(0, '127.0.0.1');
    await server.close();
    expect(seen).toBeInstanceOf(Promise);
  });
});

describe('native reader misuse', () => {
  it('write and end after close are CLOSED; a read on a closed handle is IO_ERROR EBADF', async () => {
    const [a, b] = native.socketpair();
    const r = new NativeReader(native, a);
    r.close();
    r.close();
    const w = await new Promise((resolve) => r.write(new Uint8Array(1), resolve));
    expect(w).toMatchObject({ code: 'CLOSED' });
    const e = await new Promise((resolve) => r.shutdownWrite(resolve));
    expect(e).toMatchObject({ code: 'CLOSED' });
    expect(() => r.readInto(new Uint8Array(4), 0, 4)).toThrow(expect.objectContaining({ code: 'IO_ERROR', errno: 'EBADF' }));
    native.closeFd(b);
  });

  it('write after end is CLOSED', async () => {
    const [a, b] = native.socketpair();
    const r = new NativeReader(native, a);
    await new Promise((resolve) => r.shutdownWrite(resolve));
    const w = await new Promise((resolve) => r.write(new Uint8Array(1), resolve));
    expect(w).toMatchObject({ code: 'CLOSED' });
    r.close();
    native.closeFd(b);
  });
});

describe('stream reader over any Duplex', () => {
  it('reads what the stream has, puts back what does not fit, EOF, then errors', async () => {
    const s = new PassThrough();
    const r = new StreamReader(s);
    const woke = new Promise<void>((resolve) => (r.onReadable = resolve));
    r.watchReadable(true);
    s.write(Buffer.from('hello world'));
    await woke;
    const buf = new Uint8Array(5);
    expect(r.readInto(buf, 0, 5)).toBe(5);
    expect(Buffer.from(buf).toString()).toBe('hello');
    expect(r.readInto(buf, 0, 5)).toBe(5);
    expect(r.readInto(buf, 0, 5)).toBe(1);
    expect(r.readInto(buf, 0, 5)).toBe(AGAIN);
    const ended = new Promise<void>((resolve) => (r.onReadable = resolve));
    s.end();
    r.readInto(buf, 0, 5); // read(): lets the stream see its end
    await ended;
    expect(r.readInto(buf, 0, 5)).toBe(0);
    const w = await new Promise((resolve) => r.write(new Uint8Array(1), resolve));
    expect(w).toMatchObject({ code: 'CLOSED' });
    r.close();
    const e = await new Promise((resolve) => r.shutdownWrite(resolve));
    expect(e).toMatchObject({ code: 'CLOSED' });
  });

  it('a stream error becomes IO_ERROR on the next read', async () => {
    const s = new PassThrough();
    const r = new StreamReader(s);
    const failed = once(s, 'error').catch(() => undefined);
    s.destroy(Object.assign(new Error('boom'), { code: 'ECONNRESET' }));
    await failed;
    expect(() => r.readInto(new Uint8Array(1), 0, 1)).toThrow(expect.objectContaining({ code: 'IO_ERROR', errno: 'ECONNRESET' }));
  });
});

describe('pool resize within a class', () => {
  it('keeps the buffer and moves the kept bytes to the front', () => {
    const pool = new BufferPool();
    const a = pool.get(128)!;
    a.set([9, 8, 7], 10);
    const view = pool.resize(a.subarray(10), 120, 3)!;
    expect(view.buffer).toBe(a.buffer);
    expect(Array.from(view.subarray(0, 3))).toEqual([9, 8, 7]);
    expect(view.length).toBe(120);
    expect(pool.capacityOf(view)).toBe(128);
    expect(pool.resize(view, 120, 3)).toBe(view); // same class, same size: nothing to do
    pool.put(view);
    expect(pool.outstanding).toBe(0);
  });
});

describe('edges of the conn and pool API', () => {
  it('write of nothing resolves at once; write after end is CLOSED; readOnReady(null pool) is TypeError', async () => {
    const { conn } = makePair();
    await expect(conn.write(new Uint8Array(0))).resolves.toBeUndefined();
    const ended = conn.end();
    expect(conn.end()).toBe(ended);
    await ended;
    await expect(conn.write(bytes(1))).rejects.toMatchObject({ code: 'CLOSED' });
    expect(() => conn.readOnReady(10, null as never)).toThrow(/"pool" expected BufferPool, got null/);
    conn.close();
  });

  it('the Duplex adapter is destroyed with the AltsError that failed the conn', async () => {
    const { conn, peer, send, pool } = makePair();
    const d = conn.toDuplex();
    const failed = once(d, 'error');
    d.resume();
    const f = peer.protect(bytes(64));
    f[30]! ^= 0x80;
    send(f);
    const [err] = await failed;
    expect(err).toMatchObject({ code: 'AUTH_FAILED' });
    expect(pool.outstanding).toBe(0);
  });

  it('a Node error without a code is IO_ERROR EIO; pools check their options', async () => {
    const { fromNodeError } = await import('../../src/io/ioError.js');
    expect(fromNodeError(new Error('x'))).toMatchObject({ code: 'IO_ERROR', errno: 'EIO' });
    expect(() => new BufferPool(null as never)).toThrow(TypeError);
    const pool = new BufferPool({ budget: 100 });
    expect(pool.canLend(64)).toBe(true);
    expect(pool.canLend(65)).toBe(false);
  });
});
