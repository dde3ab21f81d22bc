#!/usr/bin/env node
// The long hostile-input campaign:
//   npm run fuzz -- --runs N [--seed S] [--batch B]
// Runs properties/hostile/fuzz.test.ts (real conns on real sockets) in batches of B cases, one
// vitest process per batch with FC_SEED = S, S+1, ... and FC_RUNS = B, printing a progress line
// per batch (cases done, rate, ETA, how the streams ended). The seed comes from --seed, else
// FC_SEED, else the clock, and is printed first. Stops at the first failure and prints the
// counterexample and the command that replays it.
import { spawn } from 'node:child_process';
import { campaignArgs } from './_campaign-args.mjs';

const FILE = 'properties/hostile/fuzz.test.ts';
const { runs, batch, seed0 } = campaignArgs({ runs: 100000, batch: 5000, usage: 'npm run fuzz -- --runs N [--seed S] [--batch B]' });

/** One vitest process over `n` cases from `seed`: its exit status and everything it printed. */
function runBatch(seed, n) {
  return new Promise((resolve) => {
    const child = spawn('npx', ['vitest', 'run', FILE, `--testTimeout=${Math.max(60_000, n * 100)}`], {
      env: { ...process.env, FC_SEED: String(seed), FC_RUNS: String(n), FC_PATH: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (status) => resolve({ status, out }));
  });
}

const totals = new Map();
const t0 = Date.now();
console.log(`hostile-input campaign: ${runs} cases, seed ${seed0} (batches of ${batch}: seeds ${seed0}..${seed0 + Math.ceil(runs / batch) - 1})`);
let done = 0;
for (let i = 0; done < runs; i++) {
  const n = Math.min(batch, runs - done);
  const seed = seed0 + i;
  const { status, out } = await runBatch(seed, n);
  const secs = (Date.now() - t0) / 1000;
  if (status !== 0) {
    const m = /\{ seed: (-?\d+), path: "([^"]+)"/.exec(out);
    const shown = out.split('\n').filter((l) => /Counterexample|Caused by|Property failed|Error|Expected|Received|hung/.test(l));
    console.log(shown.length > 0 ? shown.join('\n') : out);
    console.error(`FAILED in batch ${i + 1} (seed ${seed}) after ${done} cases passed, ${secs.toFixed(0)}s`);
    console.error(m ? `replay: FC_SEED=${m[1]} FC_PATH=${m[2]} npx vitest run ${FILE}` : `rerun: FC_SEED=${seed} FC_RUNS=${n} npx vitest run ${FILE}`);
    process.exit(1);
  }
  done += n;
  const tally = /outcomes: ([^\n]*)/.exec(out)?.[1] ?? '';
  for (const part of tally.split(', ').filter(Boolean)) {
    const [k, v] = part.split(' ');
    totals.set(k, (totals.get(k) ?? 0) + Number(v));
  }
  const eta = ((runs - done) * secs) / done;
  console.log(`[${secs.toFixed(0)}s] ${done}/${runs} cases ok (batch seed ${seed}; ${(done / secs).toFixed(0)}/s; ETA ${eta.toFixed(0)}s)`);
}
const secs = ((Date.now() - t0) / 1000).toFixed(0);
console.log(`all ${runs} cases passed in ${secs}s (seeds ${seed0}..${seed0 + Math.ceil(runs / batch) - 1})`);
console.log(`endings: ${[...totals].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
