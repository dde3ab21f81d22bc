/**
 * One direction of the two ALTS record protocols (docs/spec.md §1 "Record protocols"), built on
 * any AeadPrimitive, so the noble and node backends differ only in the AEAD/HMAC calls.
 *
 * - ALTSRP_GCM_AES128: 16-byte AES key; GCM nonce = the 12-byte counter.
 * - ALTSRP_GCM_AES128_REKEY: 44-byte key = 32-byte KDF key ‖ 12-byte nonce mask. AES key = the
 *   first 16 bytes of HMAC-SHA256(kdf_key, counter bytes 2 through 7 (6 bytes) ‖ 0x01), i.e.
 *   counter[2:8] in half-open notation; GCM nonce = counter XOR mask. The key is re-derived only
 *   when one of those 6 bytes changes: once per 2^16 frames, not per frame.
 * No AAD: the frame header is not authenticated.
 * @module
 */
import type { AeadPrimitive, PreparedKey } from './_aead.js';
import type { DirectionCrypter, DirectionOptions } from './types.js';
import { COUNTER_BYTES, Counter } from '../record/counter.js';

export const AES128_KEY_BYTES = 16;
export const REKEY_KDF_KEY_BYTES = 32;
export const REKEY_MASK_BYTES = 12;
export const REKEY_KEY_BYTES = REKEY_KDF_KEY_BYTES + REKEY_MASK_BYTES; // 44
/** Counter bytes [KDF_COUNTER_OFFSET, KDF_COUNTER_OFFSET + KDF_COUNTER_BYTES) feed the KDF. */
export const KDF_COUNTER_OFFSET = 2;
export const KDF_COUNTER_BYTES = 6;

/** The rekey protocol's AES-128 key for `counter`: the first 16 bytes of HMAC-SHA256(kdfKey, counter bytes 2 through 7 ‖ 0x01). */
export function rekeyAesKey(hmacSha256: AeadPrimitive['hmacSha256'], kdfKey: Uint8Array, counter: Uint8Array): Uint8Array {
  const msg = new Uint8Array(KDF_COUNTER_BYTES + 1);
  msg.set(counter.subarray(KDF_COUNTER_OFFSET, KDF_COUNTER_OFFSET + KDF_COUNTER_BYTES));
  msg[KDF_COUNTER_BYTES] = 0x01;
  return hmacSha256(kdfKey, msg).slice(0, AES128_KEY_BYTES);
}

/** out = counter XOR mask (12 bytes). */
export function maskNonce(counter: Uint8Array, mask: Uint8Array, out: Uint8Array = new Uint8Array(COUNTER_BYTES)): Uint8Array {
  for (let i = 0; i < COUNTER_BYTES; i++) out[i] = counter[i]! ^ mask[i]!;
  return out;
}

/**
 * A direction prepares its AES key (imports it; for the rekey protocol, derives it first) at its
 * first frame, not when it is built: a connection that waits without traffic holds no cipher
 * state, only the key bytes: nothing is held while idle (docs/spec.md §2).
 */
abstract class BaseCrypter implements DirectionCrypter {
  protected readonly ctr: Counter;
  protected constructor(protected readonly aead: AeadPrimitive, o: DirectionOptions) {
    this.ctr = new Counter(o.counter, o.overflowBytes);
  }
  protected abstract key(): PreparedKey;
  protected abstract nonce(): Uint8Array;
  protected abstract advance(): void;

  seal(buf: Uint8Array, off: number, n: number): void {
    this.ctr.check();
    this.aead.seal(this.key(), this.nonce(), buf, off, n);
    this.advance();
  }
  sealTo(src: Uint8Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number): void {
    this.ctr.check();
    if (this.aead.sealTo !== undefined) {
      this.aead.sealTo(this.key(), this.nonce(), src, srcOff, n, dst, dstOff);
    } else {
      dst.set(src.subarray(srcOff, srcOff + n), dstOff);
      this.aead.seal(this.key(), this.nonce(), dst, dstOff, n);
    }
    this.advance();
  }
  open(src: Uint8Array, off: number, n: number, dst: Uint8Array, dstOff: number): void {
    this.ctr.check();
    this.aead.open(this.key(), this.nonce(), src, off, n, dst, dstOff);
    this.advance();
  }
  get counter(): bigint {
    return this.ctr.index;
  }
  framesLeft(): number {
    return this.ctr.framesLeft();
  }
}

class Aes128Crypter extends BaseCrypter {
  readonly #raw: Uint8Array;
  #key: PreparedKey | null = null;
  constructor(aead: AeadPrimitive, o: DirectionOptions) {
    super(aead, o);
    this.#raw = o.key.slice();
  }
  protected key(): PreparedKey {
    return (this.#key ??= this.aead.importKey(this.#raw));
  }
  protected nonce(): Uint8Array {
    return this.ctr.value;
  }
  protected advance(): void {
    this.ctr.next();
  }
}

class RekeyCrypter extends BaseCrypter {
  readonly #kdfKey: Uint8Array;
  readonly #mask: Uint8Array;
  readonly #nonce = new Uint8Array(COUNTER_BYTES);
  #key: PreparedKey | null = null;
  /** How many times the AES key was derived (tests check it is once per 2^16 frames, from the first use). */
  derivations = 0;

  constructor(aead: AeadPrimitive, o: DirectionOptions) {
    super(aead, o);
    this.#kdfKey = o.key.slice(0, REKEY_KDF_KEY_BYTES);
    this.#mask = o.key.slice(REKEY_KDF_KEY_BYTES, REKEY_KEY_BYTES);
    maskNonce(this.ctr.value, this.#mask, this.#nonce);
  }
  #derive(): PreparedKey {
    this.derivations++;
    return this.aead.importKey(rekeyAesKey(this.aead.hmacSha256, this.#kdfKey, this.ctr.value));
  }
  protected key(): PreparedKey {
    return (this.#key ??= this.#derive());
  }
  protected nonce(): Uint8Array {
    return this.#nonce;
  }
  protected advance(): void {
    const top = this.ctr.next();
    if (top >= KDF_COUNTER_OFFSET) this.#key = null; // the next frame is in a new 2^16 block: derive when it comes
    maskNonce(this.ctr.value, this.#mask, this.#nonce);
  }
}

/** Build one direction for `o.protocol` on `aead`. Arguments are assumed checked (crypto/index.ts). */
export function aeadDirection(aead: AeadPrimitive, o: DirectionOptions): DirectionCrypter {
  return o.protocol === 'ALTSRP_GCM_AES128_REKEY' ? new RekeyCrypter(aead, o) : new Aes128Crypter(aead, o);
}
