/**
 * The explicit model of one connection's read side (docs/spec.md §2, §3). Plain data and a
 * switch over inputs; every rule is written out in model/, nothing is imported from src/. The
 * state and the peer are in ModelState.ts, the pool in PoolModel.ts, handing up in
 * ReadsModel.ts; here: the inputs, readiness and its read(2), normalize, and the endings.
 * @module
 */
import { partialCapacity } from './rules.js';
import type { ModelErrorCode } from './types.js';
import type { ModelInput } from './ModelState.js';
import { ReadsModel } from './ReadsModel.js';

export type { ModelInput } from './ModelState.js';

export class ConnModel extends ReadsModel {
  // ---- inputs ----------------------------------------------------------------------------

  /** Apply one input, then let the event loop run until nothing more would happen. */
  apply(input: ModelInput): number | void {
    switch (input.kind) {
      case 'peerQueue':
        return this.peerQueue(input.plaintexts, input.bad);
      case 'peerSend':
        this.sent = Math.min(this.written, this.sent + input.bytes);
        break;
      case 'peerEof':
        this.peerEof = true;
        break;
      case 'peerReset':
        this.peerReset = true;
        if (!this.readDone) this.resetPending = true;
        break;
      case 'read':
        this.startRead(input.n);
        break;
      case 'wakeup':
        this.onReadable(true);
        break;
      case 'hogTake':
        this.hogTake(input.size);
        break;
      case 'hogGive':
        this.hogGive(input.index);
        break;
      case 'close':
        this.visit('close');
        if (!this.released) {
          this.settleFailure('CLOSED');
          this.release();
        }
        break;
    }
    this.settle();
  }

  /** The poller: while the conn watches and the kernel has something, readiness comes. */
  settle(): void {
    for (;;) {
      if (this.released || this.readDone || !this.watching || !this.pollReadable) return;
      const before = this.progress();
      this.visit('readiness');
      this.onReadable(false);
      if (this.progress() === before && this.watching) {
        this.spins++; // level-triggered readiness the conn cannot act on: it would spin
        return;
      }
    }
  }

  private progress(): string {
    return `${this.consumed} ${this.eofRead} ${this.starved} ${this.readDone} ${this.heldBytes} ${this.reads.length}`;
  }

  /** After bytes arrive or are handed up: give the buffer back, or fit a partial frame into partialCapacity(). */
  protected normalize(): void {
    if (this.readDone) return;
    const buf = this.buf;
    if (buf === null) return this.eofSeen ? this.finishEof() : undefined;
    if (this.plain !== null) return;
    const held = this.held();
    if (held === 0) {
      this.put();
      return this.eofSeen ? this.finishEof() : undefined;
    }
    const f = this.frameBytesAtStart();
    if (f >= 0 && held >= f) return; // a whole frame: decrypted
    if (this.eofSeen) {
      this.visit('truncated');
      return this.fail('TRUNCATED');
    }
    // After a read(2) that filled the buffer more may be queued: the frame keeps the room it has.
    const fit = partialCapacity(held, f);
    const want = this.lastReadFull ? Math.max(fit, buf.cap) : fit;
    buf.start = 0;
    buf.end = held;
    if (want <= buf.cap) {
      buf.cap = want; // the pool exchanges the buffer: shrinking always succeeds
      return;
    }
    if (this.starved) return; // already waiting for the pool, which will tell it
    const lends = this.poolLends(want - buf.cap, buf.cap, this.waitersHolding);
    if (lends === 'no') return this.starve(want, buf.cap); // cannot grow: wait for the exchange
    if (lends === 'overdraft') this.visit('overdraft');
    buf.cap = want; // the pool exchanges the buffer
  }

  // ---- the conn: readiness ----------------------------------------------------------------

  /** Readiness (hook = the test's spurious wakeup): borrow if needed, one read(2), act on it. */
  protected onReadable(hook: boolean): void {
    if (hook) this.visit('wakeup');
    if (this.readDone || this.released || this.eofSeen) return; // after EOF nothing more can come
    if (!hook && !this.watching) return;
    let fresh = false;
    if (this.buf === null) {
      const lends = this.poolLends(this.cfg.readSize, 0, this.waitersHolding);
      if (lends === 'no') return this.starve(this.cfg.readSize);
      if (lends === 'overdraft') this.visit('overdraft');
      this.buf = { cap: this.cfg.readSize, start: 0, end: 0 };
      fresh = true;
    }
    const buf = this.buf;
    const spare = buf.cap - buf.end;
    if (spare === 0) return this.setWatching(false); // a full buffer (starved on growth): nothing read, stop watching
    this.inRead = true;
    const r = this.readSyscall(spare);
    this.inRead = false;
    this.lastReadFull = r === spare;
    if (r === 'error') {
      // The socket's error is what read(2) returns once the queued bytes are read (docs/spec.md §3).
      this.visit('reset', 'readable');
      return this.fail('IO_ERROR');
    }
    if (r === 'again') {
      this.visit('eagain', 'readable');
      if (fresh) this.put();
      this.wakeupEvents++;
      this.normalize(); // about to wait: a partial frame is fitted to partialCapacity
      return this.serve();
    }
    if (r === 0) {
      this.visit('eof', 'readable');
      this.eofSeen = true;
      if (fresh) this.put();
      this.wakeupEvents++;
      this.normalize();
      return this.serve();
    }
    this.visit('bytes', 'readable');
    buf.end += r;
    this.consumed += r;
    this.normalize();
    this.wakeupEvents++;
    this.serve();
  }

  /** Watching is refused once closed, done, or EOF has been read (level-triggered EOF is readable for ever). */
  protected setWatching(on: boolean): void {
    if (on === this.watching || (on && (this.released || this.readDone || this.eofSeen))) return;
    this.watching = on;
  }

  // ---- endings ---------------------------------------------------------------------------

  protected finishEof(): void {
    this.eof = true;
    this.readDone = true;
    this.releaseReadSide();
    this.serve();
  }

  protected fail(code: ModelErrorCode): void {
    if (this.readDone && this.error) return;
    this.error = code;
    this.settleFailure(code);
    this.release();
  }

  protected settleFailure(code: ModelErrorCode): void {
    this.readDone = true;
    this.releaseReadSide();
    const p = this.pending;
    this.pending = null;
    if (p) this.reads[p.id] = { status: 'error', code: this.error ?? code };
  }

  protected releaseReadSide(): void {
    this.watching = false;
    this.starvedFor = null;
    this.starvedGivesBack = 0;
    this.plain = null;
    if (this.buf) this.put();
  }

  protected release(): void {
    if (this.released) return;
    this.released = true;
    this.resetPending = false;
    this.releaseReadSide();
  }
}
