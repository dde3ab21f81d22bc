/**
 * A bound on handshakes in flight to one handshaker service (docs/handshake.md §6): at most
 * `max` hold a slot, the rest wait in arrival order. A waiter that gives up (deadline,
 * cancellation) leaves the queue; a grant runs from a microtask, never inside the release
 * that freed the slot.
 * @module
 */
import { aint } from '../_check.js';

export interface Slot {
  /** Leave the queue, or free the slot once granted. Idempotent. */
  release(): void;
}

export class Limiter {
  readonly max: number;
  #inFlight = 0;
  readonly #waiting = new Set<() => void>(); // insertion order = FIFO

  constructor(max: number) {
    aint('max', max, 1, 2 ** 31 - 1);
    this.max = max;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get waiting(): number {
    return this.#waiting.size;
  }

  /** `granted` runs (from a microtask) once a slot is ours. */
  acquire(granted: () => void): Slot {
    let state: 'waiting' | 'held' | 'released' = 'waiting';
    const grant = (): void => {
      state = 'held';
      queueMicrotask(granted);
    };
    // A free slot means nobody waits: a freed slot passes straight to the first waiter (#next).
    if (this.#inFlight < this.max) {
      this.#inFlight++;
      grant();
    } else {
      this.#waiting.add(grant);
    }
    return {
      release: () => {
        if (state === 'waiting') this.#waiting.delete(grant);
        else if (state === 'held') this.#next();
        state = 'released';
      },
    };
  }

  #next(): void {
    const first = this.#waiting.values().next();
    if (first.done) {
      this.#inFlight--;
      return;
    }
    this.#waiting.delete(first.value);
    first.value(); // the slot passes straight to the first waiter
  }
}
