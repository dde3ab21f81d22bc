/**
 * The throughput bench's grpc-go pairs: grpc-go 1.33.3's own ALTS record layer (the interop
 * peer, docs/handshake.md §9, built once per bench run from Debian's sources into a temporary
 * directory) and alts-record (goPeerAlts.ts), each end its own process, both through one fake
 * handshaker service in this process, so both negotiate ALTSRP_GCM_AES128_REKEY and write 4 KiB
 * frames. The client sends; the measure is the server's: from its "go" byte to the last byte
 * received.
 * @module
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startFakeHandshaker, type FakeHandshaker } from '../handshake/fake/server.js';
import { DEFAULT_IDENTITY } from '../handshake/fake/session.js';

export type End = 'go' | 'alts';
export const PAIRS: readonly (readonly [End, End])[] = [
  ['go', 'go'],
  ['go', 'alts'],
  ['alts', 'go'],
  ['alts', 'alts'],
];
export const endName = (e: End) => (e === 'go' ? 'grpc-go' : 'alts-record');

const MIB = 1024 * 1024;
const ALTS_END = fileURLToPath(new URL('./goPeerAlts.js', import.meta.url));
const BUILD = new URL('../../scripts/interop/build.mjs', import.meta.url).href;

export interface GoPeers {
  /** Move `mib` MiB from a `from` client to a `to` server; MiB/s as the server measured it. */
  run(from: End, to: End, mib: number): Promise<number>;
  close(): Promise<void>;
}

/** The Go peer built and a handshaker service started, or why not (Go or Debian's grpc-go sources missing). */
export async function startGoPeers(): Promise<GoPeers | { skipped: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'alts-record-bench-go-'));
  let bin: string;
  try {
    const { buildPeer } = (await import(BUILD)) as { buildPeer(out: string): string };
    bin = buildPeer(dir);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return { skipped: `grpc-go pairs skipped: ${e instanceof Error ? e.message : String(e)}` };
  }
  const hs = await startFakeHandshaker();
  return {
    run: (from, to, mib) => runPair(bin, hs, from, to, mib),
    async close() {
      await hs.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One end as a child process; its stdout lines, one JSON value each. */
function end(cmd: string, args: string[]) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = once(child, 'exit').then(([code, signal]) => (code === 0 ? undefined : `exit ${String(signal ?? code)}`));
  return {
    async next(): Promise<Record<string, unknown>> {
      const r = await lines.next();
      if (r.done) throw new Error(`bench ${cmd}: ended (${(await exited) ?? 'exit 0'}) without the line expected`);
      return JSON.parse(r.value as string) as Record<string, unknown>;
    },
    async exit(): Promise<void> {
      const bad = await exited;
      if (bad !== undefined) throw new Error(`bench ${cmd}: ${bad}`);
    },
    kill: () => child.kill('SIGTERM'),
  };
}

async function runPair(bin: string, hs: FakeHandshaker, from: End, to: End, mib: number): Promise<number> {
  const sink =
    to === 'go' ? end(bin, ['-mode', 'bench-sink', '-handshaker', hs.address, '-mib', String(mib)]) : end(process.execPath, [ALTS_END, 'sink', hs.address, String(mib)]);
  let source: ReturnType<typeof end> | undefined;
  try {
    const listening = String((await sink.next()).listening);
    source =
      from === 'go'
        ? end(bin, ['-mode', 'bench-source', '-handshaker', hs.address, '-connect', listening, '-target', DEFAULT_IDENTITY.server, '-mib', String(mib)])
        : end(process.execPath, [ALTS_END, 'source', hs.address, String(mib), listening]);
    const { bytes, seconds } = (await sink.next()) as { bytes: number; seconds: number };
    await Promise.all([sink.exit(), source.exit()]);
    if (bytes !== mib * MIB) throw new Error(`bench ${endName(to)} sink: ${bytes} bytes, not ${mib * MIB}`);
    return bytes / MIB / seconds;
  } catch (e) {
    sink.kill();
    source?.kill();
    throw e;
  }
}
