/**
 * What every benchmark produces: measures (one sample per interleaved repetition,
 * summarized as median and min–max), figures derived from the medians (ratios, fixed costs),
 * and the targets, each PASS or MISS with the measured figure. `Recorder` collects them
 * while a bench runs; the result is plain JSON.
 * @module
 */
import { summarize, type Summary } from './stats.js';
import type { Machine } from './machine.js';

export interface MeasureResult extends Summary {
  id: string;
  /** Measures of one group share a unit and a chart panel. */
  group: string;
  label: string;
  unit: string;
  samples: number[];
}

/** A figure computed from medians: a ratio (unit '×'), a fixed cost per frame (µs), a difference (B). */
export interface Derived {
  label: string;
  value: number;
  unit: string;
}

export interface Target {
  label: string;
  measured: number;
  op: '>=' | '<=';
  threshold: number;
  unit: string;
  /** False when not met, or not measured (measured is NaN and `note` says why). */
  pass: boolean;
  note?: string;
}

export interface BenchResult {
  bench: string;
  startedAt: string;
  seconds: number;
  machine: Machine;
  options: Record<string, unknown>;
  notes: string[];
  measures: MeasureResult[];
  derived: Derived[];
  targets: Target[];
}

interface Slot {
  group: string;
  label: string;
  unit: string;
  samples: number[];
}

export class Recorder {
  readonly notes: string[] = [];
  readonly derived: Derived[] = [];
  readonly targets: Target[] = [];
  readonly #slots = new Map<string, Slot>();

  /** Declare a measure (its place in the output follows declaration order). */
  declare(id: string, group: string, label: string, unit: string): void {
    if (this.#slots.has(id)) throw new RangeError(`"id" measure ${id} declared twice`);
    this.#slots.set(id, { group, label, unit, samples: [] });
  }

  sample(id: string, value: number): void {
    const s = this.#slots.get(id);
    if (s === undefined) throw new RangeError(`"id" measure ${id} was not declared`);
    s.samples.push(value);
  }

  /** The median of a measure, NaN if it has no samples or does not exist. */
  median(id: string): number {
    const s = this.#slots.get(id);
    return s === undefined || s.samples.length === 0 ? NaN : summarize(s.samples).median;
  }

  derive(label: string, value: number, unit: string): void {
    this.derived.push({ label, value, unit });
  }

  /** A target: met when `measured op threshold`; NaN (not measured) is a MISS with `note`. */
  target(label: string, measured: number, op: '>=' | '<=', threshold: number, unit: string, note?: string): void {
    const pass = Number.isFinite(measured) && (op === '>=' ? measured >= threshold : measured <= threshold);
    this.targets.push({ label, measured, op, threshold, unit, pass, ...(note !== undefined && { note }) });
  }

  /** Measures with at least one sample, summarized. */
  measures(): MeasureResult[] {
    const out: MeasureResult[] = [];
    for (const [id, s] of this.#slots)
      if (s.samples.length > 0) out.push({ id, group: s.group, label: s.label, unit: s.unit, samples: s.samples, ...summarize(s.samples) });
    return out;
  }
}

/** Measures by group, groups in order of first appearance. */
export function byGroup(ms: readonly MeasureResult[]): Map<string, MeasureResult[]> {
  const out = new Map<string, MeasureResult[]>();
  for (const m of ms) {
    const g = out.get(m.group);
    if (g) g.push(m);
    else out.set(m.group, [m]);
  }
  return out;
}
