/**
 * Statistics of a benchmark's repetitions: the median and the min–max of each
 * measure, ratios computed from medians, the rotating order of interleaved configurations.
 * Pure functions, unit-tested in test/bench/stats.test.ts.
 * @module
 */

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** The median of `xs` (mean of the two middle values for an even count). Throws on an empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('"xs" expected at least one sample');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median, min, max and count of `xs`. */
export function summarize(xs: readonly number[]): Summary {
  if (xs.length === 0) throw new RangeError('"xs" expected at least one sample');
  for (const x of xs) if (!Number.isFinite(x)) throw new RangeError(`"xs" expected finite numbers, got ${x}`);
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** a / b, or NaN when b is 0 or either is not finite (printed as "n/a"). */
export function ratio(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return NaN;
  return a / b;
}

/** The order in which repetition `rep` runs `count` configurations: rotated by one each rep, so no configuration always runs first. */
export function rotation(count: number, rep: number): number[] {
  return Array.from({ length: count }, (_, i) => (i + rep) % count);
}
