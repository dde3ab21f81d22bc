/**
 * The pool never waits on itself (docs/spec.md §3 "Pool refilled", §5): when every byte it has
 * lent is held by its waiters, nobody else will ever give any back, so it lends past its budget
 * (an overdraft) to the first waiter whose others fit the budget, or to a borrower that would
 * otherwise wait (`get` with `holding`, `resize`). Never while anyone else holds bytes; never
 * more than one maximal frame past the budget for a borrower that holds one buffer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { classSize, MAX_CLASS } from '../../src/pool/sizeClass.js';
import { fcParams, seedTitle } from '../../properties/conn/params.js';

/** Settled promise reactions and queued microtasks (the pool tells waiters in one) run. */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 4; i++) await Promise.resolve();
}

describe('BufferPool overdraft: the pool never waits on itself', () => {
  it('a plain get never passes the budget; a borrower that would wait holding nothing is lent when nothing is lent', () => {
    const pool = new BufferPool({ budget: 0 });
    expect(pool.get(1)).toBeNull();
    const b = pool.get(1000, 0)!;
    expect(b.length).toBe(1000);
    expect(pool.stats).toMatchObject({ outstanding: 1024, highWater: 1024, overdrafts: 1, refusals: 1 });
    expect(pool.get(64, 0)).toBeNull(); // someone (b's borrower, not waiting) holds bytes
    pool.put(b);
    expect(pool.stats).toMatchObject({ outstanding: 0, overdrafts: 1, refusals: 2 });
  });

  it('no overdraft while anyone who is not waiting holds bytes; one once they wait', async () => {
    const pool = new BufferPool({ budget: 256 });
    const a = pool.get(128)!; // someone else, not waiting
    const b = pool.get(128)!;
    expect(pool.resize(b, 256, 0)).toBeNull(); // 128 - 128 + 256 > 256 and a's holder may give back
    expect(pool.get(64, 128)).toBeNull();
    const cancel = pool.waitFor(128, () => {}, 0, 128); // a's holder now waits, holding a
    const grown = pool.resize(b, 256, 0)!; // every lent byte is held by b's borrower or a waiter
    expect(grown.length).toBe(256);
    expect(pool.stats).toMatchObject({ outstanding: 384, highWater: 384, overdrafts: 1, refusals: 2 });
    cancel();
    pool.put(grown);
    pool.put(a);
    expect(pool.stats).toMatchObject({ outstanding: 0, lent: 0, waiters: 0 });
  });

  it('a waiter that stops waiting takes its holding with it', () => {
    const pool = new BufferPool({ budget: 128 });
    const a = pool.get(128)!;
    const cancel = pool.waitFor(64, () => {}, 0, 128);
    cancel();
    cancel();
    expect(pool.get(64, 0)).toBeNull(); // a's holder no longer waits: it may give back
    const again = pool.waitFor(64, () => {}, 0, 128);
    const b = pool.get(64, 0)!;
    expect(pool.outstanding).toBe(128 + 64);
    again();
    pool.put(a);
    pool.put(b);
  });

  it('tells only the first waiter, asynchronously, when every lent byte is held by waiters', async () => {
    const pool = new BufferPool({ budget: 256 });
    const bufs = [pool.get(128)!, pool.get(128)!];
    const told: number[] = [];
    bufs.forEach((b, i) => pool.waitFor(256, () => told.push(i), pool.capacityOf(b))); // both grow: holding = givesBack
    expect(told).toEqual([]); // never from inside waitFor
    await microtasks();
    expect(told).toEqual([0]);
    expect(pool.stats.waiters).toBe(1);
    const grown = pool.resize(bufs[0]!, 256, 0)!; // the exchange the tell was for
    expect(pool.stats).toMatchObject({ outstanding: 384, overdrafts: 1 });
    await microtasks();
    expect(told).toEqual([0]); // the grown buffer's holder is not waiting: it will give back
    pool.put(grown); // 128 lent, 128 free: the second's exchange fits the budget again
    await microtasks();
    expect(told).toEqual([0, 1]);
    const second = pool.resize(bufs[1]!, 256, 0)!;
    expect(pool.stats).toMatchObject({ outstanding: 256, overdrafts: 1, highWater: 384 });
    pool.put(second);
    expect(pool.stats).toMatchObject({ outstanding: 0, lent: 0, waiters: 0 });
  });

  it('skips a first waiter whose others do not fit the budget (so one borrower, not many, is ever past it)', async () => {
    const pool = new BufferPool({ budget: 256 });
    const x = pool.get(128)!;
    const y = pool.get(128)!;
    const told: string[] = [];
    pool.waitFor(256, () => told.push('x'), 128);
    const y2 = pool.resize(y, 512, 0)!; // x waits holding 128: y's borrower overdraws
    expect(pool.outstanding).toBe(640);
    pool.waitFor(1024, () => told.push('y'), 512);
    await microtasks();
    // All 640 lent bytes are held by waiters. x first, but its others (512) exceed the budget:
    // lending to it would put two borrowers past the budget. y's others (128) fit: y is told.
    expect(told).toEqual(['y']);
    const y3 = pool.resize(y2, 1024, 0)!;
    expect(pool.stats).toMatchObject({ outstanding: 1152, overdrafts: 2 });
    expect(pool.outstanding - pool.capacityOf(y3)).toBeLessThanOrEqual(pool.budget);
    pool.put(y3); // y's frame done: x's exchange fits
    await microtasks();
    expect(told).toEqual(['y', 'x']);
    pool.put(x);
  });

  it('shrinking always succeeds, past the budget too', async () => {
    const pool = new BufferPool({ budget: 128 });
    const a = pool.get(64)!;
    const b = pool.get(64)!;
    const cancel = pool.waitFor(128, () => {}, 64);
    const big = pool.resize(b, 4096, 0)!;
    cancel(); // a's holder may give back now: no more overdrafts
    expect(pool.resize(big, 8192, 0)).toBeNull();
    const smaller = pool.resize(big, 1024, 0)!;
    expect(pool.stats).toMatchObject({ outstanding: 64 + 1024, highWater: 64 + 4096, overdrafts: 1 });
    pool.put(smaller);
    pool.put(a);
  });

  it('the bound: one maximal frame past the budget, and no further', () => {
    const pool = new BufferPool({ budget: 64 * 1024 });
    const a = pool.get(64 * 1024)!;
    const cancel = pool.waitFor(64, () => {}, 0, 64 * 1024);
    const big = pool.get(MAX_CLASS, 0)!;
    expect(pool.outstanding).toBe(pool.budget + MAX_CLASS);
    expect(pool.highWater).toBe(pool.budget + MAX_CLASS);
    expect(pool.get(64, 0)).toBeNull(); // big's holder is not waiting
    cancel();
    pool.put(big);
    pool.put(a);
  });

  it('checks holding: an integer no larger than what is lent', () => {
    const pool = new BufferPool({ budget: 64 });
    expect(() => pool.get(64, -1)).toThrow(/"holding"/);
    expect(() => pool.get(64, 1)).toThrow(/"holding" expected integer in 0\.\.0, got 1/);
    expect(() => pool.waitFor(64, () => {}, 0, 1)).toThrow(/"holding"/);
    expect(() => pool.waitFor(64, () => {}, 64)).toThrow(/"holding"/); // defaults to givesBack: nothing lent
    expect(() => pool.get(64, 'x' as never)).toThrow(TypeError);
    expect(pool.stats).toMatchObject({ gets: 0, waiters: 0 });
  });
});

/**
 * Borrowers that each hold at most one buffer and say truthfully what they hold, growing (a
 * fresh get, or an exchange) and giving back in a generated order, waiting when refused and
 * retrying when told. After every step: never more than one maximal frame past the budget, and
 * never a pool whose every lent byte is held by its waiters with nobody told (it waits on itself).
 */
describe(`BufferPool overdraft property (${seedTitle()})`, () => {
  interface Borrower {
    buf: Uint8Array | null;
    cancel: (() => void) | null;
    want: number;
  }
  const step = fc.record({ who: fc.nat(5), grow: fc.boolean(), size: fc.integer({ min: 1, max: MAX_CLASS }) });

  it('stays within budget + one maximal frame, and never waits on itself', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 64, 1000, 4096, 65536, 1 << 20), fc.integer({ min: 1, max: 6 }), fc.array(step, { maxLength: 40 }), async (budget, n, steps) => {
        const pool = new BufferPool({ budget });
        const bs: Borrower[] = Array.from({ length: n }, () => ({ buf: null, cancel: null, want: 0 }));
        const tryGrow = (b: Borrower): void => {
          const got = b.buf === null ? pool.get(b.want, 0) : pool.resize(b.buf, b.want, 0);
          if (got !== null) return void (b.buf = got);
          const holding = b.buf === null ? 0 : pool.capacityOf(b.buf);
          b.cancel = pool.waitFor(b.want, () => {
            b.cancel = null;
            tryGrow(b);
          }, holding);
        };
        for (const s of steps) {
          const b = bs[s.who % n]!;
          if (s.grow && b.cancel === null) {
            b.want = Math.max(s.size, b.buf === null ? 1 : Math.min(MAX_CLASS, pool.capacityOf(b.buf) + 1));
            tryGrow(b);
          } else if (!s.grow) {
            b.cancel?.();
            b.cancel = null;
            if (b.buf) pool.put(b.buf);
            b.buf = null;
          }
          await microtasks();
          const caps = bs.map((x) => (x.buf === null ? 0 : pool.capacityOf(x.buf)));
          expect(pool.outstanding).toBe(caps.reduce((a, c) => a + c, 0));
          expect(pool.outstanding).toBeLessThanOrEqual(budget + MAX_CLASS);
          if (pool.outstanding > budget) expect(pool.outstanding - Math.max(...caps)).toBeLessThanOrEqual(budget);
          const waitingHold = bs.reduce((a, x, i) => a + (x.cancel ? caps[i]! : 0), 0);
          if (pool.stats.waiters > 0) expect(pool.outstanding - waitingHold, 'every lent byte held by waiters, none told').toBeGreaterThan(0);
          for (const x of bs) if (x.buf) expect(pool.capacityOf(x.buf)).toBe(classSize(x.buf.length));
        }
        for (const b of bs) {
          b.cancel?.();
          if (b.buf) pool.put(b.buf);
        }
        expect(pool.stats).toMatchObject({ outstanding: 0, lent: 0, waiters: 0 });
      }),
      fcParams(300),
    );
  });
});
