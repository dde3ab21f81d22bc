#!/usr/bin/env node
/**
 * The `alts-record` command (package.json "bin"): `alts-record bench <name> [options]` runs one
 * of the benchmarks of src/bench (a benchmark, never a test); `alts-record fake-handshaker
 * [--listen HOST:PORT]` serves the fake handshaker service (docs/handshake.md §7) until SIGINT
 * or SIGTERM; `alts-record --help` says how. A usage error exits with code 2, a failure with 1.
 * @module
 */
import { parseCli, USAGE as BENCH_USAGE, UsageError } from './bench/args.js';

const USAGE = `${BENCH_USAGE}
usage: alts-record fake-handshaker [--listen HOST:PORT] [--allow-non-loopback]
       serve the fake handshaker service on loopback (tests and demos on one machine); stop with SIGINT/SIGTERM;
       a non-loopback --listen needs --allow-non-loopback (anyone who reaches the fake can compute its keys)
`;

/** Resolves undefined while the fake serves: the process lives until a signal stops it. */
async function fakeHandshaker(argv: readonly string[]): Promise<number | undefined> {
  const { fakeHandshakerMain, USAGE: FAKE_USAGE } = await import('./handshake/fake/cli.js');
  try {
    await fakeHandshakerMain(argv);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    process.stderr.write(`alts-record: ${e.message.split('\n')[0]}\n\n${FAKE_USAGE}\n`);
    return 2;
  }
  return undefined;
}

async function main(argv: readonly string[]): Promise<number | undefined> {
  if (argv[0] === 'fake-handshaker') return fakeHandshaker(argv.slice(1));
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
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`alts-record: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
