/**
 * Conformance: every published vector (test/vectors/README.md), on the noble, node and native
 * backends.
 * Each vector goes through the highest layer that can carry it:
 * - `record`: whole frames through createProtector (protect must produce exactly `frame`).
 * - `gcm`/`rekey-aead` with no AAD: through the record layer's DirectionCrypter with the vector's
 *   nonce as the counter. When that counter is a frame index for a side (unused bytes zero, byte
 *   11 the side bit) it is injected as a frame index through createCrypters; otherwise (grpc-go's
 *   random counters, NIST nonces) the raw 12-byte counter is injected through createDirection,
 *   because no frame index of either side reaches it.
 * - with AAD, or AES-256: at the primitive (aesGcm, plus rekeyAesKey/maskNonce for rekey):
 *   ALTS frames carry no AAD and use AES-128 only, so no DirectionCrypter can express them.
 */
import { describe, expect, it } from 'vitest';
import { aesGcm, createCrypters, createDirection } from '../../src/crypto/index.js';
import { maskNonce, rekeyAesKey } from '../../src/crypto/_direction.js';
import { nobleAead } from '../../src/crypto/noble.js';
import { nativeAead } from '../../src/crypto/native.js';
import { nodeAead } from '../../src/crypto/node.js';
import type { Backend, DirectionCrypter, RecordProtocol, Side } from '../../src/crypto/types.js';
import { createProtector } from '../../src/protector.js';
import { OVERFLOW_BYTES } from '../../src/record/counter.js';
import { BACKENDS, codeOf, hex, toHex, VECTORS, type Vector } from './_helpers.js';

const PRIMS = { noble: nobleAead, node: nodeAead, native: nativeAead()! } as const;

/** The (side, frame index) whose counter equals `nonce`, or null if none does. */
function asFrameIndex(nonce: Uint8Array, protocol: RecordProtocol): { side: Side; index: bigint } | null {
  const n = OVERFLOW_BYTES[protocol];
  for (let i = n; i < 11; i++) if (nonce[i] !== 0) return null;
  if (nonce[11] !== 0 && nonce[11] !== 0x80) return null;
  let index = 0n;
  for (let i = n - 1; i >= 0; i--) index = (index << 8n) | BigInt(nonce[i]!);
  if (index === (1n << BigInt(8 * n)) - 1n) return null; // exhausted: never used
  return { side: nonce[11] === 0x80 ? 'server' : 'client', index };
}

/** Sender and receiver crypters whose current counter is the vector's nonce. */
function pair(v: Vector, protocol: RecordProtocol, backend: Backend): { send: DirectionCrypter; recv: DirectionCrypter; how: string } {
  const key = hex(v.key);
  const nonce = hex(v.nonce);
  const fi = asFrameIndex(nonce, protocol);
  if (fi !== null) {
    const peer: Side = fi.side === 'client' ? 'server' : 'client';
    const send = createCrypters({ protocol, side: fi.side, key, backend, counters: { outbound: fi.index } }).outbound;
    const recv = createCrypters({ protocol, side: peer, key, backend, counters: { inbound: fi.index } }).inbound;
    expect(send.counter).toBe(fi.index);
    return { send, recv, how: 'frame index' };
  }
  return {
    send: createDirection({ protocol, key, counter: nonce, backend }),
    recv: createDirection({ protocol, key, counter: nonce, backend }),
    how: 'raw counter',
  };
}

function throughDirection(v: Vector, protocol: RecordProtocol, backend: Backend): void {
  const { send, recv } = pair(v, protocol, backend);
  const pt = hex(v.plaintext);
  const buf = new Uint8Array(pt.length + 16);
  buf.set(pt);
  send.seal(buf, 0, pt.length);
  expect(toHex(buf)).toBe(v.ciphertext + v.tag);
  const dst = new Uint8Array(pt.length);
  recv.open(buf, 0, pt.length, dst, 0);
  expect(toHex(dst)).toBe(v.plaintext);
  // The counter moved on: the same frame again (a replay) fails.
  expect(codeOf(() => recv.open(buf, 0, pt.length, dst, 0))).toBe('AUTH_FAILED');
}

function atPrimitive(v: Vector, key: Uint8Array, nonce: Uint8Array, backend: Backend): void {
  const aad = hex(v.aad);
  const g = aesGcm(backend, key, nonce, aad);
  expect(toHex(g.seal(hex(v.plaintext)))).toBe(v.ciphertext + v.tag);
  expect(toHex(g.open(hex(v.ciphertext + v.tag)))).toBe(v.plaintext);
  const bad = hex(v.ciphertext + v.tag);
  bad[bad.length - 1]! ^= 1;
  expect(codeOf(() => g.open(bad))).toBe('AUTH_FAILED');
}

describe.each(BACKENDS)('published vectors (%s)', (backend) => {
  describe('gcm', () => {
    for (const v of VECTORS.filter((x) => x.kind === 'gcm')) {
      it(`${v.id}`, () => {
        const bits = v.aes_key_bits ?? 128;
        if (bits === 128 && v.aad === '') throughDirection(v, 'ALTSRP_GCM_AES128', backend);
        // Every gcm vector also at the primitive (the only place AES-256 and AAD fit).
        atPrimitive(v, hex(v.key), hex(v.nonce), backend);
      });
    }
  });

  describe('rekey-aead', () => {
    for (const v of VECTORS.filter((x) => x.kind === 'rekey-aead')) {
      it(`${v.id}`, () => {
        const key = hex(v.key);
        const nonce = hex(v.nonce);
        if (v.aad === '') throughDirection(v, 'ALTSRP_GCM_AES128_REKEY', backend);
        // The KDF and mask of the shared rekey logic, then the AEAD with AAD.
        const aesKey = rekeyAesKey(PRIMS[backend].hmacSha256, key.subarray(0, 32), nonce);
        atPrimitive(v, aesKey, maskNonce(nonce, key.subarray(32, 44)), backend);
      });
    }
  });

  describe('record', () => {
    for (const v of VECTORS.filter((x) => x.kind === 'record')) {
      it(`${v.id}`, () => {
        const side = v.sender_side!;
        const peer: Side = side === 'client' ? 'server' : 'client';
        const o = { protocol: 'ALTSRP_GCM_AES128' as const, key: hex(v.key), backend };
        const sender = createProtector({ ...o, side });
        expect(toHex(sender.protect(hex(v.plaintext)))).toBe(v.frame);
        const receiver = createProtector({ ...o, side: peer });
        expect(toHex(receiver.unprotect(hex(v.frame!)))).toBe(v.plaintext);
        // The wrong side cannot open it (its inbound counter has the other side bit).
        expect(codeOf(() => createProtector({ ...o, side }).unprotect(hex(v.frame!)))).toBe('AUTH_FAILED');
      });
    }
  });
});

describe('vector file', () => {
  it('holds the 96 published vectors', () => {
    expect(VECTORS.length).toBe(96);
    const ids = new Set(VECTORS.map((v) => v.id));
    expect(ids.size).toBe(96);
  });

  it('the rekey KDF uses counter bytes 2 through 7 (6 bytes): flipping bit 15 or 64 keeps the key, bit 16 or 63 changes it', () => {
    const kdf = hex(VECTORS.find((v) => v.id === 'go-rekey-3')!.key).subarray(0, 32);
    const base = hex('cafebabefacedbaddecaf888');
    const k = (n: Uint8Array) => toHex(rekeyAesKey(nodeAead.hmacSha256, kdf, n));
    const flip = (bit: number) => {
      const n = base.slice();
      n[bit >> 3]! ^= 1 << (bit & 7);
      return n;
    };
    expect(k(flip(15))).toBe(k(base));
    expect(k(flip(64))).toBe(k(base));
    expect(k(flip(16))).not.toBe(k(base));
    expect(k(flip(63))).not.toBe(k(base));
  });
});
