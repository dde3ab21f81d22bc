/**
 * The one property both model.test.ts and liveness.test.ts run: a fresh model and a fresh real
 * conn per generated config, driven by the same command sequence, the real side always disposed.
 */
import fc from 'fast-check';
import { ConnModel } from '../../model/ConnModel.js';
import { configArb, connCommands } from './commands/index.js';
import { Real } from './Real.js';

export function connVsModel() {
  return fc.asyncProperty(configArb, connCommands(), async (cfg, cmds) => {
    const real = new Real(cfg);
    try {
      await fc.asyncModelRun(() => ({ model: new ConnModel(cfg), real }), cmds);
    } finally {
      real.dispose();
    }
  });
}
