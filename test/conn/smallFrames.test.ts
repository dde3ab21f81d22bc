/**
 * Small frames keep arriving many to a read(2) after a read that ended mid-frame (docs/spec.md
 * §3, Normalize; §5): after a read(2) that filled the buffer (more may be queued), the partial
 * frame stays at the front of a buffer as large as the one just filled, and only a short read or
 * EAGAIN (the conn is about to wait) fits it to partialCapacity. Real socketpair, native reader.
 */
import { describe, expect, it } from 'vitest';
import { bytes, makePair, readExactly } from './harness.js';

describe('queued small frames after a read that ended mid-frame', () => {
  it('124-byte frames queued 124 KB deep are read in a handful of read(2)s, not one per frame', async () => {
    const { conn, pool, peer, send, peerHandle } = makePair();
    const msgs = 1000;
    const wire: Uint8Array[] = [];
    for (let i = 0; i < msgs; i++) wire.push(peer.protect(bytes(100, i + 1))); // 124 bytes each
    const all = Buffer.concat(wire);
    expect(all.length).toBe(124 * msgs);
    send(all); // all of it in the conn's receive queue before the first read
    const got = await readExactly(conn, 100 * msgs, 1 << 20);
    expect(Buffer.from(got).equals(Buffer.concat(wire.map((_, i) => bytes(100, i + 1))))).toBe(true);
    // 124,000 bytes through a 64 KiB buffer: 2 full reads and the rest; a fitted 128 B buffer would take ~1000.
    expect(conn.stats.reads).toBeLessThanOrEqual(6);
    conn.close();
    peerHandle.close();
    expect(pool.outstanding).toBe(0);
  });

  it('a stalled peer still costs memory in proportion to the partial frame once a read comes up short', async () => {
    const { conn, pool, peer, send, peerHandle } = makePair();
    const frame = peer.protect(bytes(10_000, 9)); // one frame
    send(frame.subarray(0, 1000)); // a short read: the conn is about to wait
    const pending = conn.read(new Uint8Array(1 << 16));
    while (conn.stats.bytesRead < 1000) await new Promise((r) => conn.once('wakeup', r));
    expect(conn.state).toBe('partial');
    expect(conn.heldBytes).toBe(2048); // partialCapacity(1000 bytes)
    send(frame.subarray(1000));
    expect(await pending).toBe(10_000);
    conn.close();
    peerHandle.close();
    expect(pool.outstanding).toBe(0);
  });
});
