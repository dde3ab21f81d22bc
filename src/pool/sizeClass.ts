/**
 * Size classes of the buffer pool (docs/spec.md §5). Every buffer the pool lends has one of these
 * capacities, so what a connection holds is a pure function of what it needs, which the model
 * (model/) and docs/spec.md state the same way:
 *
 *   classSize(n) = 64                      for n <= 64
 *                = the next power of two   for 64 < n <= 1 MiB
 *                = 1 MiB + 4               for 1 MiB < n <= 1 MiB + 4 (one maximal frame)
 *
 * The top class is exact so that holding one maximal frame costs one maximal frame.
 * @module
 */
import { MAX_FRAME_BYTES } from '../record/constants.js';

export const MIN_CLASS = 64;
export const MAX_CLASS = MAX_FRAME_BYTES;

export function classSize(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_CLASS)
    throw new RangeError(`"size" expected integer in 1..${MAX_CLASS}, got ${n}`);
  if (n <= MIN_CLASS) return MIN_CLASS;
  if (n > 1 << 20) return MAX_CLASS;
  return 2 ** Math.ceil(Math.log2(n));
}
