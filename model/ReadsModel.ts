/**
 * The model's reads (docs/spec.md §3, Deliver): a caller's read starts, and what is held is
 * handed up to it, frame by frame, empty frames skipped, a bad frame failing the conn.
 * @module
 */
import type { ModelErrorCode } from './types.js';
import { PoolModel } from './PoolModel.js';

export abstract class ReadsModel extends PoolModel {
  protected abstract fail(code: ModelErrorCode): void;


  protected startRead(n: number): void {
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
  protected serve(): void {
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
  protected skipEmpty(): void {
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

  protected deliverFrame(p: { id: number; n: number }): void {
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

  protected deliverPlain(p: { id: number; n: number }): void {
    const pl = this.plain!;
    const text = this.frames[pl.frame]!.plaintext;
    const n = Math.min(p.n, text.length - pl.off);
    const out = text.subarray(pl.off, pl.off + n);
    pl.off += n;
    if (pl.off === text.length) this.plain = null;
    this.handUp(p, out);
  }

  protected handUp(p: { id: number; n: number }, bytes: Uint8Array): void {
    this.pending = null;
    this.normalize();
    this.delivered.push(...bytes);
    this.reads[p.id] = { status: 'ok', n: bytes.length };
    this.serve();
  }

}
