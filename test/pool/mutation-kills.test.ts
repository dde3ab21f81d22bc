/**
 * The pool's rules at their exact edges, so that a mutation run over src/pool
 * (stryker.config.json, `npx stryker run --mutate 'src/pool/**\/*.ts'`) sees any change to them:
 * the budget and retention bounds, the free-list and retention bookkeeping (seen through
 * `stats.allocations`), double cancel of a wait, the same-class resize path, and argument checks
 * by name.
 */
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { classSize, MAX_CLASS } from '../../src/pool/sizeClass.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('sizeClass edges', () => {
  it('the largest size, one maximal frame, is its own class', () => {
    expect(classSize(MAX_CLASS)).toBe(MAX_CLASS);
    expect(classSize(MAX_CLASS - 1)).toBe(MAX_CLASS);
    expect(() => classSize(MAX_CLASS + 1)).toThrow(/"size" expected integer in 1\.\.1048580, got 1048581/);
  });
});

describe('BufferPool budget edges', () => {
  it('lends exactly up to the budget, not a byte past it (get and canLend)', () => {
    const pool = new BufferPool({ budget: 128 });
    expect(pool.canLend(64)).toBe(true);
    expect(pool.canLend(65)).toBe(true); // class 128 == budget
    expect(pool.canLend(129)).toBe(false);
    const a = pool.get(64)!;
    expect(pool.canLend(64)).toBe(true);
    expect(pool.canLend(65)).toBe(false);
    const b = pool.get(64)!;
    expect(pool.outstanding).toBe(128);
    expect(pool.canLend(1)).toBe(false);
    expect(pool.get(1)).toBeNull();
    expect(pool.stats).toMatchObject({ outstanding: 128, highWater: 128, lent: 2, gets: 3, refusals: 1, allocations: 2 });
    pool.put(a);
    pool.put(b);
    expect(pool.highWater).toBe(128);
    pool.put(pool.get(1)!);
    expect(pool.highWater).toBe(128); // not lowered by a smaller later loan
  });

  it('a zero budget lends nothing', () => {
    const pool = new BufferPool({ budget: 0 });
    expect(pool.canLend(1)).toBe(false);
    expect(pool.get(1)).toBeNull();
  });

  it('resize grows exactly up to the budget, counting the old buffer as freed', () => {
    const pool = new BufferPool({ budget: 256 });
    const a = pool.get(64)!;
    const b = pool.get(64)!;
    const g = pool.resize(a, 192, 10)!; // 128 - 64 + 256 > 256: refused, a untouched
    expect(g).toBeNull();
    expect(pool.stats).toMatchObject({ outstanding: 128, gets: 3, refusals: 1 });
    const c = pool.resize(a, 128, 10)!; // 128 - 64 + 128 == 256: fits exactly
    expect(c).not.toBeNull();
    expect(c.length).toBe(128);
    expect(pool.outstanding).toBe(192);
    expect(pool.stats).toMatchObject({ gets: 4, refusals: 1, lent: 2 });
    pool.put(b);
    pool.put(c);
    expect(pool.outstanding).toBe(0);
  });

  it('resize within the same class reuses the buffer and moves the kept bytes to the front', () => {
    const pool = new BufferPool({ budget: 128 });
    const a = pool.get(100)!;
    for (let i = 0; i < a.length; i++) a[i] = i;
    expect(pool.resize(a, 100, 100)).toBe(a);
    const view = a.subarray(10, 50);
    const r = pool.resize(view, 120, 40)!;
    expect(r.buffer).toBe(a.buffer);
    expect(r.byteOffset).toBe(0);
    expect(r.length).toBe(120);
    expect(Array.from(r.subarray(0, 40))).toEqual(Array.from({ length: 40 }, (_, i) => i + 10));
    expect(r[40]).toBe(40); // bytes past `keep` are not copied
    expect(pool.stats).toMatchObject({ outstanding: 128, gets: 1, allocations: 1 });
    pool.put(r);
  });

  it('resize: keep is bounded by the old view and the new size', () => {
    const pool = new BufferPool();
    const a = pool.get(10)!;
    expect(() => pool.resize(a, 100, 11)).toThrow(/"keep"/);
    expect(() => pool.resize(a, 5, 6)).toThrow(/"keep"/);
    expect(() => pool.resize(a, 0, 0)).toThrow(/"size"/);
    expect(() => pool.resize(a, MAX_CLASS + 1, 0)).toThrow(/"size"/);
    pool.put(a);
  });
});

describe('BufferPool retention', () => {
  it('keeps freed buffers up to `retain` bytes, exactly, and reuses them', () => {
    const pool = new BufferPool({ retain: 64 });
    const a = pool.get(64)!;
    const b = pool.get(64)!;
    pool.put(a); // retained 64 == retain
    pool.put(b); // 128 > retain: dropped
    const c = pool.get(64)!;
    const d = pool.get(64)!;
    expect(c.buffer).toBe(a.buffer);
    expect(d.buffer).not.toBe(b.buffer);
    expect(pool.stats.allocations).toBe(3);
  });

  it('taking a retained buffer frees its retention', () => {
    const pool = new BufferPool({ retain: 64 });
    pool.put(pool.get(64)!); // retained 64
    const x = pool.get(64)!; // reused: retained 0
    const y = pool.get(64)!; // allocated
    pool.put(x); // retained 64
    pool.put(y); // dropped
    pool.get(64);
    pool.get(64);
    expect(pool.stats.allocations).toBe(3);
  });

  it('keeps several buffers of one class', () => {
    const pool = new BufferPool();
    const bufs = [pool.get(64)!, pool.get(64)!, pool.get(64)!];
    for (const b of bufs) pool.put(b);
    for (let i = 0; i < 3; i++) pool.get(64);
    expect(pool.stats.allocations).toBe(3);
  });

  it('retain 0 keeps nothing', () => {
    const pool = new BufferPool({ retain: 0 });
    pool.put(pool.get(1)!);
    pool.get(1);
    expect(pool.stats.allocations).toBe(2);
  });
});

describe('BufferPool waiters', () => {
  it('a waiter whose class fits the budget exactly is told without a put', async () => {
    const pool = new BufferPool({ budget: 64 });
    let told = 0;
    pool.waitFor(64, () => told++);
    expect(told).toBe(0);
    await tick();
    expect(told).toBe(1);
  });

  it('cancelling twice removes only its own waiter', async () => {
    const pool = new BufferPool({ budget: 64 });
    const held = pool.get(64)!;
    const told: string[] = [];
    const cancelA = pool.waitFor(64, () => told.push('a'));
    pool.waitFor(64, () => told.push('b'));
    cancelA();
    cancelA();
    expect(pool.stats.waiters).toBe(1);
    pool.put(held);
    await tick();
    expect(told).toEqual(['b']);
  });
});

describe('BufferPool argument checks name the argument', () => {
  it('options', () => {
    expect(() => new BufferPool(null as never)).toThrow(/"options" expected object, got null/);
    expect(() => new BufferPool(5 as never)).toThrow(/"options" expected object, got number/);
    expect(() => new BufferPool({ budget: -1 })).toThrow(/"budget"/);
    expect(() => new BufferPool({ retain: -1 })).toThrow(/"retain"/);
    expect(() => new BufferPool({ retain: 1.5 })).toThrow(/"retain"/);
  });

  it('waitFor and foreign buffers', () => {
    const pool = new BufferPool();
    expect(() => pool.waitFor(0, () => {})).toThrow(/"size"/);
    expect(() => pool.waitFor(1, () => {}, -1)).toThrow(/"givesBack"/);
    expect(() => pool.put('x' as never)).toThrow(/"buf" expected Uint8Array, got string/);
    expect(() => pool.put(new Uint8Array(8))).toThrow(/"buf" was not lent by this pool/);
    expect(() => pool.capacityOf(new Uint8Array(8))).toThrow(RangeError);
  });
});
