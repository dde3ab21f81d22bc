/**
 * The names a connection reports through: its read-side states (docs/spec.md §2), what it has
 * counted, and its events with their listener signatures. Events are emitted once the step that
 * caused them is complete, never from inside a state change (docs/spec.md §3, Events), so a
 * listener may call back into the conn or its pool.
 * @module
 */

export type ConnState = 'idle' | 'readable' | 'partial' | 'decrypted' | 'closed';

/** What happened on this connection, for tests, the model and the demo. */
export interface ConnStats {
  wakeups: number; // read-side readiness callbacks acted on (and test wakeups)
  spuriousWakeups: number; // of those, read(2) found nothing (EAGAIN): buffer returned
  reads: number; // read(2) calls
  bytesRead: number;
  starvedWaits: number; // times the pool could not lend and the conn stopped watching
  framesOpened: number; // empty frames included
  bytesWritten: number; // protected bytes handed to the writer
}

/** One readiness the conn acted on: `spurious` when read(2) found nothing; `bytes` 0 and not spurious at EOF. */
export interface Wakeup {
  spurious: boolean;
  bytes: number;
}

/** Event name → listener signature. */
export interface ConnEvents {
  /** The read side's state changed; `heldBytes` is what it holds in it. */
  state: (state: ConnState, heldBytes: number) => void;
  wakeup: (w: Wakeup) => void;
  /** The pool could not lend `size` bytes: the conn stopped watching the socket and waits. */
  starved: (size: number) => void;
  /** The pool told a starved conn it can lend again. */
  resumed: () => void;
  /** The socket was given back (close, failure, or both directions done). */
  close: () => void;
}

export type ConnEventName = keyof ConnEvents;
