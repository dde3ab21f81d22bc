/**
 * AltsConn: one ALTS record-protocol connection with readiness-based reads (docs/spec.md §2, §3).
 *
 * The read side (ReadSide.ts) holds at most one pool buffer, and only while it has bytes to keep:
 *   idle       no buffer; a read may be pending, the reader watching for readiness
 *   readable   a buffer borrowed for the read(2) in progress
 *   partial    the bytes of an incomplete frame, in a buffer of partialCapacity()
 *   decrypted  plaintext or whole frames the caller has not taken yet
 *   closed     nothing held, nothing pending (EOF, error, or close())
 * Frames are opened lazily, when the caller reads up to them (docs/spec.md §1): a good frame's
 * plaintext is always handed up before a bad frame after it fails the connection. This module
 * holds the public surface, the write side and the connection's lifecycle.
 * @module
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { abool, abytes, aint, aoptions } from '../_check.js';
import { AltsError } from '../errors.js';
import type { AltsContext } from '../handshake/handshake.js';
import type { ReaderKind, ReadyReader } from '../io/types.js';
import type { BufferPool } from '../pool/BufferPool.js';
import { classSize, MAX_CLASS } from '../pool/sizeClass.js';
import { FrameReader } from '../record/FrameReader.js';
import type { DirectionCrypter } from '../record/types.js';
import type { ConnEventName, ConnEvents, ConnState, ConnStats } from './events.js';
import { PendingRead, type ReadyResult } from './PendingRead.js';
import { ReadSide } from './ReadSide.js';
import { sealAndWrite } from './sealedWrite.js';
import { registerTestHooks } from './testHooks.js';
import { toDuplex } from './toDuplex.js';

export type { ConnEvents, ConnState, ConnStats, Wakeup } from './events.js';

/** close()'s options. */
export interface CloseOptions {
  /** Reset the connection (on TCP the peer sees ECONNRESET, not EOF): for an ending caused by a failure. */
  abort?: boolean;
}

function closeAbort(o: unknown): boolean {
  if (o === undefined) return false;
  aoptions('options', o, ['abort']);
  if (o.abort === undefined) return false;
  abool('abort', o.abort);
  return o.abort;
}

export const DEFAULT_READ_SIZE = 64 * 1024;

function readsBelongToDuplex(): Promise<never> {
  return Promise.reject(new AltsError('READ_IN_PROGRESS', 'the connection is read through its Duplex (toDuplex())'));
}

export interface ConnParts {
  reader: ReadyReader;
  pool: BufferPool;
  inbound: DirectionCrypter;
  outbound: DirectionCrypter;
  maxFrameSize: number;
  /** Bytes borrowed for one read(2) from idle (rounded to a size class). Default 64 KiB. */
  readSize?: number;
  /** Bytes the handshake already read: the start of the record stream. */
  protected?: Uint8Array;
  /** What the handshake established; null when the caller brought the key. */
  altsContext?: AltsContext | null;
  /** The TCP peer, where the transport had one when the conn was made. */
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
}

export interface AltsConn {
  on<E extends ConnEventName>(event: E, listener: ConnEvents[E]): this;
  once<E extends ConnEventName>(event: E, listener: ConnEvents[E]): this;
  off<E extends ConnEventName>(event: E, listener: ConnEvents[E]): this;
  emit<E extends ConnEventName>(event: E, ...args: Parameters<ConnEvents[E]>): boolean;
}

export class AltsConn extends EventEmitter {
  readonly reader: ReaderKind;
  /** The handshake's result (peer identity, protocols, RPC versions); null without a handshake. */
  readonly altsContext: AltsContext | null;
  /** The TCP peer's address and port, where known (read before the native reader took the fd). */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly stats: ConnStats = {
    wakeups: 0,
    spuriousWakeups: 0,
    reads: 0,
    bytesRead: 0,
    starvedWaits: 0,
    framesOpened: 0,
    bytesWritten: 0,
  };
  readonly #io: ReadyReader;
  readonly #pool: BufferPool;
  readonly #outbound: DirectionCrypter;
  readonly #maxFrameSize: number;
  readonly #read: ReadSide;
  // Write side: open, ending (end() called: the FIN after every queued write), or ended.
  #write: 'open' | 'ending' | 'ended' = 'open';
  #ending: Promise<void> | null = null;
  #duplex: Duplex | null = null;

  constructor(parts: ConnParts) {
    super();
    this.#io = parts.reader;
    this.reader = parts.reader.kind;
    this.altsContext = parts.altsContext ?? null;
    this.remoteAddress = parts.remoteAddress;
    this.remotePort = parts.remotePort;
    this.#pool = parts.pool;
    this.#outbound = parts.outbound;
    this.#maxFrameSize = parts.maxFrameSize;
    const rs = parts.readSize ?? DEFAULT_READ_SIZE;
    aint('readSize', rs, 64, MAX_CLASS);
    this.#read = new ReadSide({
      io: parts.reader,
      pool: parts.pool,
      frames: new FrameReader(parts.inbound),
      stats: this.stats,
      readSize: classSize(rs),
      leftover: parts.protected !== undefined && parts.protected.length > 0 ? parts.protected.slice() : null,
      emit: (event, ...args) => this.emit(event, ...(args as [never])),
      onEof: () => {
        if (this.#write === 'ended') this.#read.release(); // both directions done: give the socket back
      },
    });
    const rd = this.#read;
    registerTestHooks(this, {
      simulateWakeup: () => rd.wakeup(),
      get watching() {
        return rd.watching;
      },
      get starved() {
        return rd.starved;
      },
    });
  }

  /** The read side's state (docs/spec.md §2). */
  get state(): ConnState {
    return this.#read.state;
  }

  /** Pool bytes this connection holds now (the capacity of its one buffer, or 0). */
  get heldBytes(): number {
    return this.#read.heldBytes;
  }

  /** The error that ended the read side, if one did. */
  get error(): AltsError | null {
    return this.#read.error;
  }

  /** Read plaintext into `into`: resolves with the bytes read, 0 at clean EOF. */
  read(into: Uint8Array): Promise<number> {
    abytes('into', into);
    if (into.length === 0) throw new RangeError('"into" expected a non-empty Uint8Array');
    if (this.#duplex !== null) return readsBelongToDuplex();
    return new Promise((resolve, reject) => this.#read.start(new PendingRead({ into }, resolve as (v: unknown) => void, reject)));
  }

  /**
   * Wait until plaintext is ready, then hand it up in a buffer borrowed from `pool` (the caller
   * puts it back): `buf` is exactly the `n` bytes delivered (at most `size`), and nothing else
   * of that pool buffer shows an earlier owner's bytes (docs/spec.md §3, "The handed-out
   * buffer"). Nothing is borrowed while waiting. Resolves null at EOF.
   */
  readOnReady(size: number, pool: BufferPool): Promise<ReadyResult> {
    aint('size', size, 1, MAX_CLASS);
    if (pool === null || typeof pool !== 'object' || typeof pool.get !== 'function')
      throw new TypeError(`"pool" expected BufferPool, got ${pool === null ? 'null' : typeof pool}`);
    if (this.#duplex !== null) return readsBelongToDuplex();
    return this.#readOnReady(size, pool);
  }

  #readOnReady(size: number, pool: BufferPool): Promise<ReadyResult> {
    return new Promise((resolve, reject) => this.#read.start(new PendingRead({ size, pool }, resolve as (v: unknown) => void, reject)));
  }

  /** Protect and send: resolves when the kernel has every byte. */
  write(data: Uint8Array): Promise<void> {
    abytes('data', data);
    if (this.#read.released) return Promise.reject(this.#read.error ?? new AltsError('CLOSED', 'write after close'));
    if (this.#write !== 'open') return Promise.reject(new AltsError('CLOSED', 'write after end'));
    if (data.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.stats.bytesWritten += sealAndWrite(this.#outbound, data, this.#maxFrameSize, this.#io, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Half-close after every queued write: the peer reads EOF. Reading goes on. */
  end(): Promise<void> {
    if (this.#ending) return this.#ending;
    if (this.#read.released) return Promise.reject(this.#read.error ?? new AltsError('CLOSED', 'end after close'));
    this.#write = 'ending';
    this.#ending = new Promise((resolve, reject) =>
      this.#io.shutdownWrite((err) => {
        this.#write = 'ended';
        if (err) reject(err);
        else resolve();
        if (this.#read.phase.kind === 'done') {
          this.#read.release(); // both directions done: give the socket back
          this.#read.run();
        }
      }),
    );
    return this.#ending;
  }

  /**
   * Close now: every buffer returned, a pending read rejected with CLOSED, pending writes too, the
   * socket closed once. With `{ abort: true }` the close is abortive: on TCP the peer sees a reset,
   * not EOF, so a connection ended by a failure does not look like a complete one (docs/spec.md §10).
   */
  close(options?: CloseOptions): void {
    const abort = closeAbort(options);
    this.#read.close(abort);
    this.#read.run();
  }

  /**
   * A Node Duplex over this connection (one copy per read; nothing held while idle). The same one
   * on every call. From then on the conn's reads are the Duplex's: read() and readOnReady()
   * reject READ_IN_PROGRESS, and the stream is left as it was (docs/spec.md §3).
   */
  toDuplex(): Duplex {
    return (this.#duplex ??= toDuplex(this, this.#pool, (size, pool) => this.#readOnReady(size, pool)));
  }
}
