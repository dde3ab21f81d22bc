/**
 * The read side of a connection (docs/spec.md §2, §3): one explicit phase value (phase.ts),
 * one loop (StepLoop.ts). The buffer and its frames live in a FrameReader (docs/spec.md §1,
 * shared with createProtector). Everything that can move the conn (the poller, the pool telling
 * a waiter, a caller's read or close) records what it brings and calls `run`, which takes one
 * step at a time; anything thrown inside a step fails the connection with an AltsError
 * (INTERNAL for a broken invariant) and releases everything.
 * @module
 */
import { AltsError } from '../errors.js';
import { AGAIN, type ReadyReader } from '../io/types.js';
import type { BufferPool } from '../pool/BufferPool.js';
import type { FrameReader } from '../record/FrameReader.js';
import type { ConnEventName, ConnState, ConnStats } from './events.js';
import { Intake } from './Intake.js';
import { StepLoop } from './StepLoop.js';
import type { PendingRead } from './PendingRead.js';
import type { Phase } from './phase.js';
import { ReadBuffer } from './ReadBuffer.js';

export interface ReadSideParts {
  io: ReadyReader;
  pool: BufferPool;
  frames: FrameReader;
  stats: ConnStats;
  readSize: number;
  leftover: Uint8Array | null;
  emit: (event: ConnEventName, ...args: unknown[]) => void;
  /** The read side is done (clean EOF): the conn gives the socket back if writing is done too. */
  onEof: () => void;
}

export class ReadSide {
  phase: Phase = { kind: 'live' };
  pending: PendingRead | null = null;
  /** The conn gave its socket back. */
  released = false;
  readonly #p: ReadSideParts;
  readonly #in: Intake;
  readonly #buf: ReadBuffer;
  /** A close that reached the conn while its loop ran: taken at the next step boundary. */
  #closeWanted = false;
  /** A close asked to reset the connection (docs/spec.md §10): the socket is closed abortively. */
  #abortWanted = false;
  readonly #loop: StepLoop;

  constructor(p: ReadSideParts) {
    this.#p = p;
    this.#in = new Intake(p.io, p.stats, p.leftover, () => this.run());
    this.#buf = new ReadBuffer(p.frames, p.pool, p.stats, (size) => {
      this.#setWatching(false); // no spinning while the pool cannot lend
      this.#loop.queue('starved', size);
    }, () => this.run());
    this.#loop = new StepLoop({
      step: () => (this.#closeWanted ? this.#closeNow() : this.#step()),
      onThrow: (e) => this.#end(e instanceof AltsError ? e : new AltsError('INTERNAL', `read side: ${String(e)}`, { cause: e }), true),
      state: () => [this.state, this.heldBytes],
      emit: p.emit,
    });
  }

  get state(): ConnState {
    const ph = this.phase;
    if (ph.kind === 'done') return 'closed';
    if (ph.kind === 'reading') return 'readable';
    const fr = this.#p.frames;
    if (fr.buf === null) return 'idle';
    try {
      return fr.ready ? 'decrypted' : 'partial';
    } catch {
      return 'decrypted'; // a bad length field at the front: the next step fails on it
    }
  }

  get heldBytes(): number {
    return this.#buf.heldBytes;
  }

  get watching(): boolean {
    return this.#in.watching;
  }

  get starved(): boolean {
    return this.#buf.starved;
  }

  get error(): AltsError | null {
    return this.phase.kind === 'done' ? this.phase.error : null;
  }

  /** Start a read (the conn checked the arguments). */
  start(r: PendingRead): void {
    const ph = this.phase;
    if (this.pending) return r.reject(new AltsError('READ_IN_PROGRESS', 'a read is already pending'));
    if (ph.kind === 'done' && ph.error) return r.reject(ph.error);
    if (ph.kind === 'done' && ph.end === 'closed') return r.reject(new AltsError('CLOSED', 'read after close'));
    this.pending = r;
    this.run();
  }

  /** The test hook: the readable path now, watching or not. */
  wakeup(): void {
    this.#in.woken = 'hook';
    this.run();
  }

  /**
   * Close now (or, called while the loop runs, from a step's foreign callback or a listener, at
   * the next step boundary, so the state change is emitted before 'close'): the pending read
   * rejects CLOSED, every buffer goes back, the socket is closed.
   */
  close(abort = false): void {
    if (this.released) return;
    this.#abortWanted ||= abort;
    if (!this.#loop.running) return this.#end(new AltsError('CLOSED', 'connection closed'), false);
    this.#closeWanted = true;
    this.#loop.run();
  }

  /** Give the socket back (both directions done, or the end of a failure or close). */
  release(abort = false): void {
    if (this.released) return;
    this.released = true;
    this.#in.stop();
    this.#buf.release();
    this.#p.io.close(abort || this.#abortWanted);
    this.#loop.queue('close');
  }

  /** Take steps until nothing more would happen (docs/spec.md §3). */
  run(): void {
    this.#loop.run();
  }

  #closeNow(): boolean {
    this.#closeWanted = false;
    if (!this.released) this.#end(new AltsError('CLOSED', 'connection closed'), false);
    return true;
  }

  /** One step: true if it changed something (take another). */
  #step(): boolean {
    const ph = this.phase;
    switch (ph.kind) {
      case 'done': {
        this.#in.woken = null;
        const r = this.pending; // a done read side settles a read at once
        this.pending = null;
        r?.settle(ph.error, ph.end === 'eof');
        return r !== null;
      }
      case 'reading':
        return this.#readOnce(ph.fresh);
      case 'draining':
        this.#in.woken = null; // nothing more can come
        return this.#serve();
      case 'live':
        if (this.#buf.takeResume()) {
          this.#loop.queue('resumed');
          this.#normalize();
          return true;
        }
        if (this.#in.woken !== null) return this.#readiness();
        return this.#serve();
    }
  }

  /** Readiness (or the test hook): borrow if needed, then the read(2) in the next step. */
  #readiness(): boolean {
    if (!this.#in.takeWakeup()) return false;
    const { frames: fr, stats, readSize } = this.#p;
    stats.wakeups++;
    const fresh = fr.buf === null;
    if (fresh && !this.#buf.borrow(readSize)) return true; // starved: the pool will tell it
    if (fr.buf!.length === fr.end) {
      this.#setWatching(false); // starved on growth, or full of whole frames: the pool or a read will move it
      return false;
    }
    this.phase = { kind: 'reading', fresh };
    return true;
  }

  /** The one read(2), from the handshake's leftovers first. */
  #readOnce(fresh: boolean): boolean {
    const { frames: fr, stats } = this.#p;
    const buf = fr.buf!;
    this.phase = { kind: 'live' };
    const asked = buf.length - fr.end;
    const n = this.#in.pull(buf, fr.end, asked); // IO_ERROR fails the conn (run)
    this.#buf.lastReadFull = n === asked;
    if (n === AGAIN) {
      stats.spuriousWakeups++;
      if (fresh) this.#buf.putBack();
      this.#loop.queue('wakeup', { spurious: true, bytes: 0 });
      this.#normalize(); // about to wait: a partial frame is fitted to partialCapacity
      return true;
    }
    if (n === 0) {
      this.#buf.stopWaiting();
      this.phase = { kind: 'draining' };
      this.#setWatching(false);
      if (fresh) this.#buf.putBack();
      this.#loop.queue('wakeup', { spurious: false, bytes: 0 });
      this.#normalize();
      return true;
    }
    fr.end += n;
    stats.bytesRead += n;
    this.#loop.queue('wakeup', { spurious: false, bytes: n });
    this.#normalize();
    return true;
  }

  /** Hand up what is held to the pending read, or wait for readiness; with no read pending, stop watching. */
  #serve(): boolean {
    const r = this.pending;
    if (r === null) {
      this.#setWatching(false); // nobody reads: no read-ahead, no level-triggered spin
      return false;
    }
    if (r.wait !== null) {
      if (!r.wait.told) return false; // waiting for the caller's pool
      r.wait = null;
    }
    const fr = this.#p.frames;
    if (fr.buf !== null && fr.plainLeft === 0 && fr.skipEmpty() > 0) {
      // Empty frames: authenticated, a counter value each, nothing to hand up; never EOF.
      this.#p.stats.framesOpened = fr.framesOpened;
      this.#normalize();
      return true;
    }
    if (fr.buf !== null && fr.ready) return this.#deliver(r);
    if (this.#in.hasLeftover) {
      this.#in.woken = 'hook'; // the handshake's leftovers are read as if the socket were readable
      return true;
    }
    this.#setWatching(!this.starved);
    return false;
  }

  #deliver(r: PendingRead): boolean {
    const fr = this.#p.frames;
    const n = r.takeFrom(fr, this.#p.pool, this.heldBytes, () => this.run());
    if (n === null) {
      this.#setWatching(false); // waiting for the caller's pool
      return false;
    }
    this.#p.stats.framesOpened = fr.framesOpened;
    this.pending = null;
    r.resolve(n);
    this.#normalize();
    return true;
  }

  /** After bytes arrive or are handed up (docs/spec.md §3, Normalize); after EOF, nothing left ends the read side. */
  #normalize(): void {
    const ph = this.phase;
    if (ph.kind === 'done') return;
    const draining = ph.kind === 'draining';
    if (this.#buf.normalize(draining) === 'empty' && draining) this.#finishEof();
  }

  #finishEof(): void {
    this.phase = { kind: 'done', end: 'eof', error: null };
    this.#in.stop();
    this.#buf.release();
    // The final read is settled in this step, before its events ('close' when writing is done
    // too): a read from a listener is then a later read, which resolves EOF (docs/spec.md §3).
    const r = this.pending;
    this.pending = null;
    r?.abandon();
    r?.resolveEof();
    this.#p.onEof();
  }

  /** End the read side with `err` (CLOSED for a local close, which is not kept as the conn's error). */
  #end(err: AltsError, failure: boolean): void {
    const ph = this.phase;
    const kept = ph.kind === 'done' ? ph.error : null;
    if (failure) this.phase = { kind: 'done', end: 'failed', error: err };
    else if (ph.kind !== 'done') this.phase = { kind: 'done', end: 'closed', error: null };
    const r = this.pending;
    this.pending = null;
    // Withdraw a wait for the caller's buffer first: on the conn's own pool it declared the
    // conn's buffer as held, which must not count once that buffer is back.
    r?.abandon();
    this.#in.stop();
    this.#buf.release();
    r?.reject(kept ?? err);
    this.release(failure && err.fault === 'peer');
  }

  /** Watching is refused unless bytes may still come (docs/spec.md §2, Watching). */
  #setWatching(on: boolean): void {
    if (on && (this.released || this.phase.kind !== 'live')) return;
    this.#in.watch(on);
  }
}
