/**
 * The driver of a connection's read side (docs/spec.md §3, Events): takes one step at a time
 * until none is left, and emits each step's events once that step is complete, the state change
 * first. A call that arrives while the loop runs (a listener, a pool callback, a promise
 * reaction can only come later) asks for another turn instead of nesting a second loop; a step
 * that throws is handed to `onThrow` (which fails the connection) and the loop goes on. A
 * listener's own exception belongs to the listener, not to whichever call ran the loop (a read()
 * or end() would otherwise reject, or swallow it, for a conn that is fine): it is rethrown from
 * a microtask of its own, an uncaught exception as from any event listener, and the loop goes on.
 * @module
 */
import type { ConnEventName, ConnState } from './events.js';

export interface StepLoopParts {
  /** One step: true if it changed something (take another). */
  step: () => boolean;
  /** A step threw: end the connection with it. */
  onThrow: (e: unknown) => void;
  state: () => [ConnState, number];
  emit: (event: ConnEventName, ...args: unknown[]) => void;
}

export class StepLoop {
  readonly #p: StepLoopParts;
  #running = false;
  #again = false;
  #events: [ConnEventName, unknown[]][] = [];
  #lastState: ConnState;

  constructor(p: StepLoopParts) {
    this.#p = p;
    this.#lastState = p.state()[0];
  }

  /** Inside the loop at all: a step, or the events after one. */
  get running(): boolean {
    return this.#running;
  }

  /** Emit `event` once the current step is complete. */
  queue(event: ConnEventName, ...args: unknown[]): void {
    this.#events.push([event, args]);
  }

  /** Take steps until nothing more would happen, or, while running, ask for another turn. */
  run(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    try {
      for (;;) {
        this.#again = false;
        let moved: boolean;
        try {
          moved = this.#p.step();
        } catch (e) {
          this.#p.onThrow(e);
          moved = true;
        }
        this.#flush();
        if (!moved && !this.#again) break;
      }
    } finally {
      this.#running = false;
    }
  }

  #flush(): void {
    const [s, held] = this.#p.state();
    if (s !== this.#lastState) {
      this.#lastState = s;
      this.#events.unshift(['state', [s, held]]);
    }
    while (this.#events.length > 0) {
      const [name, args] = this.#events.shift()!;
      try {
        this.#p.emit(name, ...args);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}
