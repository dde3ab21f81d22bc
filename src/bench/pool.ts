/**
 * `bench pool` many connections streaming at once into one server whose connections
 * borrow their read buffers from a pool with an 8 MiB budget, vs the same through an unbounded
 * pool, interleaved. The writers are alts-record clients in the bench peer; this process is the
 * server, reading each connection with readOnReady into a separate caller pool (given back at
 * once). Measured: the read pool's high-water mark (must stay within the budget) and the
 * throughput from "go" to the last connection's EOF (budgeted ≥ 0.9× unbounded).
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { AltsConn } from '../conn/AltsConn.js';
import { defaultBackend } from '../crypto/index.js';
import { BufferPool } from '../pool/BufferPool.js';
import type { BenchArgs } from './args.js';
import { PeerLink } from './peerLink.js';
import type { Progress } from './progress.js';
import type { Recorder } from './result.js';
import { ratio, rotation } from './stats.js';
import { listen, type TransportSpec } from './transports.js';

const MIB = 1024 * 1024;
const BUDGET = 8 * MIB;
const CONFIGS = [
  { id: 'budget', label: 'pool with an 8 MiB budget' },
  { id: 'unbounded', label: 'unbounded pool' },
] as const;

interface Once {
  mibps: number;
  highWater: number;
  callerHighWater: number;
  starvedWaits: number;
}

async function poolOnce(peer: PeerLink, spec: TransportSpec, budget: number | undefined, conns: number, bytesPerConn: number, progress: Progress): Promise<Once> {
  const pool = new BufferPool(budget === undefined ? {} : { budget });
  const callerPool = new BufferPool();
  let received = 0;
  let finished = 0;
  let starvedWaits = 0;
  let allAccepted!: () => void;
  const accepted = new Promise<void>((resolve) => (allAccepted = resolve));
  const done: Promise<void>[] = [];
  const drain = async (c: AltsConn) => {
    let got = 0;
    for (let r; (r = await c.readOnReady(16 * 1024, callerPool)) !== null; ) {
      got += r.n;
      received += r.n;
      callerPool.put(r.buf);
      progress.detail(`${Math.floor((100 * received) / (conns * bytesPerConn))}%, ${finished}/${conns} done, pool ${(pool.outstanding / MIB).toFixed(1)} MiB lent`);
    }
    starvedWaits += c.stats.starvedWaits;
    c.close();
    finished++;
    if (got !== bytesPerConn) throw new Error(`a connection delivered ${got} bytes, expected ${bytesPerConn}`);
  };
  const server = await listen(spec, () => {}, {
    pool,
    onAlts: (c) => {
      done.push(drain(c));
      if (done.length === conns) allAccepted();
    },
  });
  try {
    await peer.request({ op: 'pool-connect', spec, port: server.port, conns, bytesPerConn }, 'connected');
    await accepted;
    const sent = peer.next('sent');
    const t0 = process.hrtime.bigint();
    peer.send({ op: 'go' });
    await Promise.all(done);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await sent;
    if (pool.outstanding !== 0) throw new Error(`the read pool still lends ${pool.outstanding} bytes after every connection closed`);
    return { mibps: (conns * bytesPerConn) / MIB / seconds, highWater: pool.highWater, callerHighWater: callerPool.highWater, starvedWaits };
  } finally {
    await server.close();
  }
}

export async function pool(args: BenchArgs, rec: Recorder, progress: Progress): Promise<Record<string, unknown>> {
  const conns = args.conns!;
  const bytesPerConn = Math.max(1, Math.floor((args.mib! * MIB) / conns));
  const backend = defaultBackend();
  const spec: TransportSpec = { kind: 'alts', backend, protocol: 'ALTSRP_GCM_AES128_REKEY', keyHex: randomBytes(44).toString('hex') };
  rec.notes.push(`${conns} connections × ${(bytesPerConn / 1024).toFixed(0)} KiB each, 64 KiB writes, 16 KiB frames, backend '${backend}'; reads: readOnReady(16 KiB) into a separate, unbounded caller pool`);
  for (const c of CONFIGS) rec.declare(`tp:${c.id}`, 'throughput, all connections', c.label, 'MiB/s');
  for (const c of CONFIGS) rec.declare(`hw:${c.id}`, 'read pool high-water mark', c.label, 'MiB');
  for (const c of CONFIGS) rec.declare(`starved:${c.id}`, 'starved waits (pool could not lend), all connections', c.label, 'waits');
  let callerHighWater = 0;

  const peer = await PeerLink.start();
  try {
    progress.step('pool: warm-up run (not recorded)');
    await poolOnce(peer, spec, undefined, Math.min(conns, 50), Math.min(bytesPerConn, 256 * 1024), progress);
    for (let rep = 0; rep < args.reps; rep++) {
      for (const i of rotation(CONFIGS.length, rep)) {
        const c = CONFIGS[i]!;
        progress.step(`pool rep ${rep + 1}/${args.reps}: ${conns} connections, ${c.label}`);
        const r = await poolOnce(peer, spec, c.id === 'budget' ? BUDGET : undefined, conns, bytesPerConn, progress);
        rec.sample(`tp:${c.id}`, r.mibps);
        rec.sample(`hw:${c.id}`, r.highWater / MIB);
        rec.sample(`starved:${c.id}`, r.starvedWaits);
        callerHighWater = Math.max(callerHighWater, r.callerHighWater);
      }
    }
  } finally {
    await peer.stop();
  }
  rec.notes.push(`caller pool high-water (readOnReady buffers, given back at once): ${(callerHighWater / 1024).toFixed(0)} KiB`);

  rec.derive('throughput: 8 MiB budget / unbounded', ratio(rec.median('tp:budget'), rec.median('tp:unbounded')), '×');
  const hw = rec.measures().find((m) => m.id === 'hw:budget');
  rec.target('read pool high-water with the budget (max over reps)', hw ? hw.max : NaN, '<=', BUDGET / MIB, 'MiB');
  rec.target('throughput: 8 MiB budget / unbounded', ratio(rec.median('tp:budget'), rec.median('tp:unbounded')), '>=', 0.9, '×');
  return { reps: args.reps, conns, mibPerRun: args.mib, budget: '8 MiB' };
}
