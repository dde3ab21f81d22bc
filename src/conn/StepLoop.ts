/**
 * The driver of a connection's read side (docs/spec.md §3, Events): takes one step at a time
 * until none is left, and emits each step's events once that step is complete, the state change
 * first. A call that arrives while the loop runs (a listener, a pool callback, a promise
 * reaction can only come later) asks for another turn instead of nesting a second loop; a step
 * that throws is handed to `onThrow` (which fails the connection) and the loop goes on. A
 * listener's own exception is rethrown after the loop is done, so the conn is never left half
 * way through a step.
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
  #stepping = false;
  #again = false;
  #events: [ConnEventName, unknown[]][] = [];
  #lastState: ConnState;

  constructor(p: StepLoopParts) {
    this.#p = p;
    this.#lastState = p.state()[0];
  }

  /** Inside a step now (a change made here would be nested in it)? */
  get stepping(): boolean {
    return this.#stepping;
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
    let listenerError: unknown = null;
    try {
      for (;;) {
        this.#again = false;
        let moved: boolean;
        this.#stepping = true;
        try {
          moved = this.#p.step();
        } catch (e) {
          this.#stepping = false;
          this.#p.onThrow(e);
          moved = true;
        }
        this.#stepping = false;
        listenerError ??= this.#flush();
        if (!moved && !this.#again) break;
      }
    } finally {
      this.#running = false;
    }
    if (listenerError !== null) throw listenerError;
  }

  #flush(): unknown {
    let err: unknown = null;
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
        err ??= e;
      }
    }
    return err;
  }
}
