/**
 * The connection's hot path on real sockets: frames are sealed
 * into one scratch buffer shared by every connection and written as transient writes, so what
 * the kernel cannot take at once must be copied before the scratch is reused; and a reading loop
 * keeps its poll armed instead of stopping and restarting it around every read.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { wrap, wrapFd } from '../../src/api.js';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { batchPlaintextBytes, WRITE_BATCH_BYTES } from '../../src/conn/sealedWrite.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { bytes, keyFor, loopTurn, makePair, native, readExactly } from './harness.js';
import { testHooks } from '../../src/conn/testHooks.js';

const protocol = 'ALTSRP_GCM_AES128_REKEY' as const;
const key = keyFor(protocol);
const open: AltsConn[] = [];

/** Two conns talking over a socketpair, both with the native reader. */
function nativePair(pool: BufferPool): [AltsConn, AltsConn] {
  const [a, b] = native.socketpair();
  const pair: [AltsConn, AltsConn] = [
    wrapFd(a, { protocol, side: 'client', key, pool }),
    wrapFd(b, { protocol, side: 'server', key, pool }),
  ];
  open.push(...pair);
  return pair;
}

/** Two conns over a loopback TCP connection, both with the stream reader. */
async function streamPair(pool: BufferPool): Promise<[AltsConn, AltsConn]> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [sock] = (await accepted) as [net.Socket];
  server.close();
  const pair: [AltsConn, AltsConn] = [
    wrap(client, { protocol, side: 'client', key, pool, reader: 'stream' }),
    wrap(sock, { protocol, side: 'server', key, pool, reader: 'stream' }),
  ];
  open.push(...pair);
  return pair;
}

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

describe('sealed writes share one scratch buffer', () => {
  it('a batch is whole frames and fits the scratch buffer, at least one frame', () => {
    expect(batchPlaintextBytes(16 * 1024)).toBe(16 * (16 * 1024 - 24));
    expect(batchPlaintextBytes(4 * 1024) + 64 * 24).toBeLessThanOrEqual(WRITE_BATCH_BYTES);
    expect(batchPlaintextBytes(1 << 20)).toBe((1 << 20) - 24);
  });

  for (const reader of ['native', 'stream'] as const) {
    it(`${reader}: writes the kernel cannot take at once survive other conns reusing the scratch`, async () => {
      const pool = new BufferPool();
      const make = reader === 'native' ? async () => nativePair(pool) : () => streamPair(pool);
      const [a, aPeer] = await make();
      const [b, bPeer] = await make();
      // Several MiB per conn: far beyond a socket buffer, so most of each write is queued
      // (copied) while the other conn seals its own batches into the same scratch.
      const msgA = bytes(3 * 1024 * 1024 + 17, 7);
      const msgB = bytes(2 * 1024 * 1024 + 5, 9);
      let aDone = false;
      const wa = a.write(msgA).then(() => (aDone = true));
      const wb = b.write(msgB);
      const wa2 = a.write(msgB.subarray(0, 100_000)); // queued behind the first: order kept
      expect(aDone).toBe(false); // the kernel could not have taken 3 MiB at once
      const [gotA, gotB] = await Promise.all([readExactly(aPeer, msgA.length + 100_000), readExactly(bPeer, msgB.length)]);
      await Promise.all([wa, wb, wa2]);
      expect(Buffer.from(gotA.subarray(0, msgA.length)).equals(Buffer.from(msgA))).toBe(true);
      expect(Buffer.from(gotA.subarray(msgA.length)).equals(Buffer.from(msgB.subarray(0, 100_000)))).toBe(true);
      expect(Buffer.from(gotB).equals(Buffer.from(msgB))).toBe(true);
      expect(a.stats.bytesWritten).toBe(aPeer.stats.bytesRead);
      for (const c of [a, aPeer, b, bPeer]) c.close();
      expect(pool.outstanding).toBe(0);
    });
  }

  it('1 MiB frames: the scratch grows to one whole frame (a batch is at least one frame), every byte arrives', async () => {
    const pool = new BufferPool();
    const [a, b] = native.socketpair();
    const w = wrapFd(a, { protocol, side: 'client', key, pool, maxFrameSize: 1 << 20 });
    const r = wrapFd(b, { protocol, side: 'server', key, pool });
    open.push(w, r);
    const small = bytes(1000, 1);
    const big = bytes(3 * 1024 * 1024 + 5, 2);
    const [got] = await Promise.all([readExactly(r, small.length + big.length), w.write(small).then(() => w.write(big))]);
    expect(Buffer.from(got).equals(Buffer.concat([small, big]))).toBe(true);
    expect(r.stats.framesOpened).toBe(1 + 4); // 1 + ceil((3 MiB + 5) / (1 MiB − 24))
  });

  it('writes queued when the conn closes fail with CLOSED, and none of their bytes arrive later', async () => {
    const pool = new BufferPool();
    const [a, aPeer] = nativePair(pool);
    const w = a.write(bytes(4 * 1024 * 1024));
    a.close();
    await expect(w).rejects.toMatchObject({ code: 'CLOSED' });
    // The peer sees at most what the kernel took before the close, then the end of the stream:
    // a frame cut short by the close (TRUNCATED) or a clean end between frames.
    const into = new Uint8Array(1 << 16);
    const end = await (async () => {
      for (;;) if ((await aPeer.read(into)) === 0) return 'eof';
    })().catch((e: { code: string }) => e.code);
    expect(['eof', 'TRUNCATED']).toContain(end);
    expect(aPeer.stats.bytesRead).toBeLessThan(4 * 1024 * 1024);
    expect(pool.outstanding).toBe(0);
  });
});

describe('a reading loop keeps its poll armed', () => {
  it('streaming 8 MiB through a read loop starts the poll a handful of times, not once per read', async () => {
    const pool = new BufferPool();
    const [a, aPeer] = nativePair(pool);
    const msg = bytes(8 * 1024 * 1024, 3);
    const before = native.stats().pollsStarted;
    const readerStats = aPeer.stats;
    const [got] = await Promise.all([readExactly(aPeer, msg.length, 16 * 1024), a.write(msg)]);
    const started = native.stats().pollsStarted - before;
    expect(Buffer.from(got).equals(Buffer.from(msg))).toBe(true);
    expect(readerStats.reads).toBeGreaterThan(100);
    // The writer arms for writability each time the socket buffer fills, so count against
    // the reads: before the deferred stop, every handed-up read cost a stop and a start.
    expect(started).toBeLessThan(readerStats.reads / 4);
  });

  it('a conn nobody reads stops polling by the next turn: data arriving then costs no callbacks', async () => {
    const pool = new BufferPool();
    const [a, aPeer] = nativePair(pool);
    await Promise.all([a.write(bytes(100)), readExactly(aPeer, 100)]); // one read, then nobody reads
    await loopTurn(); // the turn in which the stop runs
    const callbacks = native.stats().callbacks;
    await a.write(bytes(100)); // readable now, and nobody is polling it
    await loopTurn();
    expect(native.stats().callbacks - callbacks).toBe(0);
    expect(testHooks(aPeer).watching).toBe(false);
    expect(aPeer.heldBytes).toBe(0);
    expect(await readExactly(aPeer, 100)).toEqual(bytes(100)); // and the bytes are all there
  });
});

describe('a read takes every whole frame that fits it', () => {
  it('frames that fit the caller buffer go in one read; the first that does not waits for the next', async () => {
    const { conn, peer, send, pool, peerHandle } = makePair();
    const parts = [bytes(1000, 1), bytes(1000, 2), bytes(1000, 3), bytes(1000, 4)];
    send(new Uint8Array(Buffer.concat(parts.map((p) => peer.protect(p)))));
    const into = new Uint8Array(3500);
    expect(await conn.read(into)).toBe(3000);
    expect(Buffer.from(into.subarray(0, 3000)).equals(Buffer.concat(parts.slice(0, 3)))).toBe(true);
    expect(conn.stats.framesOpened).toBe(3);
    expect(await conn.read(into)).toBe(1000);
    expect(into.subarray(0, 1000)).toEqual(parts[3]);
    expect(pool.outstanding).toBe(0);
    conn.close();
    peerHandle.close();
  });

  it('a bad frame after good ones stops the run: the good plaintext first, then AUTH_FAILED', async () => {
    const { conn, peer, send, pool, peerHandle } = makePair();
    const good = peer.protect(bytes(500, 5));
    const bad = peer.protect(bytes(500, 6));
    bad[bad.length - 1]! ^= 1; // the tag
    const after = peer.protect(bytes(500, 7));
    send(new Uint8Array(Buffer.concat([good, bad, after])));
    const into = new Uint8Array(4000);
    expect(await conn.read(into)).toBe(500);
    expect(into.subarray(0, 500)).toEqual(bytes(500, 5));
    await expect(conn.read(into)).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(pool.outstanding).toBe(0);
    peerHandle.close();
  });
});
