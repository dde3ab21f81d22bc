/**
 * The stream reader: the ReadyReader contract over any Node Duplex (a net.Socket the addon
 * cannot take, a TLS socket, a test pipe). The stream runs in paused mode; its 'readable'
 * event is the readiness signal, and `readInto` copies what the stream has into the borrowed
 * buffer, putting back (unshift) what does not fit. Node's own stream buffer is outside our
 * pool: this reader is the portable fallback, not the memory-lean one.
 * @module
 */
import type { Duplex } from 'node:stream';
import { AltsError } from '../errors.js';
import { fromNodeError } from './ioError.js';
import { AGAIN, type ReadyReader } from './types.js';

export class StreamReader implements ReadyReader {
  readonly kind = 'stream' as const;
  onReadable: () => void = () => {};
  onError: (err: AltsError) => void = () => {};
  readonly #stream: Duplex;
  #watching = false;
  #ended = false;
  #error: AltsError | null = null;
  #closed = false;
  #scheduled = false;

  constructor(stream: Duplex) {
    this.#stream = stream;
    // Half-close is the conn's business (end()): the peer's FIN must not end our writes too.
    stream.allowHalfOpen = true;
    stream.pause();
    stream.on('readable', this.#kick);
    stream.on('end', () => {
      this.#ended = true;
      this.#kick();
    });
    stream.on('error', (e) => {
      this.#error = fromNodeError(e);
      this.#kick();
    });
  }

  watchReadable(on: boolean): void {
    this.#watching = on;
    // A level-triggered source: if data (or EOF, or an error) is already there, say so now.
    if (on && (this.#stream.readableLength > 0 || this.#ended || this.#error)) this.#kick();
  }

  readInto(buf: Uint8Array, off: number, len: number): number {
    if (this.#error) throw this.#error;
    const chunk = this.#stream.read() as Buffer | string | null;
    if (chunk === null) return this.#ended ? 0 : AGAIN;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const n = Math.min(len, bytes.length);
    buf.set(bytes.subarray(0, n), off);
    if (n < bytes.length) this.#stream.unshift(bytes.subarray(n));
    return n;
  }

  write(data: Uint8Array, done: (err: AltsError | null) => void, transient = false): void {
    if (this.#closed || this.#stream.writableEnded || this.#stream.destroyed) {
      done(new AltsError('CLOSED', 'write after close or end'));
      return;
    }
    // A stream keeps what it is given until it is flushed: a transient buffer must be copied.
    this.#stream.write(transient ? data.slice() : data, (e) => done(this.#writeResult(e)));
  }

  /**
   * A write or end callback's outcome. Cut short because close() destroyed the stream: CLOSED, as
   * with the native reader. The stream's own failure (a reset): that error, even if the conn
   * closed on it first.
   */
  #writeResult(e: Error | null | undefined): AltsError | null {
    if (!e) return null;
    const code = (e as { code?: unknown }).code;
    if (this.#closed && this.#error === null && (code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_PREMATURE_CLOSE'))
      return new AltsError('CLOSED', 'connection closed with writes pending');
    return this.#error ?? fromNodeError(e);
  }

  shutdownWrite(done: (err: AltsError | null) => void): void {
    if (this.#closed || this.#stream.destroyed) {
      done(new AltsError('CLOSED', 'end after close'));
      return;
    }
    this.#stream.end((e?: Error | null) => done(this.#writeResult(e)));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watching = false;
    this.#stream.destroy();
  }

  // Readiness is delivered from a fresh task, never from inside the caller's call.
  readonly #kick = (): void => {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.#watching || this.#closed) return;
      this.onReadable();
      // Level-triggered like poll(2): bytes left behind (a short borrowed buffer) ask again.
      if (this.#watching && !this.#closed && (this.#stream.readableLength > 0 || this.#ended || this.#error)) this.#kick();
    });
  };
}
