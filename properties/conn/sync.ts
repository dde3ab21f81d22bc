/**
 * Synchronising the real conn with the model, on the conn's own events (never sleeps, never
 * timers), and comparing the two after every command.
 */
import { expect } from 'vitest';
import type { ConnModel } from '../../model/ConnModel.js';
import { invariantViolations } from '../../model/invariants.js';
import type { Real } from './Real.js';
import { testHooks } from '../../src/conn/testHooks.js';

/** The next 'wakeup', 'starved' or 'close' the conn emits. */
function nextEvent(real: Real): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      real.conn.off('wakeup', done);
      real.conn.off('close', done);
      real.conn.off('starved', done);
      resolve();
    };
    real.conn.on('wakeup', done);
    real.conn.on('close', done);
    real.conn.on('starved', done);
  });
}

/** What settle needs to know of the model's prediction (a ConnModel, or a corpus step's expectation). */
export interface Prediction {
  readonly consumed: number;
  readonly eofRead: boolean;
  readonly starved: boolean;
  readonly state: string;
}

/** Has the real conn caught up with everything the model says it reads? */
function caughtUp(m: Prediction, real: Real): boolean {
  const c = real.conn;
  if (c.stats.bytesRead > m.consumed) return true; // read too much: let the comparison say so
  if (c.stats.bytesRead < m.consumed) return false;
  if (m.eofRead && real.eofWakeups === 0 && c.state !== 'closed') return false;
  if (m.starved && !testHooks(c).starved) return false;
  return m.state !== 'closed' || c.state === 'closed';
}

/** Settled promise reactions run; no event-loop turn is taken. */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 8; i++) await Promise.resolve();
}

/**
 * Wait until the real conn is quiescent where the model is: while it watches the socket and has
 * not yet read what the model predicts, each step it takes is a readiness callback, which ends
 * in a 'wakeup' (or 'starved', or 'close') event. A conn that stops watching cannot move without a command.
 */
export async function settle(m: Prediction, real: Real): Promise<void> {
  await flushMicrotasks();
  while (testHooks(real.conn).watching && !caughtUp(m, real)) {
    // Guard for a conn that disagrees with the model (it waits for bytes the kernel does not
    // have): if two loop turns bring no readiness callback, none is coming; the comparison fails.
    const before = real.readinessCallbacks;
    const moved = await Promise.race([nextEvent(real).then(() => true), loopTurn().then(loopTurn).then(() => false)]);
    if (!moved && real.readinessCallbacks === before) break;
  }
  await flushMicrotasks();
}

/** One event-loop turn (setImmediate: poll phase included), to count readiness nobody acts on. */
export function loopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function compare(m: ConnModel, real: Real): void {
  const c = real.conn;
  expect(invariantViolations(m), 'model invariants').toEqual([]);
  expect(
    {
      state: c.state,
      heldBytes: c.heldBytes,
      outstanding: real.pool.outstanding,
      bytesRead: c.stats.bytesRead,
      watching: testHooks(c).watching,
      starved: testHooks(c).starved,
      error: c.error?.code ?? null,
    },
    'conn vs model',
  ).toEqual({
    state: m.state,
    heldBytes: m.heldBytes,
    outstanding: m.outstanding,
    bytesRead: m.consumed,
    watching: m.watching,
    starved: m.starved,
    error: m.error === 'CLOSED' ? null : m.error,
  });
  expect(real.reads.map((r) => r.outcome), 'read outcomes').toEqual(m.reads);
  expect(real.delivered.length, 'plaintext delivered').toBe(m.delivered.length);
  expect(Buffer.from(real.delivered).equals(Buffer.from(m.delivered)), 'plaintext delivered, byte for byte').toBe(true);
}
