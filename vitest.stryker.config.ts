/**
 * Vitest config for mutation runs (stryker.config.json `vitest.configFile`): the normal config,
 * with three changes.
 *
 * 1. Forks, not threads. Stryker's vitest runner forces `pool: 'threads'` (a CLI-level option,
 *    which beats any config file). A worker thread that used a ReadyHandle used to segfault at
 *    teardown (fixed: an async cleanup hook closes open handles while the addon is still loaded,
 *    docs/native-safety.md), but forks keep every mutant run in a process of its own, like the
 *    normal config. The `configureVitest` hook runs after the options are resolved and puts every
 *    project back on forks (one fork at a time: Stryker's own maxWorkers 1 still holds).
 * 2. Tests excluded:
 *    - test/conn/processes.test.ts, test/ecosystem/examples.test.ts: their child processes import
 *      the built package (dist/), not the sandbox's instrumented src/.
 *    - test/hardening/load*.test.ts: thousands of connections in a child process; minutes per mutant.
 *    - properties/conn/liveness.test.ts: model.test.ts's command sequences again with loop-turn
 *      counting; slow per mutant, and model.test.ts already runs the same sequences.
 * 3. FC_SEED pinned (to properties/conn/params.ts CI_SEED, which the conn properties use anyway)
 *    so the record properties, which otherwise draw a random seed per file, draw the same cases
 *    in the dry run and in every mutant run: a mutant's status must not depend on a seed.
 */
import type { Plugin } from 'vite';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

const forks: Plugin = {
  name: 'alts-record:stryker-forks',
  configureVitest({ vitest, project }) {
    vitest.config.pool = 'forks';
    project.config.pool = 'forks';
  },
};

export default mergeConfig(
  base,
  defineConfig({
    plugins: [forks],
    test: {
      exclude: ['**/node_modules/**', 'test/conn/processes.test.ts', 'properties/conn/liveness.test.ts', 'test/ecosystem/examples.test.ts', 'test/hardening/load*.test.ts'],
      env: { FC_SEED: process.env.FC_SEED ?? '20260531' },
    },
  }),
);
