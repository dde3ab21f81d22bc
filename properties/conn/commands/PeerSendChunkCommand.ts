/** The next `bytes` of the peer's protected stream reach the conn's socket: split anywhere. */
import type { Real } from '../Real.js';
import type { ConnModel } from '../../../model/ConnModel.js';
import { KERNEL_LIMIT, step, type ConnCommand } from './step.js';

export class PeerSendChunkCommand implements ConnCommand {
  constructor(readonly bytes: number) {}
  check = (m: Readonly<ConnModel>) =>
    !m.peerGone && !m.released && m.sent < m.written && m.sent - m.consumed + this.bytes < KERNEL_LIMIT;
  async run(m: ConnModel, r: Real): Promise<void> {
    r.send(Math.min(this.bytes, m.written - m.sent));
    await step(m, r, { kind: 'peerSend', bytes: this.bytes });
  }
  toString = () => `PeerSendChunk(${this.bytes})`;
}
