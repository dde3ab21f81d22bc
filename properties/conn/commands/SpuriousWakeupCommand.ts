/** The readable path runs with nothing on the socket: the real read(2) meets EAGAIN. */
import type { Real } from '../Real.js';
import type { ConnModel } from '../../../model/ConnModel.js';
import { step, type ConnCommand } from './step.js';
import { testHooks } from '../../../src/conn/testHooks.js';

export class SpuriousWakeupCommand implements ConnCommand {
  check = (m: Readonly<ConnModel>) => m.state === 'closed' || (m.sent === m.consumed && !m.peerEof && !m.resetPending);
  async run(m: ConnModel, r: Real): Promise<void> {
    testHooks(r.conn).simulateWakeup();
    await step(m, r, { kind: 'wakeup' });
  }
  toString = () => 'SpuriousWakeup';
}
