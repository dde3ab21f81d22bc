/**
 * `bench throughput` bulk transfer over loopback between two processes, 64 KiB
 * writes, client→server and server→client, at 4 KiB and 16 KiB frames: alts-record on each
 * backend vs Node TLS 1.3 (TLS_AES_128_GCM_SHA256, records capped at the same size with
 * setMaxSendFragment) vs plain net, all in one run, interleaved. This process is the client;
 * the bench peer (peer.ts) is the server. One fresh connection per measurement; the handshake is
 * not timed. c2s: first write → the peer's "all received"; s2c: "go" → last byte received.
 * Where Go and Debian's grpc-go sources are installed, four grpc-go pairs (goPeer.ts) join the
 * same rotation: grpc-go and alts-record at each end, both through the ALTS handshake.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Backend } from '../crypto/types.js';
import type { BenchArgs } from './args.js';
import { benchBackends, NOBLE_DIVISOR } from './backends.js';
import { endName, PAIRS, startGoPeers, type End, type GoPeers } from './goPeer.js';
import { PeerLink } from './peerLink.js';
import type { Progress } from './progress.js';
import type { Recorder } from './result.js';
import { ratio, rotation } from './stats.js';
import { tlsCert } from './tlsCert.js';
import { dial, type Kind, type TransportSpec } from './transports.js';

const MIB = 1024 * 1024;
const CHUNK = new Uint8Array(64 * 1024).fill(0xa5);
/** Each configuration runs once with this much first, unrecorded: JIT, pools and caches warm. */
const WARM_UP_BYTES = 8 * MIB;
const FRAMES = [4096, 16384] as const;
const DIRS = ['c2s', 's2c'] as const;
type Dir = (typeof DIRS)[number];
const GROUP: Record<Dir, string> = { c2s: 'client → server', s2c: 'server → client' };

interface Config {
  id: string;
  dir: Dir;
  spec: TransportSpec;
  bytes: number;
  label: string;
  /** A grpc-go pair, client → server (goPeer.ts); `spec` is then unused. */
  go?: readonly [End, End];
}

const kib = (n: number) => `${n / 1024} KiB`;
const id = (dir: Dir, kind: Kind, frame?: number, backend?: Backend) => [dir, kind, backend, frame].filter((x) => x !== undefined).join(':');
const goId = ([from, to]: readonly [End, End]) => `c2s:${from}-${to}:4096`;
const GO_GROUP = 'grpc-go pairs, client → server, 4 KiB frames';

async function runOnce(peer: PeerLink, go: GoPeers | undefined, c: Config, progress: Progress): Promise<{ mibps: number; info: string }> {
  if (c.go !== undefined) return { mibps: await go!.run(c.go[0], c.go[1], c.bytes / MIB), info: '' };
  const { port } = await peer.request({ op: 'tp-listen', spec: c.spec, role: c.dir === 'c2s' ? 'receive' : 'send', bytes: c.bytes }, 'listening');
  const ep = await dial(c.spec, port as number);
  const tick = (done: number) => progress.detail(`${Math.floor((100 * done) / c.bytes)}%`);
  let t0: bigint;
  let info = ep.describe();
  if (c.dir === 'c2s') {
    const received = peer.next('done');
    t0 = process.hrtime.bigint();
    await ep.send(c.bytes, CHUNK, tick);
    info = String((await received).info);
  } else {
    const received = ep.receive(c.bytes, tick);
    const sent = peer.next('sent');
    t0 = process.hrtime.bigint();
    peer.send({ op: 'go' });
    await received;
    await sent;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  ep.close();
  await peer.request({ op: 'tp-close' }, 'closed');
  return { mibps: c.bytes / MIB / seconds, info };
}

export async function throughput(args: BenchArgs, rec: Recorder, progress: Progress): Promise<Record<string, unknown>> {
  const mib = args.mib!;
  const backends = benchBackends(rec);
  const cert = tlsCert();
  rec.notes.push(`TLS certificate: ${cert.source}`);
  const protocol = 'ALTSRP_GCM_AES128_REKEY' as const;
  const keyHex = randomBytes(44).toString('hex');
  const nobleMib = Math.max(1, Math.floor(mib / NOBLE_DIVISOR));
  if (backends.includes('noble')) rec.notes.push(`noble moves ${nobleMib} MiB per run, not ${mib} (it is ~40× slower than node:crypto)`);

  const configs: Config[] = [];
  for (const dir of DIRS) {
    for (const frame of FRAMES) {
      for (const backend of backends) {
        const bytes = (backend === 'noble' ? nobleMib : mib) * MIB;
        configs.push({ id: id(dir, 'alts', frame, backend), dir, bytes, label: `alts ${backend}, ${kib(frame)} frames`, spec: { kind: 'alts', backend, frame, protocol, keyHex } });
      }
      configs.push({ id: id(dir, 'tls', frame), dir, bytes: mib * MIB, label: `TLS 1.3, ${kib(frame)} records`, spec: { kind: 'tls', frame, cert: cert.cert, key: cert.key } });
    }
    configs.push({ id: id(dir, 'net'), dir, bytes: mib * MIB, label: 'plain net', spec: { kind: 'net' } });
  }
  const go = await startGoPeers();
  if ('skipped' in go) rec.notes.push(go.skipped);
  else for (const pair of PAIRS) configs.push({ id: goId(pair), dir: 'c2s', bytes: mib * MIB, label: pair.map(endName).join(' → '), spec: { kind: 'alts' }, go: pair });
  for (const c of configs) rec.declare(c.id, c.go ? GO_GROUP : GROUP[c.dir], c.label, 'MiB/s');
  const goPeers = 'skipped' in go ? undefined : go;

  const seen = new Set<string>();
  const peer = await PeerLink.start();
  try {
    for (const c of configs) {
      progress.step(`throughput warm-up (not recorded): ${c.label} ${c.dir}`);
      await runOnce(peer, goPeers, { ...c, bytes: Math.min(c.bytes, WARM_UP_BYTES) }, progress);
    }
    for (let rep = 0; rep < args.reps; rep++) {
      for (const i of rotation(configs.length, rep)) {
        const c = configs[i]!;
        progress.step(`throughput rep ${rep + 1}/${args.reps}: ${c.label} ${c.dir} (${c.bytes / MIB} MiB)`);
        const { mibps, info } = await runOnce(peer, goPeers, c, progress);
        rec.sample(c.id, mibps);
        if (c.go === undefined && !seen.has(`${c.spec.kind}${info}`)) {
          seen.add(`${c.spec.kind}${info}`);
          if (c.spec.kind !== 'net') rec.notes.push(`${c.spec.kind} negotiated: ${info}`);
        }
      }
    }
  } finally {
    await peer.stop();
    await goPeers?.close();
  }

  for (const dir of DIRS) {
    const net = rec.median(id(dir, 'net'));
    for (const frame of FRAMES) {
      const tls = rec.median(id(dir, 'tls', frame));
      for (const backend of backends) {
        const alts = rec.median(id(dir, 'alts', frame, backend));
        rec.derive(`${dir} ${kib(frame)}: alts ${backend} / TLS`, ratio(alts, tls), '×');
        rec.derive(`${dir} ${kib(frame)}: alts ${backend} / net`, ratio(alts, net), '×');
      }
    }
  }
  const missing = (b: Backend) => (backends.includes(b) ? undefined : `backend '${b}' unavailable`);
  for (const dir of DIRS) {
    const at = (kind: Kind, backend?: Backend) => rec.median(id(dir, kind, kind === 'net' ? undefined : 16384, backend));
    rec.target(`${dir} 16 KiB: alts native / TLS`, ratio(at('alts', 'native'), at('tls')), '>=', 1.25, '×', missing('native'));
    rec.target(`${dir} 16 KiB: alts native / net`, ratio(at('alts', 'native'), at('net')), '>=', 0.7, '×', missing('native'));
    rec.target(`${dir} 16 KiB: alts node / TLS`, ratio(at('alts', 'node'), at('tls')), '>=', 1.0, '×');
  }
  const goNote = 'skipped' in go ? go.skipped : undefined;
  for (const [pair, threshold] of [[['alts', 'alts'], 1.5], [['go', 'alts'], 0.95], [['alts', 'go'], 0.95]] as const) {
    const label = `${pair.map(endName).join(' → ')} / grpc-go → grpc-go`;
    const r = ratio(rec.median(goId(pair)), rec.median(goId(['go', 'go'])));
    if (goNote === undefined) rec.derive(label, r, '×');
    rec.target(label, r, '>=', threshold, '×', goNote);
  }
  return { reps: args.reps, mibPerRun: mib, write: '64 KiB', protocol, processes: 2 };
}
