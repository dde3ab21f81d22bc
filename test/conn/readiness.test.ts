/**
 * The readiness-based read path on real sockets through the native reader
 * (docs/spec.md §2, §3): no buffer while waiting, a buffer only while
 * bytes are held, spurious wakeups, pool exhaustion, and everything returned on every ending.
 */
import { fstatSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isAltsError } from '../../src/errors.js';
import { bytes, closeCallbacksRan, makePair, native, nextWakeup, readExactly, waitForState } from './harness.js';
import { testHooks } from '../../src/conn/testHooks.js';

describe('native reader: idle holds nothing', () => {
  it('a read pending on an idle conn holds 0 pool bytes and the state is idle', () => {
    const { conn, pool } = makePair();
    const pending = conn.read(new Uint8Array(100));
    expect(conn.reader).toBe('native');
    expect(conn.state).toBe('idle');
    expect(conn.heldBytes).toBe(0);
    expect(pool.outstanding).toBe(0);
    expect(testHooks(conn).watching).toBe(true);
    conn.close();
    return expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('data arriving makes the buffer appear, and it goes back once the plaintext is handed up', async () => {
    const { conn, pool, peer, send } = makePair();
    const seen: [string, number][] = [];
    conn.on('state', (s: string, held: number) => seen.push([s, held]));
    const into = new Uint8Array(1000);
    const pending = conn.read(into);
    const msg = bytes(700);
    send(peer.protect(msg));
    expect(await pending).toBe(700);
    expect(into.subarray(0, 700)).toEqual(msg);
    expect(seen[0]).toEqual(['readable', 64 * 1024]); // borrowed only for the read(2)
    expect(conn.state).toBe('idle');
    expect(conn.heldBytes).toBe(0);
    expect(pool.outstanding).toBe(0);
    expect(pool.highWater).toBe(64 * 1024);
    conn.close();
  });

  it('plaintext the caller has not taken keeps the buffer (decrypted) until it is all read', async () => {
    const { conn, pool, peer, send } = makePair();
    const msg = bytes(5000, 7);
    send(peer.protect(msg));
    const first = new Uint8Array(1000);
    expect(await conn.read(first)).toBe(1000);
    expect(conn.state).toBe('decrypted');
    expect(conn.heldBytes).toBe(64 * 1024);
    const rest = await readExactly(conn, 4000, 1500);
    expect([...first, ...rest]).toEqual([...msg]);
    expect(conn.state).toBe('idle');
    expect(pool.outstanding).toBe(0);
    conn.close();
  });
});

describe('native reader: spurious wakeups', () => {
  it('a wakeup with nothing there meets EAGAIN in the real read(2), returns its buffer, changes no state', async () => {
    const { conn, pool, peer, send } = makePair();
    const pending = conn.read(new Uint8Array(100));
    const wake = nextWakeup(conn);
    testHooks(conn).simulateWakeup();
    expect(await wake).toEqual({ spurious: true, bytes: 0 });
    expect(conn.stats.spuriousWakeups).toBe(1);
    expect(conn.stats.reads).toBe(1);
    expect(conn.state).toBe('idle');
    expect(conn.heldBytes).toBe(0);
    expect(pool.outstanding).toBe(0);
    expect(testHooks(conn).watching).toBe(true);
    send(peer.protect(bytes(10)));
    expect(await pending).toBe(10);
    conn.close();
  });

  it('a spurious wakeup in the partial state keeps the partial frame as it was', async () => {
    const { conn, pool, peer, send } = makePair();
    const frame = peer.protect(bytes(3000));
    const pending = conn.read(new Uint8Array(4000));
    send(frame.subarray(0, 1000));
    await waitForState(conn, 'partial');
    const held = conn.heldBytes;
    expect(held).toBe(2048); // partialCapacity(1000 bytes) = class of 2000
    testHooks(conn).simulateWakeup();
    expect(conn.stats.spuriousWakeups).toBe(1);
    expect(conn.state).toBe('partial');
    expect(conn.heldBytes).toBe(held);
    send(frame.subarray(1000));
    expect(await pending).toBe(3000);
    expect(pool.outstanding).toBe(0);
    conn.close();
  });
});

describe('native reader: the pool cannot lend', () => {
  it('stops watching, loses nothing, and resumes when a buffer comes back', async () => {
    const { conn, pool, peer, send } = makePair({ budget: 64 * 1024 });
    const hog = pool.get(64 * 1024)!; // another holder takes the whole budget
    const msgs = [bytes(20000, 1), bytes(30000, 2), bytes(5, 3)];
    const pending = readExactly(conn, 50005, 4096);
    const starved = new Promise((resolve) => conn.once('starved', resolve));
    for (const m of msgs) send(peer.protect(m));
    await starved;
    expect(testHooks(conn).starved).toBe(true);
    expect(testHooks(conn).watching).toBe(false); // no spinning: the socket is not watched while starved
    expect(conn.heldBytes).toBe(0);
    const wakeupsWhileStarved = conn.stats.wakeups;
    pool.put(hog);
    const got = await pending;
    expect(got).toEqual(new Uint8Array([...msgs[0]!, ...msgs[1]!, ...msgs[2]!]));
    expect(conn.stats.starvedWaits).toBeGreaterThanOrEqual(1);
    expect(conn.stats.wakeups).toBeGreaterThan(wakeupsWhileStarved);
    expect(pool.highWater).toBeLessThanOrEqual(64 * 1024);
    expect(pool.outstanding).toBe(0);
    conn.close();
  });

  it('a partial frame that cannot grow waits for the pool with what it holds, then completes', async () => {
    const { conn, pool, peer, send } = makePair({ budget: 64 * 1024 + 2048, maxFrameSize: 64 * 1024 });
    const frame = peer.protect(bytes(40000, 9));
    const pending = conn.read(new Uint8Array(40000));
    send(frame.subarray(0, 1000));
    await waitForState(conn, 'partial');
    const hog = pool.get(64 * 1024)!; // leaves 2048 - 2048 held = nothing to grow into
    const starved = new Promise((resolve) => conn.once('starved', resolve));
    send(frame.subarray(1000));
    await starved;
    expect(conn.state).toBe('partial');
    expect(testHooks(conn).watching).toBe(false);
    pool.put(hog);
    expect(await pending).toBe(40000);
    expect(pool.outstanding).toBe(0);
    conn.close();
  });
});

describe('native reader: endings return everything', () => {
  const fdsClosed = () => native.stats().fdsClosed;

  it.each(['idle', 'partial', 'decrypted'] as const)('close in %s: pending read CLOSED, 0 held, fd closed once', async (state) => {
    const { conn, pool, peer, send, hangUp, fd } = makePair();
    const frame = peer.protect(bytes(3000));
    let pending: Promise<number> | null = null;
    if (state === 'idle') pending = conn.read(new Uint8Array(10));
    if (state === 'partial') {
      pending = conn.read(new Uint8Array(10));
      send(frame.subarray(0, 100));
      await waitForState(conn, 'partial');
    }
    if (state === 'decrypted') {
      send(frame);
      expect(await conn.read(new Uint8Array(10))).toBe(10);
      expect(conn.state).toBe('decrypted');
    }
    const settled = pending?.catch((e: unknown) => e);
    await closeCallbacksRan(); // let earlier tests' handles finish closing
    const before = fdsClosed();
    conn.close();
    conn.close();
    await closeCallbacksRan();
    // Other tests' handles may be finalized meanwhile, so count at least one, and check this fd is gone.
    expect(fdsClosed()).toBeGreaterThanOrEqual(before + 1);
    expect(() => fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(conn.state).toBe('closed');
    expect(conn.heldBytes).toBe(0);
    expect(pool.outstanding).toBe(0);
    if (settled) expect(await settled).toMatchObject({ code: 'CLOSED' });
    await expect(conn.read(new Uint8Array(1))).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(conn.write(new Uint8Array(1))).rejects.toMatchObject({ code: 'CLOSED' });
    hangUp();
  });

  it('EOF in idle: everything sent before it is delivered, then read resolves 0', async () => {
    const { conn, pool, peer, send, hangUp } = makePair();
    send(peer.protect(bytes(100)));
    hangUp();
    expect((await readExactly(conn, 100)).length).toBe(100);
    expect(await conn.read(new Uint8Array(10))).toBe(0);
    expect(await conn.read(new Uint8Array(10))).toBe(0);
    expect(conn.state).toBe('closed');
    expect(pool.outstanding).toBe(0);
    conn.close();
  });

  it('EOF inside a frame is TRUNCATED, after the whole frames before it', async () => {
    const { conn, pool, peer, send, hangUp } = makePair();
    const good = peer.protect(bytes(50));
    const cut = peer.protect(bytes(500)).subarray(0, 200);
    send(new Uint8Array([...good, ...cut]));
    hangUp();
    expect(await conn.read(new Uint8Array(100))).toBe(50);
    const err = await conn.read(new Uint8Array(100)).catch((e: unknown) => e);
    expect(isAltsError(err, 'TRUNCATED')).toBe(true);
    expect(conn.state).toBe('closed');
    expect(pool.outstanding).toBe(0);
    await expect(conn.read(new Uint8Array(1))).rejects.toMatchObject({ code: 'TRUNCATED' });
  });
});
