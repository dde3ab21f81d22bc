/**
 * The sizes the model predicts with (docs/spec.md §4). Restated here on purpose, not imported
 * from src/: they are part of the specification, and the properties check src against them.
 * @module
 */

/** Frame: len (u32 LE) ‖ type (u32 LE, = 6) ‖ ciphertext ‖ 16-byte tag. */
export const LENGTH_FIELD = 4;
export const FRAME_OVERHEAD = 4 + 4 + 16; // 24
/** Largest `len` a reader accepts (1 MiB); the whole frame is 4 bytes more. */
export const MAX_LEN = 1 << 20;
export const MAX_FRAME_BYTES = MAX_LEN + LENGTH_FIELD;

/**
 * Pool size classes: 64 for n <= 64; the next power of two up to 1 MiB; exactly 1 MiB + 4 above
 * (so that one maximal frame costs one maximal frame).
 */
export function classSize(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_FRAME_BYTES) throw new RangeError(`classSize(${n})`);
  if (n <= 64) return 64;
  if (n > MAX_LEN) return MAX_FRAME_BYTES;
  let c = 128;
  while (c < n) c *= 2;
  return c;
}

/**
 * The buffer a half-received frame lives in: the class of twice the bytes held (at least 64),
 * capped at the frame's own size once its 4-byte length field has arrived (frameBytes = -1 before).
 */
export function partialCapacity(held: number, frameBytes: number): number {
  const want = Math.max(2 * held, 64);
  return classSize(frameBytes >= 0 ? Math.min(frameBytes, want) : want);
}

/** Frames a writer makes of `n` plaintext bytes: payloads of at most maxFrameSize - 24, in order. */
export function splitPayloads(n: number, maxFrameSize: number): number[] {
  const max = maxFrameSize - FRAME_OVERHEAD;
  const out: number[] = [];
  for (let left = n; left > 0; left -= Math.min(left, max)) out.push(Math.min(left, max));
  return out;
}
