/** The peer protects two frames and sends the second first: AUTH_FAILED when a read reaches it. */
import { plaintextFor, type Real } from '../Real.js';
import type { ConnModel } from '../../../model/ConnModel.js';
import { KERNEL_LIMIT, step, type ConnCommand } from './step.js';

export class ReorderFrameCommand implements ConnCommand {
  constructor(readonly sizeA: number, readonly sizeB: number) {}
  check = (m: Readonly<ConnModel>) => !m.peerGone && m.written - m.consumed < KERNEL_LIMIT;
  async run(m: ConnModel, r: Real): Promise<void> {
    const a = plaintextFor(this.sizeA, r.seq++);
    const b = plaintextFor(this.sizeB, r.seq++);
    const fa = r.peer.protect(a);
    r.queue(r.peer.protect(b));
    r.queue(fa);
    await step(m, r, { kind: 'peerQueue', plaintexts: [a, b], bad: 'reorder' });
  }
  toString = () => `ReorderFrames(${this.sizeA}, ${this.sizeB})`;
}
