/**
 * The model-based property (DESIGN §5): the model (model/) and the real conn (native reader, real
 * socketpair, real pool) driven side by side by fc.commands; after every command the state, held
 * bytes, pool outstanding, bytes read, watching/starved, every read's outcome, the plaintext
 * delivered and the error code are compared. Replay a failure: FC_SEED=<seed> FC_PATH=<path>.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ConnModel } from '../../model/ConnModel.js';
import { configArb, connCommands } from './commands/index.js';
import { fcParams, seedTitle } from './params.js';
import { Real } from './Real.js';
import { formatReport, writeTransitionReport } from './transitionCoverage.js';

describe(`conn vs model (${seedTitle()})`, () => {
  it('every command sequence: the real conn does what the model says', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, connCommands(), async (cfg, cmds) => {
        const real = new Real(cfg);
        try {
          await fc.asyncModelRun(() => ({ model: new ConnModel(cfg), real }), cmds);
        } finally {
          real.dispose();
        }
      }),
      fcParams(),
    );
  });

  afterAll(() => {
    // Written after any run (also FC_RUNS campaigns); the CI-budget check is transitions.test.ts.
    const r = writeTransitionReport();
    console.log(`(state, event) pairs visited:\n${formatReport(r)}`);
    if (r.missing.length) console.log(`never visited: ${r.missing.join(', ')}`);
    expect(r.unexpected, 'pairs the model visited that model/transitions.ts does not declare').toEqual([]);
  });
});
