/**
 * The explicit model of one connection's read side (docs/spec.md §2, §3). Plain data and a
 * switch over inputs; every rule is written out here, nothing is imported from src/.
 *
 * The peer's stream is a list of frames (plaintext, authenticates or not, bytes on the wire) and
 * byte cursors: `written` (queued by the peer), `sent` (in the kernel for the conn), `consumed`
 * (read(2) by the conn). The conn's one buffer is {cap, start, end}: protected bytes not yet
 * handed up are [start, end) and are the stream's bytes [consumed - (end - start), consumed).
 * No crypto is needed: a frame's plaintext is known, and `ok` says whether its tag verifies.
 * @module
 */
import { classSize, FRAME_OVERHEAD, LENGTH_FIELD, partialCapacity, splitPayloads } from './rules.js';
import type { ConnState, ModelConfig, ModelErrorCode, ModelEvent, PeerFrame, ReadOutcome } from './types.js';

/** What the caller, the peer, the pool's other holders and the test hooks can do. */
export type ModelInput =
  | { kind: 'peerQueue'; plaintexts: Uint8Array[]; bad?: 'corrupt' | 'reorder' } // peer protects frames (not yet on the wire); an empty plaintext is one empty frame
  | { kind: 'peerSend'; bytes: number } // the next `bytes` queued bytes reach the conn's kernel queue
  | { kind: 'peerEof' } // peer half-closes (FIN)
  | { kind: 'peerReset' } // peer closes with unread data: the conn's socket fails (ECONNRESET)
  | { kind: 'read'; n: number } // caller starts read(into) with into.length = n
  | { kind: 'wakeup' } // test hook: run the readable path with nothing there
  | { kind: 'hogTake'; size: number } // another holder asks the pool for `size` bytes
  | { kind: 'hogGive'; index: number } // another holder gives back its index-th buffer
  | { kind: 'close' }; // local close

interface Buf {
  cap: number;
  start: number;
  end: number;
}

export class ConnModel {
  readonly cfg: ModelConfig;
  // ---- the peer and the kernel
  readonly frames: PeerFrame[] = [];
  readonly frameAt = new Map<number, number>(); // stream offset of a frame's first byte -> index
  written = 0;
  sent = 0;
  peerEof = false; // FIN sent
  peerReset = false; // the peer closed its end with bytes of ours unread
  eofRead = false; // the conn's read(2) has returned 0
  resetPending = false; // the socket has an error the conn has not met yet
  // ---- the pool's other holders
  readonly hogs: number[] = []; // capacities
  // ---- the connection
  buf: Buf | null = null;
  plain: { frame: number; off: number } | null = null; // a frame's plaintext partly handed up
  consumed = 0;
  pending: { id: number; n: number } | null = null;
  watching = false;
  starvedFor: number | null = null; // size the conn waits for the pool to lend
  starvedGivesBack = 0; // capacity it hands over in exchange (growth: the buffer it holds; a fresh borrow: 0)
  inRead = false;
  eofSeen = false;
  readDone = false; // clean EOF handed up, failed, or closed
  eof = false; // clean EOF
  error: ModelErrorCode | null = null;
  released = false; // the conn gave its socket back (close, failure)
  // ---- observations
  readonly reads: ReadOutcome[] = [];
  delivered: number[] = []; // plaintext bytes handed up, in order
  readonly visits: string[] = []; // "state:event", in order
  wakeupEvents = 0; // 'wakeup' events the conn emits
  spins = 0; // readiness acted on that could take nothing (the buffer was full)

  constructor(cfg: ModelConfig) {
    this.cfg = cfg;
  }

  // ---- derived observations -------------------------------------------------------------

  get state(): ConnState {
    if (this.readDone || this.released) return 'closed';
    if (this.inRead) return 'readable';
    if (this.buf === null) return 'idle';
    if (this.plain !== null) return 'decrypted';
    const f = this.frameBytesAtStart();
    return f >= 0 && this.held() >= f ? 'decrypted' : 'partial';
  }

  get heldBytes(): number {
    return this.buf === null ? 0 : this.buf.cap;
  }

  get hogBytes(): number {
    return this.hogs.reduce((a, b) => a + b, 0);
  }

  /** What the pool has lent: the conn's buffer and the other holders'. */
  get outstanding(): number {
    return this.heldBytes + this.hogBytes;
  }

  /** The peer can send no more (FIN or reset). */
  get peerGone(): boolean {
    return this.peerEof || this.peerReset;
  }

  get starved(): boolean {
    return this.starvedFor !== null;
  }

  /** Does the kernel have anything new for the conn (bytes, an EOF not yet read, or an error)? */
  get kernelHasSomething(): boolean {
    return this.sent > this.consumed || (this.peerEof && !this.eofRead) || this.resetPending;
  }

  /** Level-triggered readiness: bytes queued, or EOF (readable for ever), or an error. */
  get pollReadable(): boolean {
    return this.sent > this.consumed || this.peerEof || this.resetPending;
  }

  /** The plaintext the peer sent, in order, as far as frames that authenticate go. */
  peerPlaintext(): number[] {
    const out: number[] = [];
    for (const f of this.frames) {
      if (!f.ok) break;
      out.push(...f.plaintext);
    }
    return out;
  }

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

  // ---- the peer --------------------------------------------------------------------------

  private peerQueue(plaintexts: Uint8Array[], bad?: 'corrupt' | 'reorder'): number {
    const added: PeerFrame[] = [];
    for (const p of plaintexts) {
      // An empty plaintext is one empty frame (len = 20): a writer never sends one, a peer may.
      if (p.length === 0) added.push({ plaintext: p, ok: true, wire: FRAME_OVERHEAD });
      let off = 0;
      for (const len of splitPayloads(p.length, this.cfg.maxFrameSize)) {
        added.push({ plaintext: p.subarray(off, off + len), ok: true, wire: len + FRAME_OVERHEAD });
        off += len;
      }
    }
    if (bad === 'corrupt') added[0]!.ok = false; // one bit flipped in its ciphertext or tag
    if (bad === 'reorder') {
      const [a, b] = [added[0]!, added[1]!];
      added[0] = b; // the second frame first: its counter is not the one expected
      added[1] = a;
      a.ok = b.ok = false;
    }
    const anyBad = this.frames.some((f) => !f.ok);
    for (const f of added) {
      if (anyBad || !f.ok) f.ok = false; // after a bad frame no counter lines up again
      this.frameAt.set(this.written, this.frames.length);
      this.frames.push(f);
      this.written += f.wire;
    }
    return added.length;
  }

  // ---- the pool's other holders ------------------------------------------------------------

  /** Another holder's plain get: it will not wait, so the pool lends only within the budget. */
  private hogTake(size: number): void {
    this.visit('hogTake');
    const cap = classSize(size);
    if (this.outstanding + cap <= this.cfg.budget) this.hogs.push(cap);
  }

  private hogGive(index: number): void {
    if (this.hogs.length === 0) return;
    this.visit('hogGive');
    this.hogs.splice(index % this.hogs.length, 1);
    this.poolWake();
  }

  /**
   * The pool's answer to a borrower that would otherwise wait, holding `holding` pool bytes, when
   * it asks for `cost` more (docs/spec.md §3, Pool refilled): yes within the budget; yes past it
   * (an overdraft) when the pool would otherwise wait on itself: every byte lent is held by this
   * borrower or by the pool's waiters (they hold `waiting`), so nobody else will ever give any
   * back, and what all the others hold fits the budget (only this borrower is past it).
   */
  private poolLends(cost: number, holding: number, waiting: number): 'within' | 'overdraft' | 'no' {
    if (this.outstanding + cost <= this.cfg.budget) return 'within';
    const others = this.outstanding - holding;
    return others - waiting <= 0 && others <= this.cfg.budget ? 'overdraft' : 'no';
  }

  /** What the pool's waiters hold while they wait: the conn, if starved, holds what it gives back. */
  private get waitersHolding(): number {
    return this.starvedFor === null ? 0 : this.starvedGivesBack;
  }

  /**
   * The pool, after any put: tell the waiter (one conn here) if it could borrow now. Its cost is
   * max(0, classSize(size) - givesBack): growth is an exchange, so the buffer given back counts.
   * It is the only waiter, so no other waiter holds anything.
   */
  private poolWake(): void {
    if (this.starvedFor === null) return;
    const cost = Math.max(0, classSize(this.starvedFor) - this.starvedGivesBack);
    if (this.poolLends(cost, this.starvedGivesBack, 0) === 'no') return;
    this.visit('refilled');
    this.starvedFor = null;
    this.starvedGivesBack = 0;
    this.normalize();
    this.serve();
  }

  private put(): void {
    this.buf = null;
    this.poolWake();
  }

  // ---- the conn: reads -------------------------------------------------------------------

  private startRead(n: number): void {
    this.visit('read');
    const id = this.reads.length;
    if (this.pending) return void this.reads.push({ status: 'error', code: 'READ_IN_PROGRESS' });
    if (this.error) return void this.reads.push({ status: 'error', code: this.error });
    if (this.released && !this.eof) return void this.reads.push({ status: 'error', code: 'CLOSED' });
    this.reads.push({ status: 'pending' });
    this.pending = { id, n };
    this.serve();
  }

  /** Hand up what is held to the pending read, or watch for readiness; with no read pending, stop watching. */
  private serve(): void {
    const p = this.pending;
    if (p === null) return this.setWatching(false); // nobody reads: no read-ahead, no level-triggered spin
    if (this.readDone) {
      this.pending = null;
      this.reads[p.id] = this.error ? { status: 'error', code: this.error } : { status: 'eof' };
      return;
    }
    if (this.plain !== null) {
      this.visit('deliver');
      return this.deliverPlain(p);
    }
    if (this.wholeFrameAtStart()) {
      const f = this.frames[this.frameIndexAtStart()]!;
      if (f.plaintext.length === 0) return this.skipEmpty();
      this.visit(f.ok ? 'deliver' : 'authFail');
      return this.deliverFrame(p);
    }
    this.setWatching(!this.starved);
  }

  /**
   * Empty frames at the front, reached by a pending read: each is authenticated (a counter value
   * used) and produces nothing; never EOF. The whole run of them goes, then the read is served
   * again (a loop, however many there are).
   */
  private skipEmpty(): void {
    while (this.wholeFrameAtStart()) {
      const f = this.frames[this.frameIndexAtStart()]!;
      if (f.plaintext.length !== 0) break;
      if (!f.ok) {
        this.visit('authFail');
        return this.fail('AUTH_FAILED');
      }
      this.visit('empty');
      this.buf!.start += f.wire;
    }
    this.normalize();
    this.serve();
  }

  private deliverFrame(p: { id: number; n: number }): void {
    const k = this.frameIndexAtStart();
    const f = this.frames[k]!;
    if (!f.ok) return this.fail('AUTH_FAILED');
    this.buf!.start += f.wire;
    if (p.n < f.plaintext.length) {
      this.plain = { frame: k, off: 0 };
      return this.deliverPlain(p);
    }
    // The frame fits the read: so do the whole frames after it, while they authenticate and fit
    // what is left of it. A bad frame is left for the next read to fail on.
    const out = [...f.plaintext];
    while (this.wholeFrameAtStart()) {
      const g = this.frames[this.frameIndexAtStart()]!;
      if (!g.ok || out.length + g.plaintext.length > p.n) break;
      this.buf!.start += g.wire;
      out.push(...g.plaintext);
    }
    this.handUp(p, Uint8Array.from(out));
  }

  private deliverPlain(p: { id: number; n: number }): void {
    const pl = this.plain!;
    const text = this.frames[pl.frame]!.plaintext;
    const n = Math.min(p.n, text.length - pl.off);
    const out = text.subarray(pl.off, pl.off + n);
    pl.off += n;
    if (pl.off === text.length) this.plain = null;
    this.handUp(p, out);
  }

  private handUp(p: { id: number; n: number }, bytes: Uint8Array): void {
    this.pending = null;
    this.normalize();
    this.delivered.push(...bytes);
    this.reads[p.id] = { status: 'ok', n: bytes.length };
    this.serve();
  }

  // ---- the conn: the buffer --------------------------------------------------------------

  private held(): number {
    return this.buf === null ? 0 : this.buf.end - this.buf.start;
  }

  private frameIndexAtStart(): number {
    const k = this.frameAt.get(this.consumed - this.held());
    if (k === undefined) throw new Error('model: buffer does not start at a frame boundary');
    return k;
  }

  /** The whole frame's bytes once its length field is in, else -1. */
  private frameBytesAtStart(): number {
    if (this.held() < LENGTH_FIELD) return -1;
    return this.frames[this.frameIndexAtStart()]!.wire;
  }

  private wholeFrameAtStart(): boolean {
    if (this.buf === null || this.held() === 0) return false;
    const f = this.frameBytesAtStart();
    return f >= 0 && this.held() >= f;
  }

  /** After bytes arrive or are handed up: give the buffer back, or fit a partial frame into partialCapacity(). */
  private normalize(): void {
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
    const want = partialCapacity(held, f);
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
  private onReadable(hook: boolean): void {
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
    if (r === 'error') {
      // The socket's error is what read(2) returns once the queued bytes are read (docs/spec.md §3).
      this.visit('reset', 'readable');
      return this.fail('IO_ERROR');
    }
    if (r === 'again') {
      this.visit('eagain', 'readable');
      if (fresh) this.put();
      this.wakeupEvents++;
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

  /** One read(2) on an AF_UNIX stream: as much as is queued, up to `spare`; then the socket's error; 0 at EOF; EAGAIN. */
  private readSyscall(spare: number): number | 'again' | 'error' {
    const queued = this.sent - this.consumed;
    if (queued > 0) return Math.min(spare, queued);
    if (this.resetPending) return 'error';
    if (this.peerEof) {
      this.eofRead = true;
      return 0;
    }
    return 'again';
  }

  /** Wait for the pool: `givesBack` is the capacity handed over in exchange (growth), 0 for a fresh borrow. */
  private starve(size: number, givesBack = 0): void {
    if (this.starvedFor !== null) return;
    this.visit('exhausted');
    this.setWatching(false);
    this.starvedFor = size;
    this.starvedGivesBack = givesBack;
  }

  /** Watching is refused once closed, done, or EOF has been read (level-triggered EOF is readable for ever). */
  private setWatching(on: boolean): void {
    if (on === this.watching || (on && (this.released || this.readDone || this.eofSeen))) return;
    this.watching = on;
  }

  // ---- endings ---------------------------------------------------------------------------

  private finishEof(): void {
    this.eof = true;
    this.readDone = true;
    this.releaseReadSide();
    this.serve();
  }

  private fail(code: ModelErrorCode): void {
    if (this.readDone && this.error) return;
    this.error = code;
    this.settleFailure(code);
    this.release();
  }

  private settleFailure(code: ModelErrorCode): void {
    this.readDone = true;
    this.releaseReadSide();
    const p = this.pending;
    this.pending = null;
    if (p) this.reads[p.id] = { status: 'error', code: this.error ?? code };
  }

  private releaseReadSide(): void {
    this.watching = false;
    this.starvedFor = null;
    this.starvedGivesBack = 0;
    this.plain = null;
    if (this.buf) this.put();
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.resetPending = false;
    this.releaseReadSide();
  }

  private visit(event: ModelEvent, state: ConnState = this.state): void {
    this.visits.push(`${state}:${event}`);
  }
}
