/**
 * Where a connection's protected bytes come from (docs/spec.md §2, Watching; §3, Readiness):
 * the handshake's leftovers first, then the socket through its ReadyReader. It remembers a
 * readiness (or a test wakeup) until the read side's loop takes it, and what the reader was last
 * told about watching, so readiness nobody asked for is dropped. A socket error is the reader's
 * to keep: it comes as the result of the conn's next read(2) (docs/spec.md §3).
 * @module
 */
import type { ReadyReader } from '../io/types.js';
import type { ConnStats } from './events.js';

export class Intake {
  /** A readiness not yet acted on: from the poller, or the test hook (which runs watching or not). */
  woken: 'poll' | 'hook' | null = null;
  readonly #io: ReadyReader;
  readonly #stats: ConnStats;
  #leftover: Uint8Array | null;
  #watching = false;

  constructor(io: ReadyReader, stats: ConnStats, leftover: Uint8Array | null, kick: () => void) {
    this.#io = io;
    this.#stats = stats;
    this.#leftover = leftover;
    io.onReadable = () => {
      if (!this.#watching) return; // level-triggered readiness nobody asked for
      this.woken ??= 'poll';
      kick();
    };
  }

  get watching(): boolean {
    return this.#watching;
  }

  get hasLeftover(): boolean {
    return this.#leftover !== null;
  }

  /** Take the readiness: true if it is one to act on (a hook, or the poller while watching). */
  takeWakeup(): boolean {
    const w = this.woken;
    this.woken = null;
    return w === 'hook' || (w === 'poll' && this.#watching);
  }

  watch(on: boolean): void {
    if (on === this.#watching) return;
    this.#watching = on;
    this.#io.watchReadable(on);
  }

  /** One read into buf[off, off+len): from the leftovers, else one read(2) (n, 0 at EOF, AGAIN; throws IO_ERROR). */
  pull(buf: Uint8Array, off: number, len: number): number {
    const left = this.#leftover;
    if (left !== null) {
      const n = Math.min(len, left.length);
      buf.set(left.subarray(0, n), off);
      this.#leftover = n === left.length ? null : left.subarray(n);
      return n;
    }
    this.#stats.reads++;
    return this.#io.readInto(buf, off, len);
  }

  /** The read side is done: nothing more is taken in. */
  stop(): void {
    this.watch(false);
    this.#leftover = null;
  }
}
