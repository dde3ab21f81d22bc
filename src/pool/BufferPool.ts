/**
 * BufferPool: lends read buffers to connections only while they have bytes to hold (docs/spec.md §5).
 *
 * - Size classes (./sizeClass.ts): `get(size)` returns a view of exactly `size` bytes over a
 *   buffer of `classSize(size)` capacity; `outstanding` counts capacities, i.e. real memory.
 * - An optional byte `budget`: a `get` that would take `outstanding` past it returns null
 *   (but see the overdraft below). Exhaustion is a condition, not a data loss: the borrower
 *   waits (`waitFor`) and retries.
 * - Waiters are served first in, first out: when bytes come back, waiters are told in order
 *   while the freed budget covers what they asked for. They are told, not handed a buffer, so
 *   a connection that was starved re-arms its readiness and borrows only when data is there.
 * - Waiters are told asynchronously (docs/spec.md §5): `put`, `resize` and `waitFor` only
 *   schedule the tell, in a microtask that runs once the caller's call has returned, so a
 *   waiter's callback (and whatever it runs: another connection's listeners, a get or put on
 *   this pool) never runs nested inside another holder's state change. The queue is examined
 *   when the microtask runs, so a waiter cancelled before then is never told.
 * - The pool never waits on itself (docs/spec.md §3 "Pool refilled", §5). Each waiter says how
 *   many pool bytes it holds while it waits. When every byte lent is held by waiters, nobody
 *   else will ever give any back: the pool then tells the first waiter whose others fit the
 *   budget (outstanding − its holding ≤ budget), and lends to it past the budget, an
 *   overdraft. A borrower that would otherwise wait (`get` with `holding`, any `resize`) is
 *   lent past the budget on the same terms. Since what all the others hold fits the budget,
 *   the pool is past it by at most what the overdrawn borrower holds and asks for: one
 *   maximal frame (1 MiB + 4) for a connection's read buffer. A plain `get` never passes it.
 * - Freed buffers are kept per class up to `retain` bytes for reuse, so steady state allocates
 *   nothing.
 * @module
 */
import { aint, aoptions } from '../_check.js';
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
  /** Loans made past the budget because the pool would otherwise have waited on itself. */
  overdrafts: number;
}

interface Waiter {
  cost: number; // budget bytes the waiter needs: its class, less what it gives back in exchange
  holding: number; // pool bytes it holds while it waits: they cannot come back before it is told
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
  #overdrafts = 0;
  #waitersHolding = 0; // the sum of the waiters' `holding`
  #wakeScheduled = false;
  readonly #free = new Map<number, ArrayBuffer[]>();
  readonly #lent = new Set<ArrayBufferLike>();
  readonly #waiters: Waiter[] = [];

  constructor(o: BufferPoolOptions = {}) {
    aoptions('options', o, ['budget', 'retain']);
    if (o.budget !== undefined) aint('budget', o.budget, 0, Number.MAX_SAFE_INTEGER);
    if (o.retain !== undefined) aint('retain', o.retain, 0, Number.MAX_SAFE_INTEGER);
    this.budget = o.budget ?? Infinity;
    this.retain = o.retain ?? 8 * 1024 * 1024;
  }

  /** Bytes lent now (sum of the capacities of the buffers not yet put back). */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** The most bytes ever lent at once (past the budget only by an overdraft: see the module header). */
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
      overdrafts: this.#overdrafts,
    };
  }

  /** Could `get(size)` lend now? */
  canLend(size: number): boolean {
    return this.#outstanding + classSize(size) <= this.budget;
  }

  /**
   * Lend `size` bytes (1 .. 1 MiB + 4), or null when the budget cannot cover them. A borrower
   * that would wait for the pool if refused says what it holds of this pool meanwhile
   * (`holding`, 0 for nothing): it is lent past the budget when the pool would otherwise wait
   * on itself (see the module header). Without `holding` the budget is never passed.
   */
  get(size: number, holding?: number): Uint8Array | null {
    aint('size', size, 1, MAX_CLASS);
    if (holding !== undefined) aint('holding', holding, 0, this.#outstanding);
    this.#gets++;
    const cap = classSize(size);
    if (!this.#mayLend(cap, holding)) {
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
   * returns null (and leaves `buf` lent and untouched) when the budget cannot cover it, unless
   * the pool would otherwise wait on itself (the borrower holds the old buffer meanwhile).
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
    if (cap > oldCap && !this.#mayLend(cap - oldCap, oldCap)) {
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
    if (this.#waiters.length > 0) this.#wakeSoon();
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
   * capacity of a buffer the waiter will hand over in exchange (a `resize` that grows);
   * `holding` is what the waiter holds of this pool while it waits (default: `givesBack`), so
   * the pool can see when every byte it lent is held by its waiters and it would wait on itself.
   */
  waitFor(size: number, notify: () => void, givesBack = 0, holding = givesBack): () => void {
    aint('size', size, 1, MAX_CLASS);
    aint('givesBack', givesBack, 0, MAX_CLASS);
    aint('holding', holding, 0, this.#outstanding);
    const w: Waiter = { cost: Math.max(0, classSize(size) - givesBack), holding, notify };
    this.#waiters.push(w);
    this.#waitersHolding += holding;
    // It may fit now, or its holding may be the last lent byte not held by a waiter.
    this.#wakeSoon();
    return () => {
      const i = this.#waiters.indexOf(w);
      if (i >= 0) this.#dequeue(i);
    };
  }

  /**
   * Can `cost` more bytes be lent to a borrower holding `holding` (undefined: one that will not
   * wait)? Within the budget, always. Past it only as an overdraft: when every byte lent is
   * held by this borrower or by waiters (nobody else will ever give any back) and what all the
   * others hold fits the budget (so only this borrower is past it).
   */
  #mayLend(cost: number, holding: number | undefined): boolean {
    if (this.#outstanding + cost <= this.budget) return true;
    const others = this.#outstanding - (holding ?? 0);
    if (holding === undefined || others - this.#waitersHolding > 0 || others > this.budget) return false;
    this.#overdrafts++;
    return true;
  }

  /** Tell the waiters that fit, once the current call has returned (one microtask per burst). */
  #wakeSoon(): void {
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    queueMicrotask(this.#wake);
  }

  readonly #wake = (): void => {
    this.#wakeScheduled = false;
    let free = this.budget - this.#outstanding;
    while (this.#waiters.length > 0) {
      const w = this.#waiters[0]!;
      if (w.cost > free) break;
      free -= w.cost;
      this.#dequeue(0);
      tell(w);
    }
    // The pool never waits on itself: when every byte lent is held by waiters, the first one
    // whose others fit the budget is told, to borrow past it.
    if (this.#outstanding - this.#waitersHolding > 0) return;
    const i = this.#waiters.findIndex((w) => this.#outstanding - w.holding <= this.budget);
    if (i >= 0) tell(this.#dequeue(i));
  };

  #dequeue(i: number): Waiter {
    const [w] = this.#waiters.splice(i, 1);
    this.#waitersHolding -= w!.holding;
    return w!;
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

/**
 * Run a waiter's callback. One that throws must not cost the waiters after it their turn: its
 * exception is rethrown from a microtask of its own (an uncaught exception, as from any callback).
 */
function tell(w: Waiter): void {
  try {
    w.notify();
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}
