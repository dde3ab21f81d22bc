/** Another holder gives a buffer back: a starved conn is told and resumes. */
import type { Real } from '../Real.js';
import type { ConnModel } from '../../../model/ConnModel.js';
import { step, type ConnCommand } from './step.js';

export class ReleaseHogCommand implements ConnCommand {
  constructor(readonly index: number) {}
  check = (m: Readonly<ConnModel>) => m.hogs.length > 0;
  async run(m: ConnModel, r: Real): Promise<void> {
    const [buf] = r.hogs.splice(this.index % r.hogs.length, 1);
    r.pool.put(buf!);
    await step(m, r, { kind: 'hogGive', index: this.index });
  }
  toString = () => `ReleaseHog(${this.index})`;
}
