// Runs in every vitest worker of a variant run (scripts/vitest.native-variant.config.mjs).
// - gcov writes its counters (and valgrind its summary) in exit(3). vitest stops a forks
//   worker with SIGTERM, which kills Node outright, and a worker whose loop drains first may be
//   killed halfway through its exit (its signal handlers are gone by then). So the worker stays
//   alive until vitest stops it and turns that SIGTERM into process.exit, with a handler that
//   stays installed.
// - Under ASan (ALTS_ASAN_SUPPORT names scripts/native-asan-support.c's build), LeakSanitizer
//   runs after each test file, in the live worker: the exit-time check takes longer than the
//   500 ms vitest allows between SIGTERM and SIGKILL.
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll } from 'vitest';

const installed = Symbol.for('alts-record.native-variant.sigterm');
if (!globalThis[installed]) {
  globalThis[installed] = true;
  process.on('SIGTERM', () => process.exit(0));
  setInterval(() => {}, 2 ** 30); // a keep-alive, not a wait: nothing runs on it
}

const support = process.env.ALTS_ASAN_SUPPORT;
if (support) {
  const { leakCheck } = createRequire(import.meta.url)(support);
  afterAll(() => {
    const found = leakCheck(); // the report, if any, goes to this process's ASan log
    appendFileSync(process.env.ALTS_ASAN_CHECKS, `${process.pid} ${found}\n`);
  });
}
