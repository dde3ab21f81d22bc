/**
 * The peer resets: the conn writes one frame the peer never reads, then the peer closes its end.
 * Linux then sets ECONNRESET on the conn's socket (AF_UNIX: close with unread data), which the conn
 * meets as IO_ERROR as soon as it watches or reads. Only when the kernel holds nothing else for
 * the conn, so the outcome does not depend on which of poll and read(2) sees it first.
 */
import { native, type Real } from '../Real.js';
import type { ConnModel } from '../../../model/ConnModel.js';
import { loopTurn } from '../sync.js';
import { step, type ConnCommand } from './step.js';

export class PeerResetCommand implements ConnCommand {
  check = (m: Readonly<ConnModel>) => !m.peerGone && !m.readDone && m.sent === m.consumed;
  async run(m: ConnModel, r: Real): Promise<void> {
    await r.conn.write(new Uint8Array([1]));
    const before = native.stats().fdsClosed;
    r.peerHandle.close();
    while (native.stats().fdsClosed === before) await loopTurn(); // the fd closes in uv_close's callback
    await step(m, r, { kind: 'peerReset' });
  }
  toString = () => 'PeerReset';
}
