/**
 * The I/O port a connection reads and writes through (its bottom layer). Two
 * implementations with one contract: `native` (libuv readiness on an fd the addon owns, the
 * real one) and `stream` (over any Node Duplex, for sockets the addon cannot take).
 *
 * Reads are readiness-based: the reader only says "you may be able to read now"; the
 * connection then borrows a buffer and calls `readInto` once. Nothing is buffered here.
 * @module
 */
import type { AltsError } from '../errors.js';

/** `readInto` result when nothing is there (EAGAIN): a spurious wakeup. */
export const AGAIN = -1;

export type ReaderKind = 'native' | 'stream';

export interface ReadyReader {
  readonly kind: ReaderKind;
  /**
   * Called (level-triggered) while watching and the source may be readable. Set by the owner.
   * Every failure of the source comes as the result of a `readInto` (a socket error once the
   * bytes queued before it are read, docs/spec.md §3): there is no other error channel.
   */
  onReadable: () => void;
  /** Start or stop calling `onReadable`. Cheap; idempotent. */
  watchReadable(on: boolean): void;
  /** One non-blocking read into `buf[off, off+len)`: n > 0 bytes, 0 at EOF, AGAIN if nothing is there. Throws AltsError IO_ERROR. */
  readInto(buf: Uint8Array, off: number, len: number): number;
  /**
   * Queue `data`; `done` runs when the kernel has all of it, or with the error. `data` is kept by
   * reference until `done`, unless `transient`: then the caller may reuse it as soon as `write`
   * returns, and the reader copies whatever it cannot send at once.
   */
  write(data: Uint8Array, done: (err: AltsError | null) => void, transient?: boolean): void;
  /** After every queued write: half-close (FIN). */
  shutdownWrite(done: (err: AltsError | null) => void): void;
  /** Release the socket at once; queued writes fail with CLOSED. With `abort`, reset the connection (RST) so the peer sees an error, not a clean EOF. Idempotent. */
  close(abort?: boolean): void;
}
