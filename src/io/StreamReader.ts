/**
 * The stream reader: the ReadyReader contract over any Node Duplex (a net.Socket the addon
 * cannot take, a TLS socket, a test pipe). The stream runs in paused mode; its 'readable'
 * event is the readiness signal, and `readInto` takes exactly what fits the borrowed buffer
 * (`read(n)`, n at most what the stream holds: a view of its first chunk, or one copy of the
 * bytes spanning chunks), so each byte is copied at most twice however much the stream holds.
 * Node's own stream buffer is outside our pool: this reader is the portable fallback, not the
 * memory-lean one.
 *
 * Every way a stream ends settles a pending read (docs/spec.md §3): 'end' is EOF; 'error' is
 * that error; 'close' with neither (destroyed without an error: an idle-timeout handler, a
 * library) is IO_ERROR ERR_STREAM_PREMATURE_CLOSE, since a stream cut short is not a clean EOF.
 * Bytes the stream already holds come first, then the error.
 * @module
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AltsError } from '../errors.js';
import { fromNodeError } from './ioError.js';
import { type BatchSource, type BatchWriter, Outbox, WRITE_BATCHES } from './Outbox.js';
import { AGAIN, type ReadyReader } from './types.js';

export class StreamReader implements ReadyReader, BatchWriter {
  readonly kind = 'stream' as const;
  onReadable: () => void = () => {};
  readonly #stream: Duplex;
  #watching = false;
  /**
   * How the stream's reading stands: open; at its end ('end'); or failed (an error, or destroyed
   * before its end). A failure is final, and a stream at its end may still fail (a write's error):
   * the error then comes instead of EOF. Bytes the stream holds come first either way.
   */
  #source: { kind: 'open' } | { kind: 'eof' } | { kind: 'failed'; error: AltsError } = { kind: 'open' };
  #closed = false;
  #scheduled = false;
  #endAsked = false; // shutdownWrite was called: it may wait in the outbox behind a message
  readonly #outbox = new Outbox({
    write: (data, done, transient) => this.#write(data, done, transient),
    shutdownWrite: (done) => this.#end(done),
    refusal: () => this.#refusal(),
  });

  constructor(stream: Duplex) {
    this.#stream = stream;
    // Half-close is the conn's business (end()): the peer's FIN must not end our writes too.
    stream.allowHalfOpen = true;
    stream.pause();
    stream.on('readable', this.#kick);
    stream.on('end', () => {
      if (this.#source.kind === 'open') this.#source = { kind: 'eof' };
      this.#kick();
    });
    stream.on('error', (e) => {
      this.#fail(fromNodeError(e));
      this.#kick();
    });
    stream.on('close', () => {
      if (this.#source.kind === 'eof' || this.#closed) return;
      this.#fail(new AltsError('IO_ERROR', 'stream closed before its end', { errno: 'ERR_STREAM_PREMATURE_CLOSE' }));
      this.#kick();
    });
  }

  #fail(error: AltsError): void {
    if (this.#source.kind !== 'failed') this.#source = { kind: 'failed', error };
  }

  #error(): AltsError | null {
    return this.#source.kind === 'failed' ? this.#source.error : null;
  }

  watchReadable(on: boolean): void {
    this.#watching = on;
    // A level-triggered source: if data (or EOF, or an error) is already there, say so now.
    if (on && (this.#stream.readableLength > 0 || this.#source.kind !== 'open')) this.#kick();
  }

  readInto(buf: Uint8Array, off: number, len: number): number {
    const held = this.#stream.readableLength;
    if (held > 0) {
      const chunk = this.#stream.read(Math.min(len, held)) as Buffer | string | null;
      if (chunk !== null) {
        if (typeof chunk === 'string') throw new AltsError('IO_ERROR', 'the stream has an encoding set: it yields text, not bytes', { errno: 'EINVAL' });
        buf.set(chunk, off);
        // Drained: read(0) makes a stream at its end emit 'end' (and one that is not, read on).
        if (this.#stream.readableLength === 0) this.#stream.read(0);
        return chunk.length;
      }
    }
    const src = this.#source;
    if (src.kind === 'failed') throw src.error;
    if (src.kind === 'eof') return 0;
    this.#stream.read(0);
    return AGAIN;
  }

  write(data: Uint8Array, done: (err: AltsError | null) => void, transient = false): void {
    this.#outbox.write(data, done, transient);
  }

  /** A message made in batches, each once the stream has flushed the one before (src/io/Outbox.ts). */
  [WRITE_BATCHES](source: BatchSource, done: (err: AltsError | null) => void): void {
    this.#outbox.writeBatches(source, done);
  }

  /** Why a write cannot be queued now (the stream's own error once it has one), or null. */
  #refusal(): AltsError | null {
    if (this.#closed || this.#endAsked) return new AltsError('CLOSED', 'write after close or end');
    const err = this.#error();
    if (err !== null) return err;
    if (this.#stream.writableEnded || this.#stream.destroyed) return new AltsError('CLOSED', 'write after close or end');
    return null;
  }

  /** The raw write, in the outbox's order. */
  #write(data: Uint8Array, done: (err: AltsError | null) => void, transient: boolean): void {
    // Not closed (close empties the outbox), but a message before this one may have ended the stream.
    if (this.#stream.destroyed) return done(this.#writeResult(null));
    // A stream keeps what it is given until it is flushed: a transient buffer must be copied.
    this.#stream.write(transient ? data.slice() : data, (e) => done(this.#writeResult(e)));
  }

  /**
   * A write or end callback's outcome. Cut short because close() destroyed the stream: CLOSED, as
   * with the native reader. The stream's own failure (a reset): that error, even if the conn
   * closed on it first.
   */
  #writeResult(e: Error | null | undefined): AltsError | null {
    if (!e) {
      // Node calls back without an error for a write its destroyed stream cut short: success
      // only while the stream lives (a callback deferred past the destroy is not known to be).
      if (!this.#stream.destroyed) return null;
      if (this.#closed && this.#error() === null) return new AltsError('CLOSED', 'connection closed with writes pending');
      return this.#error() ?? new AltsError('IO_ERROR', 'stream closed before the write completed', { errno: 'ERR_STREAM_PREMATURE_CLOSE' });
    }
    const code = (e as { code?: unknown }).code;
    if (this.#closed && this.#error() === null && (code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_PREMATURE_CLOSE'))
      return new AltsError('CLOSED', 'connection closed with writes pending');
    return this.#error() ?? fromNodeError(e);
  }

  shutdownWrite(done: (err: AltsError | null) => void): void {
    if (this.#closed || this.#stream.destroyed) {
      done(new AltsError('CLOSED', 'end after close'));
      return;
    }
    this.#endAsked = true;
    this.#outbox.shutdownWrite(done);
  }

  /** The FIN, after every write before it (the outbox's order). */
  #end(done: (err: AltsError | null) => void): void {
    if (this.#stream.destroyed) return done(this.#writeResult(null));
    this.#stream.end((e?: Error | null) => done(this.#writeResult(e)));
  }

  close(abort = false): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watching = false;
    this.#outbox.failAll(new AltsError('CLOSED', 'connection closed with writes pending'));
    if (abort && this.#stream instanceof Socket) {
      try {
        this.#stream.resetAndDestroy(); // RST; only a TCP handle can (a pipe or TLS throws)
        return;
      } catch {
        // not TCP: a plain destroy, which the peer sees as EOF
      }
    }
    this.#stream.destroy();
  }

  // Readiness is delivered from a fresh task, never from inside the caller's call. A callback
  // that throws does not stop it: its exception is the callback's (uncaught, from this task).
  readonly #kick = (): void => {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.#watching || this.#closed) return;
      try {
        this.onReadable();
      } finally {
        // Level-triggered like poll(2): bytes left behind (a short borrowed buffer) ask again.
        if (this.#watching && !this.#closed && (this.#stream.readableLength > 0 || this.#source.kind !== 'open')) this.#kick();
      }
    });
  };
}
