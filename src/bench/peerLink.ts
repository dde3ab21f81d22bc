/**
 * The parent's side of a bench peer: a child process (process.execPath on dist/bench/peer.js,
 * forked with an IPC channel) that holds the other end of the connections. The two synchronize
 * on IPC messages only, never on sleeps: the parent sends a command and waits for the reply the
 * command names; an `error` message or the child's exit rejects whatever is waiting.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A message either way: `op` says what it is, the rest is plain JSON. */
export interface Msg {
  op: string;
  [k: string]: unknown;
}

const PEER = fileURLToPath(new URL('./peer.js', import.meta.url));

export class PeerLink {
  readonly #child: ChildProcess;
  readonly #inbox: Msg[] = [];
  #waiter: { op: string; resolve: (m: Msg) => void; reject: (e: Error) => void } | null = null;
  #failure: Error | null = null;
  readonly #exited: Promise<void>;

  private constructor(execArgv: string[]) {
    this.#child = fork(PEER, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (m: Msg) => {
      if (m.op === 'error') return this.#fail(new Error(`bench peer: ${String(m.message)}`));
      this.#inbox.push(m);
      this.#deliver();
    });
    this.#exited = new Promise((resolve) =>
      this.#child.once('exit', (code, signal) => {
        this.#fail(new Error(`bench peer exited (${signal ?? code}) before replying`));
        resolve();
      }),
    );
  }

  /** Start a peer and wait until it is ready. `gc`: run it with --expose-gc (for RSS measurements). */
  static async start(o: { gc?: boolean } = {}): Promise<PeerLink> {
    const link = new PeerLink(o.gc ? ['--expose-gc'] : []);
    await link.next('ready');
    return link;
  }

  send(m: Msg): void {
    this.#child.send(m);
  }

  /** The next message with this op (messages of other ops before it are an error). */
  next(op: string): Promise<Msg> {
    if (this.#waiter) return Promise.reject(new Error(`already waiting for '${this.#waiter.op}'`));
    return new Promise((resolve, reject) => {
      this.#waiter = { op, resolve, reject };
      this.#deliver();
    });
  }

  request(m: Msg, reply: string): Promise<Msg> {
    const r = this.next(reply);
    this.send(m);
    return r;
  }

  /** Ask the peer to exit and wait until it has. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null && this.#child.connected) this.#child.send({ op: 'exit' });
    await this.#exited;
  }

  #deliver(): void {
    const w = this.#waiter;
    if (w === null) return;
    if (this.#inbox.length > 0) {
      const m = this.#inbox.shift()!;
      this.#waiter = null;
      if (m.op === w.op) w.resolve(m);
      else w.reject(new Error(`bench peer said '${m.op}', expected '${w.op}'`));
    } else if (this.#failure) {
      this.#waiter = null;
      w.reject(this.#failure);
    }
  }

  #fail(e: Error): void {
    this.#failure ??= e;
    this.#deliver();
  }
}
