/**
 * The human-readable report of a BenchResult: what ran, on which machine, each measure's median
 * and min–max, the derived figures and the targets with PASS/MISS. Pure, so tests can check it.
 * @module
 */
import { byGroup, type BenchResult, type Target } from './result.js';

/** A number at a readable precision: 3 significant digits, no exponent, thousands unseparated. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  const a = Math.abs(x);
  if (a >= 100 || a === 0) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

/** A value with its unit: "1.31×", "812 MiB/s", "5.2 KB". */
export function withUnit(x: number, unit: string): string {
  if (unit === '×') return `${num(x)}×`;
  return `${num(x)} ${unit}`;
}

export function targetLine(t: Target): string {
  const verdict = t.pass ? 'PASS' : 'MISS';
  const measured = Number.isFinite(t.measured) ? withUnit(t.measured, t.unit) : 'not measured';
  return `${verdict}  ${t.label} ${t.op === '>=' ? '≥' : '≤'} ${withUnit(t.threshold, t.unit)}: ${measured}${t.note ? ` (${t.note})` : ''}`;
}

export function machineLine(r: BenchResult): string {
  const m = r.machine;
  const openssl = m.opensslCli === null ? 'no openssl CLI' : `openssl CLI ${m.opensslCli}`;
  return `machine: ${m.cpu}, ${m.cores} cores, ${m.platform}, Node ${m.node} (OpenSSL ${m.nodeOpenssl}), ${openssl}, load ${m.loadavg.map((x) => x.toFixed(2)).join(' ')}`;
}

export function renderText(r: BenchResult, files: readonly string[] = []): string {
  const lines: string[] = [];
  const opts = Object.entries(r.options).map(([k, v]) => `${k}=${String(v)}`).join(' ');
  lines.push(`alts-record bench ${r.bench}: median (min–max) of interleaved repetitions; ${opts}`);
  lines.push(machineLine(r));
  for (const n of r.notes) lines.push(`note: ${n}`);
  const width = Math.max(20, ...r.measures.map((m) => m.label.length));
  for (const [group, ms] of byGroup(r.measures)) {
    lines.push('', group);
    for (const m of ms) lines.push(`  ${m.label.padEnd(width)}  ${withUnit(m.median, m.unit).padStart(14)}  (${num(m.min)}–${num(m.max)}, n=${m.n})`);
  }
  if (r.derived.length > 0) {
    lines.push('', 'from the medians');
    const w = Math.max(...r.derived.map((d) => d.label.length));
    for (const d of r.derived) lines.push(`  ${d.label.padEnd(w)}  ${withUnit(d.value, d.unit)}`);
  }
  if (r.targets.length > 0) {
    lines.push('', 'targets');
    for (const t of r.targets) lines.push(`  ${targetLine(t)}`);
  }
  lines.push('', `took ${r.seconds.toFixed(1)} s`);
  for (const f of files) lines.push(`wrote ${f}`);
  return lines.join('\n') + '\n';
}
