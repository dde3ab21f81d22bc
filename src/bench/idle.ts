/**
 * `bench idle` memory per idle connection, a read pending on each, for alts-record
 * on each backend (conn.readOnReady: nothing borrowed while waiting) vs plain net and Node TLS 1.3 (a 'data'
 * listener, as Node users do). The connections' server ends live in a fresh bench peer per
 * measurement (run with --expose-gc), so each process holds one end of each connection and the
 * peer's RSS is about them alone: per connection = (RSS with N open − RSS with none) / N, both
 * after GC, once a warm-up batch has been opened and closed (code paths loaded, JIT done).
 * Also the alts pool's bytes lent at idle, which must be 0.
 * @module
 */
import type net from 'node:net';
import { randomBytes } from 'node:crypto';
import { defaultBackend } from '../crypto/index.js';
import type { BenchArgs } from './args.js';
import { benchBackends } from './backends.js';
import { type Msg, PeerLink } from './peerLink.js';
import type { Progress } from './progress.js';
import type { Recorder } from './result.js';
import { ratio, rotation } from './stats.js';
import { tlsCert } from './tlsCert.js';
import { dialSocket, openMany, type TransportSpec } from './transports.js';

/** Opened and closed before the baseline: at most 1 in 20 of the measured, so the heap it leaves grown hides little. */
const warmUp = (n: number) => Math.max(1, Math.min(100, Math.floor(n / 20)));

interface Once {
  rss: number;
  heap: number;
  lent: number;
  settled: Msg;
}

async function idleOnce(spec: TransportSpec, n: number, progress: Progress): Promise<Once> {
  const peer = await PeerLink.start({ gc: true });
  const socks: net.Socket[] = [];
  const open = async (count: number) => {
    const got = await openMany(count, () => dialSocket(spec, port), (done) => progress.detail(`${done}/${count}`));
    for (const s of got) s.on('error', () => {}); // the peer's exit resets them
    socks.push(...got);
  };
  const settle = (count: number) => peer.request({ op: 'settle', open: count }, 'settled');
  let port = 0;
  try {
    port = (await peer.request({ op: 'idle-listen', spec }, 'listening')).port as number;
    const warm = warmUp(n);
    await open(warm);
    await settle(warm);
    for (const s of socks.splice(0)) s.destroy();
    const before = await settle(0);
    await open(n);
    const after = await settle(n);
    if (after.gc !== true) throw new Error('the bench peer ran without --expose-gc');
    return {
      rss: ((after.rss as number) - (before.rss as number)) / n,
      heap: ((after.heapUsed as number) + (after.external as number) - (before.heapUsed as number) - (before.external as number)) / n,
      lent: after.poolOutstanding as number,
      settled: after,
    };
  } finally {
    await peer.stop(); // the peer's ends close first: the TIME_WAITs stay on its side, not on our ports
    for (const s of socks) s.destroy();
  }
}

export async function idle(args: BenchArgs, rec: Recorder, progress: Progress): Promise<Record<string, unknown>> {
  const n = args.conns!;
  const cert = tlsCert();
  const main = defaultBackend();
  rec.notes.push(`alts-record: ALTSRP_GCM_AES128_REKEY, native reader where the addon loaded, one pool; the targets use backend '${main}' (the default)`);
  rec.notes.push(`TLS certificate: ${cert.source}`);
  const keyHex = randomBytes(44).toString('hex');
  const configs: { id: string; label: string; spec: TransportSpec }[] = benchBackends(rec).map((backend) => ({
    id: `alts:${backend}`,
    label: `alts-record, ${backend} (readOnReady)`,
    spec: { kind: 'alts', backend, protocol: 'ALTSRP_GCM_AES128_REKEY', keyHex },
  }));
  configs.push({ id: 'net', label: 'plain net (data listener)', spec: { kind: 'net' } });
  configs.push({ id: 'tls', label: 'TLS 1.3 (data listener)', spec: { kind: 'tls', cert: cert.cert, key: cert.key } });
  for (const c of configs) rec.declare(`rss:${c.id}`, 'RSS per idle connection', c.label, 'B');
  for (const c of configs) rec.declare(`heap:${c.id}`, 'JS heap + external per idle connection', c.label, 'B');
  for (const c of configs) if (c.spec.kind === 'alts') rec.declare(`lent:${c.id}`, 'pool bytes lent at idle (must be 0)', c.label, 'B');

  const states = new Set<string>();
  for (let rep = 0; rep < args.reps; rep++) {
    for (const i of rotation(configs.length, rep)) {
      const c = configs[i]!;
      progress.step(`idle rep ${rep + 1}/${args.reps}: ${n} × ${c.label}`);
      const r = await idleOnce(c.spec, n, progress);
      rec.sample(`rss:${c.id}`, r.rss);
      rec.sample(`heap:${c.id}`, r.heap);
      if (c.spec.kind === 'alts') {
        rec.sample(`lent:${c.id}`, r.lent);
        states.add(`${JSON.stringify(r.settled.states)}, bytes held by conns ${String(r.settled.held)}`);
      }
    }
  }
  rec.notes.push(`alts-record conns at idle: states ${[...states].join('; ')}`);

  const net = rec.median('rss:net');
  for (const c of configs) {
    if (c.id === 'net') continue;
    rec.derive(`${c.label} − plain net, per connection`, rec.median(`rss:${c.id}`) - net, 'B');
    if (c.id !== 'tls') rec.derive(`${c.label} / TLS`, ratio(rec.median(`rss:${c.id}`), rec.median('rss:tls')), '×');
  }
  rec.target(`alts-record (${main}) RSS per connection − plain net`, rec.median(`rss:alts:${main}`) - net, '<=', 2048, 'B');
  const lent = rec.measures().filter((m) => m.id.startsWith('lent:'));
  rec.target('pool bytes lent at idle (max over backends and reps)', lent.length > 0 ? Math.max(...lent.map((m) => m.max)) : NaN, '<=', 0, 'B');
  return { reps: args.reps, conns: n, warmUp: warmUp(n), gc: 'after --expose-gc, twice' };
}
