/** The peer queues one frame with one bit flipped in its ciphertext or tag: AUTH_FAILED when a read reaches it. */
import { plaintextFor, type Real } from '../Real.js';
import type { ConnModel } from '../../../model/ConnModel.js';
import { KERNEL_LIMIT, step, type ConnCommand } from './step.js';

export class CorruptFrameCommand implements ConnCommand {
  constructor(readonly size: number, readonly bit: number) {}
  check = (m: Readonly<ConnModel>) => !m.peerGone && m.written - m.consumed < KERNEL_LIMIT;
  async run(m: ConnModel, r: Real): Promise<void> {
    const p = plaintextFor(this.size, r.seq++);
    const frame = r.peer.protect(p);
    const bit = this.bit % ((frame.length - 8) * 8);
    frame[8 + (bit >> 3)]! ^= 1 << (bit & 7);
    r.queue(frame);
    await step(m, r, { kind: 'peerQueue', plaintexts: [p], bad: 'corrupt' });
  }
  toString = () => `CorruptFrame(${this.size}, bit ${this.bit})`;
}
