/**
 * The native readiness reader: libuv's uv_poll on a socket fd the addon owns alone.
 * While watching it holds nothing; on readiness it tells the connection, which borrows a
 * buffer and calls `readInto` (one read(2)). Writes go straight to write(2)/writev(2) and wait
 * for writability only when the kernel's buffer is full.
 *
 * A socket error reported by the poll (a reset) does not fail the connection at once: the
 * kernel may still hold bytes the peer sent before it (AF_UNIX keeps them; so does TCP for data
 * that arrived before the RST). The error is kept, readiness is passed on while the connection
 * watches, and `readInto` returns what read(2) still finds, raising the error only once the
 * queue is empty (docs/spec.md §3). Writes fail with it at once: nothing can be sent any more.
 * A reset after the peer's FIN (the kernel says EPIPE) is never a read error: the drained queue
 * reads as the end of stream the peer sent.
 * @module
 */
import { AltsError } from '../errors.js';
import type { NativeBinding, ReadyHandle } from '../native.js';
import { EAGAIN, ENOTCONN, EPIPE, ioError, socketError } from './ioError.js';
import { type BatchSource, type BatchWriter, Outbox, WRITE_BATCHES } from './Outbox.js';
import { AGAIN, type ReadyReader } from './types.js';
import { WriteQueue } from './WriteQueue.js';

// libuv's uv_poll_event bits.
const UV_READABLE = 1;
const UV_WRITABLE = 2;
const UV_DISCONNECT = 4;

export class NativeReader implements ReadyReader, BatchWriter {
  readonly kind = 'native' as const;
  onReadable: () => void = () => {};
  readonly #handle: ReadyHandle;
  readonly #queue = new WriteQueue();
  readonly #outbox = new Outbox({
    write: (data, done, transient) => this.#write(data, done, transient),
    shutdownWrite: (done) => this.#shutdownNow(done),
    refusal: () => (this.#isClosed() || this.#endAsked ? new AltsError('CLOSED', 'write after close or end') : this.#error()),
  });
  #endAsked = false; // shutdownWrite was called: it may wait in the outbox behind a message
  #wantRead = false; // the caller's wish (watchReadable)
  #pollingRead = false; // what uv_poll is doing: lags #wantRead by up to one loop turn when it turns off
  #wantWrite = false;
  #shutdown: ((err: AltsError | null) => void) | null = null;
  /**
   * The socket's lifecycle: open; failed, with the socket's error seen by the poll or a send and
   * not yet raised by a read (see the module header); closed (close() ran, whatever came before).
   */
  #life: { kind: 'open' } | { kind: 'failed'; error: AltsError } | { kind: 'closed' } = { kind: 'open' };
  #kickScheduled = false;

  /** Takes ownership of `fd`: it is closed exactly once, by `close()` (or the handle's finalizer). */
  constructor(binding: NativeBinding, fd: number) {
    this.#handle = new binding.ReadyHandle(fd, (status, events) => this.#onPoll(status, events));
  }

  get fd(): number {
    return this.#handle.fd;
  }

  watchReadable(on: boolean): void {
    if (this.#isClosed() || on === this.#wantRead) return;
    this.#wantRead = on;
    if (this.#life.kind === 'failed') {
      if (on) this.#kickSoon();
      return;
    }
    if (on) {
      if (!this.#pollingRead) this.#poll(true);
    } else if (this.#pollingRead) {
      disarmSoon(this);
    }
  }

  /**
   * Stop polling for readability if nobody asked for it again since watchReadable(false). Called
   * once per event-loop turn for every reader that stopped watching in it (see disarmSoon).
   */
  disarmIfUnwanted(): void {
    if (!this.#isClosed() && !this.#wantRead && this.#pollingRead) this.#poll(false);
  }

  /** uv_poll_start/stop with the wanted directions (a system call each: callers avoid toggling). */
  #poll(readable: boolean): void {
    this.#pollingRead = readable;
    this.#handle.watch(readable, this.#wantWrite);
  }

  readInto(buf: Uint8Array, off: number, len: number): number {
    const n = this.#handle.read(buf, off, len);
    if (n > 0) return n;
    // The queue is drained: a kept error comes now (reading SO_ERROR cleared it from the socket,
    // so read(2) says EOF or EAGAIN where it would have said the error).
    const life = this.#life;
    if (life.kind === 'failed' && (n === 0 || n === -EAGAIN)) {
      // EPIPE is the kernel's word for a reset that came after the peer's FIN: the byte stream
      // ended first, so the read side sees its end and the error is the write side's (§3).
      if (life.error.errno === 'EPIPE') return 0;
      throw life.error;
    }
    if (n === 0) return 0;
    if (n === -EAGAIN) return AGAIN;
    throw ioError('read', n);
  }

  write(data: Uint8Array, done: (err: AltsError | null) => void, transient = false): void {
    this.#outbox.write(data, done, transient);
  }

  /** A message made in batches, each once the kernel has the one before (src/io/Outbox.ts). */
  [WRITE_BATCHES](source: BatchSource, done: (err: AltsError | null) => void): void {
    this.#outbox.writeBatches(source, done);
  }

  /** The raw write, in the outbox's order. */
  #write(data: Uint8Array, done: (err: AltsError | null) => void, transient: boolean): void {
    // Not closed (close empties the outbox), but a message before this one may have met a reset.
    const life = this.#life;
    if (life.kind === 'failed') return done(life.error);
    this.#queue.push(data, done);
    if (this.#queue.length === 1) this.#flush();
    if (transient) this.#queue.detach(data);
  }

  shutdownWrite(done: (err: AltsError | null) => void): void {
    if (this.#isClosed()) {
      done(new AltsError('CLOSED', 'end after close'));
      return;
    }
    this.#endAsked = true;
    this.#outbox.shutdownWrite(done);
  }

  /** The FIN, once every write before it is queued (the outbox's order). */
  #shutdownNow(done: (err: AltsError | null) => void): void {
    this.#shutdown = done;
    if (this.#queue.length === 0) this.#finishShutdown();
  }

  close(abort = false): void {
    if (this.#life.kind === 'closed') return;
    this.#life = { kind: 'closed' };
    this.#handle.close(abort);
    const err = new AltsError('CLOSED', 'connection closed with writes pending');
    this.#outbox.failAll(err);
    this.#queue.failAll(err);
    const sd = this.#shutdown;
    this.#shutdown = null;
    sd?.(err);
  }

  #flush(): void {
    while (this.#queue.length > 0 && !this.#isClosed()) {
      const bufs = this.#queue.head();
      const n = bufs.length === 1 ? this.#handle.write(bufs[0]!, 0, bufs[0]!.length) : this.#handle.writev(bufs);
      if (n === -EAGAIN) {
        this.#setWritable(true);
        return;
      }
      if (n < 0) {
        // Any error but EPIPE is the socket's pending error (a reset), which the send took from
        // the socket: read(2) will no longer say it, so the read side keeps it.
        const err = n === -EPIPE ? ioError(bufs.length === 1 ? 'write' : 'writev', n) : socketError(n);
        if (n !== -EPIPE) this.#keepError(err);
        this.#failWrites(err);
        return;
      }
      this.#queue.consume(n);
    }
    this.#setWritable(false);
    if (this.#queue.length === 0 && this.#shutdown) this.#finishShutdown();
  }

  #finishShutdown(): void {
    const done = this.#shutdown!;
    this.#shutdown = null;
    const r = this.#handle.shutdownWrite();
    // ENOTCONN: the peer already reset; the FIN has nowhere to go, which is not our caller's failure.
    done(r < 0 && r !== -ENOTCONN ? ioError('shutdown', r) : null);
  }

  #failWrites(err: AltsError): void {
    this.#setWritable(false);
    this.#queue.failAll(err);
    const sd = this.#shutdown;
    this.#shutdown = null;
    sd?.(err);
  }

  #setWritable(on: boolean): void {
    if (this.#life.kind !== 'open' || on === this.#wantWrite) return;
    this.#wantWrite = on;
    this.#poll(this.#pollingRead);
  }

  /**
   * The socket failed: from now on it counts as readable (read(2) returns the queued bytes, then
   * the kept error) and readiness is made here, not by the poll, which stops (libuv has stopped
   * it already after a poll error).
   */
  #keepError(err: AltsError): void {
    if (this.#life.kind === 'open') this.#life = { kind: 'failed', error: err };
    this.#pollingRead = false;
    this.#wantWrite = false;
    this.#handle.watch(false, false);
    if (this.#wantRead) this.#kickSoon();
  }

  /**
   * Readiness once the socket has failed: level-triggered like the poll, so it comes again every
   * turn while the caller watches. Each one makes progress: a read returns bytes or raises the
   * kept error, never EAGAIN. A callback that throws does not stop it: its exception is the
   * callback's (uncaught, from this task), and the next readiness is scheduled first.
   */
  #kick(): void {
    if (this.#isClosed() || !this.#wantRead) return;
    try {
      this.onReadable();
    } finally {
      if (!this.#isClosed() && this.#wantRead) this.#kickSoon();
    }
  }

  #kickSoon(): void {
    if (this.#kickScheduled) return;
    this.#kickScheduled = true;
    setImmediate(() => {
      this.#kickScheduled = false;
      this.#kick();
    });
  }

  #isClosed(): boolean {
    return this.#life.kind === 'closed';
  }

  #error(): AltsError | null {
    return this.#life.kind === 'failed' ? this.#life.error : null;
  }

  #onPoll(status: number, events: number): void {
    if (this.#isClosed()) return;
    if (status < 0) {
      const err = socketError(status);
      this.#keepError(err);
      this.#failWrites(err);
      return;
    }
    if (events & UV_WRITABLE && this.#queue.length > 0) this.#flush();
    if (events & (UV_READABLE | UV_DISCONNECT)) {
      if (this.#wantRead) this.onReadable();
      else if (this.#pollingRead) this.#poll(false); // readable, but nobody reads: stop, or level-triggered polling spins
    }
  }
}

/**
 * Readers whose caller stopped watching during this event-loop turn. A connection stops and
 * restarts watching around every read it hands up (nobody is reading between the resolve and
 * the caller's next read), and each uv_poll_stop/start is an epoll_ctl system call; so the stop
 * is deferred to the end of the turn and dropped if the caller asked again by then. Until then,
 * readiness is not passed on (onReadable runs only while watching), and a readiness event that
 * arrives meanwhile stops the poll at once.
 */
const toDisarm = new Set<NativeReader>();
let disarmScheduled = false;

function disarmSoon(r: NativeReader): void {
  toDisarm.add(r);
  if (disarmScheduled) return;
  disarmScheduled = true;
  setImmediate(() => {
    disarmScheduled = false;
    for (const x of toDisarm) x.disarmIfUnwanted();
    toDisarm.clear();
  });
}
