/**
 * createProtector: the sans-IO ALTS record protocol of one side (DESIGN §4), for callers that
 * move the bytes themselves. `protect` turns plaintext into whole frames; `unprotect` turns any
 * slice of the peer's byte stream into the plaintext of every frame it completes, keeping a
 * partial frame (and only its bytes: a ≤4-byte header, then a buffer of exactly that frame's
 * size) across calls. The handshake's leftover bytes (`protected`) are parsed first.
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
import { abytes, aint } from './_check.js';
import { createCrypters } from './crypto/index.js';
import type { Backend, CounterStart, DirectionCrypter, RecordProtocol, Side } from './crypto/types.js';
import { AltsError } from './errors.js';
import { DEFAULT_MAX_FRAME_SIZE, FRAME_OVERHEAD, LENGTH_FIELD_BYTES, MAX_MAX_FRAME_SIZE, MIN_MAX_FRAME_SIZE } from './record/constants.js';
import { frameBytesAt, openFrame, sealFrames } from './record/frame.js';

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
  readonly #inbound: DirectionCrypter;
  readonly #maxFrameSize: number;
  #leftover: Uint8Array | null;
  #hdr = new Uint8Array(LENGTH_FIELD_BYTES); // the length bytes of a partial frame
  #hdrLen = 0;
  #frame: Uint8Array | null = null; // a partial frame, sized exactly to it
  #frameHave = 0;
  #error: AltsError | null = null;

  constructor(o: RecordOptions) {
    if (typeof o !== 'object' || o === null) throw new TypeError(`"options" expected object, got ${o === null ? 'null' : typeof o}`);
    const maxFrameSize = o.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    aint('maxFrameSize', maxFrameSize, MIN_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE);
    if (o.protected !== undefined) abytes('protected', o.protected);
    const { outbound, inbound } = createCrypters(o);
    this.#outbound = outbound;
    this.#inbound = inbound;
    this.#maxFrameSize = maxFrameSize;
    this.#leftover = o.protected !== undefined && o.protected.length > 0 ? o.protected.slice() : null;
  }

  get pendingBytes(): number {
    return this.#frame !== null ? this.#frameHave : this.#hdrLen;
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
    let pos = 0;
    if (this.#hdrLen > 0 || this.#frame !== null) {
      pos = this.#completePartial(input, out);
      if (pos < 0) return; // still partial, input used up
    }
    // Find the complete frames first, so their plaintext goes into one buffer; a framing error
    // is raised only after the good frames before it are opened.
    let end = pos;
    let total = 0;
    let framingError: unknown = null;
    let fb = -1;
    for (;;) {
      try {
        fb = frameBytesAt(input, end, input.length - end);
      } catch (e) {
        framingError = e;
        break;
      }
      if (fb < 0 || fb > input.length - end) break;
      total += fb - FRAME_OVERHEAD;
      end += fb;
    }
    if (end > pos) {
      const plain = new Uint8Array(total);
      let produced = 0;
      try {
        for (let at = pos; at < end; ) {
          const f = frameBytesAt(input, at, end - at);
          produced += openFrame(this.#inbound, input, at, f, plain, produced);
          at += f;
        }
      } finally {
        if (produced > 0) out.push(produced === total ? plain : plain.subarray(0, produced));
      }
    }
    if (framingError !== null) throw framingError;
    // Keep the incomplete tail: at most 3 header bytes, or a buffer of the frame's exact size.
    const rest = input.length - end;
    if (rest === 0) return;
    if (fb < 0) {
      this.#hdr.set(input.subarray(end));
      this.#hdrLen = rest;
    } else {
      this.#frame = new Uint8Array(fb);
      this.#frame.set(input.subarray(end));
      this.#frameHave = rest;
    }
  }

  /** Continue the held partial frame from `input`. Returns the input offset after it, or -1 if still partial. */
  #completePartial(input: Uint8Array, out: Uint8Array[]): number {
    let pos = 0;
    if (this.#frame === null) {
      const take = Math.min(LENGTH_FIELD_BYTES - this.#hdrLen, input.length);
      this.#hdr.set(input.subarray(0, take), this.#hdrLen);
      this.#hdrLen += take;
      pos = take;
      if (this.#hdrLen < LENGTH_FIELD_BYTES) return -1;
      const fb = frameBytesAt(this.#hdr, 0, LENGTH_FIELD_BYTES); // FRAME_TOO_LARGE/SHORT from 4 bytes
      this.#hdrLen = 0;
      this.#frame = new Uint8Array(fb);
      this.#frame.set(this.#hdr);
      this.#frameHave = LENGTH_FIELD_BYTES;
    }
    const frame = this.#frame;
    const take = Math.min(frame.length - this.#frameHave, input.length - pos);
    frame.set(input.subarray(pos, pos + take), this.#frameHave);
    this.#frameHave += take;
    pos += take;
    if (this.#frameHave < frame.length) return -1;
    this.#frame = null;
    this.#frameHave = 0;
    // Our own buffer: decrypt in place and hand up a view of it.
    const n = openFrame(this.#inbound, frame, 0, frame.length, frame, 8);
    if (n > 0) out.push(frame.subarray(8, 8 + n));
    return pos;
  }
}

/** The sans-IO record protocol of one side (DESIGN §4). All options are checked up front. */
export function createProtector(options: RecordOptions): Protector {
  return new RecordProtector(options);
}
