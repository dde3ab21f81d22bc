/**
 * How much pool memory a half-received frame may hold (docs/spec.md §2 `partial`, §5): the size
 * class of partialWant (twice the bytes received, capped at the frame's own size once its length
 * field is in; src/record/FrameReader.ts). So a stalled peer that claims a 1 MiB frame costs
 * memory in proportion to what it actually sent (at most 4x, from the doubling and the
 * power-of-two classes), never a full read buffer, and growth costs O(frame) copies in all.
 * After a read(2) that filled its buffer the frame keeps that buffer instead (more may be queued;
 * docs/spec.md §3, Normalize), which the peer has just filled, so the cost stays in proportion.
 * @module
 */
import type { BufferPool } from '../pool/BufferPool.js';
import { classSize } from '../pool/sizeClass.js';
import type { FrameReader } from '../record/FrameReader.js';
import { partialWant } from '../record/FrameReader.js';

/** `held` bytes of an incomplete frame whose total size is `frameBytes` (−1 while unknown). */
export function partialCapacity(held: number, frameBytes: number): number {
  return classSize(partialWant(held, frameBytes));
}

/**
 * Move the incomplete frame `fr` holds to the front of a buffer of partialCapacity(), from
 * `pool`; with `keep` (the last read(2) filled the buffer, so more may be queued: docs/spec.md §3,
 * Normalize) never smaller than the buffer it is in. Shrinking always succeeds, growing is an exchange the pool may refuse. Returns null
 * when it fits now, else the size to wait for (the conn waits giving back its buffer). Already
 * `starved` on growth, it asks nothing: the pool will tell it, and asking again would count the
 * buffer it holds twice, as its own and a waiter's.
 */
export function fitPartial(fr: FrameReader, pool: BufferPool, starved: boolean, keep: boolean): number | null {
  const buf = fr.buf!;
  const fit = partialCapacity(fr.held, fr.frameBytes());
  const want = keep ? Math.max(fit, buf.buffer.byteLength) : fit;
  fr.compact();
  if (want === buf.buffer.byteLength) {
    if (buf.length !== want) fr.buf = new Uint8Array(buf.buffer, 0, want);
    return null;
  }
  if (starved) return null;
  const next = pool.resize(buf, want, fr.held);
  if (next === null) return want;
  fr.buf = next;
  return null;
}
