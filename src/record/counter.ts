/**
 * The ALTS record protocol's per-direction frame counter (docs/spec.md §1 "Nonce = counter",
 * "Counter edge"; its upstream sources are named there).
 *
 * 12 bytes, little-endian. Client→server starts at 0; server→client has byte 11 = 0x80 (the
 * side bit). A side's outbound counter starts at its own side's value, its inbound one at the
 * peer's. Only the low `overflowBytes` bytes count: 5 for ALTSRP_GCM_AES128, 8 for
 * ALTSRP_GCM_AES128_REKEY.
 *
 * Overflow edge: at most 2^(8n) − 1 frames per direction. Counter values 0 .. 2^(8n) − 2 are
 * used; the frame that would use 2^(8n) − 1 (all counted bytes 0xff) fails with
 * COUNTER_EXHAUSTED: the stricter of the upstream edges (docs/spec.md §1 "Counter edge"). A
 * sender that stops here is accepted by every implementation, and a receiver that stops here
 * rejects at worst the one frame a more lenient peer could send after 2^40 − 1 (or 2^64 − 1)
 * frames.
 *
 * The hot path never does bigint math: the nonce bytes are incremented in place, and the
 * exhausted flag is refreshed only when byte 0 reaches 0xff.
 * @module
 */
import { AltsError } from '../errors.js';
import type { RecordProtocol, Side } from './types.js';

export const COUNTER_BYTES = 12;
/** The side bit: byte 11 of the server→client counter. */
export const SERVER_SIDE_BIT = 0x80;

/** How many low counter bytes count towards overflow, per record protocol. */
export const OVERFLOW_BYTES: Readonly<Record<RecordProtocol, number>> = {
  ALTSRP_GCM_AES128: 5,
  ALTSRP_GCM_AES128_REKEY: 8,
};

/** Frames a direction may carry: 2^(8n) − 1 (the last counter value is never used). */
export function maxFrames(overflowBytes: number): bigint {
  return (1n << BigInt(8 * overflowBytes)) - 1n;
}

/**
 * The 12-byte counter value of frame `index` (counting from 0) sent by `side`.
 * `index` may equal maxFrames(): that counter is already exhausted.
 */
export function counterAt(side: Side, index: bigint, overflowBytes: number, name = 'index'): Uint8Array {
  checkCounterIndex(index, overflowBytes, name);
  const c = new Uint8Array(COUNTER_BYTES);
  let v = index;
  for (let i = 0; i < overflowBytes; i++, v >>= 8n) c[i] = Number(v & 0xffn);
  if (side === 'server') c[COUNTER_BYTES - 1] |= SERVER_SIDE_BIT;
  return c;
}

/** TypeError unless `index` is a bigint, RangeError unless it is in 0..maxFrames(overflowBytes). */
export function checkCounterIndex(index: unknown, overflowBytes: number, name = 'index'): asserts index is bigint {
  if (typeof index !== 'bigint') throw new TypeError(`"${name}" expected bigint, got ${typeof index}`);
  const max = maxFrames(overflowBytes);
  if (index < 0n || index > max) throw new RangeError(`"${name}" expected bigint in 0..${max}, got ${index}`);
}

/** One direction's counter. `value` is the nonce of the next frame. */
export class Counter {
  /** The current 12-byte counter value (owned: mutated in place by next()). */
  readonly value: Uint8Array;
  readonly overflowBytes: number;
  #exhausted: boolean;

  constructor(initial: Uint8Array, overflowBytes: number) {
    if (!(initial instanceof Uint8Array)) throw new TypeError(`"counter" expected Uint8Array, got ${typeof initial}`);
    if (initial.length !== COUNTER_BYTES) throw new RangeError(`"counter" expected length 12, got ${initial.length}`);
    if (overflowBytes !== 5 && overflowBytes !== 8) throw new RangeError(`"overflowBytes" expected 5 or 8, got ${overflowBytes}`);
    this.value = Uint8Array.from(initial);
    this.overflowBytes = overflowBytes;
    this.#exhausted = this.#allOnes();
  }

  #allOnes(): boolean {
    for (let i = 0; i < this.overflowBytes; i++) if (this.value[i] !== 0xff) return false;
    return true;
  }

  get exhausted(): boolean {
    return this.#exhausted;
  }

  /** Throw COUNTER_EXHAUSTED if the current value may not be used. Changes nothing. */
  check(): void {
    if (this.#exhausted)
      throw new AltsError('COUNTER_EXHAUSTED', `all ${maxFrames(this.overflowBytes)} frames of this direction are used`);
  }

  /** Advance past the current value; returns the index of the highest byte that changed. */
  next(): number {
    const c = this.value;
    let i = 0;
    // Never carries past overflowBytes: the all-0xff value is exhausted and never advanced from.
    while (i < this.overflowBytes - 1 && c[i] === 0xff) c[i++] = 0;
    c[i]++;
    if (c[0] === 0xff) this.#exhausted = this.#allOnes();
    return i;
  }

  /** The frame index of the current value (the counted low bytes). Not for the hot path. */
  get index(): bigint {
    let v = 0n;
    for (let i = this.overflowBytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.value[i]!);
    return v;
  }

  /** Frames this counter can still carry, exact below 2^32 and saturated at 2^32. No bigint. */
  framesLeft(): number {
    const c = this.value;
    for (let i = 4; i < this.overflowBytes; i++) if (c[i] !== 0xff) return 2 ** 32;
    const low = (c[0]! | (c[1]! << 8) | (c[2]! << 16) | (c[3]! << 24)) >>> 0;
    return 0xffffffff - low;
  }
}
