/**
 * Stalling peers, on real sockets with both readers. A peer that claims a 1 MiB
 * frame and then trickles costs pool memory in proportion to what it sent (docs/spec.md §5: at
 * most 4× plus one 64-byte class), never a whole frame up front; a peer sending one byte per
 * wakeup costs one readiness and one read(2) per byte, O(log frame) buffer exchanges and O(frame)
 * bytes copied in all. Checked on the conn's counters at every step it takes (every 'wakeup'),
 * never on wall-clock time; CPU time per byte is printed, not asserted.
 *
 * Conns sharing one budgeted pool never wedge it (the pool never waits on itself, docs/spec.md
 * §3 "Pool refilled"): growing in step, holding plaintext while readOnReady borrows from the
 * same pool, or needing more than the whole budget.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { MAX_CLASS } from '../../src/pool/sizeClass.js';
import { LENGTH_FIELD_BYTES, MAX_FRAME_LENGTH, MESSAGE_TYPE } from '../../src/record/constants.js';
import { plaintextFor } from '../../properties/conn/Real.js';
import { MAX_PAYLOAD, sealer, sealOne } from '../../properties/hostile/streams.js';
import { native } from '../conn/harness.js';
import { frames, loopTurn, pairOf, rejection, until, type ReaderKind } from './pairs.js';
import { testHooks } from '../../src/conn/testHooks.js';

const PROTOCOL = 'ALTSRP_GCM_AES128_REKEY' as const;
/** What a partial frame may hold once `received` bytes of it are in (docs/spec.md §5). */
const bound = (received: number) => 4 * received + 64;
/** Buffer exchanges a frame may take growing from one byte: one per size class, plus the first borrow and the top class. */
const MAX_EXCHANGES = Math.log2(MAX_FRAME_LENGTH / 64) + 3;

/** Watches the conn at every step it takes: memory against bytes received, exchanges, bytes those exchanges copied. */
class Meter {
  readonly over: string[] = [];
  exchanges = 0;
  copied = 0;
  #cap = 0;

  constructor(readonly conn: AltsConn, readonly pool: BufferPool) {
    conn.on('wakeup', () => this.#step());
  }

  #step(): void {
    const { conn, pool } = this;
    const held = conn.heldBytes;
    const received = conn.stats.bytesRead;
    if (conn.state === 'partial' && held > bound(received)) this.over.push(`${held} held for ${received} received`);
    if (pool.outstanding !== held) this.over.push(`pool outstanding ${pool.outstanding} != held ${held}`);
    if (held !== this.#cap && held !== 0) {
      // A new capacity: the conn exchanged its buffer, copying at most what it had received.
      this.exchanges++;
      this.copied += received;
    }
    this.#cap = held;
  }
}

function oneMiBFrame(): { frame: Uint8Array; plaintext: Uint8Array } {
  // len = exactly 1 MiB, the largest frame a reader must accept.
  return { frame: sealOne(sealer(PROTOCOL, 'server'), MAX_PAYLOAD, 0), plaintext: plaintextFor(MAX_PAYLOAD, 0) };
}

/** Sends `frame` in chunks of `sizes` (cycled), waiting after each until the conn has read it. */
async function trickle(reader: ReaderKind, frame: Uint8Array, payload: number, sizes: (sent: number) => number) {
  const pool = new BufferPool();
  const { conn, peer } = pairOf({ reader, pool });
  const meter = new Meter(conn, pool);
  const into = new Uint8Array(payload);
  const nat0 = native.stats();
  const cpu0 = process.cpuUsage();
  const reading = conn.read(into);
  let steps = 0;
  for (let sent = 0; sent < frame.length; steps++) {
    const n = Math.min(sizes(sent), frame.length - sent);
    expect(await peer.write(frame.subarray(sent, sent + n))).toBe(true);
    sent += n;
    if (sent < frame.length) await until(conn, () => conn.stats.bytesRead >= sent);
  }
  expect(await reading).toBe(payload);
  const cpu = process.cpuUsage(cpu0);
  const nat = native.stats();
  const result = {
    into,
    steps,
    meter,
    stats: { ...conn.stats },
    pool: pool.stats,
    pollsStarted: nat.pollsStarted - nat0.pollsStarted,
    callbacks: nat.callbacks - nat0.callbacks,
    cpuMicrosPerByte: (cpu.user + cpu.system) / frame.length,
    heldAfter: conn.heldBytes,
  };
  conn.close();
  peer.close();
  await loopTurn();
  await loopTurn();
  expect(pool.stats).toMatchObject({ outstanding: 0, lent: 0, waiters: 0 });
  return result;
}

describe.each(['native', 'stream'] as const)('%s reader: stalling peers', (reader) => {
  it('a header claiming 1 MiB, then a trickle: memory follows the bytes received, never the claim', async () => {
    const { frame, plaintext } = oneMiBFrame();
    expect(frame.length).toBe(MAX_FRAME_LENGTH + LENGTH_FIELD_BYTES);
    // The 8 header bytes one at a time, 56 more single bytes, then 4093-byte chunks to the end.
    const r = await trickle(reader, frame, MAX_PAYLOAD, (sent) => (sent < 64 ? 1 : 4093));
    console.log(`${reader}: 1 MiB claim, ${r.steps} steps: ${r.stats.wakeups} wakeups, ${r.stats.reads} read(2)s, ${r.meter.exchanges} exchanges copying ${r.meter.copied} bytes, pool highWater ${r.pool.highWater}, ${r.pool.allocations} allocations, ${r.cpuMicrosPerByte.toFixed(3)} µs CPU/byte`);
    expect(Buffer.compare(r.into, plaintext)).toBe(0);
    expect(r.meter.over).toEqual([]); // at every step: held <= 4 x received + 64
    expect(r.heldAfter).toBe(0);
    expect(r.pool.highWater).toBeLessThanOrEqual(MAX_CLASS);
    expect(r.meter.exchanges).toBeLessThanOrEqual(MAX_EXCHANGES);
    expect(r.pool.allocations).toBeLessThanOrEqual(MAX_EXCHANGES);
    expect(r.meter.copied).toBeLessThanOrEqual(2 * frame.length);
    // Work per step: a chunk bigger than the spare room takes one more readiness after each exchange.
    expect(r.stats.wakeups).toBeLessThanOrEqual(r.steps + r.meter.exchanges + 2);
    expect(r.stats.reads).toBeLessThanOrEqual(r.stats.wakeups);
    expect(r.stats.spuriousWakeups).toBeLessThanOrEqual(2);
    if (reader === 'native') {
      expect(r.callbacks).toBeLessThanOrEqual(r.stats.wakeups + 2); // no readiness the conn did not act on
      expect(r.pollsStarted).toBeLessThanOrEqual(4); // it keeps watching across the whole trickle
    }
  });

  it('one byte per wakeup: one readiness and one read(2) per byte, O(log n) exchanges, O(n) bytes copied', async () => {
    const payload = 16 * 1024;
    const frame = sealOne(sealer(PROTOCOL, 'server'), payload, 0);
    const r = await trickle(reader, frame, payload, () => 1);
    console.log(`${reader}: ${frame.length} bytes one per wakeup: ${r.stats.wakeups} wakeups (${r.stats.spuriousWakeups} spurious), ${r.stats.reads} read(2)s, ${r.meter.exchanges} exchanges copying ${r.meter.copied} bytes, ${r.pool.gets} pool gets, ${r.pollsStarted} poll starts, ${r.cpuMicrosPerByte.toFixed(2)} µs CPU/byte`);
    expect(Buffer.compare(r.into, plaintextFor(payload, 0))).toBe(0);
    expect(r.steps).toBe(frame.length);
    expect(r.meter.over).toEqual([]);
    expect(r.stats.wakeups).toBeLessThanOrEqual(frame.length + 2);
    expect(r.stats.spuriousWakeups).toBeLessThanOrEqual(2);
    expect(r.stats.reads).toBeLessThanOrEqual(r.stats.wakeups);
    expect(r.meter.exchanges).toBeLessThanOrEqual(Math.log2(frame.length / 64) + 3);
    expect(r.pool.gets).toBeLessThanOrEqual(Math.log2(frame.length / 64) + 3);
    expect(r.meter.copied).toBeLessThanOrEqual(2 * frame.length);
    expect(r.pool.highWater).toBeLessThanOrEqual(64 * 1024); // the first borrow (readSize) is the most it ever held
    if (reader === 'native') {
      expect(r.callbacks).toBeLessThanOrEqual(frame.length + 2);
      expect(r.pollsStarted).toBeLessThanOrEqual(4);
    }
  });
});

describe('many stalled peers on one budgeted pool', () => {
  it('200 peers each claiming 1 MiB and stalling cost what they sent; a good conn on the same pool still gets through', async () => {
    const budget = 4 * 1024 * 1024;
    const pool = new BufferPool({ budget });
    const header = new Uint8Array(8);
    new DataView(header.buffer).setUint32(0, MAX_FRAME_LENGTH, true);
    new DataView(header.buffer).setUint32(4, MESSAGE_TYPE, true);
    const stalled = Array.from({ length: 200 }, () => pairOf({ reader: 'native', pool }));
    const reads = stalled.map(({ conn }) => conn.read(new Uint8Array(16)).catch((e: unknown) => e));
    for (const { peer } of stalled) expect(await peer.write(new Uint8Array([...header, ...plaintextFor(1000, 1)]))).toBe(true);
    for (const { conn } of stalled) await until(conn, () => conn.stats.bytesRead === 1008);
    let held = 0;
    for (const { conn } of stalled) {
      expect(conn.state).toBe('partial');
      expect(conn.heldBytes).toBeLessThanOrEqual(bound(1008));
      held += conn.heldBytes;
    }
    expect(pool.outstanding).toBe(held);
    console.log(`200 stalled peers hold ${held} bytes in all (${held / 200} each; a buffer per claim would be ${200 * MAX_CLASS})`);

    const good = pairOf({ reader: 'native', pool });
    const out = sealer(PROTOCOL, 'server');
    const frames = Array.from({ length: 64 }, (_, i) => sealOne(out, 16 * 1024, i));
    const sending = (async () => {
      for (const f of frames) expect(await good.peer.write(f)).toBe(true);
    })();
    for (let i = 0; i < frames.length; i++) {
      const into = new Uint8Array(16 * 1024);
      expect(await good.conn.read(into)).toBe(into.length);
      expect(Buffer.compare(into, plaintextFor(16 * 1024, i))).toBe(0);
    }
    await sending;
    expect(pool.highWater).toBeLessThanOrEqual(budget);
    for (const p of [...stalled, good]) {
      p.conn.close();
      p.peer.close();
    }
    for (const r of await Promise.all(reads)) expect(r).toMatchObject({ code: 'CLOSED' });
    await loopTurn();
    await loopTurn();
    expect(pool.stats).toMatchObject({ outstanding: 0, lent: 0, waiters: 0 });
  });
});

/** What `p` settled with (a rejection's code), or 'hung' if it had not after `ms`: a hang guard, not a synchronisation. */
async function within(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
  try {
    return await Promise.race([p.then((v) => v, (e: { code?: string }) => e.code ?? e), hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Close every pair and check the pool got every byte back and has nobody waiting. */
async function drained(pool: BufferPool, pairs: { conn: AltsConn; peer: { close(): void } }[]): Promise<void> {
  for (const p of pairs) {
    p.conn.close();
    p.peer.close();
  }
  await loopTurn();
  await loopTurn();
  expect(pool.stats).toMatchObject({ outstanding: 0, lent: 0, waiters: 0 });
}

describe('one budgeted pool: it never waits on itself (hardening findings 1-3)', () => {
  it('8 peers each sending a 1 MiB frame at once through a 2 MiB + 64 KiB budget: every frame arrives', async () => {
    // The conns grow in step; all 8 held 256 KiB (2 MiB) waiting to grow to 512 KiB, and nothing
    // could come back. Now the pool lends past the budget to one of them at a time.
    const pool = new BufferPool({ budget: 2 * MAX_FRAME_LENGTH + 64 * 1024 });
    const pairs = Array.from({ length: 8 }, () => pairOf({ reader: 'native', pool }));
    const frame = sealOne(sealer(PROTOCOL, 'server'), MAX_PAYLOAD, 0);
    const intos = pairs.map(() => new Uint8Array(MAX_PAYLOAD));
    const reads = pairs.map(({ conn }, i) => conn.read(intos[i]!));
    for (const { peer } of pairs) void peer.write(frame);
    const outcome = await within(Promise.all(reads), 10_000);
    const s = pool.stats;
    console.log(`8 x 1 MiB, budget ${pool.budget}: highWater ${s.highWater} (${s.highWater - pool.budget} past it), ${s.overdrafts} overdrafts, ${s.refusals} refusals, starved waits ${pairs.map((p) => p.conn.stats.starvedWaits).join(',')}`);
    expect(outcome).toEqual(Array(8).fill(MAX_PAYLOAD));
    const plaintext = plaintextFor(MAX_PAYLOAD, 0);
    for (const into of intos) expect(Buffer.compare(into, plaintext)).toBe(0);
    expect(s.overdrafts).toBeGreaterThan(0);
    expect(s.highWater).toBeGreaterThan(pool.budget);
    expect(s.highWater).toBeLessThanOrEqual(pool.budget + MAX_CLASS);
    await drained(pool, pairs);
  });

  it("readOnReady from the conn's own pool: two conns holding plaintext fill the budget and both still finish", async () => {
    // Each holds 64 KiB (a 40,000-byte frame, decrypted) and waits for a 16 KiB buffer from the
    // same 128 KiB pool: the wait now says it holds those 64 KiB, so the pool sees it would wait on itself.
    const pool = new BufferPool({ budget: 2 * 64 * 1024 });
    const pairs = Array.from({ length: 2 }, () => pairOf({ reader: 'native', pool }));
    const f = frames(40_000);
    for (const { peer } of pairs) expect(await peer.write(f.bytes[0]!)).toBe(true);
    const readAll = async (conn: AltsConn) => {
      const got: Uint8Array[] = [];
      for (let n = 0; n < 40_000; ) {
        const r = (await conn.readOnReady(16 * 1024, pool))!;
        got.push(r.buf.slice(0, r.n));
        n += r.n;
        pool.put(r.buf);
        await loopTurn(); // a handler doing its own I/O between pieces
      }
      return Buffer.concat(got);
    };
    const outcome = (await within(Promise.all(pairs.map(({ conn }) => readAll(conn))), 10_000)) as Buffer[] | 'hung';
    console.log(`readOnReady on the conn pool, budget ${pool.budget}: highWater ${pool.stats.highWater}, ${pool.stats.overdrafts} overdrafts`);
    expect(outcome).not.toBe('hung');
    for (const got of outcome as Buffer[]) expect(Buffer.compare(got, f.plain[0]!)).toBe(0);
    expect(pool.stats.overdrafts).toBeGreaterThan(0);
    expect(pool.stats.highWater).toBeLessThanOrEqual(pool.budget + MAX_CLASS);
    await drained(pool, pairs);
  });

  it("a budget smaller than the frame the peer claims: the conn grows past it and meets the peer's EOF (TRUNCATED)", async () => {
    const pool = new BufferPool({ budget: 128 * 1024 });
    const pair = pairOf({ reader: 'native', pool });
    const header = new Uint8Array(8);
    new DataView(header.buffer).setUint32(0, MAX_FRAME_LENGTH, true);
    new DataView(header.buffer).setUint32(4, MESSAGE_TYPE, true);
    const reading = pair.conn.read(new Uint8Array(10));
    expect(await pair.peer.write(new Uint8Array([...header, ...new Uint8Array(100_000)]))).toBe(true);
    pair.peer.finish();
    expect(await within(reading, 10_000)).toBe('TRUNCATED');
    expect(pool.stats.overdrafts).toBeGreaterThan(0);
    expect(pool.stats.highWater).toBe(256 * 1024); // partialCapacity of 100,008 bytes: one class past the budget
    await drained(pool, [pair]);
  });

  it('a budget smaller than one frame: a whole 1 MiB frame still arrives, one maximal frame past the budget at most', async () => {
    const pool = new BufferPool({ budget: 128 * 1024 });
    const pair = pairOf({ reader: 'native', pool });
    const into = new Uint8Array(MAX_PAYLOAD);
    const reading = pair.conn.read(into);
    void pair.peer.write(sealOne(sealer(PROTOCOL, 'server'), MAX_PAYLOAD, 0));
    expect(await within(reading, 10_000)).toBe(MAX_PAYLOAD);
    expect(Buffer.compare(into, plaintextFor(MAX_PAYLOAD, 0))).toBe(0);
    expect(pool.stats.highWater).toBe(MAX_CLASS); // it alone held the pool: its frame, nothing more
    await drained(pool, [pair]);
  });

  it('readSize larger than the budget: the first borrow is lent past it (nothing else is lent) and the frame arrives', async () => {
    const pool = new BufferPool({ budget: 32 * 1024 });
    const pair = pairOf({ reader: 'native', pool, readSize: 64 * 1024 });
    const f = frames(1000);
    const into = new Uint8Array(1000);
    const reading = pair.conn.read(into);
    expect(await pair.peer.write(f.bytes[0]!)).toBe(true);
    expect(await within(reading, 10_000)).toBe(1000);
    expect(Buffer.compare(into, f.plain[0]!)).toBe(0);
    expect(pool.stats).toMatchObject({ highWater: 64 * 1024, overdrafts: 1, refusals: 0 });
    expect(pair.conn.stats.starvedWaits).toBe(0);
    await drained(pool, [pair]);
  });

  it("closing a conn whose readOnReady waits on its own pool withdraws the wait before its buffer goes back (no overdraft while another holder may give back)", async () => {
    const pool = new BufferPool({ budget: 128 * 1024 });
    const pair = pairOf({ reader: 'native', pool });
    const hog = pool.get(64 * 1024)!; // someone else, not waiting
    let told = false;
    pool.waitFor(128 * 1024, () => (told = true)); // a waiter holding nothing, first in the queue
    const got = pair.conn.readOnReady(128 * 1024, pool);
    expect(await pair.peer.write(frames(40_000).bytes[0]!)).toBe(true);
    await until(pair.conn, () => pair.conn.state === 'decrypted' && pool.stats.waiters === 2); // 64 KiB held, waiting for 128 more
    pair.conn.close();
    expect((await rejection(got)).code).toBe('CLOSED');
    await loopTurn();
    expect(told).toBe(false); // the hog holds 64 KiB: the pool is not waiting on itself
    expect(pool.stats).toMatchObject({ outstanding: 64 * 1024, waiters: 1, overdrafts: 0 });
    pool.put(hog);
    expect(told).toBe(false); // told after put returns (docs/spec.md §5)
    await Promise.resolve();
    expect(told).toBe(true); // now the budget covers it
    pair.peer.close();
  });

  it('starved on growth, bytes read meanwhile do not make it ask again (its buffer would count twice) while another holder may give back', async () => {
    const pool = new BufferPool({ budget: 4096 });
    const pair = pairOf({ reader: 'native', pool, readSize: 1024 });
    const f = frames(3000);
    const hog = pool.get(1024)!;
    const into = new Uint8Array(3000);
    const reading = pair.conn.read(into);
    const starved = once(pair.conn, 'starved');
    expect(await pair.peer.write(f.bytes[0]!.subarray(0, 1500))).toBe(true);
    await starved; // 1500 held in 2048, growing to 4096 needs the hog's 1024
    expect(await pair.peer.write(f.bytes[0]!.subarray(1500, 2000))).toBe(true);
    testHooks(pair.conn).simulateWakeup(); // not watching while starved: read the 500 bytes now
    expect(pair.conn.stats.bytesRead).toBe(2000);
    expect(testHooks(pair.conn).starved).toBe(true);
    expect(pool.stats).toMatchObject({ outstanding: 1024 + 2048, overdrafts: 0, waiters: 1 });
    pool.put(hog); // the exchange fits the budget now: told, it grows and reads on
    expect(await pair.peer.write(f.bytes[0]!.subarray(2000))).toBe(true);
    expect(await within(reading, 10_000)).toBe(3000);
    expect(Buffer.compare(into, f.plain[0]!)).toBe(0);
    expect(pool.stats).toMatchObject({ highWater: 4096, overdrafts: 0 });
    await drained(pool, [pair]);
  });
});
