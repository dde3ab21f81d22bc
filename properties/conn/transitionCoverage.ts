/** Which (state, event) pairs the model visited during a property run (model/transitions.ts declares the reachable ones). */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { ConnModel } from '../../model/ConnModel.js';
import { reachablePairs } from '../../model/transitions.js';

const visited = new Map<string, number>();
const seen = new WeakMap<ConnModel, number>();

export function recordVisits(m: ConnModel): void {
  const from = seen.get(m) ?? 0;
  for (const v of m.visits.slice(from)) visited.set(v, (visited.get(v) ?? 0) + 1);
  seen.set(m, m.visits.length);
}

export interface TransitionReport {
  pairs: { pair: string; reachable: boolean; visits: number }[];
  missing: string[];
  unexpected: string[];
}

export function transitionReport(): TransitionReport {
  const reachable = reachablePairs();
  const pairs = reachable.map((pair) => ({ pair, reachable: true, visits: visited.get(pair) ?? 0 }));
  const unexpected = [...visited.keys()].filter((p) => !reachable.includes(p));
  for (const p of unexpected) pairs.push({ pair: p, reachable: false, visits: visited.get(p)! });
  return { pairs, missing: pairs.filter((p) => p.reachable && p.visits === 0).map((p) => p.pair), unexpected };
}

export function writeTransitionReport(path = 'coverage/transitions.json'): TransitionReport {
  const r = transitionReport();
  mkdirSync(path.slice(0, path.lastIndexOf('/')), { recursive: true });
  writeFileSync(path, `${JSON.stringify(r, null, 2)}\n`);
  return r;
}

export function formatReport(r: TransitionReport): string {
  return r.pairs.map((p) => `${p.pair.padEnd(22)} ${String(p.visits).padStart(7)}${p.reachable ? '' : '  (not declared reachable)'}`).join('\n');
}
