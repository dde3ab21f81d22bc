/**
 * BufferPool: lends read buffers to connections only while they have bytes to hold (DESIGN §2).
 *
 * - Size classes (./sizeClass.ts): `get(size)` returns a view of exactly `size` bytes over a
 *   buffer of `classSize(size)` capacity; `outstanding` counts capacities, i.e. real memory.
 * - An optional byte `budget`: a `get` that would take `outstanding` past it returns null.
 *   Exhaustion is a condition, not a data loss: the borrower waits (`waitFor`) and retries.
 * - Waiters are served first in, first out: when bytes come back, waiters are told in order
 *   while the freed budget covers what they asked for. They are told, not handed a buffer, so
 *   a connection that was starved re-arms its readiness and borrows only when data is there.
 * - Freed buffers are kept per class up to `retain` bytes for reuse, so steady state allocates
 *   nothing.
 * @module
 */
import { aint } from '../_check.js';
import { classSize, MAX_CLASS } from './sizeClass.js';

export interface BufferPoolOptions {
  /** Most bytes (by capacity) lent at once. Default: no limit. */
  budget?: number;
  /** Most bytes kept in free lists for reuse. Default: 8 MiB. */
  retain?: number;
}

export interface BufferPoolStats {
  outstanding: number;
  highWater: number;
  lent: number;
  gets: number;
  refusals: number;
  allocations: number;
  waiters: number;
}

interface Waiter {
  cost: number; // budget bytes the waiter needs: its class, less what it gives back in exchange
  notify: () => void;
}

export class BufferPool {
  readonly budget: number;
  readonly retain: number;
  #outstanding = 0;
  #highWater = 0;
  #retained = 0;
  #gets = 0;
  #refusals = 0;
  #allocations = 0;
  readonly #free = new Map<number, ArrayBuffer[]>();
  readonly #lent = new Set<ArrayBufferLike>();
  readonly #waiters: Waiter[] = [];

  constructor(o: BufferPoolOptions = {}) {
    if (o === null || typeof o !== 'object') throw new TypeError(`"options" expected object, got ${typeof o}`);
    if (o.budget !== undefined) aint('budget', o.budget, 0, Number.MAX_SAFE_INTEGER);
    if (o.retain !== undefined) aint('retain', o.retain, 0, Number.MAX_SAFE_INTEGER);
    this.budget = o.budget ?? Infinity;
    this.retain = o.retain ?? 8 * 1024 * 1024;
  }

  /** Bytes lent now (sum of the capacities of the buffers not yet put back). */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** The most bytes ever lent at once. */
  get highWater(): number {
    return this.#highWater;
  }

  get stats(): BufferPoolStats {
    return {
      outstanding: this.#outstanding,
      highWater: this.#highWater,
      lent: this.#lent.size,
      gets: this.#gets,
      refusals: this.#refusals,
      allocations: this.#allocations,
      waiters: this.#waiters.length,
    };
  }

  /** Could `get(size)` lend now? */
  canLend(size: number): boolean {
    return this.#outstanding + classSize(size) <= this.budget;
  }

  /** Lend `size` bytes (1 .. 1 MiB + 4), or null when the budget cannot cover them. */
  get(size: number): Uint8Array | null {
    aint('size', size, 1, MAX_CLASS);
    this.#gets++;
    const cap = classSize(size);
    if (this.#outstanding + cap > this.budget) {
      this.#refusals++;
      return null;
    }
    const ab = this.#takeFree(cap) ?? this.#allocate(cap);
    this.#lent.add(ab);
    this.#outstanding += cap;
    if (this.#outstanding > this.#highWater) this.#highWater = this.#outstanding;
    return new Uint8Array(ab, 0, size);
  }

  /**
   * Exchange a lent buffer for one of `size` bytes, keeping its first `keep` bytes. The old
   * buffer's bytes count as freed for the budget check, so shrinking always succeeds; growing
   * returns null (and leaves `buf` lent and untouched) when the budget cannot cover it.
   */
  resize(buf: Uint8Array, size: number, keep: number): Uint8Array | null {
    this.#checkLent(buf);
    aint('size', size, 1, MAX_CLASS);
    aint('keep', keep, 0, Math.min(size, buf.length));
    const oldCap = buf.buffer.byteLength;
    const cap = classSize(size);
    if (cap === oldCap) {
      if (buf.byteOffset === 0 && buf.length === size) return buf;
      const view = new Uint8Array(buf.buffer, 0, size);
      view.copyWithin(0, buf.byteOffset, buf.byteOffset + keep);
      return view;
    }
    this.#gets++;
    if (this.#outstanding - oldCap + cap > this.budget) {
      this.#refusals++;
      return null;
    }
    const ab = this.#takeFree(cap) ?? this.#allocate(cap);
    const next = new Uint8Array(ab, 0, size);
    next.set(buf.subarray(0, keep));
    this.#lent.add(ab);
    this.#outstanding += cap;
    // The old buffer goes back just below: the high-water mark counts the exchange, not both.
    if (this.#outstanding - oldCap > this.#highWater) this.#highWater = this.#outstanding - oldCap;
    this.put(buf);
    return next;
  }

  /** Take back a buffer this pool lent (any view over it). */
  put(buf: Uint8Array): void {
    this.#checkLent(buf);
    const ab = buf.buffer;
    this.#lent.delete(ab);
    const cap = ab.byteLength;
    this.#outstanding -= cap;
    if (this.#retained + cap <= this.retain) {
      let list = this.#free.get(cap);
      if (list === undefined) this.#free.set(cap, (list = []));
      list.push(ab as ArrayBuffer);
      this.#retained += cap;
    }
    this.#wake();
  }

  /** Capacity, in pool bytes, of a buffer this pool lent. */
  capacityOf(buf: Uint8Array): number {
    this.#checkLent(buf);
    return buf.buffer.byteLength;
  }

  /**
   * Ask to be told (once, FIFO) when `get(size)` could succeed. Returns a function that
   * cancels the wait. If the pool can lend now, `notify` is still called asynchronously
   * (never from inside this call) to keep callers' state machines simple. `givesBack` is the
   * capacity of a buffer the waiter will hand over in exchange (a `resize` that grows).
   */
  waitFor(size: number, notify: () => void, givesBack = 0): () => void {
    aint('size', size, 1, MAX_CLASS);
    aint('givesBack', givesBack, 0, MAX_CLASS);
    const w: Waiter = { cost: Math.max(0, classSize(size) - givesBack), notify };
    this.#waiters.push(w);
    if (this.#outstanding + w.cost <= this.budget) queueMicrotask(() => this.#wake());
    return () => {
      const i = this.#waiters.indexOf(w);
      if (i >= 0) this.#waiters.splice(i, 1);
    };
  }

  #wake(): void {
    let free = this.budget - this.#outstanding;
    while (this.#waiters.length > 0) {
      const w = this.#waiters[0]!;
      if (w.cost > free) break;
      free -= w.cost;
      this.#waiters.shift();
      w.notify();
    }
  }

  #checkLent(buf: Uint8Array): void {
    if (!(buf instanceof Uint8Array)) throw new TypeError(`"buf" expected Uint8Array, got ${typeof buf}`);
    if (!this.#lent.has(buf.buffer)) throw new RangeError('"buf" was not lent by this pool, or was already put back');
  }

  #takeFree(cap: number): ArrayBuffer | undefined {
    const ab = this.#free.get(cap)?.pop();
    if (ab !== undefined) this.#retained -= cap;
    return ab;
  }

  #allocate(cap: number): ArrayBuffer {
    this.#allocations++;
    return new ArrayBuffer(cap);
  }
}
