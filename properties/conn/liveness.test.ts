/**
 * Liveness (DESIGN §2): a quiescent conn gets no readiness callbacks (level-triggered polling
 * must stop when the conn cannot take data: "or the callback spins"), and a conn starved on
 * growth resumes once the pool could make the exchange. The same command sequences as
 * model.test.ts, plus two loop turns after every command counting the reader's callbacks.
 *
 * It failed on the conn before the fixes of docs/spec.md §8 (it kept watching with a full buffer
 * and after EOF with plaintext not yet taken, so it spun; and, starved on growth, it waited for
 * get(want) instead of the exchange); `growthStuck` pins the second. The model checks the same
 * rules (model/invariants.ts livenessViolations), so a regression in either fails here.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { stepOptions } from './commands/step.js';
import { growthStuck } from './examples.js';
import { fcParams, seedTitle } from './params.js';
import { connVsModel } from './connVsModel.js';

stepOptions.liveness = true;

describe(`liveness (${seedTitle()})`, () => {
  it('no spinning, no starving when the pool could lend', async () => {
    await fc.assert(
      connVsModel(),
      { ...fcParams(100), examples: process.env.FC_NO_EXAMPLES ? [] : [growthStuck] },
    );
  });
});
