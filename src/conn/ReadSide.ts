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
import { fitPartial } from './partialCapacity.js';
import type { PendingRead } from './PendingRead.js';
import type { Phase, PoolWait } from './phase.js';

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
  phase: Phase = { kind: 'live', starve: null };
  pending: PendingRead | null = null;
  /** The conn gave its socket back. */
  released = false;
  readonly #p: ReadSideParts;
  readonly #in: Intake;
  /** An ending that reached the conn from inside one of its steps: taken at the next step boundary. */
  #endWanted: { err: AltsError; failure: boolean } | null = null;
  readonly #loop: StepLoop;

  constructor(p: ReadSideParts) {
    this.#p = p;
    this.#in = new Intake(p.io, p.stats, p.leftover, () => this.run());
    p.io.onError = (e) => this.fail(e);
    this.#loop = new StepLoop({
      step: () => (this.#endWanted !== null ? this.#endNow(this.#endWanted) : this.#step()),
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
    const b = this.#p.frames.buf;
    return b === null ? 0 : b.buffer.byteLength;
  }

  get watching(): boolean {
    return this.#in.watching;
  }

  get starved(): boolean {
    const ph = this.phase;
    return (ph.kind === 'live' || ph.kind === 'reading') && ph.starve !== null;
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

  /** Close now: the pending read rejects CLOSED, every buffer goes back, the socket is closed. */
  close(): void {
    if (this.released) return;
    this.#endSoon(new AltsError('CLOSED', 'connection closed'), false);
  }

  /** A fatal error: kept for every later read; everything given back; the socket closed (reset, for a peer's fault). */
  fail(err: AltsError): void {
    if (this.phase.kind === 'done' && this.phase.error) return;
    this.#endSoon(err, true);
    this.run(); // emit what ending changed
  }

  /** End now, or, called from inside a step (through a foreign callback), at the next step boundary. */
  #endSoon(err: AltsError, failure: boolean): void {
    if (!this.#loop.stepping) return this.#end(err, failure);
    if (this.#endWanted === null || (failure && !this.#endWanted.failure)) this.#endWanted = { err, failure };
    this.#loop.run();
  }

  /** Give the socket back (both directions done, or the end of a failure or close). */
  release(abort = false): void {
    if (this.released) return;
    this.released = true;
    this.#releaseBuffers();
    this.#p.io.close(abort);
    this.#loop.queue('close');
  }

  /** Take steps until nothing more would happen (docs/spec.md §3). */
  run(): void {
    this.#loop.run();
  }

  #endNow(w: { err: AltsError; failure: boolean }): boolean {
    this.#endWanted = null;
    if (!w.failure || !(this.phase.kind === 'done' && this.phase.error)) this.#end(w.err, w.failure);
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
        return this.#readOnce(ph.fresh, ph.starve);
      case 'draining':
        this.#in.woken = null; // nothing more can come
        return this.#serve();
      case 'live':
        if (ph.starve?.told) {
          ph.starve = null;
          this.#loop.queue('resumed');
          this.#normalize();
          return true;
        }
        if (this.#in.woken !== null) return this.#readiness(ph);
        return this.#serve();
    }
  }

  /** Readiness (or the test hook): borrow if needed, then the read(2) in the next step. */
  #readiness(ph: Extract<Phase, { kind: 'live' }>): boolean {
    if (!this.#in.takeWakeup()) return false;
    const { frames: fr, pool, stats, readSize } = this.#p;
    stats.wakeups++;
    let fresh = false;
    if (fr.buf === null) {
      const buf = pool.get(readSize, 0); // it would wait holding nothing: the pool never waits on itself
      if (buf === null) {
        this.#starve(readSize, 0);
        return true;
      }
      fr.attach(buf);
      fresh = true;
    }
    if (fr.buf!.length === fr.end) {
      this.#setWatching(false); // starved on growth, or full of whole frames: the pool or a read will move it
      return false;
    }
    this.phase = { kind: 'reading', fresh, starve: ph.starve };
    return true;
  }

  /** The one read(2), from the handshake's leftovers first. */
  #readOnce(fresh: boolean, starve: PoolWait | null): boolean {
    const { frames: fr, stats } = this.#p;
    const buf = fr.buf!;
    this.phase = { kind: 'live', starve };
    const n = this.#in.pull(buf, fr.end, buf.length - fr.end); // IO_ERROR fails the conn (run)
    if (n === AGAIN) {
      stats.spuriousWakeups++;
      if (fresh) this.#putBuffer();
      this.#loop.queue('wakeup', { spurious: true, bytes: 0 });
      return true;
    }
    if (n === 0) {
      starve?.cancel();
      this.phase = { kind: 'draining' };
      this.#setWatching(false);
      if (fresh) this.#putBuffer();
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

  /**
   * After bytes arrive or are handed up: give the buffer back if nothing is left in it, or move
   * an incomplete frame into a buffer of partialCapacity() (shrinking or growing; docs/spec.md §5).
   */
  #normalize(): void {
    const ph = this.phase;
    if (ph.kind === 'done') return;
    const { frames: fr, pool } = this.#p;
    const buf = fr.buf;
    if (buf === null) return ph.kind === 'draining' ? this.#finishEof() : undefined;
    if (fr.plainLeft > 0) return;
    if (fr.held === 0) {
      this.#putBuffer();
      return ph.kind === 'draining' ? this.#finishEof() : undefined;
    }
    const f = fr.frameBytes(); // a bad length field fails the conn here
    if (f >= 0 && fr.held >= f) return; // a whole frame: decrypted
    if (ph.kind === 'draining') throw new AltsError('TRUNCATED', `stream ended inside a frame (${fr.held} bytes of it held)`);
    const cap = buf.buffer.byteLength;
    const wait = fitPartial(fr, pool, this.starved);
    if (wait !== null) this.#starve(wait, cap); // could not grow: wait for the exchange
  }

  /** Wait for the pool: growth gives back (and holds meanwhile) its buffer, a fresh borrow nothing. */
  #starve(size: number, givesBack: number): void {
    const ph = this.phase;
    if (ph.kind !== 'live') throw new Error(`starved in phase ${ph.kind}`);
    if (ph.starve !== null) return; // already waiting: the pool will tell it
    this.#p.stats.starvedWaits++;
    this.#setWatching(false);
    const w: PoolWait = { told: false, cancel: () => {} };
    w.cancel = this.#p.pool.waitFor(size, () => {
      w.told = true;
      this.run();
    }, givesBack);
    ph.starve = w;
    this.#loop.queue('starved', size);
  }

  #finishEof(): void {
    this.phase = { kind: 'done', end: 'eof', error: null };
    this.#releaseBuffers();
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
    this.#releaseBuffers(ph);
    r?.reject(kept ?? err);
    this.release(failure && err.fault === 'peer');
  }

  /** Stop taking bytes in, withdraw a wait for the pool (`ph`: the phase that held it), give the buffer back. */
  #releaseBuffers(ph: Phase = this.phase): void {
    this.#in.stop();
    if ((ph.kind === 'live' || ph.kind === 'reading') && ph.starve) {
      ph.starve.cancel();
      ph.starve = null;
    }
    this.#putBuffer();
  }

  #putBuffer(): void {
    const fr = this.#p.frames;
    const buf = fr.buf;
    fr.attach(null);
    if (buf) this.#p.pool.put(buf);
  }

  /** Watching is refused unless bytes may still come (docs/spec.md §2, Watching). */
  #setWatching(on: boolean): void {
    if (on && (this.released || this.phase.kind !== 'live')) return;
    this.#in.watch(on);
  }
}
