/**
 * The write half of a connection: seal a message's frames and hand them to the reader's write
 * path a batch at a time, without allocating in the steady state (docs/spec.md §9).
 *
 * A batch (as many whole frames as fit WRITE_BATCH_BYTES) is sealed only while fewer than two
 * are sealed and not yet taken by the kernel (the one it is taking, and the next, ready when the
 * socket is writable again), at most one per event-loop turn (src/io/Outbox.ts): however large
 * the message, the sealed bytes that exist beyond the caller's own message are two batches at
 * most, and no turn of the loop spends longer than one batch's sealing on it. The caller's
 * message is read until `done`, as a socket write keeps its buffer until its callback.
 *
 * Batches are sealed into one scratch buffer shared by every connection of this thread and
 * written `transient`: the reader sends what the kernel takes now and copies only what it must
 * keep (the socket buffer is full). The scratch buffer can be shared because sealing a batch and
 * its transient write are one synchronous step. When the kernel keeps up, a message costs no
 * allocation and one write(2) per batch.
 * @module
 */
import type { DirectionCrypter } from '../crypto/types.js';
import type { AltsError } from '../errors.js';
import { type BatchSource, type BatchWriter, WRITE_BATCHES } from '../io/Outbox.js';
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

/** Counts since the module loaded: batches and bytes sealed (what a test checks the pacing by). */
export const sealStats = { batches: 0, bytes: 0 };

/**
 * Frames promised to messages queued but not yet sealed, per outbound direction: a message is
 * refused up front (COUNTER_EXHAUSTED) unless the counter carries it after those before it.
 */
const reserved = new WeakMap<DirectionCrypter, number>();

/**
 * Seal `data` (non-empty) and queue it on `io`, behind any message still being sealed there.
 * Throws COUNTER_EXHAUSTED before sealing anything if the counter cannot carry the whole
 * message. `done` runs once: when the kernel has every byte, or with the first error (CLOSED if
 * the conn closes first: sealing stops). Returns the protected byte count.
 */
export function sealAndWrite(
  outbound: DirectionCrypter,
  data: Uint8Array,
  maxFrameSize: number,
  io: ReadyReader,
  done: (err: AltsError | null) => void,
): number {
  const payload = maxFrameSize - FRAME_OVERHEAD;
  const frames = Math.ceil(data.length / payload);
  const promised = reserved.get(outbound) ?? 0;
  // As many bytes as the frames promised and these need: the check counts frames, not bytes.
  checkFramesLeft(outbound, (promised + frames) * payload, maxFrameSize);
  reserved.set(outbound, promised + frames);
  const source = new SealedBatches(outbound, data, maxFrameSize);
  (io as ReadyReader & BatchWriter)[WRITE_BATCHES](source, done);
  return sealedSize(data.length, maxFrameSize);
}

class SealedBatches implements BatchSource {
  readonly #outbound: DirectionCrypter;
  readonly #data: Uint8Array;
  readonly #maxFrameSize: number;
  readonly #batch: number;
  #pos = 0;

  constructor(outbound: DirectionCrypter, data: Uint8Array, maxFrameSize: number) {
    this.#outbound = outbound;
    this.#data = data;
    this.#maxFrameSize = maxFrameSize;
    this.#batch = batchPlaintextBytes(maxFrameSize);
  }

  get more(): boolean {
    return this.#pos < this.#data.length;
  }

  next(): Uint8Array {
    const from = this.#pos;
    const to = Math.min(from + this.#batch, this.#data.length);
    this.#pos = to;
    this.#release(to - from);
    const out = scratchOf(sealedSize(to - from, this.#maxFrameSize));
    const n = sealRange(this.#outbound, this.#data, from, to, out, 0, this.#maxFrameSize); // checked up front
    sealStats.batches++;
    sealStats.bytes += n;
    return out.subarray(0, n);
  }

  abandon(): void {
    this.#release(this.#data.length - this.#pos);
    this.#pos = this.#data.length;
  }

  /** Hand back the reservation of the frames of `bytes` plaintext bytes (sealed now, or never). */
  #release(bytes: number): void {
    const frames = Math.ceil(bytes / (this.#maxFrameSize - FRAME_OVERHEAD));
    reserved.set(this.#outbound, reserved.get(this.#outbound)! - frames);
  }
}
