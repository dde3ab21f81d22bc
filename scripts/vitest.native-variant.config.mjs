// vitest config for runs against a variant build of the addon (scripts/native-asan.mjs,
// native-coverage.mjs, native-valgrind.mjs): the project's config plus a setup file that makes
// each worker exit through exit(3) when vitest stops it, so exit-time tools run (gcov's dump).
// ALTS_WORKER_NODE (native-valgrind.mjs): the worker processes are started through that
// executable (a script that runs node under valgrind) instead of node itself; child_process.fork
// takes process.execPath, and only this parent process is changed.
import { fileURLToPath } from 'node:url';
import { mergeConfig } from 'vitest/config';
import base from '../vitest.config.ts';

if (process.env.ALTS_WORKER_NODE) process.execPath = process.env.ALTS_WORKER_NODE;

export default mergeConfig(base, {
  test: { setupFiles: [fileURLToPath(new URL('./native-variant-setup.mjs', import.meta.url))] },
});
