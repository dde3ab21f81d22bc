/**
 * The write half of a connection: seal a message's frames and hand them
 * to the reader's write queue, without allocating in the steady state.
 *
 * Frames are sealed into one scratch buffer shared by every connection of this thread, a bounded
 * batch of frames at a time, and written at once as a `transient` write: the reader sends what
 * the kernel takes now and copies only what it must keep (the socket buffer is full, or earlier
 * writes are queued). When the kernel keeps up, a message costs no allocation and one write(2)
 * per batch; under backpressure it costs one copy of what is left, as any queued write would.
 * The scratch buffer can be shared because sealing and the transient write are synchronous.
 * @module
 */
import type { DirectionCrypter } from '../crypto/types.js';
import type { AltsError } from '../errors.js';
import type { ReadyReader } from '../io/types.js';
import { FRAME_OVERHEAD } from '../record/constants.js';
import { checkFramesLeft, sealedSize, sealRange } from '../record/frame.js';

/** Sealed bytes per batch (one write(2)): enough frames to amortise the syscall, bounded memory. */
export const WRITE_BATCH_BYTES = 256 * 1024;

let scratch: Uint8Array | null = null;

/** The shared scratch buffer, grown to at least `n` bytes (a batch is at least one whole frame). */
function scratchOf(n: number): Uint8Array {
  if (scratch === null || scratch.length < n) scratch = new Uint8Array(Math.max(n, WRITE_BATCH_BYTES));
  return scratch;
}

/** Plaintext bytes per batch: as many whole frames as fit WRITE_BATCH_BYTES, at least one. */
export function batchPlaintextBytes(maxFrameSize: number): number {
  return Math.max(1, Math.floor(WRITE_BATCH_BYTES / maxFrameSize)) * (maxFrameSize - FRAME_OVERHEAD);
}

/**
 * Seal `data` (non-empty) and queue it on `io`. Throws COUNTER_EXHAUSTED before sealing anything
 * if the counter cannot carry the whole message. `done` runs once: when the kernel has every
 * byte, or with the first error. Returns the protected byte count.
 */
export function sealAndWrite(
  outbound: DirectionCrypter,
  data: Uint8Array,
  maxFrameSize: number,
  io: ReadyReader,
  done: (err: AltsError | null) => void,
): number {
  checkFramesLeft(outbound, data.length, maxFrameSize);
  const batch = batchPlaintextBytes(maxFrameSize);
  let batchesLeft = Math.ceil(data.length / batch);
  let settled = false;
  const onBatch = (err: AltsError | null): void => {
    if (settled) return;
    if (err !== null || --batchesLeft === 0) {
      settled = true;
      done(err);
    }
  };
  let written = 0;
  for (let p = 0; p < data.length && !settled; p += batch) {
    const to = Math.min(p + batch, data.length);
    const out = scratchOf(sealedSize(to - p, maxFrameSize));
    const n = sealRange(outbound, data, p, to, out, 0, maxFrameSize); // checked once, above
    written += n;
    io.write(out.subarray(0, n), onBatch, true);
  }
  return written;
}
