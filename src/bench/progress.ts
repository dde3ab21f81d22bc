/**
 * The progress line a bench keeps on stderr while it runs: rewritten in place (\r) on a
 * terminal, at most ten times a second; one plain line per step elsewhere (CI logs), so a
 * piped stderr stays readable. stdout is left alone (it may carry --json).
 * @module
 */

export class Progress {
  readonly #out: NodeJS.WriteStream;
  readonly #now: () => number;
  readonly #tty: boolean;
  #step = '';
  #last = 0;
  #shown = false;

  constructor(out: NodeJS.WriteStream = process.stderr, now: () => number = Date.now) {
    this.#out = out;
    this.#now = now;
    this.#tty = out.isTTY === true;
  }

  /** A new step ("rep 2/5 · alts/node 16 KiB c2s"): always shown. */
  step(text: string): void {
    this.#step = text;
    this.#last = this.#now();
    this.#write(text, true);
  }

  /** Detail within the current step ("47%"): shown on a terminal, at most every 100 ms. */
  detail(text: string): void {
    if (!this.#tty) return;
    const now = this.#now();
    if (now - this.#last < 100) return;
    this.#last = now;
    this.#write(`${this.#step} ${text}`, false);
  }

  /** Clear the line (call before printing the report). */
  done(): void {
    if (this.#tty && this.#shown) this.#out.write('\r\x1b[K');
    this.#shown = false;
  }

  #write(text: string, isStep: boolean): void {
    if (this.#tty) {
      this.#out.write(`\r\x1b[K${text}`);
      this.#shown = true;
    } else if (isStep) {
      this.#out.write(`${text}\n`);
    }
  }
}
