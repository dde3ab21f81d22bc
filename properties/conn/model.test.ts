/**
 * The model-based property (docs/spec.md §2–§4): the model (model/) and the real conn (native reader, real
 * socketpair, real pool) driven side by side by fc.commands; after every command the state, held
 * bytes, pool outstanding, bytes read, watching/starved, every read's outcome, the plaintext
 * delivered and the error code are compared. Replay a failure: FC_SEED=<seed> FC_PATH=<path>.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { growthPastBudget, growthRefilled, starvedPastBudget } from './examples.js';
import { CI_RUNS, fcParams, seedTitle } from './params.js';
import { connVsModel } from './connVsModel.js';
import { formatReport, writeTransitionReport } from './transitionCoverage.js';

describe(`conn vs model (${seedTitle()})`, () => {
  it('every command sequence: the real conn does what the model says', async () => {
    await fc.assert(
      connVsModel(),
      { ...fcParams(), examples: [growthRefilled, starvedPastBudget, growthPastBudget] },
    );
  });

  it('transition coverage: every reachable (state, event) pair was visited (coverage/transitions.json)', () => {
    const r = writeTransitionReport();
    console.log(`(state, event) pairs visited:\n${formatReport(r)}`);
    expect(r.unexpected, 'pairs the model visited that model/transitions.ts does not declare').toEqual([]);
    // A replay (FC_PATH) or a short run need not cover everything; the CI budget must.
    if (!process.env.FC_PATH && fcParams().numRuns! >= CI_RUNS) expect(r.missing, 'reachable pairs never visited').toEqual([]);
  });
});
