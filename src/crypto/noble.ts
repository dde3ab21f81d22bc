/**
 * The `noble` backend: AES-GCM from @noble/ciphers and HMAC-SHA256 from @noble/hashes. Portable
 * pure JS, the reference the faster backends are compared against. Slow: noble
 * expands the key and builds the GHASH table on every call (≈16 µs per frame).
 * @module
 */
import { gcm } from '@noble/ciphers/aes.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { AltsError } from '../errors.js';
import type { AeadPrimitive, PreparedKey } from './_aead.js';
import { TAG_BYTES } from '../record/constants.js';

export const nobleAead: AeadPrimitive = {
  name: 'noble',
  importKey: (key) => Uint8Array.from(key),
  seal(key: PreparedKey, nonce, buf, off, n, aad) {
    const out = gcm(key as Uint8Array, nonce, aad).encrypt(buf.subarray(off, off + n));
    buf.set(out, off); // ciphertext ‖ tag
  },
  open(key: PreparedKey, nonce, src, off, n, dst, dstOff, aad) {
    let pt: Uint8Array;
    try {
      pt = gcm(key as Uint8Array, nonce, aad).decrypt(src.subarray(off, off + n + TAG_BYTES));
    } catch (e) {
      throw new AltsError('AUTH_FAILED', 'the frame does not authenticate', { cause: e });
    }
    dst.set(pt, dstOff);
  },
  hmacSha256: (key, msg) => hmac(sha256, key, msg),
};
