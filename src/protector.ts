/**
 * createProtector: the sans-IO ALTS record protocol of one side, for callers that move the
 * bytes themselves. `protect` turns plaintext into whole frames; `unprotect` turns any slice of
 * the peer's byte stream into the plaintext of every frame it completes. It drives the same
 * FrameReader as the connection (docs/spec.md §1): whole frames are opened where they sit in
 * the input, and an incomplete one is kept across calls in a buffer that grows with what the
 * peer actually sent (partialWant, docs/spec.md §5), never to the size its length field claims.
 * The handshake's leftover bytes (`protected`) are parsed first.
 *
 * Errors: a good frame's plaintext is never lost because a later frame in the same input is
 * bad. `unprotectAll(bytes)` returns `{ plaintext, error }` (every good frame's plaintext, then
 * the first error, if any) and never throws an AltsError. `unprotect(bytes)` returns that
 * plaintext when there is some and throws the error on the next call; with no plaintext it
 * throws at once. After any AltsError the protector is dead: every later protect/unprotect
 * throws that same error (unprotectAll returns it). Argument errors (TypeError/RangeError)
 * do not kill it.
 * @module
 */
import { abytes, aint, aoptions } from './_check.js';
import { createCrypters } from './crypto/index.js';
import type { Backend } from './crypto/types.js';
import { AltsError } from './errors.js';
import { DEFAULT_MAX_FRAME_SIZE, LENGTH_FIELD_BYTES, MAX_MAX_FRAME_SIZE, MIN_MAX_FRAME_SIZE } from './record/constants.js';
import { sealFrames } from './record/frame.js';
import { FrameReader } from './record/FrameReader.js';
import type { CounterStart, DirectionCrypter, RecordProtocol, Side } from './record/types.js';

export interface RecordOptions {
  protocol: RecordProtocol;
  side: Side;
  key: Uint8Array;
  /** Whole-frame size the handshake negotiated, 4 KiB..1 MiB. Default 16384. */
  maxFrameSize?: number;
  /** Default: defaultBackend(), i.e. 'native' where the addon loaded, else 'node'. */
  backend?: Backend;
  /** Bytes the handshake already read: the start of the peer's record stream. */
  protected?: Uint8Array;
  /** Counter start values as frame indices (default 0n): for tests that reach the edges. */
  counters?: CounterStart;
}

export interface UnprotectResult {
  /** The plaintext of every good frame the input completed, in order. */
  plaintext: Uint8Array;
  /** The first failure, or null. Once set, the protector is dead. */
  error: AltsError | null;
}

export interface Protector {
  protect(plaintext: Uint8Array): Uint8Array;
  unprotect(bytes: Uint8Array): Uint8Array;
  unprotectAll(bytes: Uint8Array): UnprotectResult;
  /** Bytes of an incomplete frame held between calls (an EOF now would be TRUNCATED). */
  readonly pendingBytes: number;
  /** The error that killed this protector, or null. */
  readonly error: AltsError | null;
}

const EMPTY = new Uint8Array(0);

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 0) return EMPTY;
  if (chunks.length === 1) return chunks[0]!;
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  n = 0;
  for (const c of chunks) {
    out.set(c, n);
    n += c.length;
  }
  return out;
}

class RecordProtector implements Protector {
  readonly #outbound: DirectionCrypter;
  readonly #maxFrameSize: number;
  readonly #frames: FrameReader;
  #leftover: Uint8Array | null;
  /** An incomplete frame held between calls, at the front of a buffer of its own. */
  #partial: Uint8Array | null = null;
  #partialHave = 0;
  #error: AltsError | null = null;

  constructor(o: RecordOptions) {
    aoptions('options', o, ['protocol', 'side', 'key', 'maxFrameSize', 'backend', 'protected', 'counters']);
    const maxFrameSize = o.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    aint('maxFrameSize', maxFrameSize, MIN_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE);
    if (o.protected !== undefined) abytes('protected', o.protected);
    const { outbound, inbound } = createCrypters(o);
    this.#outbound = outbound;
    this.#frames = new FrameReader(inbound);
    this.#maxFrameSize = maxFrameSize;
    this.#leftover = o.protected !== undefined && o.protected.length > 0 ? o.protected.slice() : null;
  }

  get pendingBytes(): number {
    return this.#partialHave;
  }

  get error(): AltsError | null {
    return this.#error;
  }

  protect(plaintext: Uint8Array): Uint8Array {
    abytes('plaintext', plaintext);
    if (this.#error) throw this.#error;
    try {
      return sealFrames(this.#outbound, plaintext, this.#maxFrameSize);
    } catch (e) {
      if (e instanceof AltsError) this.#error = e;
      throw e;
    }
  }

  unprotect(bytes: Uint8Array): Uint8Array {
    const r = this.unprotectAll(bytes);
    if (r.error !== null && r.plaintext.length === 0) throw r.error;
    return r.plaintext; // a deferred error is thrown by the next call
  }

  unprotectAll(bytes: Uint8Array): UnprotectResult {
    abytes('bytes', bytes);
    if (this.#error) return { plaintext: EMPTY, error: this.#error };
    const chunks: Uint8Array[] = [];
    try {
      if (this.#leftover !== null) {
        const first = this.#leftover;
        this.#leftover = null;
        this.#feed(first, chunks);
      }
      this.#feed(bytes, chunks);
    } catch (e) {
      if (!(e instanceof AltsError)) throw e;
      this.#error = e;
    }
    return { plaintext: concat(chunks), error: this.#error };
  }

  /** Parse `input`, pushing each good frame's plaintext onto `out`; throws at the first bad frame. */
  #feed(input: Uint8Array, out: Uint8Array[]): void {
    const fr = this.#frames;
    let pos = 0;
    if (this.#partial !== null) {
      pos = this.#completePartial(input);
      if (pos < 0) return; // still incomplete, input used up
      fr.attach(this.#partial, 0, this.#partialHave);
      this.#partial = null;
      this.#partialHave = 0;
      this.#drain(out);
    }
    fr.attach(input, pos, input.length);
    this.#drain(out);
    // Keep the incomplete tail in a buffer of its own, sized to what arrived (partialWant).
    const rest = fr.held;
    if (rest > 0) {
      this.#partial = new Uint8Array(fr.want());
      this.#partial.set(input.subarray(fr.start));
      this.#partialHave = rest;
    }
    fr.attach(null);
  }

  /** Open every whole frame the reader sees, in order; throws at the first bad one, after the good ones are pushed. */
  #drain(out: Uint8Array[]): void {
    const fr = this.#frames;
    for (;;) {
      fr.skipEmpty();
      const total = fr.deliverable(Infinity);
      if (total === 0) return;
      const plain = new Uint8Array(total);
      const n = fr.openRun(plain, 0, total);
      out.push(n === total ? plain : plain.subarray(0, n));
    }
  }

  /**
   * Continue the held incomplete frame from `input`, growing its buffer as bytes come (never
   * past the frame's size). Returns the input offset after the frame, or −1 if still incomplete.
   */
  #completePartial(input: Uint8Array): number {
    const fr = this.#frames;
    let pos = 0;
    for (;;) {
      fr.attach(this.#partial, 0, this.#partialHave);
      const f = fr.frameBytes(); // FRAME_TOO_LARGE/SHORT as soon as the 4 length bytes are in
      if (f >= 0 && this.#partialHave >= f) return pos;
      if (pos === input.length) return -1;
      const want = fr.want();
      if (want > this.#partial!.length) {
        const grown = new Uint8Array(want);
        grown.set(this.#partial!.subarray(0, this.#partialHave));
        this.#partial = grown;
      }
      // Never past this frame (its length field first): the bytes after it are parsed in place.
      const upTo = Math.min(this.#partial!.length, f >= 0 ? f : LENGTH_FIELD_BYTES);
      const take = Math.min(upTo - this.#partialHave, input.length - pos);
      this.#partial!.set(input.subarray(pos, pos + take), this.#partialHave);
      this.#partialHave += take;
      pos += take;
    }
  }
}

/** The sans-IO record protocol of one side. All options are checked up front. */
export function createProtector(options: RecordOptions): Protector {
  return new RecordProtector(options);
}
