#!/usr/bin/env node
/**
 * The `alts-record` command (package.json "bin"): `alts-record bench <name> [options]` runs one
 * of the benchmarks of src/bench (a benchmark, never a test), `alts-record --help`
 * says how. A usage error exits with code 2, a failed bench with 1.
 * @module
 */
import { parseCli, USAGE, UsageError } from './bench/args.js';

async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseCli(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`alts-record: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.cmd === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const { runBench, emit } = await import('./bench/run.js');
  emit(await runBench(args), args);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`alts-record: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
