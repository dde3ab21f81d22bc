/**
 * The read side's phase (docs/spec.md §2): one value, and what each phase holds.
 *
 *   live      the socket may bring more bytes (maybe starved meanwhile: a condition the read
 *             buffer holds, ReadBuffer.ts)
 *   reading   inside the one read(2) of a readiness (the `readable` state)
 *   draining  read(2) returned 0: what is held is handed up, then clean EOF
 *   done      nothing held, every read settles at once: clean EOF, failed (error kept), or
 *             closed locally
 *
 * The other states of docs/spec.md §2 are what a live phase holds: no buffer (`idle`), an
 * incomplete frame (`partial`), plaintext or whole frames (`decrypted`).
 * @module
 */
import type { AltsError } from '../errors.js';

/** A wait for the pool; `told` once it says it can lend. */
export interface PoolWait {
  told: boolean;
  cancel: () => void;
}

export type Phase =
  | { kind: 'live' }
  | { kind: 'reading'; fresh: boolean }
  | { kind: 'draining' }
  | { kind: 'done'; end: 'eof' | 'failed' | 'closed'; error: AltsError | null };
