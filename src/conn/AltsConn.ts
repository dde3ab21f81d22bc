/**
 * AltsConn: one ALTS record-protocol connection with readiness-based reads (DESIGN §2, §4).
 *
 * The read side holds at most one pool buffer, and only while it has bytes to keep:
 *   idle       no buffer; a read may be pending, the reader watching for readiness
 *   readable   a buffer borrowed for the read(2) in progress (seen only from inside it)
 *   partial    the bytes of an incomplete frame, in a buffer of partialCapacity()
 *   decrypted  plaintext or whole frames the caller has not taken yet
 *   closed     nothing held, nothing pending (EOF, error, or close())
 * The state is derived from what is held, never stored beside it, so the two cannot disagree.
 * Frames are opened lazily, when the caller reads up to them: a good frame's plaintext is always
 * handed up before a bad frame after it fails the connection, and a frame whose payload fits
 * the caller's buffer is decrypted straight into it.
 * @module
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { abytes, aint } from '../_check.js';
import type { DirectionCrypter } from '../crypto/types.js';
import { AltsError } from '../errors.js';
import { AGAIN, type ReaderKind, type ReadyReader } from '../io/types.js';
import type { BufferPool } from '../pool/BufferPool.js';
import { classSize, MAX_CLASS } from '../pool/sizeClass.js';
import { FRAME_OVERHEAD, LENGTH_FIELD_BYTES, TYPE_FIELD_BYTES } from '../record/constants.js';
import { frameBytesAt, openFrame } from '../record/frame.js';
import { partialCapacity } from './partialCapacity.js';
import { sealAndWrite } from './sealedWrite.js';
import { toDuplex } from './toDuplex.js';

export type ConnState = 'idle' | 'readable' | 'partial' | 'decrypted' | 'closed';

export const DEFAULT_READ_SIZE = 64 * 1024;

export interface ConnParts {
  reader: ReadyReader;
  pool: BufferPool;
  inbound: DirectionCrypter;
  outbound: DirectionCrypter;
  maxFrameSize: number;
  /** Bytes borrowed for one read(2) from idle (rounded to a size class). Default 64 KiB. */
  readSize?: number;
  /** Bytes the handshake already read: the start of the record stream. */
  protected?: Uint8Array;
}

/** What happened on this connection, for tests, the model and the demo. */
export interface ConnStats {
  wakeups: number; // read-side readiness callbacks acted on (and test wakeups)
  spuriousWakeups: number; // of those, read(2) found nothing (EAGAIN): buffer returned
  reads: number; // read(2) calls
  bytesRead: number;
  starvedWaits: number; // times the pool could not lend and the conn stopped watching
  framesOpened: number;
  bytesWritten: number; // protected bytes handed to the writer
}

interface PendingRead {
  into: Uint8Array | null; // read(into)
  size: number; // readOnReady(size, pool)
  pool: BufferPool | null;
  resolve: (v: number | { buf: Uint8Array; n: number } | null) => void;
  reject: (e: AltsError) => void;
  cancelPoolWait: (() => void) | null;
}

export class AltsConn extends EventEmitter {
  readonly reader: ReaderKind;
  readonly stats: ConnStats = {
    wakeups: 0,
    spuriousWakeups: 0,
    reads: 0,
    bytesRead: 0,
    starvedWaits: 0,
    framesOpened: 0,
    bytesWritten: 0,
  };
  readonly #io: ReadyReader;
  readonly #pool: BufferPool;
  readonly #inbound: DirectionCrypter;
  readonly #outbound: DirectionCrypter;
  readonly #maxFrameSize: number;
  readonly #readSize: number;

  // Read side: one borrowed buffer; protected bytes in [#start, #end); plaintext not yet handed up in [#plainStart, #plainEnd).
  #buf: Uint8Array | null = null;
  #start = 0;
  #end = 0;
  #plainStart = 0;
  #plainEnd = 0;
  #leftover: Uint8Array | null = null; // handshake leftovers not yet pulled in (caller's memory)
  #pending: PendingRead | null = null;
  #inRead = false;
  #watching = false;
  #cancelStarve: (() => void) | null = null;
  #readDone = false; // clean EOF handed up, or failed, or closed
  #eofSeen = false; // read(2) returned 0; what is held may still be handed up
  #eof = false; // clean EOF: every byte before it handed up
  #error: AltsError | null = null;
  // Write side and the whole conn.
  #ending: Promise<void> | null = null;
  #writeDone = false;
  #closed = false;
  #lastState: ConnState = 'idle';

  constructor(parts: ConnParts) {
    super();
    this.#io = parts.reader;
    this.reader = parts.reader.kind;
    this.#pool = parts.pool;
    this.#inbound = parts.inbound;
    this.#outbound = parts.outbound;
    this.#maxFrameSize = parts.maxFrameSize;
    const rs = parts.readSize ?? DEFAULT_READ_SIZE;
    aint('readSize', rs, 64, MAX_CLASS);
    this.#readSize = classSize(rs);
    if (parts.protected !== undefined && parts.protected.length > 0) this.#leftover = parts.protected.slice();
    this.#io.onReadable = () => this.#onReadable(false);
    this.#io.onError = (e) => this.#fail(e);
    this.#lastState = this.state;
  }

  /** The read side's state (DESIGN §2). */
  get state(): ConnState {
    if (this.#readDone || this.#closed) return 'closed';
    if (this.#inRead) return 'readable';
    if (this.#buf === null) return 'idle';
    if (this.#plainEnd > this.#plainStart) return 'decrypted';
    // #normalize() has already checked the length field at #start, so this cannot throw.
    const f = frameBytesAt(this.#buf, this.#start, this.#end - this.#start);
    return f >= 0 && this.#end - this.#start >= f ? 'decrypted' : 'partial';
  }

  /** Pool bytes this connection holds now (the capacity of its one buffer, or 0). */
  get heldBytes(): number {
    return this.#buf === null ? 0 : this.#buf.buffer.byteLength;
  }

  /** Is the reader watching the socket for readiness (a read pending, nothing to hand up, not starved)? */
  get watching(): boolean {
    return this.#watching;
  }

  /** Is the connection waiting for the pool to lend (the socket unwatched meanwhile)? */
  get starved(): boolean {
    return this.#cancelStarve !== null;
  }

  /** The error that ended the read side, if one did. */
  get error(): AltsError | null {
    return this.#error;
  }

  /** Read plaintext into `into`: resolves with the bytes read, 0 at clean EOF. */
  read(into: Uint8Array): Promise<number> {
    abytes('into', into);
    if (into.length === 0) throw new RangeError('"into" expected a non-empty Uint8Array');
    return this.#startRead(into, 0, null) as Promise<number>;
  }

  /**
   * Wait until plaintext is ready, then hand it up in a buffer of `size` bytes borrowed from
   * `pool` (the caller puts it back). Nothing is borrowed while waiting. Resolves null at EOF.
   */
  readOnReady(size: number, pool: BufferPool): Promise<{ buf: Uint8Array; n: number } | null> {
    aint('size', size, 1, MAX_CLASS);
    if (pool === null || typeof pool !== 'object' || typeof pool.get !== 'function')
      throw new TypeError(`"pool" expected BufferPool, got ${pool === null ? 'null' : typeof pool}`);
    return this.#startRead(null, size, pool) as Promise<{ buf: Uint8Array; n: number } | null>;
  }

  /** Protect and send: resolves when the kernel has every byte. */
  write(data: Uint8Array): Promise<void> {
    abytes('data', data);
    if (this.#closed) return Promise.reject(this.#error ?? new AltsError('CLOSED', 'write after close'));
    if (this.#ending) return Promise.reject(new AltsError('CLOSED', 'write after end'));
    if (data.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.stats.bytesWritten += sealAndWrite(this.#outbound, data, this.#maxFrameSize, this.#io, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Half-close after every queued write: the peer reads EOF. Reading goes on. */
  end(): Promise<void> {
    if (this.#ending) return this.#ending;
    if (this.#closed) return Promise.reject(new AltsError('CLOSED', 'end after close'));
    this.#ending = new Promise((resolve, reject) =>
      this.#io.shutdownWrite((err) => {
        this.#writeDone = true;
        if (err) reject(err);
        else resolve();
        if (this.#readDone) this.#release(); // both directions done: give the socket back
      }),
    );
    return this.#ending;
  }

  /** Close now: every buffer returned, a pending read rejected with CLOSED, pending writes too, the socket closed once. */
  close(): void {
    if (this.#closed) return;
    this.#settleFailure(new AltsError('CLOSED', 'connection closed'));
    this.#release();
  }

  /** A Node Duplex over this connection (one copy per read; nothing held while idle). */
  toDuplex(): Duplex {
    return toDuplex(this, this.#pool);
  }

  /**
   * Test hook: run the real readable path now, as if the poller had said "readable". With
   * nothing on the socket the real read(2) meets EAGAIN: a spurious wakeup on demand.
   */
  simulateWakeup(): void {
    this.#onReadable(true);
  }

  // ---- read side -------------------------------------------------------------------------

  #startRead(into: Uint8Array | null, size: number, pool: BufferPool | null): Promise<unknown> {
    if (this.#pending) return Promise.reject(new AltsError('READ_IN_PROGRESS', 'a read is already pending'));
    if (this.#error) return Promise.reject(this.#error);
    if (this.#closed && !this.#eof) return Promise.reject(new AltsError('CLOSED', 'read after close'));
    return new Promise((resolve, reject) => {
      this.#pending = { into, size, pool, resolve, reject, cancelPoolWait: null };
      this.#serve();
    });
  }

  /** Hand up what is held to the pending read, or wait for readiness. Runs after every change. */
  #serve(): void {
    const p = this.#pending;
    if (p === null) {
      // Nobody is reading: stop watching, or a level-triggered poller would call back every turn.
      this.#setWatching(false);
      return this.#afterChange();
    }
    if (this.#readDone) {
      this.#pending = null;
      if (this.#error) p.reject(this.#error);
      else p.resolve(p.into ? 0 : null);
      return this.#afterChange();
    }
    if (p.cancelPoolWait) return; // waiting for the caller's pool
    if (this.#plainEnd > this.#plainStart) return this.#deliverPlain(p);
    if (this.#wholeFrameAtStart()) return this.#deliverFrame(p);
    if (this.#leftover !== null) return this.#onReadable(true);
    this.#setWatching(!this.starved);
    this.#afterChange();
  }

  /** The destination of the pending read, or null after arranging to retry when the caller's pool lends. */
  #destination(p: PendingRead): Uint8Array | null {
    if (p.into) return p.into;
    // Waiting on the conn's own pool, the conn holds its buffer meanwhile: the pool must see it
    // (else conns holding plaintext could fill the budget and wait for each other for ever). Never
    // starved here (it has something to hand up), so that buffer is not declared twice.
    const holding = p.pool === this.#pool ? this.heldBytes : 0;
    const buf = p.pool!.get(p.size, holding);
    if (buf) return buf;
    p.cancelPoolWait = p.pool!.waitFor(p.size, () => {
      p.cancelPoolWait = null;
      this.#serve();
    }, 0, holding);
    this.#setWatching(false);
    this.#afterChange();
    return null;
  }

  #deliverPlain(p: PendingRead): void {
    const dst = this.#destination(p);
    if (dst !== null) this.#copyPlain(p, dst);
  }

  #copyPlain(p: PendingRead, dst: Uint8Array): void {
    const n = Math.min(dst.length, this.#plainEnd - this.#plainStart);
    dst.set(this.#buf!.subarray(this.#plainStart, this.#plainStart + n));
    this.#plainStart += n;
    if (this.#plainStart === this.#plainEnd) this.#plainStart = this.#plainEnd = 0;
    this.#handUp(p, dst, n);
  }

  #deliverFrame(p: PendingRead): void {
    const buf = this.#buf!;
    const frameBytes = frameBytesAt(buf, this.#start, this.#end - this.#start);
    const payload = frameBytes - FRAME_OVERHEAD;
    const at = this.#start;
    if (payload === 0) {
      // An empty frame: authenticate it (it uses a counter value) and move on; 0 would read as EOF.
      if (!this.#open(buf, at, frameBytes, buf, at + LENGTH_FIELD_BYTES + TYPE_FIELD_BYTES)) return;
      this.#start += frameBytes;
      this.#normalize();
      return this.#serve();
    }
    const dst = this.#destination(p);
    if (dst === null) return;
    if (dst.length >= payload) {
      // The whole frame fits the caller's buffer: decrypt straight into it, and the whole
      // frames after it that fit what is left (one read, one promise, for a socket read's worth).
      if (!this.#open(buf, at, frameBytes, dst, 0)) return this.#dropDestination(p, dst);
      this.#start += frameBytes;
      return this.#handUp(p, dst, this.#openFollowing(dst, payload));
    }
    const plainAt = at + LENGTH_FIELD_BYTES + TYPE_FIELD_BYTES;
    if (!this.#open(buf, at, frameBytes, buf, plainAt)) return this.#dropDestination(p, dst);
    this.#start += frameBytes;
    this.#plainStart = plainAt;
    this.#plainEnd = plainAt + payload;
    this.#copyPlain(p, dst);
  }

  /**
   * Open the whole frames at #start into dst[n, ...) while they fit; returns the new plaintext
   * end. A frame that does not open (bad length, type or tag) is left where it is and not
   * reported: the next read reaches it alone and fails the connection then, so the plaintext
   * before it is handed up first (lazy opening, docs/spec.md §1). Its failed attempt moved no
   * counter and wrote only past n.
   */
  #openFollowing(dst: Uint8Array, n: number): number {
    const buf = this.#buf!;
    for (;;) {
      const avail = this.#end - this.#start;
      let f: number;
      try {
        f = frameBytesAt(buf, this.#start, avail);
      } catch {
        return n;
      }
      if (f < 0 || avail < f || f - FRAME_OVERHEAD > dst.length - n) return n;
      try {
        n += openFrame(this.#inbound, buf, this.#start, f, dst, n);
      } catch {
        return n;
      }
      this.stats.framesOpened++;
      this.#start += f;
    }
  }

  #open(buf: Uint8Array, at: number, frameBytes: number, dst: Uint8Array, dstOff: number): boolean {
    try {
      openFrame(this.#inbound, buf, at, frameBytes, dst, dstOff);
      this.stats.framesOpened++;
      return true;
    } catch (e) {
      this.#fail(e as AltsError);
      return false;
    }
  }

  #dropDestination(p: PendingRead, dst: Uint8Array): void {
    if (!p.into) p.pool!.put(dst);
  }

  #handUp(p: PendingRead, dst: Uint8Array, n: number): void {
    this.#pending = null;
    this.#normalize();
    p.resolve(p.into ? n : { buf: dst, n });
    this.#serve();
  }

  /** True when [#start, #end) begins with a whole frame (a bad length field fails the conn). */
  #wholeFrameAtStart(): boolean {
    if (this.#buf === null || this.#end === this.#start) return false;
    const f = this.#frameBytes();
    return f >= 0 && this.#end - this.#start >= f;
  }

  #frameBytes(): number {
    try {
      return frameBytesAt(this.#buf!, this.#start, this.#end - this.#start);
    } catch (e) {
      this.#fail(e as AltsError);
      return -1;
    }
  }

  /**
   * After bytes arrive or are handed up: give the buffer back if nothing is left in it, or
   * move an incomplete frame into a buffer of partialCapacity() (shrinking or growing).
   */
  #normalize(): void {
    const buf = this.#buf;
    if (this.#readDone) return;
    if (buf === null) return this.#eofSeen ? this.#finishEof() : undefined;
    if (this.#plainEnd > this.#plainStart) return;
    const held = this.#end - this.#start;
    if (held === 0) {
      this.#buf = null;
      this.#start = this.#end = 0;
      this.#pool.put(buf);
      return this.#eofSeen ? this.#finishEof() : undefined;
    }
    const f = this.#frameBytes();
    if (this.#readDone) return; // the length field was bad
    if (f >= 0 && held >= f) return; // a whole frame: decrypted state
    if (this.#eofSeen) return this.#fail(new AltsError('TRUNCATED', `stream ended inside a frame (${held} bytes of it held)`));
    const want = partialCapacity(held, f);
    if (this.#start > 0) buf.copyWithin(0, this.#start, this.#end);
    this.#start = 0;
    this.#end = held;
    if (want === buf.buffer.byteLength) {
      this.#buf = buf.length === want ? buf : new Uint8Array(buf.buffer, 0, want);
      return;
    }
    // Already waiting to grow (a test wakeup or handshake leftovers read more meanwhile): the pool
    // will tell it; asking again would count the buffer it holds twice, as its own and a waiter's.
    if (this.starved) return;
    const next = this.#pool.resize(buf, want, held);
    if (next === null) return this.#starve(want, buf.buffer.byteLength); // could not grow: wait for the pool
    this.#buf = next;
  }

  /** Readiness (or the test hook): borrow if needed, one read(2), then act on what came. */
  #onReadable(hook: boolean): void {
    if (this.#readDone || this.#closed) return;
    if (!hook && !this.#watching) return;
    this.stats.wakeups++;
    let fresh = false;
    if (this.#buf === null) {
      const buf = this.#pool.get(this.#readSize, 0); // it would wait holding nothing: the pool never waits on itself
      if (buf === null) return this.#starve(this.#readSize);
      this.#buf = buf;
      this.#start = this.#end = 0;
      fresh = true;
    }
    const buf = this.#buf;
    const spare = buf.length - this.#end;
    if (spare === 0) return this.#setWatching(false); // starved on growth: the pool will call back
    this.#inRead = true;
    this.#afterChange();
    if (this.#closed) {
      // A 'state' listener closed the conn on 'readable': the buffer is back in the pool, the
      // socket closed; read nothing into either.
      this.#inRead = false;
      return;
    }
    let n: number;
    try {
      n = this.#pull(buf, this.#end, spare);
    } catch (e) {
      this.#inRead = false;
      return this.#fail(e as AltsError);
    }
    this.#inRead = false;
    if (n === AGAIN) {
      this.stats.spuriousWakeups++;
      if (fresh) {
        this.#buf = null;
        this.#pool.put(buf);
      }
      this.emit('wakeup', { spurious: true, bytes: 0 });
      return this.#serve();
    }
    if (n === 0) {
      this.#eofSeen = true;
      if (fresh) {
        this.#buf = null;
        this.#pool.put(buf);
      }
      this.emit('wakeup', { spurious: false, bytes: 0 });
      this.#normalize();
      return this.#serve();
    }
    this.#end += n;
    this.stats.bytesRead += n;
    this.#normalize();
    this.emit('wakeup', { spurious: false, bytes: n });
    this.#serve();
  }

  /** One read: from the handshake's leftovers first, then the socket. */
  #pull(buf: Uint8Array, off: number, len: number): number {
    const left = this.#leftover;
    if (left !== null) {
      const n = Math.min(len, left.length);
      buf.set(left.subarray(0, n), off);
      this.#leftover = n === left.length ? null : left.subarray(n);
      return n;
    }
    this.stats.reads++;
    return this.#io.readInto(buf, off, len);
  }

  /** Clean EOF with nothing held: reads resolve 0 from now on. */
  #finishEof(): void {
    this.#eof = true;
    this.#readDone = true;
    this.#releaseReadSide();
    this.#serve();
    if (this.#writeDone) this.#release();
  }

  /**
   * Wait for the pool to tell it can lend `size`: a growth exchange gives back (and holds
   * meanwhile) the buffer it has, a fresh borrow gives back and holds nothing (waitFor's
   * `holding` defaults to `givesBack`).
   */
  #starve(size: number, givesBack = 0): void {
    if (this.#cancelStarve) return;
    this.stats.starvedWaits++;
    this.#setWatching(false);
    this.#cancelStarve = this.#pool.waitFor(size, () => {
      this.#cancelStarve = null;
      this.emit('resumed');
      this.#normalize();
      this.#serve();
    }, givesBack);
    this.emit('starved', size);
    this.#afterChange();
  }

  #setWatching(on: boolean): void {
    if (on === this.#watching || (on && (this.#closed || this.#readDone || this.#eofSeen))) return;
    this.#watching = on;
    this.#io.watchReadable(on);
  }

  // ---- endings ---------------------------------------------------------------------------

  /** A fatal error: keep it for every later read, give everything back, close the socket. */
  #fail(err: AltsError): void {
    if (this.#readDone && this.#error) return;
    this.#error = err;
    this.#settleFailure(err);
    this.#release();
  }

  #settleFailure(err: AltsError): void {
    this.#readDone = true;
    const p = this.#pending;
    this.#pending = null;
    // Withdraw a wait for the caller's buffer first: on the conn's own pool it declared the
    // conn's buffer as held, which must not count once that buffer is back.
    p?.cancelPoolWait?.();
    this.#releaseReadSide();
    p?.reject(this.#error ?? err);
  }

  #releaseReadSide(): void {
    this.#setWatching(false);
    this.#cancelStarve?.();
    this.#cancelStarve = null;
    this.#leftover = null;
    const buf = this.#buf;
    this.#buf = null;
    this.#start = this.#end = this.#plainStart = this.#plainEnd = 0;
    if (buf) this.#pool.put(buf);
  }

  #release(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#releaseReadSide();
    this.#io.close();
    this.#afterChange();
    this.emit('close');
  }

  #afterChange(): void {
    const s = this.state;
    if (s !== this.#lastState) {
      this.#lastState = s;
      this.emit('state', s, this.heldBytes);
    }
  }
}
