/**
 * The command line of `alts-record`: `bench <name> [options]` and `--help`. Pure: it returns
 * what to run or throws UsageError (the CLI prints it with the usage and exits 2).
 * @module
 */
import { parseArgs } from 'node:util';

export type BenchName = 'throughput' | 'frames' | 'idle' | 'pool' | 'grpc-idle';

interface Spec {
  what: string;
  defaults: { reps: number; mib?: number; conns?: number; seconds?: number };
}

/** Each bench, what it measures, and its defaults (the issue's figures). */
export const BENCHES: Readonly<Record<BenchName, Spec>> = {
  throughput: { what: 'bulk transfer over loopback, two processes: alts-record per backend vs TLS 1.3 vs net', defaults: { reps: 5, mib: 1024 } },
  frames: { what: 'seal/open per frame, 1-64 KiB, per backend vs openssl speed', defaults: { reps: 5, seconds: 1 } },
  idle: { what: 'RSS per idle connection (read pending) vs net and TLS; pool bytes lent', defaults: { reps: 3, conns: 10000 } },
  pool: { what: 'many connections streaming through an 8 MiB pool vs an unbounded one', defaults: { reps: 5, conns: 1000, mib: 4096 } },
  'grpc-idle': { what: 'RSS per idle grpc-js connection, each side: alts-record (handshake) vs TLS vs insecure', defaults: { reps: 3, conns: 600 } },
};

export interface BenchArgs {
  cmd: 'bench';
  name: BenchName;
  json: boolean;
  out: string;
  reps: number;
  /** throughput: MiB per direction and run; pool: MiB over all connections per run. */
  mib?: number;
  /** idle, pool: connections. */
  conns?: number;
  /** frames: seconds per measurement. */
  seconds?: number;
}
export type CliArgs = { cmd: 'help' } | BenchArgs;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: alts-record bench <name> [--json] [--reps N] [--out DIR] [--mib N] [--conns N] [--seconds S]
       alts-record --help

benches (on demand; the machine should be quiet):
${Object.entries(BENCHES)
  .map(([n, s]) => `  ${n.padEnd(11)} ${s.what}`)
  .join('\n')}

options:
  --json       print the result as JSON on stdout (no table)
  --reps N     interleaved repetitions (default 5; idle, grpc-idle 3)
  --out DIR    where <name>-<time>.json and .svg go (default bench/out under the current directory)
  --mib N      throughput: MiB per direction per run (default 1024); pool: MiB over all connections (default 4096)
  --conns N    idle: connections (default 10000); pool: connections (default 1000); grpc-idle: clients (default 600)
  --seconds S  frames: seconds per measurement (default 1)
`;

function int(opt: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${opt} expected an integer in ${min}..${max}, got '${v}'`);
  return n;
}

export function parseCli(argv: readonly string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean' },
        reps: { type: 'string' },
        out: { type: 'string' },
        mib: { type: 'string' },
        conns: { type: 'string' },
        seconds: { type: 'string' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values: v, positionals: pos } = parsed;
  if (v.help) return { cmd: 'help' };
  if (pos.length === 0) throw new UsageError('no command');
  if (pos[0] !== 'bench') throw new UsageError(`unknown command '${pos[0]}'`);
  if (pos.length !== 2) throw new UsageError(pos.length === 1 ? 'bench: which one?' : `bench: one name expected, got ${pos.slice(1).join(' ')}`);
  const name = pos[1]!;
  if (!Object.hasOwn(BENCHES, name)) throw new UsageError(`unknown bench '${name}' (one of ${Object.keys(BENCHES).join(', ')})`);
  const spec = BENCHES[name as BenchName];
  const applies = (opt: 'mib' | 'conns' | 'seconds', given: string | undefined): boolean => {
    if (given !== undefined && spec.defaults[opt] === undefined) throw new UsageError(`--${opt} does not apply to the ${name} bench`);
    return spec.defaults[opt] !== undefined;
  };
  if (v.out !== undefined && v.out.length === 0) throw new UsageError('--out expected a directory');
  const out: BenchArgs = {
    cmd: 'bench',
    name: name as BenchName,
    json: v.json === true,
    out: v.out ?? 'bench/out',
    reps: v.reps === undefined ? spec.defaults.reps : int('reps', v.reps, 1, 1000),
  };
  if (applies('mib', v.mib)) out.mib = v.mib === undefined ? spec.defaults.mib! : int('mib', v.mib, 1, 1 << 20);
  if (applies('conns', v.conns)) out.conns = v.conns === undefined ? spec.defaults.conns! : int('conns', v.conns, 1, 100_000);
  if (applies('seconds', v.seconds)) {
    const s = v.seconds === undefined ? spec.defaults.seconds! : Number(v.seconds);
    if (!(s > 0 && s <= 60)) throw new UsageError(`--seconds expected a number in (0, 60], got '${v.seconds}'`);
    out.seconds = s;
  }
  return out;
}
