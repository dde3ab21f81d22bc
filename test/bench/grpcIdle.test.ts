/**
 * `alts-record bench grpc-idle` at a tiny size, as a user runs it (the built CLI, --json): every
 * measure is there for the three transports on both sides, each a positive number, and the
 * derived figures and targets name both sides. No figure is asserted: speed and memory targets
 * belong to the bench itself.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { BenchResult } from '../../src/bench/result.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('bench grpc-idle', () => {
  it('--conns 50 --reps 1 --json reports RSS and heap per connection for alts, TLS and insecure on both sides', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'grpc-idle-'));
    dirs.push(out);
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'bench', 'grpc-idle', '--conns', '50', '--reps', '1', '--json', '--out', out], {
      maxBuffer: 16 << 20,
    });
    const r = JSON.parse(stdout) as BenchResult;
    expect(r.bench).toBe('grpc-idle');
    expect(r.options).toMatchObject({ conns: 50, reps: 1 });
    const ids = r.measures.map((m) => m.id).sort();
    const want = ['rss', 'heap'].flatMap((w) => ['server', 'client'].flatMap((side) => ['alts', 'tls', 'insecure'].map((k) => `${w}:${side}:${k}`)));
    expect(ids).toEqual([...want].sort());
    for (const m of r.measures) {
      expect(m.samples, m.id).toHaveLength(1);
      expect(m.samples[0], m.id).toBeGreaterThan(0);
    }
    for (const side of ['server', 'client']) {
      expect(r.derived.filter((d) => d.label.endsWith(`${side} side`)).map((d) => Number.isFinite(d.value))).toEqual([true, true]);
      const t = r.targets.find((x) => x.label.endsWith(`${side} side`));
      expect(t, side).toMatchObject({ op: '<=', threshold: 4096, unit: 'B' });
      expect(Number.isFinite(t!.measured)).toBe(true);
    }
    expect(readdirSync(out).sort().map((f) => path.extname(f))).toEqual(['.json', '.svg']);
  }, 120_000);
});
