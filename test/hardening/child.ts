/**
 * A child Node process for the hardening tests, started through `sh -c 'ulimit -n N; exec node
 * ...'` so it runs with its own fd limit (Node has no setrlimit), and spoken to in lines: commands
 * on its stdin, answers `<word> <json>` on its stdout. Synchronises only on those lines and on its
 * exit, never on sleeps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export class LineChild {
  readonly proc: ChildProcess;
  /** Resolves with the exit code (null if killed by a signal). */
  readonly exited: Promise<number | null>;
  stderr = '';
  #lines: string[] = [];
  #wake: (() => void) | null = null;
  #exitCode: number | null | undefined = undefined;

  /** `node script ...args` with soft and hard fd limits `fdLimit` (or the inherited ones). */
  constructor(script: string, args: string[], fdLimit?: number) {
    const node = [process.execPath, script, ...args];
    this.proc =
      fdLimit === undefined
        ? spawn(node[0]!, node.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
        : spawn('sh', ['-c', 'ulimit -n "$1" || exit 97; shift; exec "$@"', 'sh', String(fdLimit), ...node], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = (once(this.proc, 'exit') as Promise<[number | null]>).then(([code]) => {
      this.#exitCode = code;
      this.#wake?.();
      return code;
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      this.#lines.push(line);
      this.#wake?.();
    });
  }

  send(command: string): void {
    this.proc.stdin!.write(`${command}\n`);
  }

  /** The JSON of the next line that starts with `word`; rejects if the child exits first. */
  async next<T = Record<string, unknown>>(word: string): Promise<T> {
    for (;;) {
      const i = this.#lines.findIndex((l) => l.startsWith(`${word} `));
      if (i >= 0) return JSON.parse(this.#lines.splice(0, i + 1).pop()!.slice(word.length + 1)) as T;
      if (this.#exitCode !== undefined) throw new Error(`child exited (${this.#exitCode}) before '${word}': ${this.stderr}`);
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = null;
    }
  }

  /** Send `command` and wait for its answer line. */
  ask<T = Record<string, unknown>>(command: string, word: string): Promise<T> {
    this.send(command);
    return this.next<T>(word);
  }

  kill(): void {
    if (this.#exitCode === undefined) this.proc.kill();
  }
}
