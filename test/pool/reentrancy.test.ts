/**
 * Waiters are told after the change that freed the bytes is complete (docs/spec.md §5): never
 * from inside another holder's put or resize, whatever the waiter's callback then does with the
 * pool or with a connection.
 */
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { bytes, makePair, readExactly } from '../conn/harness.js';

describe('BufferPool tells waiters after the call that freed the bytes', () => {
  it('a waiter that gets and puts from its callback runs after put returns, not nested in it', async () => {
    const pool = new BufferPool({ budget: 128 });
    const held = pool.get(128)!;
    const log: string[] = [];
    let depth = 0;
    const told = new Promise<void>((resolve) =>
      pool.waitFor(64, () => {
        log.push(`told at depth ${depth}`);
        const b = pool.get(64)!; // back into the pool from the callback
        pool.put(b);
        log.push('callback done');
        resolve();
      }),
    );
    depth++;
    pool.put(held);
    log.push('put returned');
    depth--;
    await told;
    expect(log).toEqual(['put returned', 'told at depth 0', 'callback done']);
    expect(pool.stats).toMatchObject({ outstanding: 0, waiters: 0 });
  });

  it('resize that shrinks tells the waiter after it returns', async () => {
    const pool = new BufferPool({ budget: 4096 });
    const big = pool.get(4096)!;
    const log: string[] = [];
    const told = new Promise<void>((resolve) => pool.waitFor(1024, () => (log.push('told'), resolve())));
    const small = pool.resize(big, 1024, 0)!;
    log.push('resize returned');
    await told;
    expect(log).toEqual(['resize returned', 'told']);
    pool.put(small);
  });

  it('a waiter cancelled after the put but before the tell is never told', async () => {
    const pool = new BufferPool({ budget: 64 });
    const held = pool.get(64)!;
    let told = 0;
    const cancel = pool.waitFor(64, () => told++);
    pool.put(held);
    cancel();
    await new Promise((r) => setImmediate(r));
    expect(told).toBe(0);
    expect(pool.stats.waiters).toBe(0);
  });

  it('a waiter whose callback throws does not cost the next waiter its turn', async () => {
    const pool = new BufferPool({ budget: 128 });
    const held = pool.get(128)!;
    const log: string[] = [];
    const boom = new Error('listener failed');
    const uncaught = new Promise<unknown>((resolve) => {
      const listeners = process.listeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      process.once('uncaughtException', (e) => {
        for (const l of listeners) process.on('uncaughtException', l);
        resolve(e);
      });
    });
    pool.waitFor(64, () => {
      log.push('first');
      throw boom;
    });
    const second = new Promise<void>((resolve) => pool.waitFor(64, () => (log.push('second'), resolve())));
    pool.put(held);
    await second;
    expect(await uncaught).toBe(boom);
    expect(log).toEqual(['first', 'second']);
  });

  it("a starved conn's listeners run after the other holder's put returns, and may call back into the conn", async () => {
    const { conn, pool, peer, send } = makePair({ budget: 64 * 1024 });
    const hog = pool.get(64 * 1024)!;
    const msg = bytes(3000, 5);
    const log: string[] = [];
    const starved = new Promise((resolve) => conn.once('starved', resolve));
    const pending = readExactly(conn, msg.length, 4096);
    send(peer.protect(msg));
    await starved;
    conn.on('resumed', () => {
      log.push(`resumed: held ${conn.heldBytes}, outstanding ${pool.outstanding}`);
      // Into the conn and its pool from the listener: neither is in the middle of a change.
      void conn.write(bytes(10, 1));
    });
    pool.put(hog);
    log.push('put returned');
    expect(await pending).toEqual(msg);
    expect(log).toEqual(['put returned', 'resumed: held 0, outstanding 0']);
    expect(pool.outstanding).toBe(0);
    conn.close();
  });
});
