/**
 * The order of a connection's writes, in front of a reader's raw write path (docs/spec.md §9).
 * Most writes pass straight through. A message made in batches on demand (a large sealed
 * message: src/conn/sealedWrite.ts) holds the line: a batch is made only while fewer than
 * BATCHES_IN_FLIGHT are made and not yet taken by the kernel, at most one per event-loop turn,
 * and whatever is written or ended meanwhile waits behind it, in order.
 * @module
 */
import type { AltsError } from '../errors.js';

/** A message whose bytes are made a batch at a time, when the previous batch is gone. */
export interface BatchSource {
  /** Make the next batch; it is written `transient` (the maker may reuse its memory once written). */
  next(): Uint8Array;
  /** True while `next()` has more to make. */
  readonly more: boolean;
  /** The message ended before every batch was made (an error, or close): release what it reserved. */
  abandon(): void;
}

/** The readers' entry point for batched messages, keyed so it stays off the public ReadyReader type. */
export const WRITE_BATCHES: unique symbol = Symbol('alts.writeBatches');

export interface BatchWriter {
  [WRITE_BATCHES](source: BatchSource, done: (err: AltsError | null) => void): void;
}

/** What a reader does itself: one write (copying what it keeps when `transient`), and the FIN. */
export interface RawWriter {
  write(data: Uint8Array, done: (err: AltsError | null) => void, transient: boolean): void;
  shutdownWrite(done: (err: AltsError | null) => void): void;
  /** Why a new write is refused now (closed, ended, the socket failed), or null. */
  refusal(): AltsError | null;
}

type Done = (err: AltsError | null) => void;

type Waiting =
  | { kind: 'bytes'; data: Uint8Array; transient: boolean; done: Done }
  | { kind: 'batches'; source: BatchSource; done: Done }
  | { kind: 'end'; done: Done };

interface Active {
  source: BatchSource;
  done: Done;
  inFlight: number; // batches written and not yet all taken by the kernel
  scheduled: boolean; // the next batch is due in a later turn
}

/**
 * Most batches made and not yet taken by the kernel: the one it is taking, and the next, ready
 * when the socket is writable again (with one, the socket would wait a turn for every batch).
 */
export const BATCHES_IN_FLIGHT = 2;

export class Outbox {
  readonly #raw: RawWriter;
  /** The batched message being written, if any: everything else waits behind it. */
  #active: Active | null = null;
  readonly #waiting: Waiting[] = [];

  constructor(raw: RawWriter) {
    this.#raw = raw;
  }

  write(data: Uint8Array, done: Done, transient: boolean): void {
    const refused = this.#raw.refusal();
    if (refused !== null) return done(refused);
    if (this.#active === null) return this.#raw.write(data, done, transient);
    // Waiting means kept past this call: a transient buffer is copied now.
    this.#waiting.push({ kind: 'bytes', data: transient ? data.slice() : data, transient: false, done });
  }

  writeBatches(source: BatchSource, done: Done): void {
    const refused = this.#raw.refusal();
    if (refused !== null) {
      source.abandon();
      return done(refused);
    }
    if (this.#active === null) return this.#start(source, done);
    this.#waiting.push({ kind: 'batches', source, done });
  }

  shutdownWrite(done: Done): void {
    if (this.#active === null) return this.#raw.shutdownWrite(done);
    this.#waiting.push({ kind: 'end', done });
  }

  /** Fail the batched message and everything waiting behind it (close). */
  failAll(err: AltsError): void {
    const a = this.#active;
    this.#active = null;
    const waiting = this.#waiting.splice(0);
    if (a !== null) {
      a.source.abandon();
      a.done(err);
    }
    for (const w of waiting) {
      if (w.kind === 'batches') w.source.abandon();
      w.done(err);
    }
  }

  #start(source: BatchSource, done: Done): void {
    const a: Active = { source, done, inFlight: 0, scheduled: false };
    this.#active = a;
    this.#writeNext(a);
  }

  /** Make and write one batch; the next comes a turn later, once fewer than BATCHES_IN_FLIGHT are. */
  #writeNext(a: Active): void {
    a.scheduled = false;
    const batch = a.source.next();
    a.inFlight++;
    this.#raw.write(
      batch,
      (err) => {
        if (this.#active !== a) return; // failed meanwhile (close): already told
        a.inFlight--;
        if (err !== null) return this.#finish(a, err);
        if (!a.source.more && a.inFlight === 0) return this.#finish(a, null);
        this.#nextSoon(a);
      },
      true,
    );
    this.#nextSoon(a);
  }

  #nextSoon(a: Active): void {
    if (a.scheduled || !a.source.more || a.inFlight >= BATCHES_IN_FLIGHT || this.#active !== a) return;
    a.scheduled = true;
    setImmediate(() => {
      if (this.#active === a) this.#writeNext(a);
    });
  }

  #finish(a: Active, err: AltsError | null): void {
    this.#active = null;
    if (err !== null) a.source.abandon();
    a.done(err);
    // Pass on what waited, in order, until a batched message holds the line again.
    while (this.#active === null && this.#waiting.length > 0) {
      const w = this.#waiting.shift()!;
      if (w.kind === 'bytes') this.#raw.write(w.data, w.done, w.transient);
      else if (w.kind === 'end') this.#raw.shutdownWrite(w.done);
      else this.#start(w.source, w.done);
    }
  }
}
