/**
 * Record-layer throughput, a benchmark not a test (DESIGN §6): protect and unprotect of the
 * `node` and `noble` backends at 1 KiB and 16 KiB frames (one message per frame; unprotect fed
 * 64 KiB chunks, like socket reads). Configurations are interleaved within each repetition, and
 * each figure is the median (min–max) in MiB/s. Run: `npm run build && npm run bench:frames`.
 * Env: BENCH_MIB (node, default 64), BENCH_NOBLE_MIB (default 8: noble is ~40× slower), BENCH_REPS (5).
 * @module
 */
import { createProtector } from '../protector.js';
import type { Backend, RecordProtocol } from '../crypto/types.js';

const MIB = 1 << 20;
const REPS = Number(process.env.BENCH_REPS ?? 5);
const PROTOCOL: RecordProtocol = (process.env.BENCH_PROTOCOL as RecordProtocol | undefined) ?? 'ALTSRP_GCM_AES128_REKEY';
const KEY = new Uint8Array(PROTOCOL === 'ALTSRP_GCM_AES128' ? 16 : 44).map((_, i) => i * 13);

interface Config {
  backend: Backend;
  payload: number;
  mib: number;
}

const configs: Config[] = [];
for (const backend of ['node', 'noble'] as const)
  for (const payload of [1024, 16 * 1024 - 24])
    configs.push({ backend, payload, mib: Number(backend === 'noble' ? (process.env.BENCH_NOBLE_MIB ?? 8) : (process.env.BENCH_MIB ?? 64)) });

const label = (c: Config) => `${c.backend.padEnd(5)} ${c.payload === 1024 ? ' 1 KiB' : '16 KiB'} frames`;

function runOnce(c: Config): { protect: number; unprotect: number } {
  const msg = new Uint8Array(c.payload).fill(0x61);
  const frames = Math.floor((c.mib * MIB) / c.payload);
  const bytes = frames * c.payload;
  const a = createProtector({ protocol: PROTOCOL, side: 'client', key: KEY, backend: c.backend });
  const b = createProtector({ protocol: PROTOCOL, side: 'server', key: KEY, backend: c.backend });
  const out: Uint8Array[] = new Array(frames);
  let t = process.hrtime.bigint();
  for (let i = 0; i < frames; i++) out[i] = a.protect(msg);
  const tProtect = Number(process.hrtime.bigint() - t) / 1e9;
  const wire = Buffer.concat(out);
  out.length = 0;
  let got = 0;
  t = process.hrtime.bigint();
  for (let off = 0; off < wire.length; off += 64 * 1024) got += b.unprotect(wire.subarray(off, off + 64 * 1024)).length;
  const tUnprotect = Number(process.hrtime.bigint() - t) / 1e9;
  if (got !== bytes) throw new Error(`unprotect returned ${got} bytes, expected ${bytes}`);
  return { protect: bytes / MIB / tProtect, unprotect: bytes / MIB / tUnprotect };
}

function summary(xs: number[]): string {
  const s = [...xs].sort((p, q) => p - q);
  const med = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return `${med.toFixed(0).padStart(5)} MiB/s (${s[0]!.toFixed(0)}–${s.at(-1)!.toFixed(0)})`;
}

const results = new Map<Config, { protect: number[]; unprotect: number[] }>(configs.map((c) => [c, { protect: [], unprotect: [] }]));
runOnce({ backend: 'node', payload: 1024, mib: 4 }); // warm up
for (let r = 0; r < REPS; r++)
  for (const c of configs) {
    const x = runOnce(c);
    results.get(c)!.protect.push(x.protect);
    results.get(c)!.unprotect.push(x.unprotect);
  }

console.log(`${PROTOCOL}, Node ${process.version}, ${REPS} interleaved reps; median (min–max)`);
for (const c of configs) {
  const r = results.get(c)!;
  console.log(`${label(c)} [${c.mib} MiB]  protect ${summary(r.protect)}   unprotect ${summary(r.unprotect)}`);
}
