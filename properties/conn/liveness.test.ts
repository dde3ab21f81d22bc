/**
 * Liveness (docs/spec.md §4.7): a quiescent conn gets no readiness callbacks (level-triggered polling
 * must stop when the conn cannot take data: "or the callback spins"), a conn starved on growth
 * resumes once the pool could make the exchange, and a starved conn always resumes once nothing
 * else holds the pool (the pool never waits on itself: it lends past its budget). The same
 * command sequences as model.test.ts, plus two loop turns after every command counting the
 * reader's callbacks.
 *
 * It failed on the conn before the fixes of docs/spec.md §8 (it kept watching with a full buffer
 * and after EOF with plaintext not yet taken, so it spun; and, starved on growth, it waited for
 * get(want) instead of the exchange); `growthStuck` pins the second, `starvedPastBudget` and
 * `growthPastBudget` the overdraft (a fresh buffer, and growth, past the budget). The model checks the same rules
 * (model/invariants.ts livenessViolations) and the real conn is compared with it after every
 * command, so a regression in either fails here.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { stepOptions } from './commands/step.js';
import { growthPastBudget, growthStuck, starvedPastBudget } from './examples.js';
import { fcParams, seedTitle } from './params.js';
import { connVsModel } from './connVsModel.js';

stepOptions.liveness = true;

describe(`liveness (${seedTitle()})`, () => {
  it('no spinning, no starving when the pool could lend or nothing else holds it', async () => {
    await fc.assert(
      connVsModel(),
      { ...fcParams(100), examples: process.env.FC_NO_EXAMPLES ? [] : [growthStuck, starvedPastBudget, growthPastBudget] },
    );
  });
});
