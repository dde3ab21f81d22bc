/**
 * A peer reset does not cost the bytes the kernel already holds (docs/spec.md §3): on both
 * readers, a read returns every byte the peer sent before it reset, and only then the error.
 * Real AF_UNIX socketpairs: the peer closes with bytes it never read queued on its side, so the
 * kernel gives our end ECONNRESET, after the bytes queued for us. On loopback TCP, a reset that
 * follows the peer's FIN (the kernel keeps EPIPE) is the write side's: the reads end at the FIN.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { AltsError } from '../../src/errors.js';
import { NativeReader } from '../../src/io/NativeReader.js';
import { StreamReader } from '../../src/io/StreamReader.js';
import { AGAIN, type ReadyReader } from '../../src/io/types.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { bytes, closeCallbacksRan, makePair, native } from '../conn/harness.js';
import { frames, pairOf, rejection, tcpPairOf } from '../hardening/pairs.js';

/** The peer's end: writes `data` whole (it fits the socket buffer), then closes with our byte unread. */
function resetAfter(peerFd: number, data: Uint8Array): void {
  const h = new native.ReadyHandle(peerFd, () => {});
  for (let off = 0; off < data.length; ) {
    const n = h.write(data, off, data.length - off);
    if (n <= 0) throw new Error(`peer write failed: ${n}`);
    off += n;
  }
  h.close();
}

/**
 * Drive a reader as a connection does: watch, one readInto per readiness (chunk bytes at most),
 * until it throws or says EOF. Resolves with what was read and how it ended.
 */
function drain(r: ReadyReader, chunk: number): Promise<{ got: Uint8Array; end: AltsError | 'eof' }> {
  return new Promise((resolve) => {
    const parts: Uint8Array[] = [];
    const finish = (end: AltsError | 'eof'): void => {
      r.watchReadable(false);
      resolve({ got: new Uint8Array(Buffer.concat(parts)), end });
    };
    r.onReadable = () => {
      const buf = new Uint8Array(chunk);
      let n: number;
      try {
        n = r.readInto(buf, 0, chunk);
      } catch (e) {
        return finish(e as AltsError);
      }
      if (n === 0) return finish('eof');
      if (n !== AGAIN) parts.push(buf.subarray(0, n));
    };
    r.watchReadable(true);
  });
}

const open: ReadyReader[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) r.close();
  await closeCallbacksRan();
});

describe('a peer reset after bytes it sent: the bytes first, then the error', () => {
  const readers = {
    native: (fd: number): ReadyReader => new NativeReader(native, fd),
    stream: (fd: number): ReadyReader => new StreamReader(new net.Socket({ fd, readable: true, writable: true })),
  };

  for (const [kind, make] of Object.entries(readers)) {
    it(`${kind} reader: every queued byte is read, then IO_ERROR ECONNRESET`, async () => {
      const [a, b] = native.socketpair();
      const r = make(a);
      open.push(r);
      // One byte the peer never reads: its close then resets the connection.
      await new Promise<void>((resolve, reject) => r.write(new Uint8Array([1]), (e) => (e ? reject(e) : resolve())));
      const sent = bytes(50_000, 3);
      resetAfter(b, sent);
      await closeCallbacksRan(); // the peer's fd is closed: the reset is queued behind the bytes
      const { got, end } = await drain(r, 4096);
      expect(got.length).toBe(sent.length);
      expect(Buffer.compare(got, sent)).toBe(0);
      expect(end).toBeInstanceOf(AltsError);
      expect(end).toMatchObject({ code: 'IO_ERROR', errno: 'ECONNRESET' });
      // Worded by what failed for the user (the socket), not by the call that noticed it.
      expect((end as AltsError).message).toBe('IO_ERROR: socket error: ECONNRESET (connection reset by peer)');
      // Raised by the read that found the queue empty: a reader has no other error channel.
      expect('onError' in r).toBe(false);
    });
  }

  it('native reader: the reset waits until the reader watches again, and writes fail with it at once', async () => {
    const [a, b] = native.socketpair();
    const r = new NativeReader(native, a);
    open.push(r);
    await new Promise<void>((resolve, reject) => r.write(new Uint8Array([1]), (e) => (e ? reject(e) : resolve())));
    const sent = bytes(3000, 4);
    resetAfter(b, sent);
    await closeCallbacksRan();
    // First read: a small part, then stop watching (no read pending).
    const first = new Uint8Array(1000);
    const once = new Promise<number>((resolve) => {
      r.onReadable = () => {
        r.watchReadable(false);
        resolve(r.readInto(first, 0, first.length));
      };
    });
    r.watchReadable(true);
    expect(await once).toBe(1000);
    for (let i = 0; i < 3; i++) await closeCallbacksRan(); // nothing is raised while nobody reads
    const writeErr = await new Promise<AltsError | null>((resolve) => r.write(new Uint8Array([2]), resolve));
    expect(writeErr).toMatchObject({ code: 'IO_ERROR', errno: 'ECONNRESET' });
    const { got, end } = await drain(r, 4096);
    expect(Buffer.compare(Buffer.concat([first, got]), sent)).toBe(0);
    expect(end).toMatchObject({ code: 'IO_ERROR', errno: 'ECONNRESET' });
  }, 10_000);
});

describe('a conn whose peer resets after a whole frame', () => {
  it('native: conn.read returns the frame, then rejects IO_ERROR', async () => {
    const { conn, peer, peerHandle } = makePair();
    await conn.write(bytes(10, 1)); // the peer never reads this: its close resets
    const msg = bytes(20_000, 2);
    const wire = peer.protect(msg);
    for (let off = 0; off < wire.length; ) off += peerHandle.write(wire, off, wire.length - off);
    peerHandle.close();
    await closeCallbacksRan();
    const into = new Uint8Array(msg.length);
    let got = 0;
    while (got < msg.length) got += await conn.read(into.subarray(got));
    expect(Buffer.compare(into, msg)).toBe(0);
    const err = await rejection(conn.read(new Uint8Array(10)));
    expect(err).toMatchObject({ code: 'IO_ERROR', errno: 'ECONNRESET' });
  });

  it('stream: conn.read returns the frame, then rejects IO_ERROR', async () => {
    const pool = new BufferPool();
    const { conn, peer } = pairOf({ reader: 'stream', pool });
    await conn.write(bytes(10, 1));
    const f = frames(20_000);
    expect(await peer.write(f.bytes[0]!)).toBe(true);
    peer.close();
    await closeCallbacksRan();
    const into = new Uint8Array(20_000);
    let got = 0;
    while (got < into.length) got += await conn.read(into.subarray(got));
    expect(Buffer.compare(into, f.plain[0]!)).toBe(0);
    const err = await rejection(conn.read(new Uint8Array(10)));
    expect(err).toMatchObject({ code: 'IO_ERROR', errno: 'ECONNRESET' });
    conn.close();
  });
});

describe.each(['native', 'stream'] as const)('%s reader on TCP: the peer ends its stream, then resets', (reader) => {
  /**
   * The peer sends `wire`, its FIN (shutdown(SHUT_WR)), then closes with SO_LINGER 0 (an RST);
   * the conn reads only once all three are queued. Resolves with what the reads handed up and
   * how they ended.
   */
  async function endThenReset(wire: Uint8Array): Promise<{ got: Buffer; end: AltsError | 'eof' }> {
    const pool = new BufferPool();
    const { conn, raw, done } = await tcpPairOf({ reader, pool });
    try {
      raw.on('error', () => {});
      await new Promise<void>((resolve) => raw.write(wire, () => resolve()));
      await new Promise<void>((resolve) => raw.end(resolve)); // the FIN is sent
      const closed = once(raw, 'close');
      raw.resetAndDestroy();
      await closed; // the RST is sent, behind the bytes and the FIN
      const got: Uint8Array[] = [];
      const into = new Uint8Array(65536);
      try {
        for (let n; (n = await conn.read(into)) > 0; ) got.push(into.slice(0, n));
        return { got: Buffer.concat(got), end: 'eof' };
      } catch (e) {
        return { got: Buffer.concat(got), end: e as AltsError };
      }
    } finally {
      conn.close();
      await done();
      expect(pool.stats).toMatchObject({ outstanding: 0, lent: 0, waiters: 0 });
    }
  }

  it('at a frame boundary: every frame is read, then a clean EOF (the reset is not the read side\'s)', async () => {
    const f = frames(16_000, 16_000, 8_000);
    const { got, end } = await endThenReset(new Uint8Array(Buffer.concat(f.bytes)));
    expect(got).toEqual(Buffer.concat(f.plain));
    expect(end).toBe('eof');
  });

  it('inside a frame: the frames before it are read, then TRUNCATED', async () => {
    const f = frames(16_000, 8_000);
    const wire = Buffer.concat([f.bytes[0]!, f.bytes[1]!.subarray(0, 100)]);
    const { got, end } = await endThenReset(new Uint8Array(wire));
    expect(got).toEqual(Buffer.from(f.plain[0]!));
    expect(end).toBeInstanceOf(AltsError);
    expect((end as AltsError).code).toBe('TRUNCATED');
  });
});
