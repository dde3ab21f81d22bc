/**
 * fast-check parameters for the record-layer properties: FC_SEED and FC_RUNS from the
 * environment replay a run (fast-check prints seed and path on failure); without FC_SEED a seed
 * is drawn once per file and shown in the describe title.
 */
import type { Parameters } from 'fast-check';
import fc from 'fast-check';
import { createProtector } from '../../src/protector.js';
import type { RecordProtocol, Side } from '../../src/crypto/types.js';

export const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : (Math.random() * 2 ** 31) | 0;
const RUNS = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : undefined;

/** Parameters for one fc.assert: the shared seed, and FC_RUNS (or `runs`) runs. */
export function params<T>(runs: number): Parameters<T> {
  return { seed: SEED, numRuns: RUNS ?? runs };
}

export const PROTOCOLS: RecordProtocol[] = ['ALTSRP_GCM_AES128', 'ALTSRP_GCM_AES128_REKEY'];
export const arbProtocol = fc.constantFrom<RecordProtocol>(...PROTOCOLS);
export const arbSide = fc.constantFrom<Side>('client', 'server');
export const arbKey = (p: RecordProtocol) => fc.uint8Array({ minLength: p === 'ALTSRP_GCM_AES128' ? 16 : 44, maxLength: p === 'ALTSRP_GCM_AES128' ? 16 : 44 });
export const peerOf = (s: Side): Side => (s === 'client' ? 'server' : 'client');

/** Counter start indices that matter: 0, small, around the 2^16 rekey boundary, near the end. */
export const arbStart = (p: RecordProtocol) =>
  fc.oneof(
    fc.constant(0n),
    fc.bigInt({ min: 0n, max: 100n }),
    fc.bigInt({ min: 65530n, max: 65540n }),
    fc.bigInt({ min: (1n << BigInt(p === 'ALTSRP_GCM_AES128' ? 40 : 64)) - 40n, max: (1n << BigInt(p === 'ALTSRP_GCM_AES128' ? 40 : 64)) - 20n }),
  );

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export type ProtectorOf = ReturnType<typeof createProtector>;

/** Byte equality that stays fast for MiB-sized arrays (vitest's toEqual walks elements). */
export function expectBytes(got: Uint8Array, want: Uint8Array): void {
  const g = Buffer.from(got.buffer, got.byteOffset, got.byteLength);
  const w = Buffer.from(want.buffer, want.byteOffset, want.byteLength);
  if (g.length !== w.length || !g.equals(w))
    throw new Error(`bytes differ: got ${g.length} bytes ${g.subarray(0, 32).toString('hex')}…, want ${w.length} bytes ${w.subarray(0, 32).toString('hex')}…`);
}

/**
 * Plaintext of any length 0..max (uniform, not fast-check's small default size), filled from a
 * seed: cheap for large sizes; shrinks towards short and zero.
 */
export const arbBytes = (max: number) =>
  fc.tuple(fc.integer({ min: 0, max }), fc.integer()).map(([n, seed]) => {
    const b = new Uint8Array(n);
    let x = seed | 1;
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x;
    }
    return b;
  });
