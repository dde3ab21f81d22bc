/**
 * Which crypto backends this process can bench: `availableBackends()` (fastest first); each one
 * missing gets a note saying why (e.g. the native backend when the addon did not load).
 * @module
 */
import { availableBackends, createCrypters } from '../crypto/index.js';
import { BACKENDS, type Backend } from '../crypto/types.js';
import type { Recorder } from './result.js';

export function benchBackends(rec: Recorder): Backend[] {
  const available = availableBackends();
  for (const b of BACKENDS) {
    if (available.includes(b)) continue;
    let why = 'not available';
    try {
      createCrypters({ protocol: 'ALTSRP_GCM_AES128', side: 'client', key: new Uint8Array(16), backend: b });
    } catch (e) {
      why = (e as Error).message;
    }
    rec.notes.push(`backend '${b}' skipped: ${why}`);
  }
  return available;
}

/** noble is ~40× slower than node:crypto (bench/RESULTS.md): its volume is divided by this. */
export const NOBLE_DIVISOR = 32;
