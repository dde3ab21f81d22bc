/**
 * Connections parked mid-handshake hold no pool memory (docs/spec.md §2, "Before the first state";
 * docs/handshake.md §8): PARKED (default 10,000) clients in a child process connect to a
 * createServer({ handshaker }) in this process and never send a byte, so every server-side
 * handshake waits for its client's first message on the connection's own native reader.
 * Asserted while they wait: every one is a pending handshake, none reached onConn, the pool has
 * lent nothing and never did (outstanding, gets and highWater all 0). Then server.close()
 * abandons them all: none left pending, nothing lent, nothing reported as a failure.
 * Reported: RSS per parked connection (not asserted). `npm run load` raises the fd soft limit.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../../src/api.js';
import { startFakeHandshaker, type FakeHandshaker } from '../../src/handshake/fake/server.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { LineChild } from './child.js';
import { loopTurn } from './pairs.js';

const ASKED = Number(process.env.PARKED ?? 10_000);
const PEERS = fileURLToPath(new URL('./fixtures/silent-peers.mjs', import.meta.url));
const softLimit = (): number => {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m?.[1] === undefined || m[1] === 'unlimited' ? Infinity : Number(m[1]);
};
// One fd per server conn (the addon's dup) and a margin; below that, run what fits and say so.
const PARKED = Math.min(ASKED, softLimit() - 300);

let fake: FakeHandshaker;
beforeAll(async () => {
  fake = await startFakeHandshaker();
});
afterAll(async () => {
  await fake.close();
});

describe(`connections parked mid-handshake (PARKED=${PARKED}${PARKED < ASKED ? `, fd limit: ${ASKED} asked` : ''})`, () => {
  it('hold 0 pool bytes while they wait, never reach onConn, and server.close() abandons them all', async () => {
    const pool = new BufferPool({ budget: 1 << 20 });
    let handled = 0;
    const server = createServer({ handshaker: { address: fake.address, timeoutMs: 600_000 }, pool, reader: 'native' }, () => void handled++);
    const errors: Error[] = [];
    server.on('error', (e) => errors.push(e));
    const { port } = await server.listen(0, '127.0.0.1');
    const rss0 = process.memoryUsage().rss;
    const peers = new LineChild(PEERS, [String(port), String(PARKED), '200'], PARKED + 500);
    try {
      await peers.next('connected');
      while (server.pendingHandshakes < PARKED) await loopTurn(); // accepts still arriving
      const perConn = Math.round((process.memoryUsage().rss - rss0) / PARKED);
      console.log(`${PARKED} parked: pool outstanding ${pool.outstanding}, gets ${pool.stats.gets}, highWater ${pool.stats.highWater}; RSS ≈ ${perConn} B per parked connection`);
      expect(server.pendingHandshakes).toBe(PARKED);
      expect(pool.stats).toMatchObject({ outstanding: 0, gets: 0, highWater: 0 });
      expect(handled).toBe(0);
      expect(server.connections.size).toBe(0);
      await server.close();
      expect(server.pendingHandshakes).toBe(0);
      expect(pool.outstanding).toBe(0);
      expect(handled).toBe(0);
      expect(errors).toEqual([]); // abandoning at close is not a failure to report
    } finally {
      peers.proc.stdin!.end();
      await peers.exited;
    }
  }, 120_000);
});
