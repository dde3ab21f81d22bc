/**
 * The connection's surface on real sockets: what a readOnReady caller is handed (docs/spec.md
 * §6), toDuplex() being one Duplex, listeners that call back into the conn or its pool from
 * inside its events (docs/spec.md §3, Events), a failure inside the read loop ending in a typed
 * error, and a non-ALTS peer's first error saying so.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AltsConn, type ConnState } from '../../src/conn/AltsConn.js';
import { createCrypters } from '../../src/crypto/index.js';
import type { DirectionCrypter } from '../../src/crypto/types.js';
import { NativeReader } from '../../src/io/NativeReader.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { frames, pairOf, Peer, rejection, type ReaderKind } from '../hardening/pairs.js';
import { keyFor, native } from './harness.js';
import { testHooks } from '../../src/conn/testHooks.js';

const READERS: ReaderKind[] = ['native', 'stream'];

describe.each(READERS)('%s reader: the buffer readOnReady hands out', (reader) => {
  it("shows exactly the n bytes delivered, and nothing of another connection's plaintext (buf past n, buf.buffer)", async () => {
    const shared = new BufferPool();
    // Conn A decrypts a secret through the shared pool: once into a buffer readOnReady borrowed
    // from it, once in place in its own read buffer (a read smaller than the frame).
    const a = pairOf({ reader, pool: shared, readSize: 1024 });
    const secret = frames(1000, 900);
    const first = a.conn.readOnReady(1000, shared);
    expect(await a.peer.write(secret.bytes[0]!)).toBe(true);
    const r1 = (await first)!;
    expect(Buffer.from(r1.buf).equals(Buffer.from(secret.plain[0]!))).toBe(true);
    shared.put(r1.buf);
    const small = new Uint8Array(10);
    const second = a.conn.read(small);
    expect(await a.peer.write(secret.bytes[1]!)).toBe(true);
    expect(await second).toBe(10);
    for (let got = 10; got < 900; ) got += await a.conn.read(new Uint8Array(900));
    expect(a.conn.heldBytes).toBe(0); // both 1024-byte buffers that held the secret are back in the pool
    a.conn.close();
    a.peer.close();

    // Conn B (its own read pool) hands up 600 bytes into a buffer from the shared pool: the same
    // size class, so one of those two buffers.
    const b = pairOf({ reader, pool: new BufferPool() });
    const msg = frames(600);
    const allocations = shared.stats.allocations;
    const third = b.conn.readOnReady(1000, shared);
    expect(await b.peer.write(msg.bytes[0]!)).toBe(true);
    const r = (await third)!;
    expect(shared.stats.allocations).toBe(allocations); // a reused buffer, not a fresh (zeroed) one
    expect(r.n).toBe(600);
    expect(r.buf.length).toBe(600);
    expect(Buffer.from(r.buf).equals(Buffer.from(msg.plain[0]!))).toBe(true);
    const whole = new Uint8Array(r.buf.buffer);
    expect(whole.length).toBe(1024);
    expect(whole.subarray(600).every((x) => x === 0)).toBe(true);
    shared.put(r.buf); // a view of n bytes goes back like the whole buffer
    expect(shared.outstanding).toBe(0);
    b.conn.close();
    b.peer.close();
  });
});

describe.each(READERS)('%s reader: listeners that call back in', (reader) => {
  it("read, readOnReady and pool.put from inside 'state' and 'wakeup' listeners: nothing nests, every byte arrives", async () => {
    const pool = new BufferPool();
    const { conn, peer } = pairOf({ reader, pool });
    const f = frames(3000, 5, 0, 4000, 1);
    const want = Buffer.concat(f.plain);
    const got: Buffer[] = [];
    const errors: unknown[] = [];
    let reading = false;
    let finished: () => void = () => {};
    const allThere = new Promise<void>((resolve) => (finished = resolve));
    const total = () => got.reduce((n, b) => n + b.length, 0);
    // Reads start from inside the conn's events and from inside its promise reactions.
    const readFromListener = () => {
      if (reading || total() >= want.length) return;
      reading = true;
      const p = got.length % 2 === 0 ? conn.readOnReady(2048, pool).then((r) => {
        if (r === null) return;
        got.push(Buffer.from(r.buf));
        pool.put(r.buf); // back into the pool from inside the conn's own promise reaction
      }) : (() => {
        const into = new Uint8Array(1500);
        return conn.read(into).then((n) => void got.push(Buffer.from(into.subarray(0, n))));
      })();
      p.then(() => {
        reading = false;
        if (total() >= want.length) finished();
        readFromListener();
      }, (e: unknown) => {
        errors.push(e);
        finished();
      });
    };
    const states: string[] = [];
    conn.on('state', (s) => {
      states.push(s);
      readFromListener();
    });
    conn.on('wakeup', () => readFromListener());
    readFromListener();
    for (const b of f.bytes) expect(await peer.write(b)).toBe(true);
    await allThere;
    expect(errors).toEqual([]);
    expect(Buffer.concat(got).equals(want)).toBe(true);
    expect(states).toContain('decrypted');
    conn.close();
    peer.close();
  });

  it("close() from inside a 'wakeup' listener while bytes are held: the pending read rejects CLOSED, everything is back", async () => {
    const pool = new BufferPool();
    const { conn, peer } = pairOf({ reader, pool });
    conn.on('wakeup', () => conn.close());
    const reading = conn.read(new Uint8Array(10));
    expect(await peer.write(frames(100).bytes[0]!)).toBe(true);
    expect((await rejection(reading)).code).toBe('CLOSED');
    expect(conn.state).toBe('closed');
    expect(pool.outstanding).toBe(0);
    peer.close();
  });
});

describe.each(READERS)('%s reader: ending while starved', (reader) => {
  it.each(['close', 'a wakeup (one wait still), then close'] as const)('%s withdraws the wait for the pool: no waiter left, nothing held', async (how) => {
    const pool = new BufferPool({ budget: 64 * 1024 });
    const hog = pool.get(64 * 1024)!;
    const { conn, peer } = pairOf({ reader, pool });
    const reading = conn.read(new Uint8Array(10));
    reading.catch(() => {});
    const starved = once(conn, 'starved');
    expect(await peer.write(frames(100).bytes[0]!)).toBe(true);
    await starved;
    expect(pool.stats.waiters).toBe(1);
    if (how === 'close') conn.close();
    else testHooks(conn).simulateWakeup(); // still starved: nothing to borrow, the wait stays
    if (how === 'close') expect((await rejection(reading)).code).toBe('CLOSED');
    else expect(pool.stats.waiters).toBe(1);
    conn.close();
    expect(pool.stats.waiters).toBe(0);
    expect(conn.heldBytes).toBe(0);
    pool.put(hog);
    expect(pool.outstanding).toBe(0);
    peer.close();
  });
});

describe.each(READERS)('%s reader: one conn closed from inside the pool callback its own put caused', (reader) => {
  it("conn B's 'resumed' listener closes conn A, whose buffer going back told B: A's read has its bytes, then A is closed; B reads on", async () => {
    const pool = new BufferPool({ budget: 64 * 1024 });
    const a = pairOf({ reader, pool });
    const b = pairOf({ reader, pool });
    const fa = frames(3000);
    const fb = frames(200);
    const aFirst = a.conn.read(new Uint8Array(1000));
    expect(await a.peer.write(fa.bytes[0]!)).toBe(true);
    expect(await aFirst).toBe(1000);
    expect(a.conn.heldBytes).toBe(64 * 1024); // the budget, held by A's plaintext
    const bInto = new Uint8Array(500);
    const bRead = b.conn.read(bInto);
    const starved = once(b.conn, 'starved');
    expect(await b.peer.write(fb.bytes[0]!)).toBe(true);
    await starved;
    b.conn.on('resumed', () => a.conn.close());
    const aRest = new Uint8Array(2000);
    expect(await a.conn.read(aRest)).toBe(2000); // its buffer goes back after these bytes: B is told
    expect(Buffer.from(aRest).equals(Buffer.from(fa.plain[0]!.subarray(1000)))).toBe(true);
    expect(await bRead).toBe(200);
    expect(Buffer.from(bInto.subarray(0, 200)).equals(Buffer.from(fb.plain[0]!))).toBe(true);
    expect(a.conn.state).toBe('closed');
    expect((await rejection(a.conn.read(new Uint8Array(1)))).code).toBe('CLOSED');
    expect(pool.outstanding).toBe(0);
    b.conn.close();
    a.peer.close();
    b.peer.close();
  });
});

describe.each(READERS)('%s reader: toDuplex', (reader) => {
  it("events are typed: 'state' listeners get the state and held bytes; an unknown event does not compile", () => {
    const { conn, peer } = pairOf({ reader, pool: new BufferPool() });
    const seen: [ConnState, number][] = [];
    conn.on('state', (s, held) => void seen.push([s, held]));
    // @ts-expect-error: not an event of AltsConn (npm test typechecks this file)
    conn.on('nosuch', () => {});
    conn.close();
    expect(seen).toEqual([['closed', 0]]);
    peer.close();
  });

  it('twice on one conn is the same Duplex, and it carries the data', async () => {
    const { conn, peer } = pairOf({ reader, pool: new BufferPool() });
    const d = conn.toDuplex();
    expect(conn.toDuplex()).toBe(d);
    const f = frames(700);
    const chunk = once(d, 'data') as Promise<[Buffer]>;
    expect(await peer.write(f.bytes[0]!)).toBe(true);
    const [data] = await chunk;
    expect(data.equals(Buffer.from(f.plain[0]!))).toBe(true);
    expect(conn.state).not.toBe('closed');
    d.destroy();
    peer.close();
  });

  const strayReads: [string, (conn: AltsConn, pool: BufferPool) => Promise<unknown>][] = [
    ['read', (conn) => conn.read(new Uint8Array(10))],
    ['readOnReady', (conn, pool) => conn.readOnReady(10, pool)],
  ];
  describe.each(strayReads)('a stray conn.%s() once the conn is read through its Duplex', (_name, stray) => {
    it.each(['before', 'after'] as const)('made %s the Duplex starts reading: it rejects READ_IN_PROGRESS at once, and the Duplex goes on untouched', async (when) => {
      const pool = new BufferPool();
      const { conn, peer } = pairOf({ reader, pool });
      const d = conn.toDuplex();
      const errors: Error[] = [];
      d.on('error', (e) => void errors.push(e));
      const chunks: Buffer[] = [];
      d.on('data', (c: Buffer) => void chunks.push(c));
      if (when === 'after') await once(d, 'resume'); // the Duplex's read is pending now
      const err = await rejection(stray(conn, pool));
      expect(err.code).toBe('READ_IN_PROGRESS');
      expect(err.message).toMatch(/Duplex/);
      const f = frames(300, 400);
      const two = new Promise<void>((resolve) => d.on('data', () => Buffer.concat(chunks).length === 700 && resolve()));
      expect(await peer.write(Buffer.concat(f.bytes))).toBe(true);
      await two;
      expect(Buffer.concat(chunks)).toEqual(Buffer.concat(f.plain));
      expect(conn.state).not.toBe('closed');
      expect(d.destroyed).toBe(false);
      expect(errors).toEqual([]);
      d.destroy();
      peer.close();
    });
  });
});

describe('a failure inside the read loop', () => {
  it('a crypter that throws a RangeError fails the conn with INTERNAL (fault local), releases everything, and nothing escapes', async () => {
    const key = keyFor('ALTSRP_GCM_AES128_REKEY');
    const { inbound, outbound } = createCrypters({ protocol: 'ALTSRP_GCM_AES128_REKEY', side: 'client', key });
    const broken: DirectionCrypter = {
      seal: (b, o, n) => inbound.seal(b, o, n),
      open: () => {
        throw new RangeError('a broken internal state');
      },
      get counter() {
        return inbound.counter;
      },
    };
    const [fd, peerFd] = native.socketpair();
    const pool = new BufferPool();
    const conn = new AltsConn({ reader: new NativeReader(native, fd), pool, inbound: broken, outbound, maxFrameSize: 16384 });
    const raw = new Peer(peerFd);
    const reading = conn.read(new Uint8Array(100));
    expect(await raw.write(frames(50).bytes[0]!)).toBe(true);
    const err = await rejection(reading);
    expect(err.code).toBe('INTERNAL');
    expect(err.fault).toBe('local');
    expect(err.cause).toBeInstanceOf(RangeError);
    expect(conn.state).toBe('closed');
    expect(pool.outstanding).toBe(0);
    expect((await rejection(conn.read(new Uint8Array(1)))).code).toBe('INTERNAL');
    raw.close();
  });
});

describe.each(READERS)("%s reader: a peer that does not speak ALTS", (reader) => {
  const notAlts: [string, Uint8Array][] = [
    ['an HTTP/1.1 request', new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['an HTTP/2 preface', new TextEncoder().encode('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')],
    ['a TLS ClientHello', Uint8Array.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])],
  ];
  it.each(notAlts)('%s: FRAME_TOO_LARGE, and the message says the peer may not be speaking ALTS', async (_name, bytes) => {
    const { conn, peer } = pairOf({ reader, pool: new BufferPool() });
    const reading = conn.read(new Uint8Array(100));
    expect(await peer.write(bytes)).toBe(true);
    const err = await rejection(reading);
    expect(err.code).toBe('FRAME_TOO_LARGE');
    expect(err.fault).toBe('peer');
    expect(err.message).toMatch(/may not be speaking ALTS/);
    peer.close();
  });

  it('the same bad length after a good frame says nothing about ALTS', async () => {
    const { conn, peer } = pairOf({ reader, pool: new BufferPool() });
    const f = frames(10);
    expect(await peer.write(f.bytes[0]!)).toBe(true);
    expect(await conn.read(new Uint8Array(100))).toBe(10);
    const reading = conn.read(new Uint8Array(100));
    expect(await peer.write(new TextEncoder().encode('GET / HTTP/1.1\r\n'))).toBe(true);
    const err = await rejection(reading);
    expect(err.code).toBe('FRAME_TOO_LARGE');
    expect(err.message).not.toMatch(/ALTS/);
    peer.close();
  });
});
