/**
 * The model's pool (docs/spec.md §3, Pool refilled): the conn's one buffer and the other
 * holders' buffers against one budget, and the conn as its (only) waiter.
 * @module
 */
import { classSize } from './rules.js';
import { ModelState } from './ModelState.js';

export abstract class PoolModel extends ModelState {
  protected abstract normalize(): void;
  protected abstract serve(): void;
  protected abstract setWatching(on: boolean): void;


  /** Another holder's plain get: it will not wait, so the pool lends only within the budget. */
  protected hogTake(size: number): void {
    this.visit('hogTake');
    const cap = classSize(size);
    if (this.outstanding + cap <= this.cfg.budget) this.hogs.push(cap);
  }

  protected hogGive(index: number): void {
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
  protected poolLends(cost: number, holding: number, waiting: number): 'within' | 'overdraft' | 'no' {
    if (this.outstanding + cost <= this.cfg.budget) return 'within';
    const others = this.outstanding - holding;
    return others - waiting <= 0 && others <= this.cfg.budget ? 'overdraft' : 'no';
  }

  /** What the pool's waiters hold while they wait: the conn, if starved, holds what it gives back. */
  protected get waitersHolding(): number {
    return this.starvedFor === null ? 0 : this.starvedGivesBack;
  }

  /**
   * The pool, after any put: tell the waiter (one conn here) if it could borrow now. Its cost is
   * max(0, classSize(size) - givesBack): growth is an exchange, so the buffer given back counts.
   * It is the only waiter, so no other waiter holds anything.
   */
  protected poolWake(): void {
    if (this.starvedFor === null) return;
    const cost = Math.max(0, classSize(this.starvedFor) - this.starvedGivesBack);
    if (this.poolLends(cost, this.starvedGivesBack, 0) === 'no') return;
    this.visit('refilled');
    this.starvedFor = null;
    this.starvedGivesBack = 0;
    this.normalize();
    this.serve();
  }

  protected put(): void {
    this.buf = null;
    this.poolWake();
  }

  /** Wait for the pool: `givesBack` is the capacity handed over in exchange (growth), 0 for a fresh borrow. */
  protected starve(size: number, givesBack = 0): void {
    if (this.starvedFor !== null) return;
    this.visit('exhausted');
    this.setWatching(false);
    this.starvedFor = size;
    this.starvedGivesBack = givesBack;
  }

}
