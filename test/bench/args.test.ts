/**
 * The `alts-record` command line: what each bench gets by default, and the usage errors the CLI
 * turns into exit code 2.
 */
import { describe, expect, it } from 'vitest';
import { BENCHES, parseCli, USAGE, UsageError } from '../../src/bench/args.js';

const usageError = (argv: string[]) => {
  try {
    parseCli(argv);
  } catch (e) {
    return e;
  }
  return null;
};

describe('alts-record command line', () => {
  it('--help and -h ask for the usage', () => {
    expect(parseCli(['--help'])).toEqual({ cmd: 'help' });
    expect(parseCli(['-h'])).toEqual({ cmd: 'help' });
    expect(parseCli(['bench', 'idle', '--help'])).toEqual({ cmd: 'help' });
  });

  it('each bench gets its own defaults, only the options that apply to it', () => {
    expect(parseCli(['bench', 'throughput'])).toEqual({ cmd: 'bench', name: 'throughput', json: false, out: 'bench/out', reps: 5, mib: 1024 });
    expect(parseCli(['bench', 'frames'])).toEqual({ cmd: 'bench', name: 'frames', json: false, out: 'bench/out', reps: 5, seconds: 1 });
    expect(parseCli(['bench', 'idle'])).toEqual({ cmd: 'bench', name: 'idle', json: false, out: 'bench/out', reps: 3, conns: 10000 });
    expect(parseCli(['bench', 'pool'])).toEqual({ cmd: 'bench', name: 'pool', json: false, out: 'bench/out', reps: 5, conns: 1000, mib: 4096 });
    expect(parseCli(['bench', 'grpc-idle'])).toEqual({ cmd: 'bench', name: 'grpc-idle', json: false, out: 'bench/out', reps: 3, conns: 600 });
  });

  it('options override the defaults, in any position', () => {
    expect(parseCli(['bench', '--reps', '2', 'pool', '--json', '--conns=200', '--mib', '32', '--out', 'x/y'])).toEqual({
      cmd: 'bench', name: 'pool', json: true, out: 'x/y', reps: 2, conns: 200, mib: 32,
    });
    expect(parseCli(['bench', 'frames', '--seconds', '0.25'])).toMatchObject({ seconds: 0.25 });
  });

  it.each([
    [[], 'no command'],
    [['run'], 'unknown command'],
    [['bench'], 'which one'],
    [['bench', 'nope'], 'unknown bench'],
    [['bench', 'idle', 'pool'], 'one name'],
    [['bench', 'idle', '--verbose'], 'Unknown option'],
    [['bench', 'idle', '--reps'], 'argument missing'],
    [['bench', 'idle', '--reps', '0'], '--reps'],
    [['bench', 'idle', '--reps', '1.5'], '--reps'],
    [['bench', 'idle', '--reps', 'many'], '--reps'],
    [['bench', 'idle', '--conns', '-3'], '--conns'],
    [['bench', 'throughput', '--mib', '0'], '--mib'],
    [['bench', 'frames', '--seconds', '0'], '--seconds'],
    [['bench', 'frames', '--seconds', 'x'], '--seconds'],
    [['bench', 'frames', '--conns', '3'], 'does not apply'],
    [['bench', 'throughput', '--conns', '3'], 'does not apply'],
    [['bench', 'idle', '--mib', '3'], 'does not apply'],
    [['bench', 'pool', '--seconds', '1'], 'does not apply'],
    [['bench', 'idle', '--out', ''], '--out'],
  ])('%j is a usage error', (argv, what) => {
    const e = usageError(argv);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toContain(what);
  });

  it('the usage names every bench and every option', () => {
    for (const name of Object.keys(BENCHES)) expect(USAGE).toContain(name);
    for (const opt of ['--json', '--reps', '--out', '--mib', '--conns', '--seconds', '--help']) expect(USAGE).toContain(opt);
  });
});
