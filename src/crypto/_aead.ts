/**
 * The one primitive a portable backend supplies: AES-GCM with a 12-byte nonce and a 16-byte
 * tag (NIST SP 800-38D), plus HMAC-SHA256 (RFC 2104) for the rekey KDF. Everything ALTS-specific
 * (counters, KDF inputs, nonce mask) lives in _direction.ts, shared by every backend.
 * @module
 */

/** A key prepared once by a backend (a copy, a KeyObject, ...). Opaque to callers. */
export type PreparedKey = unknown;

export interface AeadPrimitive {
  readonly name: 'noble' | 'node' | 'native';
  /** Prepare a 16- or 32-byte AES key for repeated use. */
  importKey(key: Uint8Array): PreparedKey;
  /** Encrypt buf[off, off+n) in place; write the tag to buf[off+n, off+n+16). */
  seal(key: PreparedKey, nonce: Uint8Array, buf: Uint8Array, off: number, n: number, aad?: Uint8Array): void;
  /**
   * Optional: encrypt src[srcOff, srcOff+n) into dst[dstOff, dstOff+n), tag after it, no AAD.
   * A backend that can encrypt out of place saves the sealer a copy of the plaintext.
   */
  sealTo?(key: PreparedKey, nonce: Uint8Array, src: Uint8Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number): void;
  /**
   * Decrypt src[off, off+n) (tag at src[off+n, off+n+16)) into dst[dstOff, dstOff+n).
   * Throws AltsError AUTH_FAILED if the tag does not verify; dst is then untouched (noble, node)
   * or zeroed where it was decrypted into (native: it decrypts straight into dst).
   */
  open(key: PreparedKey, nonce: Uint8Array, src: Uint8Array, off: number, n: number, dst: Uint8Array, dstOff: number, aad?: Uint8Array): void;
  hmacSha256(key: Uint8Array, msg: Uint8Array): Uint8Array;
}
