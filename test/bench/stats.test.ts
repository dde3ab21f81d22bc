/**
 * The bench's statistics: median, min–max, ratios from medians, the interleaving order.
 */
import { describe, expect, it } from 'vitest';
import { median, ratio, rotation, summarize } from '../../src/bench/stats.js';

describe('bench stats', () => {
  it('median of an odd count is the middle value, whatever the order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([7])).toBe(7);
  });

  it('median of an even count is the mean of the two middle values', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('median does not reorder the caller\'s samples', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('summarize gives median, min, max and count', () => {
    expect(summarize([10, 30, 20, 50])).toEqual({ median: 25, min: 10, max: 50, n: 4 });
  });

  it('refuses no samples and non-finite samples', () => {
    expect(() => median([])).toThrow(RangeError);
    expect(() => summarize([])).toThrow(RangeError);
    expect(() => summarize([1, NaN])).toThrow(RangeError);
    expect(() => summarize([Infinity])).toThrow(RangeError);
  });

  it('ratio divides, and is NaN when it cannot be computed', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(NaN, 2)).toBeNaN();
    expect(ratio(2, NaN)).toBeNaN();
  });

  it('rotation runs every configuration once per rep, a different one first each rep', () => {
    for (let rep = 0; rep < 4; rep++) expect([...rotation(3, rep)].sort()).toEqual([0, 1, 2]);
    expect([0, 1, 2, 3].map((rep) => rotation(3, rep)[0])).toEqual([0, 1, 2, 0]);
  });
});
