/**
 * `bench frames` seal and open of one frame at 1, 4, 16 and 64 KiB of payload for
 * each backend, through the record layer (sealFramesInto: header, copy, seal; openFrame: check,
 * open into the caller's buffer), vs `openssl speed -evp aes-128-gcm` (-elapsed, wall clock,
 * encrypt and -decrypt) at the same sizes where the openssl CLI is installed. Time-based like
 * openssl speed: each measurement runs batches for --seconds. The fixed cost per frame is
 * measured directly, as the time per frame of 1-byte payloads (the AES work is then nil).
 * @module
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createCrypters } from '../crypto/index.js';
import type { Backend } from '../crypto/types.js';
import { FRAME_OVERHEAD, MIN_MAX_FRAME_SIZE } from '../record/constants.js';
import { openFrame, sealFramesInto } from '../record/frame.js';
import type { BenchArgs } from './args.js';
import { benchBackends } from './backends.js';
import { opensslCliVersion } from './machine.js';
import type { Progress } from './progress.js';
import type { Recorder } from './result.js';
import { ratio, rotation } from './stats.js';

const MIB = 1024 * 1024;
const SIZES = [1024, 4096, 16384, 65536] as const;
const BATCH_BYTES = 4 * MIB; // frames sealed, then opened, per batch
const MAX_BATCH = 4096;
/** The payload of the frames that measure the fixed cost: one byte, so AES work is negligible. */
const TINY = 1;
const PROTOCOL = 'ALTSRP_GCM_AES128_REKEY' as const;
const OPS = ['seal', 'open'] as const;
type Op = (typeof OPS)[number];
const OPENSSL_OP: Record<Op, string> = { seal: 'encrypt', open: 'decrypt' };

type Config = { kind: 'backend'; backend: Backend; size: number } | { kind: 'fixed'; backend: Backend } | { kind: 'openssl'; size: number };

const kib = (n: number) => `${n / 1024} KiB`;
const mid = (op: Op, size: number, who: string) => `${op}:${size}:${who}`;

/** Nanoseconds per frame of seal and of open of `size`-byte payloads on `backend`, each timed alone, for `seconds`. */
export function measureBackend(backend: Backend, size: number, seconds: number, progress?: Progress): Record<Op, number> {
  const key = new Uint8Array(44).map((_, i) => i * 7 + 1);
  const { outbound } = createCrypters({ protocol: PROTOCOL, side: 'client', key, backend });
  const { inbound } = createCrypters({ protocol: PROTOCOL, side: 'server', key, backend });
  const frameBytes = size + FRAME_OVERHEAD;
  const maxFrameSize = Math.max(MIN_MAX_FRAME_SIZE, frameBytes); // one frame per seal whatever the size
  const batch = Math.min(MAX_BATCH, Math.max(1, Math.floor(BATCH_BYTES / size)));
  const slots = Array.from({ length: batch }, () => new Uint8Array(frameBytes));
  const plain = new Uint8Array(size).fill(0x61);
  const dst = new Uint8Array(size);
  let sealNs = 0n;
  let openNs = 0n;
  let frames = 0;
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  do {
    let t = process.hrtime.bigint();
    for (const s of slots) sealFramesInto(outbound, plain, s, 0, maxFrameSize);
    const sealed = process.hrtime.bigint();
    sealNs += sealed - t;
    t = sealed;
    for (const s of slots) openFrame(inbound, s, 0, frameBytes, dst, 0);
    openNs += process.hrtime.bigint() - t;
    frames += batch;
    progress?.detail(`${frames} frames`);
  } while (process.hrtime.bigint() < end);
  return { seal: Number(sealNs) / frames, open: Number(openNs) / frames };
}

const mibps = (size: number, nsPerFrame: number) => size / MIB / (nsPerFrame / 1e9);

/** `openssl speed -evp aes-128-gcm` at one size (bytes/s on the wall clock), in MiB/s. */
export async function opensslSpeed(op: Op, size: number, seconds: number): Promise<number> {
  const argv = ['speed', '-mr', '-elapsed', '-seconds', String(Math.max(1, Math.round(seconds))), '-bytes', String(size), '-evp', 'aes-128-gcm'];
  if (op === 'open') argv.splice(1, 0, '-decrypt');
  const child = spawn('openssl', argv, { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const [code] = (await once(child, 'close')) as [number | null];
  const m = /^\+F:\d+:[^:]+:([\d.]+)/m.exec(out);
  if (code !== 0 || m === null) throw new Error(`openssl ${argv.join(' ')} failed (${code}): ${out.slice(0, 200)}`);
  return Number(m[1]) / MIB;
}

export async function frames(args: BenchArgs, rec: Recorder, progress: Progress): Promise<Record<string, unknown>> {
  const seconds = args.seconds!;
  const backends = benchBackends(rec);
  const openssl = opensslCliVersion();
  rec.notes.push(openssl ? `openssl CLI ${openssl}: speed -elapsed -seconds ${Math.max(1, Math.round(seconds))} -bytes N -evp aes-128-gcm (seal: encrypt, open: -decrypt)` : 'openssl CLI not found: no openssl comparison');
  rec.notes.push(`each measurement runs ${seconds} s (time-based, like openssl speed): slower backends such as noble just do fewer frames`);
  const configs: Config[] = [];
  for (const backend of backends) configs.push({ kind: 'fixed', backend });
  for (const size of SIZES) {
    for (const backend of backends) configs.push({ kind: 'backend', backend, size });
    if (openssl) configs.push({ kind: 'openssl', size });
  }
  for (const op of OPS) {
    for (const c of configs) {
      if (c.kind === 'fixed') rec.declare(mid(op, TINY, c.backend), 'fixed cost per frame (1-byte payload)', `${c.backend} ${op}`, 'µs');
      else {
        const who = c.kind === 'openssl' ? 'openssl' : c.backend;
        rec.declare(mid(op, c.size, who), op === 'seal' ? 'seal (encrypt)' : 'open (decrypt)', `${who}, ${kib(c.size)}`, 'MiB/s');
      }
    }
  }

  for (const b of backends) measureBackend(b, 4096, 0.05); // warm up the JIT on every path
  for (let rep = 0; rep < args.reps; rep++) {
    for (const i of rotation(configs.length, rep)) {
      const c = configs[i]!;
      const step = `frames rep ${rep + 1}/${args.reps}:`;
      if (c.kind === 'openssl') {
        progress.step(`${step} openssl speed ${kib(c.size)}`);
        for (const op of OPS) rec.sample(mid(op, c.size, 'openssl'), await opensslSpeed(op, c.size, seconds));
      } else if (c.kind === 'fixed') {
        progress.step(`${step} ${c.backend} 1-byte frames`);
        const ns = measureBackend(c.backend, TINY, seconds, progress);
        for (const op of OPS) rec.sample(mid(op, TINY, c.backend), ns[op] / 1000);
      } else {
        progress.step(`${step} ${c.backend} ${kib(c.size)}`);
        const ns = measureBackend(c.backend, c.size, seconds, progress);
        for (const op of OPS) rec.sample(mid(op, c.size, c.backend), mibps(c.size, ns[op]));
      }
    }
  }

  if (openssl)
    for (const backend of backends)
      for (const op of OPS)
        rec.derive(`${backend} ${op} / openssl ${OPENSSL_OP[op]} at 16 KiB`, ratio(rec.median(mid(op, 16384, backend)), rec.median(mid(op, 16384, 'openssl'))), '×');
  const noNative = backends.includes('native') ? undefined : "backend 'native' unavailable";
  for (const op of OPS) {
    rec.target(`native ${op}: fixed cost per frame`, rec.median(mid(op, TINY, 'native')), '<=', 1, 'µs', noNative);
    rec.target(
      `native ${op} / openssl ${OPENSSL_OP[op]} at 16 KiB`,
      ratio(rec.median(mid(op, 16384, 'native')), rec.median(mid(op, 16384, 'openssl'))),
      '>=', 0.7, '×', noNative ?? (openssl ? undefined : 'no openssl CLI'),
    );
  }
  return { reps: args.reps, seconds, sizes: SIZES.map(kib).join(' '), protocol: PROTOCOL, batch: `${BATCH_BYTES / MIB} MiB` };
}
