/**
 * Load: LOAD_CONNS (default 10,000) concurrent ALTS connections on loopback,
 * every server end an AltsConn (native reader) in this process reading through ONE BufferPool with
 * a budget, every client end in a child process (test/hardening/fixtures/load-peers.mjs) so that
 * both ends fit under the fd limit. Each client sends its own bytes, the server checks every byte
 * and echoes it, the client checks every echoed byte. Asserted: all connections open at once
 * (holding no pool memory while idle), every byte delivered and checked both ways, the budget
 * never exceeded (and actually binding: conns starved), every conn completes (no starvation),
 * nothing left lent, every handle and fd closed. Reported: the fd limits it ran with, the
 * completion spread (fastest and slowest conn), starved waits per conn. No timing is asserted.
 * CI runs the full 10,000 (≈10 s on 2 busy cores). `npm run load` runs it with the fd soft limit
 * raised to the hard one; LOAD_CONNS / LOAD_BYTES / LOAD_CHUNK / LOAD_READSIZE change the load.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createServer } from '../../src/api.js';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { keyFor, native } from '../conn/harness.js';
import { LineChild } from './child.js';
import { loopTurn, openFds } from './pairs.js';

const ASKED = Number(process.env.LOAD_CONNS ?? 10_000);
const MESSAGE = Number(process.env.LOAD_BYTES ?? 8192);
const BUDGET = 4 * 1024 * 1024;
/**
 * The server hands plaintext up in pieces smaller than a message and yields to the event loop
 * after echoing each, so a conn keeps its read buffer (state decrypted) across turns while others
 * read, and the budget binds (64 buffers of 64 KiB for 10,000 conns).
 */
const CHUNK = Number(process.env.LOAD_CHUNK ?? 1000);
/** Bytes a conn borrows for a read from idle (default 64 KiB: whole frames in one read). */
const READ_SIZE = Number(process.env.LOAD_READSIZE ?? 64 * 1024);
const PROTOCOL = 'ALTSRP_GCM_AES128_REKEY' as const;
const KEY = keyFor(PROTOCOL);
const PEERS = fileURLToPath(new URL('./fixtures/load-peers.mjs', import.meta.url));

/** Byte k of conn i's message after its 4-byte index (the same function as in load-peers.mjs). */
const byteAt = (i: number, k: number) => (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca77)) >>> 24;

function fdLimits(): { soft: number; hard: number } {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  const n = (s: string | undefined) => (s === undefined || s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

// Node cannot raise its own fd limit (npm run load starts vitest with the soft limit raised to the
// hard one): this process needs one fd per conn (the addon's dup) and a margin. Below that, run
// what fits and say so.
const LIMITS = fdLimits();
const MARGIN = 200;
const CONNS = Math.min(ASKED, LIMITS.soft - MARGIN);
/** The peers child's fd limit: all its conns and a margin, within this process's hard limit. */
const PEER_FDS = Math.min(CONNS + 1000, LIMITS.hard);

interface Served {
  index: number;
  received: number;
  starvedWaits: number;
  doneAt: number;
}

/** The server end of one connection: read (through `appPool`), check every byte, echo, until EOF. */
async function serve(c: AltsConn, appPool: BufferPool): Promise<Served> {
  let index = -1;
  let received = 0;
  const head = new Uint8Array(4);
  for (;;) {
    const r = await c.readOnReady(CHUNK, appPool);
    if (r === null) break;
    const chunk = r.buf.subarray(0, r.n);
    for (let j = 0; j < chunk.length; j++, received++) {
      if (received < 4) {
        head[received] = chunk[j]!;
        if (received === 3) index = new DataView(head.buffer).getUint32(0, true);
      } else if (chunk[j] !== byteAt(index, received - 4)) {
        throw new Error(`conn ${index}: byte ${received - 4} differs`);
      }
    }
    const echoed = c.write(chunk); // sealed (copied) at once: the pool buffer can go back now
    appPool.put(r.buf);
    await echoed;
    // Yield to the event loop before the next piece, as a handler doing its own I/O would: the
    // conn keeps the rest of its frame (and its buffer) across the turn while other conns read.
    await loopTurn();
  }
  await c.end();
  const starvedWaits = c.stats.starvedWaits;
  c.close();
  return { index, received, starvedWaits, doneAt: performance.now() };
}

function spread(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return `min ${at(0).toFixed(0)} / median ${at(0.5).toFixed(0)} / p99 ${at(0.99).toFixed(0)} / max ${at(1).toFixed(0)}`;
}

describe(`load: ${CONNS} concurrent connections through one budgeted pool (LOAD_CONNS=${ASKED})`, () => {
  it('every byte delivered and checked both ways, the budget never exceeded, every conn completes, nothing left', async () => {
    console.log(`fd limits: this process soft=${LIMITS.soft} hard=${LIMITS.hard}; peers child: ulimit -n ${PEER_FDS}`);
    if (CONNS < ASKED) console.warn(`LOAD: running ${CONNS} connections, not ${ASKED}: the fd soft limit is ${LIMITS.soft} (npm run load raises it to the hard limit)`);
    expect(CONNS).toBeGreaterThan(0);
    const fds0 = openFds();
    const handles0 = native.stats().handles;
    const pool = new BufferPool({ budget: BUDGET });
    const appPool = new BufferPool();
    const served: Promise<Served>[] = [];
    let allAccepted!: () => void;
    const accepted = new Promise<void>((resolve) => (allAccepted = resolve));
    let peakOutstanding = 0;
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    const server = createServer({ protocol: PROTOCOL, side: 'server', key: KEY, unsafeSharedKey: true, pool, reader: 'native', readSize: READ_SIZE }, (c) => {
      served.push(serve(c, appPool));
      c.on('state', () => (peakOutstanding = Math.max(peakOutstanding, pool.outstanding)));
      if (served.length === CONNS) allAccepted();
    });
    const serverErrors: unknown[] = [];
    server.on('error', (e) => serverErrors.push(e));
    const { port } = await server.listen(0, '127.0.0.1');
    const t0 = performance.now();
    const peers = new LineChild(PEERS, [port, CONNS, MESSAGE, 256, PROTOCOL, Buffer.from(KEY).toString('hex')].map(String), PEER_FDS);
    try {
      const connected = await peers.next<{ n: number; soft: number; hard: number }>('connected');
      await accepted;
      const tConnected = performance.now();
      console.log(`peers child: fd limits soft=${connected.soft} hard=${connected.hard}; ${CONNS} connected in ${(tConnected - t0).toFixed(0)} ms`);
      expect(connected.n).toBe(CONNS);
      expect(server.connections.size).toBe(CONNS); // all open at once
      expect(pool.outstanding).toBe(0); // ... and, idle with a read pending, holding nothing
      const conns = [...server.connections];
      expect(conns.every((c) => c.state === 'idle' && c.heldBytes === 0)).toBe(true);

      const tGo = performance.now();
      peers.send('go');
      const [done, results] = await Promise.all([
        peers.next<{ ok: number; failures: number; failed: string[]; ms: number }>('done'),
        Promise.allSettled(served),
      ]);
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
      expect(failed.slice(0, 5)).toEqual([]);
      expect(done).toMatchObject({ ok: CONNS, failures: 0 });
      expect(serverErrors).toEqual([]);
      const ok = results.map((r) => (r as PromiseFulfilledResult<Served>).value);
      // Every conn progressed to the end, each with its own bytes, every byte checked.
      expect(new Set(ok.map((s) => s.index)).size).toBe(CONNS);
      expect(ok.every((s) => s.received === 4 + MESSAGE)).toBe(true);
      // One pool, one budget, never exceeded; and it did bind (conns waited for it).
      const starved = ok.map((s) => s.starvedWaits);
      const totalStarved = starved.reduce((a, b) => a + b, 0);
      console.log(
        `exchange: ${(2 * CONNS * MESSAGE / 2 ** 20).toFixed(0)} MiB both ways in ${(performance.now() - tGo).toFixed(0)} ms (peers: ${done.ms} ms); ` +
          `pool budget ${BUDGET}, highWater ${pool.highWater}, refusals ${pool.stats.refusals}, allocations ${pool.stats.allocations}; ` +
          `starved waits: ${totalStarved} in all, ${starved.filter((n) => n > 0).length} conns starved at least once, most by one conn ${Math.max(...starved)}`,
      );
      console.log(`completion after go, ms (spread over conns): ${spread(ok.map((s) => s.doneAt - tGo))}`);
      expect(pool.highWater).toBeLessThanOrEqual(BUDGET);
      expect(peakOutstanding).toBeLessThanOrEqual(BUDGET);
      expect(totalStarved).toBeGreaterThan(0);
      expect(pool.stats).toMatchObject({ outstanding: 0, lent: 0, waiters: 0 });
      expect(appPool.stats).toMatchObject({ outstanding: 0, lent: 0, waiters: 0 });
      expect(await peers.exited).toBe(0);
    } finally {
      peers.kill();
      await server.close();
    }
    await loopTurn();
    await loopTurn();
    expect(server.connections.size).toBe(0);
    expect(native.stats().handles).toBe(handles0);
    expect(openFds()).toBe(fds0);
  });
});
