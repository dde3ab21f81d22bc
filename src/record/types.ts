/**
 * The protocol layer's types (docs/spec.md §1): record protocols, sides, and one direction of a
 * record protocol with its counter. The crypto backends implement DirectionCrypter; the record
 * layer (framing, the frame reader, counters) only uses it.
 * @module
 */

export type RecordProtocol = 'ALTSRP_GCM_AES128' | 'ALTSRP_GCM_AES128_REKEY';
export type Side = 'client' | 'server';

export const RECORD_PROTOCOLS: readonly RecordProtocol[] = ['ALTSRP_GCM_AES128', 'ALTSRP_GCM_AES128_REKEY'];
export const SIDES: readonly Side[] = ['client', 'server'];

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

/** Start values for the two counters, as frame indices (tests inject these to reach the edges). */
export interface CounterStart {
  outbound?: bigint;
  inbound?: bigint;
}
