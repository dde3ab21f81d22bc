/**
 * The read side's one pool buffer (docs/spec.md §2, §3 Normalize, §5): borrowed fresh for a
 * read(2), fitted to an incomplete frame (partialCapacity), given back as soon as nothing is held,
 * and the wait for the pool when it cannot lend (starved: a condition, not a state). The bytes in
 * it are the FrameReader's.
 * @module
 */
import { AltsError } from '../errors.js';
import type { BufferPool } from '../pool/BufferPool.js';
import type { FrameReader } from '../record/FrameReader.js';
import type { ConnStats } from './events.js';
import { fitPartial } from './partialCapacity.js';
import type { PoolWait } from './phase.js';

export class ReadBuffer {
  readonly frames: FrameReader;
  readonly #pool: BufferPool;
  readonly #stats: ConnStats;
  readonly #onStarved: (size: number) => void;
  readonly #kick: () => void;
  #wait: PoolWait | null = null;
  /** The last read(2) filled the buffer: more may be queued, so a partial frame keeps its room (docs/spec.md §3, Normalize). */
  lastReadFull = false;

  constructor(frames: FrameReader, pool: BufferPool, stats: ConnStats, onStarved: (size: number) => void, kick: () => void) {
    this.frames = frames;
    this.#pool = pool;
    this.#stats = stats;
    this.#onStarved = onStarved;
    this.#kick = kick;
  }

  /** Pool bytes held now (the capacity of the one buffer, or 0). */
  get heldBytes(): number {
    const b = this.frames.buf;
    return b === null ? 0 : b.buffer.byteLength;
  }

  get starved(): boolean {
    return this.#wait !== null;
  }

  /** Has the pool told a starved conn it can lend? (Once: the wait is over.) */
  takeResume(): boolean {
    if (this.#wait === null || !this.#wait.told) return false;
    this.#wait = null;
    return true;
  }

  /** A fresh buffer of `size` for a read(2); false when the pool refused (then waiting, giving back and holding nothing). */
  borrow(size: number): boolean {
    const buf = this.#pool.get(size, 0); // it would wait holding nothing: the pool never waits on itself
    if (buf === null) {
      this.#starve(size, 0);
      return false;
    }
    this.frames.attach(buf);
    return true;
  }

  /**
   * After bytes arrive or are handed up: give the buffer back if nothing is left in it ('empty'),
   * or fit an incomplete frame into a buffer of partialCapacity() (after a full read(2), no
   * smaller than the one it is in), waiting for the pool when it cannot grow. Throws a bad length field's error, or TRUNCATED at `eof` inside a frame.
   */
  normalize(eof: boolean): 'empty' | 'kept' {
    const fr = this.frames;
    const buf = fr.buf;
    if (buf === null) return 'empty';
    if (fr.plainLeft > 0) return 'kept';
    if (fr.held === 0) {
      this.putBack();
      return 'empty';
    }
    const f = fr.frameBytes();
    if (f >= 0 && fr.held >= f) return 'kept'; // a whole frame: decrypted
    if (eof) throw new AltsError('TRUNCATED', `stream ended inside a frame (${fr.held} bytes of it held)`);
    const cap = buf.buffer.byteLength;
    const want = fitPartial(fr, this.#pool, this.starved, this.lastReadFull);
    if (want !== null) this.#starve(want, cap); // could not grow: wait for the exchange, giving back `cap`
    return 'kept';
  }

  putBack(): void {
    const buf = this.frames.buf;
    this.frames.attach(null);
    if (buf) this.#pool.put(buf);
  }

  /** No more bytes will come: withdraw a wait for the pool. */
  stopWaiting(): void {
    this.#wait?.cancel();
    this.#wait = null;
  }

  /** The end: withdraw the wait, give the buffer back. */
  release(): void {
    this.stopWaiting();
    this.putBack();
  }

  /** Wait for the pool: growth gives back (and holds meanwhile) its buffer, a fresh borrow nothing. */
  #starve(size: number, givesBack: number): void {
    if (this.#wait !== null) return; // already waiting: the pool will tell it
    this.#stats.starvedWaits++;
    const w: PoolWait = { told: false, cancel: () => {} };
    w.cancel = this.#pool.waitFor(size, () => {
      w.told = true;
      this.#kick();
    }, givesBack);
    this.#wait = w;
    this.#onStarved(size);
  }
}
