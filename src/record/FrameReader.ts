/**
 * FrameReader: the sans-IO read rules of the ALTS record protocol (docs/spec.md §1), held once
 * for both createProtector and the connection. It works on a region of bytes its owner provides
 * (`buf`, the peer's protected bytes in [start, end)) and never allocates, reads a socket or
 * decides where memory comes from: the owner moves bytes in, and sizes the buffer of an
 * incomplete frame with `partialWant` (docs/spec.md §5).
 *
 * - Framing: the header is checked as soon as its bytes are in, before any payload: the length
 *   field once its 4 bytes are (FRAME_TOO_LARGE, FRAME_TOO_SHORT), the type word once its 4 are
 *   too (BAD_MESSAGE_TYPE). Only the frame a read has reached is checked, so this stays lazy.
 * - Lazy opening: a frame is opened only when a read reaches it. `openRun` opens whole frames
 *   while they fit and stops before a bad one once it has plaintext, so every good frame's
 *   plaintext is handed up before the bad frame fails (on the next call, alone).
 * - Empty frames (len = 20): authenticated and counted like any frame, produce nothing, are
 *   never mistaken for EOF; `skipEmpty` goes through any run of them in one loop.
 * - A failure on the stream's first frame says the peer may not be speaking ALTS (an HTTP
 *   request or an HTTP/2 preface fails the length check there, a TLS ClientHello the type check).
 * @module
 */
import { AltsError } from '../errors.js';
import { FRAME_OVERHEAD, LENGTH_FIELD_BYTES, TYPE_FIELD_BYTES } from './constants.js';
import { frameBytesAt, openFrame } from './frame.js';
import type { DirectionCrypter } from './types.js';

const HEADER_BYTES = LENGTH_FIELD_BYTES + TYPE_FIELD_BYTES;
const NOT_ALTS_HINT = ' (the peer may not be speaking ALTS)';

/**
 * The bytes a buffer holding `held` bytes of an incomplete frame should have room for: twice
 * what is held (at least 64), capped at the frame's own size once its length field is in
 * (`frameBytes`, −1 before). Memory follows what the peer actually sent, never what it claims.
 */
export function partialWant(held: number, frameBytes: number): number {
  const want = Math.max(2 * held, 64);
  return frameBytes >= 0 ? Math.min(frameBytes, want) : want;
}

export class FrameReader {
  readonly #inbound: DirectionCrypter;
  /** The owner's buffer: protected bytes in [start, end), plaintext not yet taken in [plainStart, plainEnd). */
  buf: Uint8Array | null = null;
  start = 0;
  end = 0;
  plainStart = 0;
  plainEnd = 0;
  /** Frames opened so far (empty ones included). */
  framesOpened = 0;

  constructor(inbound: DirectionCrypter) {
    this.#inbound = inbound;
  }

  /** Protected bytes held, not yet opened. */
  get held(): number {
    return this.end - this.start;
  }

  /** Plaintext opened and not yet taken. */
  get plainLeft(): number {
    return this.plainEnd - this.plainStart;
  }

  /** Point the reader at `buf[start, end)` (plaintext none). */
  attach(buf: Uint8Array | null, start = 0, end = 0): void {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.plainStart = this.plainEnd = 0;
  }

  /** The frame at `start`: its whole byte count, or −1 before its 4 length bytes are in. Throws on a bad header. */
  frameBytes(): number {
    if (this.buf === null) return -1;
    try {
      return frameBytesAt(this.buf, this.start, this.end - this.start);
    } catch (e) {
      throw this.#hinted(e);
    }
  }

  /** The byte count of the whole frame at `start`, or −1 when none is whole yet. Throws on a bad header. */
  wholeFrame(): number {
    const f = this.frameBytes();
    return f >= 0 && this.end - this.start >= f ? f : -1;
  }

  /** Is there plaintext to take or a whole frame to open? (The conn's `decrypted` state.) */
  get ready(): boolean {
    return this.plainLeft > 0 || this.wholeFrame() >= 0;
  }

  /** What the buffer of the incomplete frame at `start` should have room for (see partialWant). */
  want(): number {
    return partialWant(this.held, this.frameBytes());
  }

  /** Open every whole empty frame at `start`; returns how many. Throws at one that fails (it stays). */
  skipEmpty(): number {
    let k = 0;
    while (this.plainLeft === 0 && this.wholeFrame() === FRAME_OVERHEAD) {
      this.#open(this.start, FRAME_OVERHEAD, this.buf!, this.start + HEADER_BYTES);
      this.start += FRAME_OVERHEAD;
      k++;
    }
    return k;
  }

  /**
   * Plaintext a read of `room` bytes would get now, at most: what is left of an opened frame,
   * or the whole frames at `start` that fit (the first one cut to `room` if it does not). A frame
   * that turns out bad stops the run early.
   */
  deliverable(room: number): number {
    if (this.plainLeft > 0) return Math.min(room, this.plainLeft);
    let at = this.start;
    let n = 0;
    for (;;) {
      let f: number;
      try {
        f = frameBytesAt(this.buf!, at, this.end - at);
      } catch {
        return n;
      }
      if (f < 0 || this.end - at < f) return n;
      const payload = f - FRAME_OVERHEAD;
      if (n + payload > room) return n === 0 ? room : n;
      n += payload;
      at += f;
    }
  }

  /**
   * Open the whole frames at `start` into dst[dstOff, dstOff + room) while each fits what is
   * left; returns the plaintext bytes written. A frame that fails is left where it is: with
   * plaintext already written the run stops there; with none the error is thrown.
   */
  openRun(dst: Uint8Array, dstOff: number, room: number): number {
    let n = 0;
    for (;;) {
      let f: number;
      try {
        f = this.wholeFrame();
        if (f < 0 || f - FRAME_OVERHEAD > room - n) return n;
        n += this.#open(this.start, f, dst, dstOff + n);
      } catch (e) {
        if (n > 0) return n;
        throw e;
      }
      this.start += f;
    }
  }

  /** Open the whole frame at `start` in place; its plaintext becomes `plainLeft`. Throws if it fails. */
  openInPlace(): void {
    const f = this.wholeFrame();
    const buf = this.buf!;
    const at = this.start;
    const n = this.#open(at, f, buf, at + HEADER_BYTES);
    this.start += f;
    this.plainStart = at + HEADER_BYTES;
    this.plainEnd = this.plainStart + n;
  }

  /** Copy up to `room` bytes of the opened plaintext into dst[dstOff, ...); returns how many. */
  takePlain(dst: Uint8Array, dstOff: number, room: number): number {
    const n = Math.min(room, this.plainLeft);
    dst.set(this.buf!.subarray(this.plainStart, this.plainStart + n), dstOff);
    this.plainStart += n;
    if (this.plainStart === this.plainEnd) this.plainStart = this.plainEnd = 0;
    return n;
  }

  /** Move the held protected bytes to the front of the buffer (no plaintext may be left). */
  compact(): void {
    if (this.start > 0) this.buf!.copyWithin(0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
  }

  #open(at: number, f: number, dst: Uint8Array, dstOff: number): number {
    try {
      const n = openFrame(this.#inbound, this.buf!, at, f, dst, dstOff);
      this.framesOpened++;
      return n;
    } catch (e) {
      throw this.#hinted(e);
    }
  }

  /** A framing or type error on the stream's first frame: say the peer may not be speaking ALTS. */
  #hinted(e: unknown): unknown {
    if (this.framesOpened > 0 || !(e instanceof AltsError)) return e;
    if (e.code !== 'FRAME_TOO_LARGE' && e.code !== 'FRAME_TOO_SHORT' && e.code !== 'BAD_MESSAGE_TYPE') return e;
    return new AltsError(e.code, `${e.message.slice(e.code.length + 2)}${NOT_ALTS_HINT}`);
  }
}
