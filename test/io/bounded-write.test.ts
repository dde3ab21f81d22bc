/**
 * A large write is sealed a batch at a time as the kernel takes it (docs/spec.md §9): the sealed
 * bytes beyond what the peer has received stay within two batches, no event-loop turn seals more
 * than one batch, writes stay whole and in order behind it, close stops it, and
 * the counter is checked for the whole message up front. Real socketpairs, a real peer.
 */
import { randomFillSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { wrapFd } from '../../src/api.js';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { sealStats, WRITE_BATCH_BYTES } from '../../src/conn/sealedWrite.js';
import { BATCHES_IN_FLIGHT } from '../../src/io/Outbox.js';
import type { RecordProtocol } from '../../src/crypto/types.js';
import { EAGAIN } from '../../src/native.js';
import { createProtector } from '../../src/protector.js';
import { sealedSize } from '../../src/record/frame.js';
import { closeCallbacksRan, keyFor, loopTurn, native } from '../conn/harness.js';
import { connOn, rejection } from '../hardening/pairs.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { closeAllWatched, Watched } from '../native/helpers.js';

const MiB = 1024 * 1024;
const open: AltsConn[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await closeAllWatched();
  await closeCallbacksRan();
});

/** A conn (native or stream reader) on a socketpair with small kernel buffers, and the raw peer. */
function setup(o: { reader?: 'native' | 'stream'; protocol?: RecordProtocol; counters?: { outbound: bigint } } = {}) {
  const protocol = o.protocol ?? 'ALTSRP_GCM_AES128_REKEY';
  const [a, b] = native.socketpair();
  native.setSocketBuffers(a, 0, 64 * 1024);
  native.setSocketBuffers(b, 64 * 1024, 0);
  const conn =
    o.reader === 'stream'
      ? connOn(a, { reader: 'stream', pool: new BufferPool(), protocol })
      : wrapFd(a, { protocol, side: 'client', key: keyFor(protocol), ...(o.counters && { counters: o.counters }) });
  open.push(conn);
  const peer = new Watched(b);
  const opener = createProtector({ protocol, side: 'server', key: keyFor(protocol), ...(o.counters && { counters: { inbound: o.counters.outbound } }) });
  return { conn, peer, opener };
}

/** Whatever the peer's socket holds now, read without waiting. */
function drainNow(peer: Watched): number {
  const buf = new Uint8Array(MiB);
  let total = 0;
  for (;;) {
    const n = peer.handle.read(buf, 0, buf.length);
    if (n === -EAGAIN) return total;
    if (n <= 0) throw new Error(`peer read: ${n}`);
    total += n;
  }
}

/**
 * Batches sealed per event-loop turn, sampled from setImmediate callbacks (each one schedules the
 * next, so two samples are one turn apart) until `stop()`.
 */
function sampleTurns(): { perTurn: number[]; stop: () => void } {
  const perTurn: number[] = [];
  let last = sealStats.batches;
  let on = true;
  const tick = (): void => {
    if (!on) return;
    perTurn.push(sealStats.batches - last);
    last = sealStats.batches;
    setImmediate(tick);
  };
  setImmediate(tick);
  return { perTurn, stop: () => (on = false) };
}

/** Loop turns until no batch is sealed for `quiet` turns in a row (the write is stalled on the kernel). */
async function untilStalled(quiet = 20, maxTurns = 5000): Promise<void> {
  let still = 0;
  for (let i = 0; i < maxTurns && still < quiet; i++) {
    const before = sealStats.batches;
    await loopTurn();
    still = sealStats.batches === before ? still + 1 : 0;
  }
  expect(still, 'the write stalls once the kernel is full').toBe(quiet);
}

describe('a write is sealed as the kernel takes it', () => {
  it('64 MiB to a peer that does not read: sealed-but-unreceived bytes stay within two batches, memory beyond the message too', async () => {
    const { conn, peer } = setup();
    const msg = randomFillSync(new Uint8Array(64 * MiB));
    const sealedBefore = sealStats.bytes;
    const arrayBuffersBefore = process.memoryUsage().arrayBuffers;
    const turns = sampleTurns();
    let settled = 0;
    const writing = conn.write(msg).finally(() => settled++);
    await untilStalled();
    const extra = process.memoryUsage().arrayBuffers - arrayBuffersBefore;
    const received = drainNow(peer);
    const sealed = sealStats.bytes - sealedBefore;
    expect(received).toBeGreaterThan(0);
    expect(BATCHES_IN_FLIGHT).toBe(2);
    expect(sealed - received).toBeLessThanOrEqual(BATCHES_IN_FLIGHT * WRITE_BATCH_BYTES);
    expect(extra).toBeLessThanOrEqual(4 * WRITE_BATCH_BYTES);
    expect(settled).toBe(0);

    // The peer reads now: the rest flows, one batch per turn at most.
    const wire = sealedSize(msg.length, 16 * 1024);
    await peer.readExactly(wire - received, MiB);
    await writing;
    turns.stop();
    expect(settled).toBe(1);
    expect(sealStats.bytes - sealedBefore).toBe(wire);
    expect(Math.max(...turns.perTurn)).toBeLessThanOrEqual(1);
  });

  it('what the peer receives opens to the message, and the frames are sealed one batch per turn', async () => {
    const { conn, peer, opener } = setup();
    const msg = randomFillSync(new Uint8Array(8 * MiB));
    const turns = sampleTurns();
    const wire = sealedSize(msg.length, 16 * 1024);
    const [got] = await Promise.all([peer.readExactly(wire, MiB), conn.write(msg)]);
    turns.stop();
    expect(Buffer.compare(opener.unprotect(got), msg)).toBe(0);
    expect(Math.max(...turns.perTurn)).toBeLessThanOrEqual(1);
    expect(turns.perTurn.length).toBeGreaterThanOrEqual(8 * MiB / WRITE_BATCH_BYTES - 1); // one turn per batch at least
  });

  for (const reader of ['native', 'stream'] as const) {
    it(`${reader}: writes issued while a message is being sealed follow it whole and in order, and end() comes last`, async () => {
      const { conn, peer, opener } = setup({ reader });
      const a = randomFillSync(new Uint8Array(3 * MiB));
      const b = randomFillSync(new Uint8Array(300_000));
      const c = new Uint8Array([1, 2, 3]);
      const order: string[] = [];
      const writes = [conn.write(a).then(() => order.push('a')), conn.write(b).then(() => order.push('b')), conn.write(c).then(() => order.push('c'))];
      const ended = conn.end().then(() => order.push('end'));
      const wire = sealedSize(a.length, 16 * 1024) + sealedSize(b.length, 16 * 1024) + sealedSize(c.length, 16 * 1024);
      const got = await peer.readExactly(wire, MiB);
      await Promise.all([...writes, ended]);
      expect(order).toEqual(['a', 'b', 'c', 'end']);
      expect(Buffer.compare(opener.unprotect(got), Buffer.concat([a, b, c]))).toBe(0);
      // Then the FIN: the peer's next read is EOF.
      const tail = new Uint8Array(1);
      await peer.ready(true, false);
      expect(peer.handle.read(tail, 0, 1)).toBe(0);
    });

    it(`${reader}: close() during a long write fails it and what waits behind it with CLOSED, and sealing stops`, async () => {
      const { conn } = setup({ reader });
      const long = conn.write(new Uint8Array(32 * MiB));
      const behind = conn.write(new Uint8Array(10));
      await untilStalled();
      const batches = sealStats.batches;
      conn.close();
      expect((await rejection(long)).code).toBe('CLOSED');
      expect((await rejection(behind)).code).toBe('CLOSED');
      for (let i = 0; i < 5; i++) await loopTurn();
      expect(sealStats.batches).toBe(batches);
    });
  }

  it('COUNTER_EXHAUSTED up front, counting the frames of a message still being sealed', async () => {
    const payload = 16 * 1024 - 24;
    const left = 40; // frames the outbound counter carries
    const { conn, peer, opener } = setup({ protocol: 'ALTSRP_GCM_AES128', counters: { outbound: 2n ** 40n - 1n - BigInt(left) } });
    const first = randomFillSync(new Uint8Array(39 * payload)); // 39 frames, three batches: most not sealed yet
    const sealedBefore = sealStats.batches;
    const writing = conn.write(first);
    expect(sealStats.batches - sealedBefore).toBe(1);
    // Two more frames do not fit after the 39 promised, though the counter has only sealed 16.
    expect((await rejection(conn.write(new Uint8Array(payload + 1)))).code).toBe('COUNTER_EXHAUSTED');
    const last = conn.write(new Uint8Array([7])); // one frame does
    const wire = sealedSize(first.length, 16 * 1024) + sealedSize(1, 16 * 1024);
    const got = await peer.readExactly(wire, MiB);
    await Promise.all([writing, last]);
    expect(Buffer.compare(opener.unprotect(got), Buffer.concat([first, new Uint8Array([7])]))).toBe(0);
    expect((await rejection(conn.write(new Uint8Array(1)))).code).toBe('COUNTER_EXHAUSTED');
  });
});
