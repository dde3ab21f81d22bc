/**
 * The invariants of docs/spec.md §4, checked on the model after every step (the properties check the real
 * connection against the model, so they hold there too). Each returns a list of violations.
 * @module
 */
import type { ConnModel } from './ConnModel.js';
import { classSize, MAX_FRAME_BYTES } from './rules.js';

export function invariantViolations(m: ConnModel): string[] {
  const out: string[] = [];
  const s = m.state;
  if (s === 'idle' && m.heldBytes !== 0) out.push(`idle but holds ${m.heldBytes} bytes`);
  if (m.outstanding !== m.heldBytes + m.hogBytes) out.push('pool outstanding is not what the conn and other holders hold');
  // Past the budget only by an overdraft to the conn: what the others hold fits the budget.
  if (m.outstanding > m.cfg.budget && m.outstanding - m.heldBytes > m.cfg.budget)
    out.push(`pool lent ${m.outstanding} > budget ${m.cfg.budget}, and not by an overdraft to the conn`);
  if (m.outstanding > m.cfg.budget + MAX_FRAME_BYTES) out.push(`pool lent ${m.outstanding}: more than one maximal frame past budget ${m.cfg.budget}`);
  if (s === 'closed' && m.heldBytes !== 0) out.push(`closed but holds ${m.heldBytes} bytes`);
  if (s === 'closed' && m.pending !== null) out.push('closed with a read pending');
  if (m.heldBytes > MAX_FRAME_BYTES) out.push(`holds ${m.heldBytes} > one maximal frame`);
  const sent = m.peerPlaintext();
  if (m.delivered.length > sent.length || m.delivered.some((b, i) => b !== sent[i]))
    out.push('delivered plaintext is not a prefix of what the peer sent');
  if (m.starved && m.watching) out.push('watching while starved (would spin)');
  if (m.watching && m.pending === null) out.push('watching with no read pending (reads ahead; level-triggered readiness would spin)');
  if (m.watching && s !== 'idle' && s !== 'partial') out.push(`watching in ${s} (only idle or partial, with a read pending, waits for the socket)`);
  if (m.watching && m.eofSeen) out.push('watching after EOF was read (EOF is readable for ever: would spin)');
  return out;
}

/**
 * The liveness side (docs/spec.md §4.7, §8): readiness the conn cannot act on must not keep
 * coming ("no spinning"), and a starved conn must resume once the pool could lend: a fresh buffer
 * once `outstanding + want <= budget`, growth once the exchange could be made
 * (`outstanding - cap + want <= budget`), and either once nothing else holds any pool bytes (the
 * pool never waits on itself: it lends past the budget then).
 */
export function livenessViolations(m: ConnModel): string[] {
  const out: string[] = [];
  if (m.spins > 0) out.push(`level-triggered readiness the conn cannot act on (${m.spins}x): it spins`);
  if (m.starvedFor !== null && m.buf !== null && m.outstanding - m.buf.cap + classSize(m.starvedFor) <= m.cfg.budget)
    out.push(`starved for ${m.starvedFor} bytes to grow a ${m.buf.cap}-byte buffer although the pool could exchange it`);
  if (m.starvedFor !== null && m.buf === null && m.outstanding + classSize(m.starvedFor) <= m.cfg.budget)
    out.push(`starved for a fresh ${m.starvedFor}-byte buffer although the pool could lend it`);
  if (m.starvedFor !== null && m.outstanding - m.heldBytes === 0)
    out.push(`starved for ${m.starvedFor} bytes although nothing else holds the pool (it waits on itself)`);
  return out;
}
