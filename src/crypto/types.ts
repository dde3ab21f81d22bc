/**
 * What every crypto backend implements: one direction of an ALTS record protocol
 * (docs/spec.md §1), owning that direction's counter (DirectionCrypter, from the protocol
 * layer, src/record/types.ts). Backends: `noble` (@noble/ciphers, the portable reference),
 * `node` (node:crypto), `native` (OpenSSL EVP in the addon).
 * @module
 */
import type { RecordProtocol } from '../record/types.js';

export { RECORD_PROTOCOLS, SIDES } from '../record/types.js';
export type { CounterStart, DirectionCrypter, RecordProtocol, Side } from '../record/types.js';

export type Backend = 'noble' | 'node' | 'native';
export const BACKENDS: readonly Backend[] = ['noble', 'node', 'native'];

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

