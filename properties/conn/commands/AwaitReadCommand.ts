/** The caller awaits its last read, which the model says has settled, and inspects the result. */
import { expect } from 'vitest';
import type { Real } from '../Real.js';
import type { ConnModel } from '../../../model/ConnModel.js';
import type { ConnCommand } from './step.js';
import { compare } from '../sync.js';

export class AwaitReadCommand implements ConnCommand {
  check = (m: Readonly<ConnModel>) => m.reads.length > 0 && m.reads.at(-1)!.status !== 'pending';
  async run(m: ConnModel, r: Real): Promise<void> {
    await r.reads.at(-1)!.promise;
    expect(r.reads.at(-1)!.outcome).toEqual(m.reads.at(-1));
    compare(m, r);
  }
  toString = () => 'AwaitRead';
}
