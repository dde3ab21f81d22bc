/** The peer protects plaintexts into frames (queued, not yet on the wire; PeerSendChunk sends them). */
import { plaintextFor, type Real } from '../Real.js';
import type { ConnModel } from '../../../model/ConnModel.js';
import { KERNEL_LIMIT, step, type ConnCommand } from './step.js';

export class PeerFramesCommand implements ConnCommand {
  constructor(readonly sizes: number[]) {}
  check = (m: Readonly<ConnModel>) => !m.peerGone && m.written - m.consumed < KERNEL_LIMIT;
  async run(m: ConnModel, r: Real): Promise<void> {
    const plaintexts = this.sizes.map((n) => plaintextFor(n, r.seq++));
    for (const p of plaintexts) r.queue(r.peer.protect(p));
    await step(m, r, { kind: 'peerQueue', plaintexts });
  }
  toString = () => `PeerFrames(${this.sizes.join(',')})`;
}
