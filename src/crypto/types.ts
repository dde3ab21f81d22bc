/**
 * The interface every crypto backend implements: one direction of an ALTS record protocol
 * (DESIGN §1), owning that direction's counter. Backends: `noble` (@noble/ciphers, the
 * portable reference), `node` (node:crypto), `native` (OpenSSL EVP in the addon).
 * @module
 */

export type RecordProtocol = 'ALTSRP_GCM_AES128' | 'ALTSRP_GCM_AES128_REKEY';
export type Side = 'client' | 'server';
export type Backend = 'noble' | 'node' | 'native';

export const RECORD_PROTOCOLS: readonly RecordProtocol[] = ['ALTSRP_GCM_AES128', 'ALTSRP_GCM_AES128_REKEY'];
export const SIDES: readonly Side[] = ['client', 'server'];
export const BACKENDS: readonly Backend[] = ['noble', 'node', 'native'];

/**
 * One direction's AEAD with its counter. Each successful call uses the current counter value
 * as the nonce (through the rekey mask for the rekey protocol) and then advances it.
 * When no counter value is left it throws AltsError COUNTER_EXHAUSTED and changes nothing.
 */
export interface DirectionCrypter {
  /**
   * Encrypt `buf[off, off+n)` in place and write the 16-byte tag at `buf[off+n, off+n+16)`.
   */
  seal(buf: Uint8Array, off: number, n: number): void;
  /**
   * Decrypt ciphertext `src[off, off+n)` whose tag follows at `src[off+n, off+n+16)`, writing the
   * plaintext to `dst[dstOff, dstOff+n)` (which may be the same bytes: in place). Throws AltsError
   * AUTH_FAILED if the tag does not verify; then `dst` may hold garbage and must not be used.
   */
  open(src: Uint8Array, off: number, n: number, dst: Uint8Array, dstOff: number): void;
  /**
   * Seal plaintext src[srcOff, srcOff+n) into dst[dstOff, dstOff+n) with the tag after it: the
   * same frame bytes as copying it there and calling seal. Every built-in direction has it.
   */
  sealTo?(src: Uint8Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number): void;
  /** Frames this direction has sealed/opened so far, counting from the injected start. */
  readonly counter: bigint;
  /**
   * Frames this direction can still seal/open, exact below 2^32 and saturated at 2^32 (no
   * bigint). Optional: when present, sealFramesInto fails with COUNTER_EXHAUSTED before
   * sealing anything rather than part way through a message.
   */
  framesLeft?(): number;
}

/** What a backend needs to build one direction (see crypto/registry.ts). */
export interface DirectionOptions {
  protocol: RecordProtocol;
  /** 16 bytes (ALTSRP_GCM_AES128) or 44 bytes (ALTSRP_GCM_AES128_REKEY), already checked. */
  key: Uint8Array;
  /** The 12-byte counter value of this direction's first frame (side bit included). */
  counter: Uint8Array;
  /** Low counter bytes that count towards overflow: 5 or 8. */
  overflowBytes: number;
}

/** Start values for the two counters, as frame indices (tests inject these to reach the edges). */
export interface CounterStart {
  outbound?: bigint;
  inbound?: bigint;
}
