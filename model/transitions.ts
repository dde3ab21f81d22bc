/**
 * Which (state, event) pairs a connection can meet (docs/spec.md §3). The properties record the
 * pairs the model visited and fail if a reachable one was never visited.
 * @module
 */
import type { ConnState, ModelEvent } from './types.js';

const POOL: ModelEvent[] = ['hogTake', 'hogGive'];

export const REACHABLE: Readonly<Record<ConnState, readonly ModelEvent[]>> = {
  // no buffer; a read may be pending, the poller watching. A fresh borrow may be an overdraft.
  idle: ['read', 'readiness', 'wakeup', 'exhausted', 'refilled', 'overdraft', 'close', ...POOL],
  // inside the one read(2): only its result (a socket error is one, after the queued bytes)
  readable: ['bytes', 'eagain', 'eof', 'reset'],
  // part of a frame, in a buffer of partialCapacity(); growing it may be an overdraft
  partial: ['read', 'readiness', 'wakeup', 'exhausted', 'refilled', 'overdraft', 'truncated', 'close', ...POOL],
  // plaintext or whole frames the caller has not taken. Never watching (a pending read is served
  // at once; with none pending the conn does not watch), so no readiness and no reset here: a
  // socket error is met by a later read(2), after what is held has been handed up.
  decrypted: ['read', 'wakeup', 'deliver', 'empty', 'authFail', 'close', ...POOL],
  // nothing held; reads settle at once
  closed: ['read', 'wakeup', 'close', ...POOL],
};

export function reachablePairs(): string[] {
  return Object.entries(REACHABLE).flatMap(([s, evs]) => evs.map((e) => `${s}:${e}`));
}
