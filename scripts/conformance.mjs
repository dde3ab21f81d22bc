#!/usr/bin/env node
// npm run conformance: replay every trace of docs/corpus against the real conn (native reader,
// real socketpair). Regenerate the corpus from the model with:
//   CORPUS_WRITE=1 npx vitest run properties/conn/corpus.test.ts
import { spawnSync } from 'node:child_process';

const r = spawnSync('npx', ['vitest', 'run', 'properties/conn/conformance.test.ts', 'properties/conn/corpus.test.ts', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
