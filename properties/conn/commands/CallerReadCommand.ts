/** The caller starts read(into) with into.length = n. Its outcome is compared after every later command. */
import type { Real } from '../Real.js';
import type { ConnModel } from '../../../model/ConnModel.js';
import { step, type ConnCommand } from './step.js';

export class CallerReadCommand implements ConnCommand {
  constructor(readonly n: number) {}
  check = () => true;
  async run(m: ConnModel, r: Real): Promise<void> {
    r.read(this.n);
    await step(m, r, { kind: 'read', n: this.n });
  }
  toString = () => `CallerRead(${this.n})`;
}
