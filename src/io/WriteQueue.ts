/**
 * A FIFO of pending writes for a non-blocking fd: each entry's callback runs once the kernel has
 * all of its bytes. The queue holds only what callers are awaiting, so it is bounded by them
 * (the Duplex adapter's highWaterMark bounds it for stream users).
 * @module
 */
import { AltsError } from '../errors.js';

interface Entry {
  data: Uint8Array;
  off: number;
  done: (err: AltsError | null) => void;
}

/** Most buffers handed to one writev(2) (well under IOV_MAX). */
const MAX_IOV = 64;

export class WriteQueue {
  readonly #entries: Entry[] = [];

  get length(): number {
    return this.#entries.length;
  }

  push(data: Uint8Array, done: (err: AltsError | null) => void): void {
    this.#entries.push({ data, off: 0, done });
  }

  /**
   * If `data` is still queued (as the last entry), keep a copy of its unwritten bytes instead, so
   * the caller may reuse `data` (a transient write).
   */
  detach(data: Uint8Array): void {
    const e = this.#entries[this.#entries.length - 1];
    if (e === undefined || e.data !== data) return;
    e.data = data.slice(e.off);
    e.off = 0;
  }

  /** The unwritten parts of the first entries, for one writev. */
  head(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const e of this.#entries) {
      out.push(e.off === 0 ? e.data : e.data.subarray(e.off));
      if (out.length === MAX_IOV) break;
    }
    return out;
  }

  /** Account `n` written bytes: completes the entries they finish. */
  consume(n: number): void {
    while (n > 0) {
      const e = this.#entries[0]!;
      const left = e.data.length - e.off;
      if (n < left) {
        e.off += n;
        return;
      }
      n -= left;
      this.#entries.shift();
      e.done(null);
    }
  }

  /** Fail every pending entry. */
  failAll(err: AltsError): void {
    const all = this.#entries.splice(0);
    for (const e of all) e.done(err);
  }
}
