/**
 * `bench throughput`'s grpc-go pairs (src/bench/goPeer.ts), at a tiny size, through the built
 * command: with Go and Debian's grpc-go sources, the four pairs each have a sample and their three
 * ratios are derived and targeted; without Go, they are skipped with a note that the targets carry.
 * No timing is asserted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const IDS = ['c2s:go-go:4096', 'c2s:go-alts:4096', 'c2s:alts-go:4096', 'c2s:alts-alts:4096'];
const TARGETS = ['alts-record → alts-record / grpc-go → grpc-go', 'grpc-go → alts-record / grpc-go → grpc-go', 'alts-record → grpc-go / grpc-go → grpc-go'];
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Result {
  notes: string[];
  measures: { id: string; samples: number[] }[];
  derived: { label: string; value: number }[];
  targets: { label: string; measured: number; pass: boolean; note?: string }[];
}

function bench(env: NodeJS.ProcessEnv): Result {
  const out = mkdtempSync(join(tmpdir(), 'alts-record-bench-test-'));
  dirs.push(out);
  const r = spawnSync(process.execPath, [CLI, 'bench', 'throughput', '--mib', '2', '--reps', '1', '--json', '--out', out], { encoding: 'utf8', env });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Result;
}

const goAvailable = spawnSync('go', ['version']).status === 0 && spawnSync('dpkg', ['-L', 'golang-google-grpc-dev']).status === 0;

function expectSkipped(r: Result, why: RegExp): void {
  const note = r.notes.find((n) => n.startsWith('grpc-go pairs skipped:'));
  expect(note).toMatch(why);
  expect(r.measures.filter((m) => IDS.includes(m.id))).toEqual([]);
  for (const label of TARGETS) expect(r.targets.find((t) => t.label === label)).toMatchObject({ pass: false, note });
}

describe('bench throughput: grpc-go pairs', () => {
  it(`${goAvailable ? 'with' : 'without'} Go and Debian's grpc-go sources here, the four pairs are ${goAvailable ? 'measured and their ratios targeted' : 'skipped with a note'}`, () => {
    const r = bench(process.env);
    if (!goAvailable) return expectSkipped(r, /not installed/);
    for (const id of IDS) {
      const m = r.measures.find((x) => x.id === id);
      expect(m?.samples, id).toHaveLength(1);
      expect(m!.samples[0]).toBeGreaterThan(0);
    }
    for (const label of TARGETS) {
      expect(r.derived.find((d) => d.label === label)?.value, label).toBeGreaterThan(0);
      const t = r.targets.find((x) => x.label === label);
      expect(t?.measured, label).toBeGreaterThan(0);
      expect(t).not.toHaveProperty('note');
    }
  }, 180_000);

  it('with no go on PATH, the pairs are skipped with a note that their targets carry', () => {
    const empty = mkdtempSync(join(tmpdir(), 'alts-record-no-go-'));
    dirs.push(empty);
    expectSkipped(bench({ ...process.env, PATH: empty }), /go is not installed/);
  }, 180_000);
});
