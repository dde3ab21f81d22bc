/** Another holder asks the pool for `size` bytes (refused if the budget cannot cover them). */
import type { Real } from '../Real.js';
import type { ConnModel } from '../../../model/ConnModel.js';
import { step, type ConnCommand } from './step.js';

export class HogPoolCommand implements ConnCommand {
  constructor(readonly size: number) {}
  check = () => true;
  async run(m: ConnModel, r: Real): Promise<void> {
    const b = r.pool.get(this.size);
    if (b !== null) r.hogs.push(b);
    await step(m, r, { kind: 'hogTake', size: this.size });
  }
  toString = () => `HogPool(${this.size})`;
}
