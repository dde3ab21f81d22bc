import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { classSize, MAX_CLASS } from '../../src/pool/sizeClass.js';

describe('sizeClass', () => {
  it('rounds to 64, powers of two, and the exact maximal frame', () => {
    expect(classSize(1)).toBe(64);
    expect(classSize(64)).toBe(64);
    expect(classSize(65)).toBe(128);
    expect(classSize(16 * 1024)).toBe(16 * 1024);
    expect(classSize(16 * 1024 + 1)).toBe(32 * 1024);
    expect(classSize(1 << 20)).toBe(1 << 20);
    expect(classSize((1 << 20) + 1)).toBe((1 << 20) + 4);
    expect(MAX_CLASS).toBe((1 << 20) + 4);
  });
  it('rejects sizes outside 1 .. one maximal frame with RangeError', () => {
    for (const bad of [0, -1, 1.5, MAX_CLASS + 1, NaN]) expect(() => classSize(bad)).toThrow(RangeError);
  });
});

describe('BufferPool', () => {
  it('lends views of the asked size and counts class capacities', () => {
    const pool = new BufferPool();
    const a = pool.get(100)!;
    expect(a.length).toBe(100);
    expect(pool.outstanding).toBe(128);
    const b = pool.get(5000)!;
    expect(pool.outstanding).toBe(128 + 8192);
    pool.put(a);
    pool.put(b);
    expect(pool.outstanding).toBe(0);
    expect(pool.highWater).toBe(128 + 8192);
  });

  it('reuses freed buffers instead of allocating', () => {
    const pool = new BufferPool();
    pool.put(pool.get(1000)!);
    const before = pool.stats.allocations;
    pool.put(pool.get(1000)!);
    expect(pool.stats.allocations).toBe(before);
  });

  it('refuses past the budget and never exceeds it', () => {
    const pool = new BufferPool({ budget: 1024 });
    const a = pool.get(512)!;
    const b = pool.get(512)!;
    expect(pool.get(1)).toBeNull();
    expect(pool.outstanding).toBe(1024);
    pool.put(a);
    expect(pool.get(512)).not.toBeNull();
    expect(pool.highWater).toBe(1024);
    pool.put(b);
  });

  it('rejects a double put and a foreign buffer', () => {
    const pool = new BufferPool();
    const a = pool.get(10)!;
    pool.put(a);
    expect(() => pool.put(a)).toThrow(RangeError);
    expect(() => pool.put(new Uint8Array(10))).toThrow(RangeError);
    expect(() => pool.put('x' as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('checks its arguments, naming them', () => {
    expect(() => new BufferPool({ budget: -1 })).toThrow(/"budget"/);
    expect(() => new BufferPool({ budget: 'x' as unknown as number })).toThrow(TypeError);
    const pool = new BufferPool();
    expect(() => pool.get(0)).toThrow(/"size"/);
    expect(() => pool.get(MAX_CLASS + 1)).toThrow(RangeError);
  });

  it('resizes: shrinking always succeeds, growing respects the budget, bytes kept', () => {
    const pool = new BufferPool({ budget: 4096 });
    const a = pool.get(4096)!;
    a.set([1, 2, 3]);
    const small = pool.resize(a, 100, 3)!;
    expect(Array.from(small.subarray(0, 3))).toEqual([1, 2, 3]);
    expect(pool.outstanding).toBe(128);
    const other = pool.get(2048)!;
    expect(pool.resize(small, 4096, 3)).toBeNull(); // 2048 + 4096 > 4096
    expect(pool.outstanding).toBe(128 + 2048);
    const grown = pool.resize(small, 1024, 3)!;
    expect(Array.from(grown.subarray(0, 3))).toEqual([1, 2, 3]);
    expect(pool.outstanding).toBe(1024 + 2048);
    pool.put(grown);
    pool.put(other);
    expect(pool.outstanding).toBe(0);
  });

  it('an exchange never counts both buffers in the high-water mark', () => {
    const pool = new BufferPool({ budget: 4096 });
    const other = pool.get(2048)!;
    const a = pool.get(1024)!;
    const b = pool.resize(a, 2048, 0)!; // 2048 + 2048: exactly the budget
    expect(pool.outstanding).toBe(4096);
    expect(pool.highWater).toBe(4096);
    pool.put(b);
    pool.put(other);
  });

  it('tells waiters first in, first out, as the freed budget covers them', async () => {
    const pool = new BufferPool({ budget: 256 + 64 });
    const other = pool.get(64)!; // held by someone who is not waiting: no overdraft (test/pool/overdraft.test.ts)
    const a = pool.get(256)!;
    const told: string[] = [];
    pool.waitFor(256, () => told.push('first'));
    pool.waitFor(64, () => told.push('second'));
    const cancel = pool.waitFor(64, () => told.push('cancelled'));
    cancel();
    expect(told).toEqual([]);
    pool.put(a);
    expect(told).toEqual([]); // never from inside put
    await Promise.resolve();
    expect(told).toEqual(['first']); // the first takes the whole budget; the second waits its turn
    expect(pool.stats.waiters).toBe(1);
    pool.put(pool.get(64)!);
    await Promise.resolve();
    expect(told).toEqual(['first', 'second']);
    pool.put(other);
  });

  it('tells a waiter asynchronously when it could lend already', async () => {
    const pool = new BufferPool();
    const told = new Promise<string>((resolve) => pool.waitFor(64, () => resolve('told')));
    await expect(told).resolves.toBe('told');
  });
});
