/**
 * Names the model, the properties, the corpus and docs/spec.md share.
 * @module
 */

/** The read side's states (docs/spec.md §2). `readable` is only ever seen inside a read(2). */
export type ConnState = 'idle' | 'readable' | 'partial' | 'decrypted' | 'closed';
export const STATES: readonly ConnState[] = ['idle', 'readable', 'partial', 'decrypted', 'closed'];

/**
 * What can happen to a connection's read side. `bytes`, `eagain` and `eof` are what one read(2)
 * returned (only in `readable`); the others come from the caller, the poller, the pool or the peer.
 */
export type ModelEvent =
  | 'read' // the caller starts a read
  | 'readiness' // the poller says readable (the conn is watching and the kernel has something)
  | 'wakeup' // a wakeup with nothing there (test hook: the real read(2) meets EAGAIN)
  | 'bytes' // read(2) returned n > 0
  | 'eagain' // read(2) found nothing: the buffer goes back if it was borrowed for this read
  | 'eof' // read(2) returned 0: the peer finished
  | 'reset' // the socket failed (peer reset): read(2) returns the error once the queued bytes are read: IO_ERROR
  | 'exhausted' // the pool could not lend (a fresh buffer or growth): the conn stops watching
  | 'refilled' // the pool tells a starved conn it can lend again
  | 'overdraft' // the pool lends the conn past its budget: it would otherwise wait on itself
  | 'deliver' // plaintext handed up to the pending read
  | 'empty' // an empty frame (len = 20) the read reached: authenticated, a counter value used, nothing handed up
  | 'authFail' // the frame the caller reached does not authenticate (corrupt, reordered)
  | 'truncated' // the stream ended inside a frame
  | 'close' // the local side closes
  | 'hogTake' // another holder borrows from the pool
  | 'hogGive'; // another holder gives back

export const EVENTS: readonly ModelEvent[] = [
  'read', 'readiness', 'wakeup', 'bytes', 'eagain', 'eof', 'reset', 'exhausted', 'refilled', 'overdraft',
  'deliver', 'empty', 'authFail', 'truncated', 'close', 'hogTake', 'hogGive',
];

/** Error codes a read can be rejected with here (src/errors.ts has the full list). */
export type ModelErrorCode = 'AUTH_FAILED' | 'TRUNCATED' | 'CLOSED' | 'IO_ERROR' | 'READ_IN_PROGRESS';

/** One read's outcome as the model predicts it. */
export type ReadOutcome =
  | { status: 'pending' }
  | { status: 'ok'; n: number }
  | { status: 'eof' } // resolved 0
  | { status: 'error'; code: ModelErrorCode };

/** One frame of the peer's stream: no crypto, only what a reader can observe of it. */
export interface PeerFrame {
  plaintext: Uint8Array;
  /** false: the tag does not verify where it sits (bit flipped, reordered, or after such a frame). */
  ok: boolean;
  /** Bytes on the wire: plaintext + 24. */
  wire: number;
}

export interface ModelConfig {
  /** Pool budget in bytes of capacity (Infinity: no limit). */
  budget: number;
  /** Bytes borrowed for a read(2) from idle; a size class. */
  readSize: number;
  /** The peer's negotiated frame size (its payloads are at most this - 24). */
  maxFrameSize: number;
}
