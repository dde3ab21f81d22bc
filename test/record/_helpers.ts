/** Shared test helpers for the record layer. */
import { readFileSync } from 'node:fs';
import { AltsError, type AltsErrorCode } from '../../src/errors.js';
import { expect } from 'vitest';

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

export interface Vector {
  id: string;
  kind: 'gcm' | 'rekey-aead' | 'record';
  source: string;
  key: string;
  nonce: string;
  counter?: string;
  aad: string;
  plaintext: string;
  ciphertext: string;
  tag: string;
  frame?: string;
  sender_side?: 'client' | 'server';
  aes_key_bits?: number;
}

export const VECTORS: Vector[] = JSON.parse(readFileSync(new URL('../vectors/published.json', import.meta.url), 'utf8')).vectors;

/** Every backend: the same suites run on each (native needs the built addon, as the tests do). */
export const BACKENDS = ['noble', 'node', 'native'] as const;
export const PROTOCOLS = ['ALTSRP_GCM_AES128', 'ALTSRP_GCM_AES128_REKEY'] as const;

/** The AltsError code `f` throws (fails the test if it throws something else or nothing). */
export function codeOf(f: () => unknown): AltsErrorCode {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AltsError);
    return (e as AltsError).code;
  }
  throw new Error('expected an AltsError, nothing was thrown');
}

export function keyFor(protocol: (typeof PROTOCOLS)[number], seed = 1): Uint8Array {
  const k = new Uint8Array(protocol === 'ALTSRP_GCM_AES128' ? 16 : 44);
  for (let i = 0; i < k.length; i++) k[i] = (i * 31 + seed * 17) & 0xff;
  return k;
}
