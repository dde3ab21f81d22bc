/**
 * `bench grpc-idle` memory per idle grpc-js connection, each side, over alts-record (the ALTS
 * handshake through a fake handshaker service this process starts, then the record protocol),
 * TLS 1.3 and insecure gRPC. The server and the clients live in two fresh bench peers per
 * measurement (run with --expose-gc), so each process holds one side of every connection. Each
 * client has its own channel and subchannel pool, so its own connection, and does one unary RPC
 * before it idles. A warm-up batch stays open (code paths loaded, JIT done, grpc-js's per-process
 * state made); per connection = (memory with warm-up + N open − memory with warm-up open) / N,
 * both after GC, on each side.
 * @module
 */
import type { BenchArgs } from './args.js';
import { startFakeHandshaker } from '../handshake/fake/server.js';
import type { GrpcKind, GrpcSpec } from './grpcPeer.js';
import { type Msg, PeerLink } from './peerLink.js';
import type { Progress } from './progress.js';
import type { Recorder } from './result.js';
import { rotation } from './stats.js';
import { tlsCert } from './tlsCert.js';

/** Dialled before the baseline and kept open: at most 1 in 20 of the measured. */
const warmUp = (n: number) => Math.max(1, Math.min(50, Math.floor(n / 20)));

const SIDES = ['server', 'client'] as const;
type Side = (typeof SIDES)[number];
type Mem = Record<Side, { rss: number; heap: number }>;

const heapOf = (m: Msg) => (m.heapUsed as number) + (m.external as number);

async function grpcIdleOnce(spec: GrpcSpec, n: number, progress: Progress): Promise<Mem> {
  const server = await PeerLink.start({ gc: true });
  const client = await PeerLink.start({ gc: true }).catch(async (e: unknown) => {
    await server.stop();
    throw e;
  });
  try {
    const { port } = await server.request({ op: 'grpc-serve', spec }, 'grpc-serving');
    const clientSpec = { ...spec, key: undefined }; // the client never sees the server's key
    const settle = async (calls: number) => {
      const s = await server.request({ op: 'grpc-settle', calls }, 'grpc-settled');
      const c = await client.request({ op: 'grpc-settle' }, 'grpc-settled');
      if (s.gc !== true || c.gc !== true) throw new Error('a bench peer ran without --expose-gc');
      return { server: s, client: c };
    };
    const warm = warmUp(n);
    await client.request({ op: 'grpc-dial', spec: clientSpec, port, count: warm }, 'grpc-dialed');
    const before = await settle(warm);
    progress.detail(`${n} clients`);
    await client.request({ op: 'grpc-dial', spec: clientSpec, port, count: n }, 'grpc-dialed');
    const after = await settle(warm + n);
    const per = (side: Side) => ({
      rss: ((after[side].rss as number) - (before[side].rss as number)) / n,
      heap: (heapOf(after[side]) - heapOf(before[side])) / n,
    });
    return { server: per('server'), client: per('client') };
  } finally {
    await client.stop();
    await server.stop();
  }
}

const LABELS: Record<GrpcKind, string> = { alts: 'alts-record (ALTS handshake)', tls: 'TLS 1.3', insecure: 'insecure gRPC' };

export async function grpcIdle(args: BenchArgs, rec: Recorder, progress: Progress): Promise<Record<string, unknown>> {
  const n = args.conns!;
  const cert = tlsCert();
  const handshaker = await startFakeHandshaker();
  rec.notes.push('alts-record: ALTSRP_GCM_AES128_REKEY after a handshake through the fake handshaker service (in the bench process), default reader and pool');
  rec.notes.push(`TLS certificate: ${cert.source}`);
  rec.notes.push('each client: its own grpc-js channel with grpc.use_local_subchannel_pool, so its own connection; one unary RPC, then idle');
  const specs: GrpcSpec[] = [
    { kind: 'alts', handshaker: handshaker.address },
    { kind: 'tls', cert: cert.cert, key: cert.key },
    { kind: 'insecure' },
  ];
  for (const what of ['rss', 'heap'] as const)
    for (const side of SIDES)
      for (const s of specs)
        rec.declare(`${what}:${side}:${s.kind}`, `${what === 'rss' ? 'RSS' : 'JS heap + external'} per idle gRPC connection, ${side} side`, LABELS[s.kind], 'B');
  try {
    for (let rep = 0; rep < args.reps; rep++) {
      for (const i of rotation(specs.length, rep)) {
        const s = specs[i]!;
        progress.step(`grpc-idle rep ${rep + 1}/${args.reps}: ${n} × ${LABELS[s.kind]}`);
        const r = await grpcIdleOnce(s, n, progress);
        for (const side of SIDES) {
          rec.sample(`rss:${side}:${s.kind}`, r[side].rss);
          rec.sample(`heap:${side}:${s.kind}`, r[side].heap);
        }
      }
    }
  } finally {
    await handshaker.close();
  }
  for (const side of SIDES) {
    const insecure = rec.median(`rss:${side}:insecure`);
    for (const kind of ['alts', 'tls'] as const) rec.derive(`${LABELS[kind]} − insecure, RSS per connection, ${side} side`, rec.median(`rss:${side}:${kind}`) - insecure, 'B');
  }
  for (const side of SIDES)
    rec.target(`alts-record RSS per connection − insecure, ${side} side`, rec.median(`rss:${side}:alts`) - rec.median(`rss:${side}:insecure`), '<=', 4096, 'B');
  return { reps: args.reps, conns: n, warmUp: warmUp(n), gc: 'after --expose-gc, twice', handshakes: handshaker.results };
}
