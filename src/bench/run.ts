/**
 * Runs one bench by name and writes what it found: `<out>/<name>-<time>.json` and the SVG chart
 * beside it; prints the report (or, with --json, the JSON) on stdout.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchArgs, BenchName } from './args.js';
import { renderText } from './format.js';
import { machine } from './machine.js';
import { Progress } from './progress.js';
import { Recorder, type BenchResult } from './result.js';
import { renderSvg } from './svg.js';

/** A bench: measures into `rec`, reports through `progress`, returns the options it ran with. */
export type Bench = (args: BenchArgs, rec: Recorder, progress: Progress) => Promise<Record<string, unknown>>;

async function load(name: BenchName): Promise<Bench> {
  switch (name) {
    case 'throughput':
      return (await import('./throughput.js')).throughput;
    case 'frames':
      return (await import('./frames.js')).frames;
    case 'idle':
      return (await import('./idle.js')).idle;
    case 'pool':
      return (await import('./pool.js')).pool;
    case 'grpc-idle':
      return (await import('./grpcIdle.js')).grpcIdle;
  }
}

export async function runBench(args: BenchArgs): Promise<BenchResult> {
  const bench = await load(args.name);
  const rec = new Recorder();
  const progress = new Progress();
  const started = new Date();
  const m = machine();
  try {
    const options = await bench(args, rec, progress);
    return {
      bench: args.name,
      startedAt: started.toISOString(),
      seconds: (Date.now() - started.getTime()) / 1000,
      machine: m,
      options,
      notes: rec.notes,
      measures: rec.measures(),
      derived: rec.derived,
      targets: rec.targets,
    };
  } finally {
    progress.done();
  }
}

/** `throughput-20260101T120000Z`: sortable, no characters a file system minds. */
export function fileStem(r: BenchResult): string {
  return `${r.bench}-${r.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

/** Write the JSON and the SVG; print the report (or the JSON). Returns the files written. */
export function emit(r: BenchResult, o: { json: boolean; out: string }): string[] {
  mkdirSync(o.out, { recursive: true });
  const stem = path.join(o.out, fileStem(r));
  const json = JSON.stringify(r, null, 2) + '\n';
  writeFileSync(`${stem}.json`, json);
  writeFileSync(`${stem}.svg`, renderSvg(r));
  const files = [`${stem}.json`, `${stem}.svg`];
  if (o.json) {
    process.stdout.write(json);
    process.stderr.write(files.map((f) => `wrote ${f}\n`).join(''));
  } else {
    process.stdout.write(renderText(r, files));
  }
  return files;
}
