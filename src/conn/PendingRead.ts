/**
 * The one read a connection may have pending: `read(into)` or `readOnReady(size, pool)`, with
 * the destination a readOnReady borrows from the caller's pool when there is plaintext to hand up.
 *
 * What a readOnReady caller is handed is `buf`, a view of exactly the `n` plaintext bytes
 * delivered, over a pool buffer whose every other byte is zero (docs/spec.md §6, The handed-out
 * buffer): the pool lends recycled memory, and what an earlier owner decrypted into it must not
 * reach this caller. The destination is borrowed at the size of what will be handed up (at most
 * `size`), so the bytes to zero are only the size class's rounding past `n`.
 * @module
 */
import { AltsError } from '../errors.js';
import type { BufferPool } from '../pool/BufferPool.js';
import { FRAME_OVERHEAD } from '../record/constants.js';
import type { FrameReader } from '../record/FrameReader.js';
import type { PoolWait } from './phase.js';

export type ReadyResult = { buf: Uint8Array; n: number } | null;

export class PendingRead {
  /** A wait for the caller's pool, `told` once it can lend. */
  wait: PoolWait | null = null;
  readonly #into: Uint8Array | null;
  readonly #size: number;
  readonly #pool: BufferPool | null;
  readonly #resolve: (v: number | ReadyResult) => void;
  readonly reject: (e: AltsError) => void;
  #dst: Uint8Array | null = null;

  constructor(
    target: { into: Uint8Array } | { size: number; pool: BufferPool },
    resolve: (v: number | ReadyResult) => void,
    reject: (e: AltsError) => void,
  ) {
    this.#into = 'into' in target ? target.into : null;
    this.#size = 'into' in target ? target.into.length : target.size;
    this.#pool = 'into' in target ? null : target.pool;
    this.#resolve = resolve;
    this.reject = reject;
  }

  /**
   * Where `want` (≥ 1) bytes of plaintext go: the caller's buffer, or one borrowed from the
   * caller's pool; null after arranging to be told (then `kick`) when that pool can lend. On the
   * conn's own pool the conn's buffer (`heldBytes`) is declared as held meanwhile, or conns
   * holding plaintext could fill the budget and wait for each other for ever (docs/spec.md §3).
   */
  destination(want: number, connPool: BufferPool, heldBytes: number, kick: () => void): Uint8Array | null {
    if (this.#into !== null) return this.#into;
    const pool = this.#pool!;
    const holding = pool === connPool ? heldBytes : 0;
    this.#dst = pool.get(want, holding);
    if (this.#dst !== null) return this.#dst;
    const w: PoolWait = { told: false, cancel: () => {} };
    w.cancel = pool.waitFor(want, () => {
      w.told = true;
      kick();
    }, 0, holding);
    this.wait = w;
    return null;
  }

  /**
   * Hand up what `fr` holds: what is left of an opened frame, or the whole frames at its front
   * that fit (docs/spec.md §3, Serve), or the first `room` bytes of a bigger one, opened in
   * place. Returns the bytes written to the destination, or null while waiting for the caller's
   * pool. A frame that fails throws (the conn fails), after nothing was handed up.
   */
  takeFrom(fr: FrameReader, connPool: BufferPool, heldBytes: number, kick: () => void): number | null {
    const dst = this.destination(fr.deliverable(this.#size), connPool, heldBytes, kick);
    if (dst === null) return null;
    if (fr.plainLeft > 0) return fr.takePlain(dst, 0, dst.length);
    if (fr.wholeFrame() - FRAME_OVERHEAD <= dst.length) return fr.openRun(dst, 0, dst.length);
    fr.openInPlace();
    return fr.takePlain(dst, 0, dst.length);
  }

  /** The read side is done: reject with its error, CLOSED after a local close, or resolve EOF. */
  settle(error: AltsError | null, eof: boolean): void {
    if (error) this.reject(error);
    else if (eof) this.resolveEof();
    else this.reject(new AltsError('CLOSED', 'connection closed'));
  }

  /** `n` bytes were written to the destination. */
  resolve(n: number): void {
    const dst = this.#dst;
    if (dst === null) return this.#resolve(n);
    this.#dst = null;
    new Uint8Array(dst.buffer).fill(0, dst.byteOffset + n); // nothing of an earlier owner's past n
    this.#resolve({ buf: dst.subarray(0, n), n });
  }

  /** Clean EOF: 0, or null for readOnReady. */
  resolveEof(): void {
    this.#resolve(this.#into !== null ? 0 : null);
  }

  /** The read will not be served: withdraw its pool wait, give back a destination it borrowed. */
  abandon(): void {
    this.wait?.cancel();
    this.wait = null;
    const dst = this.#dst;
    this.#dst = null;
    if (dst !== null) this.#pool!.put(dst);
  }
}
