/**
 * Faults, on real sockets, with what test/conn/ does not already cover: EOF
 * inside a frame at every kind of cut with a read pending (and while starved), resets with
 * plaintext held and with a write blocked, local close racing a blocked write, end() and waits on
 * either pool, close() from inside the conn's own events, and the peer's half-close with the conn
 * writing on afterwards. After each: nothing lost, every promise settled (with a typed AltsError
 * where it fails), every buffer back, every fd closed exactly once.
 */
import { once } from 'node:events';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { createProtector } from '../../src/protector.js';
import { plaintextFor } from '../../properties/conn/Real.js';
import { keyFor, native } from '../conn/harness.js';
import { frames, loopTurn, openFds, pairOf, rejection, tcpPairOf, until, type Peer, type ReaderKind } from './pairs.js';
import { testHooks } from '../../src/conn/testHooks.js';
import type { ConnEventName } from '../../src/conn/events.js';

const PROTOCOL = 'ALTSRP_GCM_AES128_REKEY' as const;
const READERS = ['native', 'stream'] as const;

function snapshot() {
  const s = native.stats();
  return { handles: s.handles, fdsClosed: s.fdsClosed, fds: openFds() };
}
type Snapshot = ReturnType<typeof snapshot>;

/** Every handle and fd opened since `base` is closed, and the addon closed exactly `closes` fds. */
function expectAllClosed(base: Snapshot, closes: number, extraFds = 0): void {
  const s = native.stats();
  expect({ handles: s.handles, fdsClosedByAddon: s.fdsClosed - base.fdsClosed, fds: openFds() }).toEqual({
    handles: base.handles,
    fdsClosedByAddon: closes,
    fds: base.fds === null ? null : base.fds + extraFds,
  });
}

async function closesRun(): Promise<void> {
  await loopTurn();
  await loopTurn(); // uv_close callbacks: the fds close here
}

/**
 * Runs `body` on a conn (socketpair, `reader`) and a raw peer, then closes both (also after a
 * failure, so the next test counts from a clean slate) and checks the pool is balanced and every
 * fd closed once: the conn's (by the addon with the native reader) and the peer's.
 */
async function onPair(reader: ReaderKind, pool: BufferPool, body: (conn: AltsConn, peer: Peer) => Promise<void>): Promise<void> {
  const base = snapshot();
  const { conn, peer } = pairOf({ reader, pool });
  try {
    await body(conn, peer);
  } finally {
    conn.close();
    peer.close();
    await closesRun();
  }
  expect(pool.stats).toMatchObject({ outstanding: 0, lent: 0, waiters: 0 });
  expectAllClosed(base, reader === 'native' ? 2 : 1);
}

/** The same on loopback TCP, the raw peer a net.Socket (it can reset). */
async function onTcp(reader: ReaderKind, pool: BufferPool, body: (conn: AltsConn, raw: net.Socket, base: Snapshot) => Promise<void>): Promise<void> {
  const base = snapshot();
  const { conn, raw, done } = await tcpPairOf({ reader, pool });
  try {
    await body(conn, raw, base);
  } finally {
    conn.close();
    await done();
    await closesRun();
  }
  expect(pool.stats).toMatchObject({ outstanding: 0, lent: 0, waiters: 0 });
  expectAllClosed(base, reader === 'native' ? 1 : 0);
}

describe.each(READERS)('%s reader: EOF inside a frame', (reader) => {
  it.each([1, 3, 4, 7, 8, 500, 1023])('the peer half-closes %i bytes into a frame, a read pending: the frame before it is delivered, then TRUNCATED', (cut) =>
    onPair(reader, new BufferPool(), async (conn, peer) => {
      const f = frames(300, 1000);
      expect(await peer.write(new Uint8Array([...f.bytes[0]!, ...f.bytes[1]!.subarray(0, cut)]))).toBe(true);
      const into = new Uint8Array(2000);
      expect(await conn.read(into)).toBe(300);
      expect(into.subarray(0, 300)).toEqual(f.plain[0]);
      const pending = conn.read(into);
      await until(conn, () => conn.stats.bytesRead === f.bytes[0]!.length + cut);
      expect(conn.state).toBe('partial');
      peer.finish(); // FIN: shutdown(SHUT_WR)
      expect((await rejection(pending)).code).toBe('TRUNCATED');
      expect(conn.state).toBe('closed');
      expect(conn.heldBytes).toBe(0);
    }),
  );

  it('EOF while starved (another holder has the whole budget): TRUNCATED once the pool lends again', () => {
    const pool = new BufferPool({ budget: 64 * 1024 });
    return onPair(reader, pool, async (conn, peer) => {
      const hog = pool.get(64 * 1024)!;
      const pending = conn.read(new Uint8Array(100));
      const starved = once(conn, 'starved');
      expect(await peer.write(frames(1000).bytes[0]!.subarray(0, 600))).toBe(true);
      peer.finish();
      await starved;
      expect(testHooks(conn).watching).toBe(false);
      pool.put(hog);
      expect((await rejection(pending)).code).toBe('TRUNCATED');
    });
  });
});

describe.each(READERS)('%s reader on TCP: resets', (reader) => {
  it('a reset while the conn holds plaintext: all of it is delivered, then IO_ERROR ECONNRESET', () =>
    onTcp(reader, new BufferPool(), async (conn, raw) => {
      const f = frames(1000, 1000);
      const sent = Buffer.concat(f.bytes);
      raw.write(sent);
      const into = new Uint8Array(100);
      expect(await conn.read(into)).toBe(100);
      expect(conn.stats.bytesRead).toBe(sent.length); // both frames came in one read(2)
      expect(conn.state).toBe('decrypted');
      const closed = once(raw, 'close');
      raw.resetAndDestroy();
      await closed;
      const got = [into.slice()];
      const err = await rejection(
        (async () => {
          for (let n; (n = await conn.read(into)) > 0; ) got.push(into.slice(0, n));
          throw new Error('read EOF, not the reset');
        })(),
      );
      expect(Buffer.concat(got)).toEqual(Buffer.concat(f.plain));
      expect(err).toMatchObject({ code: 'IO_ERROR', errno: 'ECONNRESET', fault: 'io' });
    }),
  );

  it('a reset with a write blocked on a full socket and a read pending: both settle with IO_ERROR', () =>
    onTcp(reader, new BufferPool(), async (conn, raw) => {
      raw.pause(); // the peer reads nothing: 16 MiB cannot all reach the kernel
      // Handled from the start: the write may fail as soon as the reset arrives, before 'close'.
      const writing = rejection(conn.write(new Uint8Array(16 * 1024 * 1024)));
      const reading = rejection(conn.read(new Uint8Array(10)));
      const closed = once(raw, 'close');
      raw.resetAndDestroy();
      await closed;
      const [w, r] = await Promise.all([writing, reading]);
      expect(w).toMatchObject({ code: 'IO_ERROR', fault: 'io' });
      expect(['ECONNRESET', 'EPIPE']).toContain(w.errno);
      expect(r).toMatchObject({ code: 'IO_ERROR', fault: 'io' });
      expect(conn.state).toBe('closed');
    }),
  );
});

describe.each(READERS)('%s reader: local close racing what is pending', (reader) => {
  it('a readOnReady waiting for the caller pool: CLOSED, and the wait is withdrawn from that pool', () => {
    const mine = new BufferPool({ budget: 1024 });
    return onPair(reader, new BufferPool(), async (conn, peer) => {
      const hog = mine.get(1024)!;
      expect(await peer.write(frames(500).bytes[0]!)).toBe(true);
      const got = conn.readOnReady(1000, mine);
      await until(conn, () => conn.state === 'decrypted');
      expect(mine.stats.waiters).toBe(1);
      conn.close();
      expect((await rejection(got)).code).toBe('CLOSED');
      expect(mine.stats.waiters).toBe(0);
      mine.put(hog);
      expect(mine.stats).toMatchObject({ outstanding: 0, lent: 0 });
    });
  });

  it('a conn starved on growth: close withdraws its wait and returns the partial frame', () => {
    const pool = new BufferPool({ budget: 64 * 1024 + 2048 });
    return onPair(reader, pool, async (conn, peer) => {
      const f = frames(40_000).bytes[0]!;
      const reading = conn.read(new Uint8Array(40_000));
      expect(await peer.write(f.subarray(0, 1000))).toBe(true);
      await until(conn, () => conn.state === 'partial');
      const hog = pool.get(64 * 1024)!;
      const starved = once(conn, 'starved');
      expect(await peer.write(f.subarray(1000, 5000))).toBe(true);
      await starved;
      expect(pool.stats.waiters).toBe(1);
      conn.close();
      expect((await rejection(reading)).code).toBe('CLOSED');
      expect(pool.stats.waiters).toBe(0);
      pool.put(hog);
    });
  });
});

describe('native reader: local close racing a blocked write', () => {
  it('a write blocked on a full socket, end() queued behind it and a read: all three reject CLOSED', () =>
    onPair('native', new BufferPool(), async (conn) => {
      const writing = conn.write(new Uint8Array(16 * 1024 * 1024)); // the peer never reads
      const ending = conn.end();
      const reading = conn.read(new Uint8Array(10));
      await loopTurn();
      conn.close();
      const all = await Promise.all([rejection(writing), rejection(ending), rejection(reading)]);
      expect(all.map((e) => e.code)).toEqual(['CLOSED', 'CLOSED', 'CLOSED']);
    }),
  );
});

/**
 * Drives a conn through starved → resumed → readable → partial → decrypted → idle (a budget a
 * hog holds at first, a frame in pieces, reads of every size), closing it from inside the first
 * `event` for which `when` says so: the read pending then, or the next one, rejects CLOSED.
 */
function closeFromInside(reader: ReaderKind, event: ConnEventName, when: (...args: unknown[]) => boolean): Promise<void> {
  const pool = new BufferPool({ budget: 64 * 1024 });
  return onPair(reader, pool, async (conn, peer) => {
    const thrown: unknown[] = [];
    let closedInside = false;
    conn.on(event, (...args: unknown[]) => {
      if (closedInside || !when(...args)) return;
      closedInside = true;
      try {
        conn.close();
      } catch (e) {
        thrown.push(e);
      }
    });
    const f = frames(3000, 50);
    const closed = () => conn.state === 'closed';
    const hog = pool.get(64 * 1024)!;
    let hogBack = false;
    const giveBack = () => {
      if (!hogBack) pool.put(hog);
      hogBack = true;
    };
    const flow = async () => {
      const r1 = conn.read(new Uint8Array(100));
      await peer.write(f.bytes[0]!.subarray(0, 1000)); // false once the conn has closed: go on, the reads say how it ended
      await until(conn, () => testHooks(conn).starved || closed());
      giveBack();
      await until(conn, () => conn.state === 'partial' || closed());
      await peer.write(f.bytes[0]!.subarray(1000));
      await r1;
      await peer.write(f.bytes[1]!);
      await conn.read(new Uint8Array(5000)); // the rest of frame 0
      await conn.read(new Uint8Array(5000)); // frame 1: idle again
      if (closedInside) await conn.read(new Uint8Array(1));
    };
    try {
      const err = await rejection(flow());
      expect(closedInside).toBe(true);
      expect(thrown).toEqual([]);
      expect(err.code).toBe('CLOSED');
      expect(conn.state).toBe('closed');
      expect(conn.heldBytes).toBe(0);
      await rejection(conn.read(new Uint8Array(1)));
    } finally {
      giveBack();
    }
  });
}

describe.each(READERS)("%s reader: close() from inside the conn's own events", (reader) => {
  it.each(['readable', 'partial', 'decrypted', 'idle'])('on entering %s', (state) => closeFromInside(reader, 'state', (s) => s === state));
  it.each(['starved', 'resumed', 'wakeup'] as const)("on '%s'", (event) => closeFromInside(reader, event, () => true));
});

describe.each(READERS)('%s reader on TCP: the peer half-closes', (reader) => {
  it('every byte sent before the FIN is delivered, then read returns 0; the conn writes on; end() gives the socket back', () =>
    onTcp(reader, new BufferPool(), async (conn, raw, base) => {
      const sizes = Array.from({ length: 200 }, (_, i) => 1 + ((i * 7919) % 16_000));
      const f = frames(...sizes);
      const fin = new Promise<void>((resolve) => raw.end(Buffer.concat(f.bytes), resolve));
      const got: Buffer[] = [];
      const into = new Uint8Array(7000);
      for (let n; (n = await conn.read(into)) > 0; ) got.push(Buffer.from(into.subarray(0, n)));
      await fin;
      expect(Buffer.concat(got).equals(Buffer.concat(f.plain))).toBe(true);
      expect(await conn.read(into)).toBe(0);
      expect(conn.state).toBe('closed');
      // Half-open: the conn still writes, and the peer gets every byte, then our FIN.
      const received: Buffer[] = [];
      raw.on('data', (d: Buffer) => received.push(d));
      const peerEnded = once(raw, 'end');
      const reply = plaintextFor(3 * 1024 * 1024, 9);
      await conn.write(reply);
      await conn.end();
      await peerEnded;
      const peerSide = createProtector({ protocol: PROTOCOL, side: 'server', key: keyFor(PROTOCOL) });
      expect(Buffer.from(peerSide.unprotect(Buffer.concat(received))).equals(Buffer.from(reply))).toBe(true);
      // Both directions done: the conn gave its socket back without a close() from us. The raw
      // socket (FIN sent and received) closes too: only the listener is left.
      await closesRun();
      expectAllClosed(base, reader === 'native' ? 1 : 0, 1);
    }),
  );
});

describe('closing from inside, and the stream reader on close', () => {
  // close() from a 'state' listener on entering 'readable': nothing read into the returned buffer or the closed socket.
  it.each(['native', 'stream'] as const)('%s: close() on entering readable: later reads are CLOSED, no wakeup after close', async (reader) => {
    const pool = new BufferPool();
    const { conn, peer } = pairOf({ reader, pool });
    const events: string[] = [];
    conn.on('state', (s: string) => {
      if (s === 'readable') conn.close();
    });
    conn.on('close', () => events.push('close')).on('wakeup', () => events.push('wakeup'));
    const reading = conn.read(new Uint8Array(10));
    await peer.write(frames(100).bytes[0]!);
    expect((await rejection(reading)).code).toBe('CLOSED');
    await loopTurn();
    expect((await rejection(conn.read(new Uint8Array(1)))).code).toBe('CLOSED');
    expect(conn.error).toBeNull();
    expect(events).toEqual(['close']);
    peer.close();
  });

  // a blocked write and an end() behind it reject CLOSED on close(), as with the native reader.
  it('stream reader: a blocked write, end() behind it and a read all reject CLOSED on close()', async () => {
    const { conn, peer } = pairOf({ reader: 'stream', pool: new BufferPool() });
    const writing = conn.write(new Uint8Array(16 * 1024 * 1024));
    const ending = conn.end();
    const reading = conn.read(new Uint8Array(10));
    await loopTurn();
    conn.close();
    const all = await Promise.all([writing, ending, reading].map((p) => p.then(() => 'resolved', (e: { code?: string }) => e.code)));
    peer.close();
    expect(all).toEqual(['CLOSED', 'CLOSED', 'CLOSED']);
  });
});
