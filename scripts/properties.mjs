#!/usr/bin/env node
// A long property campaign: npm run properties -- --runs N [--seed S] [--batch B] [--file properties/conn/model.test.ts]
// Runs the model-based property in batches of B runs (seed S, S+1, ...), one vitest process per
// batch, printing a progress line per batch; stops at the first failure and prints how to replay it
// (FC_SEED=<seed> FC_PATH=<path> npx vitest run <file>).
import { spawnSync } from 'node:child_process';
import { campaignArgs } from './_campaign-args.mjs';

const { runs, batch, seed0, opt } = campaignArgs({
  runs: 10000,
  batch: 2000,
  usage: 'npm run properties -- --runs N [--seed S] [--batch B] [--file F]',
});
const file = opt('file', 'properties/conn/model.test.ts');

const t0 = Date.now();
let done = 0;
for (let i = 0; done < runs; i++) {
  const n = Math.min(batch, runs - done);
  const seed = seed0 + i;
  const r = spawnSync('npx', ['vitest', 'run', file], {
    env: { ...process.env, FC_SEED: String(seed), FC_RUNS: String(n) },
    encoding: 'utf8',
  });
  done += n;
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  if (r.status !== 0) {
    const out = `${r.stdout}\n${r.stderr}`;
    const m = /\{ seed: (-?\d+), path: "([^"]+)"/.exec(out);
    console.log(out.split('\n').filter((l) => /Counterexample|Caused by|Property failed|Expected|Received|^\s+[-+] /.test(l)).join('\n'));
    console.error(`FAILED in batch ${i + 1} (seed ${seed}) after ${done} runs, ${secs}s`);
    if (m) console.error(`replay: FC_SEED=${m[1]} FC_PATH=${m[2]} npx vitest run ${file}`);
    process.exit(1);
  }
  console.log(`[${secs}s] ${done}/${runs} runs ok (batch seed ${seed})`);
}
console.log(`all ${runs} runs passed (seeds ${seed0}..${seed0 + Math.ceil(runs / batch) - 1}); transition report: coverage/transitions.json`);
