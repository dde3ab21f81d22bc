/**
 * Errors of the ALTS record layer, split by who is at fault (after rustls' taxonomy):
 * the peer sent bad data, the caller misused the API, or the I/O below us failed.
 * Tests assert on `code`, never on message text: codes are stable, messages are not.
 * @module
 */

/** Stable error codes, all twelve public (docs/spec.md §6): a code keeps its meaning; messages may change. */
export type AltsErrorCode =
  | 'FRAME_TOO_LARGE' // peer: a frame's len field is above 1 MiB (checked before any payload)
  | 'FRAME_TOO_SHORT' // peer: len < 4 (type) + 16 (tag)
  | 'BAD_MESSAGE_TYPE' // peer: the type word is not 6
  | 'AUTH_FAILED' // peer: the GCM tag does not verify (tampered, replayed, reordered, wrong side)
  | 'COUNTER_EXHAUSTED' // local or peer: the per-direction frame counter has no value left
  | 'TRUNCATED' // peer: the stream ended inside a frame
  | 'BAD_KEY' // caller: key of the wrong length for the record protocol
  | 'UNKNOWN_PROTOCOL' // caller: not one of the record protocols
  | 'CLOSED' // caller: the connection was closed (read pending at close, or use after close)
  | 'READ_IN_PROGRESS' // caller: a second read while one is pending
  | 'IO_ERROR' // io: the socket failed (reset, broken pipe, ...): see `errno`
  | 'INTERNAL' // local: a broken internal invariant; the connection failed safely (see `cause`)
  | 'HANDSHAKE_FAILED'; // peer, io, local or caller, per instance: docs/handshake.md §5

/** Who caused the failure. */
export type AltsFault = 'peer' | 'caller' | 'io' | 'local';

const FAULT_OF: Record<AltsErrorCode, AltsFault> = {
  FRAME_TOO_LARGE: 'peer',
  FRAME_TOO_SHORT: 'peer',
  BAD_MESSAGE_TYPE: 'peer',
  AUTH_FAILED: 'peer',
  COUNTER_EXHAUSTED: 'local',
  TRUNCATED: 'peer',
  BAD_KEY: 'caller',
  UNKNOWN_PROTOCOL: 'caller',
  CLOSED: 'caller',
  READ_IN_PROGRESS: 'caller',
  IO_ERROR: 'io',
  INTERNAL: 'local',
  HANDSHAKE_FAILED: 'local', // each failure names its own fault (the `fault` option)
};

export class AltsError extends Error {
  override readonly name = 'AltsError';
  readonly code: AltsErrorCode;
  readonly fault: AltsFault;
  /** For IO_ERROR: the system error name, e.g. 'ECONNRESET'. */
  readonly errno?: string;

  constructor(code: AltsErrorCode, message: string, opts: { cause?: unknown; errno?: string; fault?: AltsFault } = {}) {
    super(`${code}: ${message}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.fault = opts.fault ?? FAULT_OF[code];
    if (opts.errno !== undefined) this.errno = opts.errno;
  }
}

export function isAltsError(e: unknown, code?: AltsErrorCode): e is AltsError {
  return e instanceof AltsError && (code === undefined || e.code === code);
}
