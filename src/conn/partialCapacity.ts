/**
 * How much pool memory a half-received frame may hold (docs/spec.md §2 `partial`, §5): the size class of
 * twice the bytes received, capped at the frame's own size once its length field is in. So a
 * stalled peer that claims a 1 MiB frame costs memory in proportion to what it actually sent
 * (at most 4x, from the doubling and the power-of-two classes), never a full read buffer, and
 * growth costs O(frame) copies in all.
 * @module
 */
import { classSize } from '../pool/sizeClass.js';

/** `held` bytes of an incomplete frame whose total size is `frameBytes` (−1 while unknown). */
export function partialCapacity(held: number, frameBytes: number): number {
  const want = Math.max(2 * held, 64);
  return classSize(frameBytes >= 0 ? Math.min(frameBytes, want) : want);
}
