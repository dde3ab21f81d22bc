/**
 * Behaviours of AltsConn that the StrykerJS run over src/conn showed no test pinned down
 * (coverage/README.md, "Mutation testing"): the handshake's leftover bytes at their edges, the
 * 'close' and 'wakeup' events, and the protected-byte count. Real socketpairs, native reader.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { wrapFd } from '../../src/api.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { createProtector } from '../../src/protector.js';
import { bytes, keyFor, makePair, native, readExactly } from './harness.js';

const protocol = 'ALTSRP_GCM_AES128_REKEY' as const;
const key = keyFor(protocol);

/** A conn whose handshake already read `leftover` (the start of the peer's record stream). */
function withLeftover(leftover: Uint8Array, readSize?: number) {
  const pool = new BufferPool();
  const [a, b] = native.socketpair();
  const conn = wrapFd(a, { protocol, side: 'client', key, pool, protected: leftover, ...(readSize !== undefined && { readSize }) });
  const peer = new native.ReadyHandle(b, () => {});
  return { conn, pool, peer };
}

describe('handshake leftovers (protected)', () => {
  it('an empty leftover is no leftover: it is not taken for the end of the stream', async () => {
    const { conn, pool, peer } = withLeftover(new Uint8Array(0));
    const frames = createProtector({ protocol, side: 'server', key }).protect(bytes(300));
    expect(peer.write(frames, 0, frames.length)).toBe(frames.length);
    expect(await readExactly(conn, 300)).toEqual(bytes(300));
    conn.close();
    peer.close();
    expect(pool.outstanding).toBe(0);
  });

  it('a whole frame in the leftovers is delivered with nothing on the socket', async () => {
    const frames = createProtector({ protocol, side: 'server', key }).protect(bytes(500));
    const { conn, peer } = withLeftover(frames);
    expect(await readExactly(conn, 500)).toEqual(bytes(500));
    expect(conn.stats.reads).toBe(0); // not one read(2): the socket was never needed
    conn.close();
    peer.close();
  });

  it('leftovers larger than one read buffer are all used, in order, before the socket', async () => {
    const peerSide = createProtector({ protocol, side: 'server', key });
    const first = peerSide.protect(bytes(150_000, 4)); // > readSize below: taken in several pulls
    const then = peerSide.protect(bytes(20_000, 5));
    const { conn, pool, peer } = withLeftover(first, 4096);
    expect(peer.write(then, 0, then.length)).toBe(then.length);
    expect(Buffer.from(await readExactly(conn, 170_000)).equals(Buffer.concat([bytes(150_000, 4), bytes(20_000, 5)]))).toBe(true);
    conn.close();
    peer.close();
    expect(pool.outstanding).toBe(0);
  });
});

describe('events and counts', () => {
  it("'close' is emitted exactly once, however often close() is called", async () => {
    const { conn, peerHandle } = makePair();
    let closes = 0;
    conn.on('close', () => closes++);
    const closed = once(conn, 'close');
    conn.close();
    conn.close();
    await closed;
    expect(closes).toBe(1);
    peerHandle.close();
  });

  it("'close' follows a clean end in both directions and a failure, once each", async () => {
    const { conn, peer, send, hangUp } = makePair();
    let closes = 0;
    conn.on('close', () => closes++);
    send(peer.protect(bytes(10)));
    await readExactly(conn, 10);
    hangUp();
    expect(await conn.read(new Uint8Array(10))).toBe(0);
    expect(closes).toBe(0); // our write side is still open
    await conn.end().catch(() => undefined); // the peer is gone: the FIN may have nowhere to go
    expect(closes).toBe(1);

    const bad = makePair();
    let badCloses = 0;
    bad.conn.on('close', () => badCloses++);
    const r = bad.conn.read(new Uint8Array(10));
    bad.send(new Uint8Array([0xff, 0xff, 0xff, 0xff])); // FRAME_TOO_LARGE
    await expect(r).rejects.toMatchObject({ code: 'FRAME_TOO_LARGE' });
    bad.conn.close();
    expect(badCloses).toBe(1);
    bad.peerHandle.close();
  });

  it("'wakeup' reports the bytes each read(2) brought; bytesWritten counts protected bytes", async () => {
    const { conn, peer, send, peerHandle } = makePair();
    const frames = peer.protect(bytes(1000));
    const wakeups: { spurious: boolean; bytes: number }[] = [];
    conn.on('wakeup', (w: { spurious: boolean; bytes: number }) => wakeups.push(w));
    const r = conn.read(new Uint8Array(2000));
    send(frames);
    expect(await r).toBe(1000);
    expect(wakeups).toEqual([{ spurious: false, bytes: frames.length }]);
    await conn.write(bytes(70_000));
    expect(conn.stats.bytesWritten).toBe(70_000 + 5 * 24); // 70,000 bytes in 16 KiB frames: 5 frames
    conn.close();
    peerHandle.close();
  });
});
