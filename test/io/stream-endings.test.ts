/**
 * The stream reader settles a pending read on every way its stream can end (docs/spec.md §3),
 * and copies each byte a bounded number of times however much the stream holds.
 */
import { once } from 'node:events';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { wrap } from '../../src/api.js';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { createProtector } from '../../src/protector.js';
import { bytes, closeCallbacksRan, keyFor, native } from '../conn/harness.js';
import { rejection } from '../hardening/pairs.js';

const protocol = 'ALTSRP_GCM_AES128_REKEY' as const;
const key = keyFor(protocol);

function connOver(stream: net.Socket | Duplex, readSize?: number): AltsConn {
  return wrap(stream, { protocol, side: 'client', key, reader: 'stream', ...(readSize !== undefined && { readSize }) });
}

function peerProtector(): ReturnType<typeof createProtector> {
  return createProtector({ protocol, side: 'server', key });
}

/** A Duplex the test feeds by push(); its writes are accepted and dropped. */
function pipeDuplex(): Duplex {
  return new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
}

/** A net.Socket on one end of a socketpair, and the raw fd of the other. */
function socketPair(): { sock: net.Socket; peerFd: number } {
  const [a, b] = native.socketpair();
  return { sock: new net.Socket({ fd: a, readable: true, writable: true }), peerFd: b };
}

describe('stream reader: a stream that ends without end or error settles the pending read', { timeout: 10_000 }, () => {
  it('net.Socket destroyed with no error: conn.read rejects IO_ERROR', async () => {
    const { sock, peerFd } = socketPair();
    const conn = connOver(sock);
    const reading = conn.read(new Uint8Array(100));
    await closeCallbacksRan();
    sock.destroy();
    const err = await rejection(reading);
    expect(err).toMatchObject({ code: 'IO_ERROR', errno: 'ERR_STREAM_PREMATURE_CLOSE' });
    native.closeFd(peerFd);
  });

  it('net.Socket destroyed by its idle-timeout handler: conn.read rejects IO_ERROR', async () => {
    const { sock, peerFd } = socketPair();
    const conn = connOver(sock);
    sock.setTimeout(20, () => sock.destroy()); // the scenario itself, not a synchronisation
    const err = await rejection(conn.read(new Uint8Array(100)));
    expect(err).toMatchObject({ code: 'IO_ERROR', errno: 'ERR_STREAM_PREMATURE_CLOSE' });
    native.closeFd(peerFd);
  });

  it('plain Duplex destroyed with no error: conn.read rejects IO_ERROR', async () => {
    const d = pipeDuplex();
    const conn = connOver(d);
    const reading = conn.read(new Uint8Array(100));
    await closeCallbacksRan();
    d.destroy();
    expect(await rejection(reading)).toMatchObject({ code: 'IO_ERROR', errno: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('plain Duplex destroyed with bytes held: the frame they carry is read, then IO_ERROR', async () => {
    const d = pipeDuplex();
    const conn = connOver(d);
    const msg = bytes(5000, 8);
    d.push(Buffer.from(peerProtector().protect(msg)));
    d.destroy();
    const into = new Uint8Array(msg.length);
    let got = 0;
    while (got < msg.length) got += await conn.read(into.subarray(got));
    expect(Buffer.compare(into, msg)).toBe(0);
    expect(await rejection(conn.read(new Uint8Array(10)))).toMatchObject({ code: 'IO_ERROR', errno: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('plain Duplex destroyed with an error: that error', async () => {
    const d = pipeDuplex();
    const conn = connOver(d);
    const reading = conn.read(new Uint8Array(100));
    d.destroy(Object.assign(new Error('gone'), { code: 'ECONNABORTED' }));
    expect(await rejection(reading)).toMatchObject({ code: 'IO_ERROR', errno: 'ECONNABORTED' });
  });

  it("a clean 'end' is still EOF (0), and a later 'close' changes nothing", async () => {
    const d = pipeDuplex();
    const conn = connOver(d);
    const msg = bytes(300, 2);
    d.push(Buffer.from(peerProtector().protect(msg)));
    d.push(null);
    const into = new Uint8Array(1000);
    expect(await conn.read(into)).toBe(300);
    expect(await conn.read(into)).toBe(0);
    d.destroy();
    await once(d, 'close');
    expect(await conn.read(into)).toBe(0);
  });
});

describe('stream reader: a stream that yields text', () => {
  it('an encoding set on the stream is IO_ERROR EINVAL, not bytes silently re-encoded', async () => {
    const d = pipeDuplex();
    d.setEncoding('latin1');
    const conn = connOver(d);
    d.push(Buffer.from(peerProtector().protect(bytes(100, 1))));
    expect(await rejection(conn.read(new Uint8Array(100)))).toMatchObject({ code: 'IO_ERROR', errno: 'EINVAL' });
  });
});

describe('stream reader: copies per byte do not grow with the bytes held', () => {
  it('1,000 chunks held at once, read through a small buffer: each byte leaves the stream once', async () => {
    const d = pipeDuplex();
    let returned = 0; // bytes the stream's read() handed out: each such byte was copied at most twice
    const read = d.read.bind(d);
    d.read = (n?: number) => {
      const chunk = read(n) as Buffer | null;
      if (chunk !== null) returned += chunk.length;
      return chunk;
    };
    const conn = connOver(d, 1024);
    const msg = bytes(1_000_000, 4);
    const wire = peerProtector().protect(msg);
    const chunk = Math.ceil(wire.length / 1000);
    for (let off = 0; off < wire.length; off += chunk) d.push(Buffer.from(wire.subarray(off, off + chunk)));
    expect(d.readableLength).toBe(wire.length); // all of it held by the stream before the first read
    const into = new Uint8Array(msg.length);
    let got = 0;
    while (got < msg.length) got += await conn.read(into.subarray(got, got + 4096));
    expect(Buffer.compare(into, msg)).toBe(0);
    expect(returned).toBe(wire.length);
    conn.close();
  });
});
