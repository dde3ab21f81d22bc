/** The caller closes the conn: everything returned, a pending read rejected with CLOSED. */
import type { Real } from '../Real.js';
import type { ConnModel } from '../../../model/ConnModel.js';
import { step, type ConnCommand } from './step.js';

export class LocalCloseCommand implements ConnCommand {
  check = () => true;
  async run(m: ConnModel, r: Real): Promise<void> {
    r.conn.close();
    await step(m, r, { kind: 'close' });
  }
  toString = () => 'LocalClose';
}
