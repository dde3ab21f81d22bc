/**
 * `alts-record fake-handshaker [--listen HOST:PORT] [--allow-non-loopback]` (docs/handshake.md
 * §7): serve the fake handshaker service on loopback (another address only when allowed) and print one JSON line with its "address" once it serves;
 * stop on SIGINT or SIGTERM.
 * @module
 */
import { startFakeHandshaker, type FakeHandshaker } from './server.js';

export const USAGE =
  'usage: alts-record fake-handshaker [--listen HOST:PORT] [--allow-non-loopback]\n' +
  '       --listen: default 127.0.0.1:0 (any free port); a loopback address only: anyone who can reach the fake can compute its keys.\n' +
  '       --allow-non-loopback: listen on another address anyway (a test network you own)';

/** The fake's keys are computable by anyone who reaches it: loopback unless asked otherwise. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** HOST:PORT → { host, port }; [v6]:port works. RangeError naming --listen otherwise. */
export function parseListen(v: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new RangeError(`"--listen" expected HOST:PORT, got '${v}'`);
  return { host: m[1] ?? m[2]!, port };
}

export interface MainOptions {
  /** Where the JSON line goes. Default stdout. */
  out?: (line: string) => void;
  /** Stop the service (and exit) on SIGINT/SIGTERM. Default true: the command's whole job is the fake. */
  signals?: boolean;
}

/** Starts the service and resolves with it once it serves; throws RangeError on bad arguments. */
export async function fakeHandshakerMain(argv: readonly string[], o: MainOptions = {}): Promise<FakeHandshaker> {
  const out = o.out ?? ((l: string) => void process.stdout.write(`${l}\n`));
  let listen = { host: '127.0.0.1', port: 0 };
  let anyAddress = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--listen') {
      if (i + 1 >= argv.length || argv[i + 1]!.startsWith('--')) throw new RangeError('"--listen" needs a value, HOST:PORT');
      listen = parseListen(argv[++i]!);
    } else if (a.startsWith('--listen=')) listen = parseListen(a.slice('--listen='.length));
    else if (a === '--allow-non-loopback') anyAddress = true;
    else throw new RangeError(`unknown argument '${a}'\n${USAGE}`);
  }
  if (!anyAddress && !isLoopback(listen.host))
    throw new RangeError(`"--listen" ${listen.host} is not a loopback address: anyone who reaches the fake can compute its keys; add --allow-non-loopback to listen there anyway`);
  const svc = await startFakeHandshaker(listen);
  // Signals first: whoever reads the line may stop us at once.
  if (o.signals ?? true) stopOnSignals(svc);
  out(JSON.stringify({ service: 'grpc.gcp.HandshakerService', address: svc.address, fake: true }));
  return svc;
}

function stopOnSignals(svc: FakeHandshaker): void {
  const stop = (): void => {
    void svc.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
