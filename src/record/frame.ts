/**
 * ALTS record framing (docs/spec.md §1 "Frame", "Message type", "Lengths"; its sources there):
 * len (u32 LE, counts type + ciphertext + tag) ‖ type (u32 LE, the whole word must be 6) ‖
 * ciphertext ‖ 16-byte tag. No AAD.
 *
 * Sans-IO and allocation-free except sealFrames: the connection parses with frameBytesAt, opens
 * with openFrame (in place when dst is the frame's own payload), and seals with sealFramesInto.
 * @module
 */
import { abytes, aint } from '../_check.js';
import type { DirectionCrypter } from './types.js';
import { AltsError } from '../errors.js';
import {
  DEFAULT_MAX_FRAME_SIZE,
  FRAME_OVERHEAD,
  LENGTH_FIELD_BYTES,
  MAX_FRAME_BYTES,
  MAX_FRAME_LENGTH,
  MAX_MAX_FRAME_SIZE,
  MESSAGE_TYPE,
  MIN_FRAME_LENGTH,
  MIN_MAX_FRAME_SIZE,
  TAG_BYTES,
  TYPE_FIELD_BYTES,
} from './constants.js';

const HEADER_BYTES = LENGTH_FIELD_BYTES + TYPE_FIELD_BYTES;

function u32le(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

function putU32le(b: Uint8Array, off: number, v: number): void {
  b[off] = v;
  b[off + 1] = v >>> 8;
  b[off + 2] = v >>> 16;
  b[off + 3] = v >>> 24;
}

/**
 * The whole frame's byte count (4 + len) of the frame starting at buf[off], given `avail` bytes
 * there; -1 if fewer than the 4 length bytes are available. The header is checked as soon as
 * its bytes are in, before any payload (docs/spec.md §1): `len` once its 4 bytes are (above
 * 1 MiB → FRAME_TOO_LARGE, below 20 → FRAME_TOO_SHORT), the type word once its 4 are too
 * (BAD_MESSAGE_TYPE). The result may exceed `avail` (the frame is incomplete).
 */
export function frameBytesAt(buf: Uint8Array, off: number, avail: number): number {
  if (avail < LENGTH_FIELD_BYTES) return -1;
  const len = u32le(buf, off);
  if (len > MAX_FRAME_LENGTH) throw new AltsError('FRAME_TOO_LARGE', `frame length ${len} is above ${MAX_FRAME_LENGTH}`);
  if (len < MIN_FRAME_LENGTH) throw new AltsError('FRAME_TOO_SHORT', `frame length ${len} is below ${MIN_FRAME_LENGTH}`);
  if (avail >= HEADER_BYTES) checkType(buf, off);
  return LENGTH_FIELD_BYTES + len;
}

function checkType(buf: Uint8Array, off: number): void {
  const type = u32le(buf, off + LENGTH_FIELD_BYTES);
  if (type !== MESSAGE_TYPE) throw new AltsError('BAD_MESSAGE_TYPE', `frame type 0x${type.toString(16)} is not ${MESSAGE_TYPE}`);
}

/**
 * Open the complete frame buf[off, off+frameBytes) (frameBytes from frameBytesAt) with `inbound`,
 * writing its plaintext to dst[dstOff, ...). In place when dst === buf and dstOff === off + 8.
 * Returns the plaintext length, frameBytes − 24. Throws BAD_MESSAGE_TYPE, AUTH_FAILED or
 * COUNTER_EXHAUSTED; on AUTH_FAILED dst may hold garbage.
 */
export function openFrame(
  inbound: DirectionCrypter,
  buf: Uint8Array,
  off: number,
  frameBytes: number,
  dst: Uint8Array,
  dstOff: number,
): number {
  if (frameBytes < FRAME_OVERHEAD || frameBytes > MAX_FRAME_BYTES || off < 0 || off + frameBytes > buf.length)
    throw new RangeError(`"frameBytes" expected a whole frame of 24..${MAX_FRAME_BYTES} bytes inside "buf", got ${frameBytes} at ${off}`);
  const n = frameBytes - FRAME_OVERHEAD;
  if (dstOff < 0 || dstOff + n > dst.length) throw new RangeError(`"dst" expected room for ${n} bytes at ${dstOff}`);
  checkType(buf, off);
  inbound.open(buf, off + HEADER_BYTES, n, dst, dstOff);
  return n;
}

function checkMaxFrameSize(maxFrameSize: unknown): asserts maxFrameSize is number {
  aint('maxFrameSize', maxFrameSize, MIN_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE);
}

/** Bytes that sealing `n` plaintext bytes produces: n + 24 per frame; 0 for n = 0. */
export function sealedSize(n: number, maxFrameSize: number = DEFAULT_MAX_FRAME_SIZE): number {
  aint('n', n, 0, Number.MAX_SAFE_INTEGER);
  checkMaxFrameSize(maxFrameSize);
  const payload = maxFrameSize - FRAME_OVERHEAD;
  return n + Math.ceil(n / payload) * FRAME_OVERHEAD;
}

/**
 * Throw COUNTER_EXHAUSTED unless `outbound` can seal every frame of an `n`-byte message (when the
 * crypter reports framesLeft()), so a message is never cut off part way through.
 */
export function checkFramesLeft(outbound: DirectionCrypter, n: number, maxFrameSize: number): void {
  const frames = Math.ceil(n / (maxFrameSize - FRAME_OVERHEAD));
  if (outbound.framesLeft !== undefined && outbound.framesLeft() < frames)
    throw new AltsError('COUNTER_EXHAUSTED', `${frames} frames needed, ${outbound.framesLeft()} left in this direction`);
}

/**
 * Seal `plaintext` as frames of at most maxFrameSize − 24 payload bytes into out[outOff, ...);
 * returns the bytes written (sealedSize). Empty plaintext → zero frames. If the counter cannot
 * carry every frame, throws COUNTER_EXHAUSTED before sealing any (when the crypter reports
 * framesLeft()).
 */
export function sealFramesInto(
  outbound: DirectionCrypter,
  plaintext: Uint8Array,
  out: Uint8Array,
  outOff: number,
  maxFrameSize: number = DEFAULT_MAX_FRAME_SIZE,
): number {
  abytes('plaintext', plaintext);
  abytes('out', out);
  const total = sealedSize(plaintext.length, maxFrameSize);
  aint('outOff', outOff, 0, out.length);
  if (out.length - outOff < total) throw new RangeError(`"out" expected room for ${total} bytes at ${outOff}, has ${out.length - outOff}`);
  checkFramesLeft(outbound, plaintext.length, maxFrameSize);
  return sealRange(outbound, plaintext, 0, plaintext.length, out, outOff, maxFrameSize);
}

/**
 * sealFramesInto's loop for plaintext[from, to) with every check already made by the caller
 * (room in `out`, counter left for every frame): the connection's write path seals a message
 * batch by batch after checking it once.
 */
export function sealRange(
  outbound: DirectionCrypter,
  plaintext: Uint8Array,
  from: number,
  to: number,
  out: Uint8Array,
  outOff: number,
  maxFrameSize: number,
): number {
  const payload = maxFrameSize - FRAME_OVERHEAD;
  let pos = outOff;
  for (let p = from; p < to; p += payload) {
    const n = Math.min(payload, to - p);
    putU32le(out, pos, n + TYPE_FIELD_BYTES + TAG_BYTES);
    putU32le(out, pos + LENGTH_FIELD_BYTES, MESSAGE_TYPE);
    if (outbound.sealTo !== undefined) {
      outbound.sealTo(plaintext, p, n, out, pos + HEADER_BYTES); // no copy of the plaintext first
    } else {
      out.set(plaintext.subarray(p, p + n), pos + HEADER_BYTES);
      outbound.seal(out, pos + HEADER_BYTES, n);
    }
    pos += n + FRAME_OVERHEAD;
  }
  return pos - outOff;
}

/** sealFramesInto a new buffer of exactly sealedSize bytes. */
export function sealFrames(outbound: DirectionCrypter, plaintext: Uint8Array, maxFrameSize: number = DEFAULT_MAX_FRAME_SIZE): Uint8Array {
  abytes('plaintext', plaintext);
  const out = new Uint8Array(sealedSize(plaintext.length, maxFrameSize));
  sealFramesInto(outbound, plaintext, out, 0, maxFrameSize);
  return out;
}
