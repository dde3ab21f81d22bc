/** The peer half-closes (shutdown SHUT_WR): after what it sent, the conn reads EOF. */
import type { Real } from '../Real.js';
import type { ConnModel } from '../../../model/ConnModel.js';
import { step, type ConnCommand } from './step.js';

export class PeerEOFCommand implements ConnCommand {
  check = (m: Readonly<ConnModel>) => !m.peerGone;
  async run(m: ConnModel, r: Real): Promise<void> {
    const rc = r.peerHandle.shutdownWrite();
    if (rc < 0) throw new Error(`peer shutdown failed: ${rc}`);
    await step(m, r, { kind: 'peerEof' });
  }
  toString = () => 'PeerEOF';
}
