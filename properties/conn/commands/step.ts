/** What every command does after acting on the real conn: the same input to the model, sync, compare. */
import type fc from 'fast-check';
import type { ConnModel, ModelInput } from '../../../model/ConnModel.js';
import type { Real } from '../Real.js';
import { expect } from 'vitest';
import { livenessViolations } from '../../../model/invariants.js';
import { compare, loopTurn, settle } from '../sync.js';
import { recordVisits } from '../transitionCoverage.js';
import { testHooks } from '../../../src/conn/testHooks.js';

export type ConnCommand = fc.AsyncCommand<ConnModel, Real>;

/**
 * liveness true: also check that a quiescent conn gets no readiness callbacks (no spinning) and is
 * not stuck starved; 'unwatched': only that no callbacks come while the conn says it is not watching.
 */
export const stepOptions: { liveness: boolean | 'unwatched' } = { liveness: false };

export async function step(m: ConnModel, r: Real, input: ModelInput): Promise<void> {
  m.apply(input);
  recordVisits(m);
  await settle(m, r);
  compare(m, r);
  if (stepOptions.liveness === 'unwatched' && !testHooks(r.conn).watching) {
    const before = r.readinessCallbacks;
    await loopTurn();
    await loopTurn();
    expect(r.readinessCallbacks - before, 'readiness callbacks while not watching').toBe(0);
  } else if (stepOptions.liveness === true) {
    const before = r.readinessCallbacks;
    await loopTurn();
    await loopTurn();
    expect({ readinessWhileQuiescent: r.readinessCallbacks - before, model: livenessViolations(m) }, 'liveness').toEqual({
      readinessWhileQuiescent: 0,
      model: [],
    });
  }
}

/** Bytes the peer may leave in the kernel unread (well under an AF_UNIX socket's buffer). */
export const KERNEL_LIMIT = 120_000;
