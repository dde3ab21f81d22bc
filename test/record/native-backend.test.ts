/**
 * The `native` backend through the record layer (src/crypto/native.ts): it is the default where
 * the addon loaded, keeps the DirectionCrypter contract on AUTH_FAILED and on bad ranges (the
 * counter does not move), and derives the rekey key once per 2^16 frames on a real run across
 * the boundary. Vectors, counter edges and the equivalence property run it with the other
 * backends (vectors.test.ts, counter.test.ts, properties/record).
 */
import { describe, expect, it } from 'vitest';
import { aesGcm, availableBackends, createCrypters, createDirection, defaultBackend } from '../../src/crypto/index.js';
import type { DirectionCrypter } from '../../src/crypto/types.js';
import { createProtector } from '../../src/protector.js';
import { codeOf, keyFor, PROTOCOLS, toHex } from './_helpers.js';

/** The AeadPrimitive a crypter was built on (BaseCrypter keeps it as `aead`). */
const aeadName = (c: DirectionCrypter) => (c as unknown as { aead: { name: string } }).aead.name;

describe('native backend', () => {
  it("is the default where the addon loaded, for createCrypters and createProtector alike", () => {
    expect(defaultBackend()).toBe('native');
    expect(availableBackends()).toEqual(['native', 'node', 'noble']);
    for (const protocol of PROTOCOLS) {
      const key = keyFor(protocol);
      const { outbound, inbound } = createCrypters({ protocol, side: 'client', key });
      expect(aeadName(outbound)).toBe('native');
      expect(aeadName(inbound)).toBe('native');
      expect(aeadName(createCrypters({ protocol, side: 'client', key, backend: 'node' }).outbound)).toBe('node');
      // A default protector talks to an explicit noble one.
      const a = createProtector({ protocol, side: 'server', key });
      const b = createProtector({ protocol, side: 'client', key, backend: 'noble' });
      expect(toHex(b.unprotect(a.protect(Uint8Array.of(1, 2, 3))))).toBe('010203');
    }
  });

  for (const protocol of PROTOCOLS) {
    it(`${protocol}: AUTH_FAILED leaves the counter where it was; the intact frame then opens`, () => {
      const key = keyFor(protocol, 5);
      const out = createCrypters({ protocol, side: 'client', key, backend: 'native' }).outbound;
      const inb = createCrypters({ protocol, side: 'server', key, backend: 'native' }).inbound;
      const pt = Uint8Array.from({ length: 40 }, (_, i) => i + 1);
      const frame = new Uint8Array(pt.length + 16);
      frame.set(pt);
      out.seal(frame, 0, pt.length);
      const bad = frame.slice();
      bad[pt.length + 3]! ^= 4; // in the tag
      const dst = new Uint8Array(pt.length);
      expect(codeOf(() => inb.open(bad, 0, pt.length, dst, 0))).toBe('AUTH_FAILED');
      expect(inb.counter).toBe(0n);
      expect(dst.every((b) => b === 0)).toBe(true); // no unauthenticated plaintext left behind
      inb.open(frame, 0, pt.length, dst, 0);
      expect(dst).toEqual(pt);
      expect(inb.counter).toBe(1n);
    });

    it(`${protocol}: a range outside the buffer is a RangeError from the binding; the counter does not move`, () => {
      const key = keyFor(protocol, 6);
      const { outbound, inbound } = createCrypters({ protocol, side: 'server', key, backend: 'native' });
      const buf = new Uint8Array(32).fill(9);
      expect(() => outbound.seal(buf, 0, 17)).toThrow(RangeError);
      expect(() => outbound.seal(buf, 17, 0)).toThrow(/"buf"/);
      expect(() => inbound.open(buf, 0, 16, new Uint8Array(15), 0)).toThrow(/"dst"/);
      expect(() => inbound.open(buf, 0, 0, buf, -1)).toThrow(/"dstOff"/);
      expect(buf.every((b) => b === 9)).toBe(true);
      expect(outbound.counter).toBe(0n);
      expect(inbound.counter).toBe(0n);
    });
  }

  it('rekey: a real run of 2^16 + 1 frames derives the AES key exactly twice, the second at frame 2^16', () => {
    const protocol = 'ALTSRP_GCM_AES128_REKEY';
    const key = keyFor(protocol, 8);
    const out = createCrypters({ protocol, side: 'client', key, backend: 'native' }).outbound;
    const derivations = () => (out as unknown as { derivations: number }).derivations;
    const buf = new Uint8Array(16);
    for (let i = 0; i < 65535; i++) out.seal(buf, 0, 0);
    expect(derivations()).toBe(1);
    out.seal(buf, 0, 0); // frame 65535, the last of the first block: the counter moves to 2^16
    expect(derivations()).toBe(1); // the next key is derived when frame 2^16 comes, not before
    // Frame 2^16 under the new key equals what node builds there independently.
    const ref = createCrypters({ protocol, side: 'client', key, backend: 'node', counters: { outbound: 65536n } }).outbound;
    const a = Uint8Array.of(1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    const b = a.slice();
    out.seal(a, 0, 3);
    ref.seal(b, 0, 3);
    expect(toHex(a)).toBe(toHex(b));
    expect(derivations()).toBe(2); // derived at frame 2^16
    expect(out.counter).toBe(65537n);
  });

  it("aesGcm('native') runs AES-256 with AAD and rejects other key sizes before the binding", () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const nonce = new Uint8Array(12).fill(3);
    const aad = Uint8Array.of(1, 2);
    const sealed = aesGcm('native', key, nonce, aad).seal(Uint8Array.of(5, 6, 7));
    expect(toHex(sealed)).toBe(toHex(aesGcm('node', key, nonce, aad).seal(Uint8Array.of(5, 6, 7))));
    expect(toHex(aesGcm('native', key, nonce, aad).open(sealed))).toBe('050607');
    expect(() => aesGcm('native', new Uint8Array(24), nonce)).toThrow(RangeError);
    expect(() => aesGcm('native', key, nonce).open(new Uint8Array(15))).toThrow(/"sealed"/);
    expect(() => aesGcm('native', key, nonce, 'aad' as never)).toThrow(/"aad"/);
    expect(() => aesGcm('openssl' as never, key, nonce)).toThrow(/"backend"/);
  });

  it('createDirection defaults to native too; createCrypters checks its options object', () => {
    const d = createDirection({ protocol: 'ALTSRP_GCM_AES128', key: keyFor('ALTSRP_GCM_AES128'), counter: new Uint8Array(12) });
    expect(aeadName(d)).toBe('native');
    expect(() => createCrypters(null as never)).toThrow(/"options" expected object, got null/);
    expect(() => createCrypters(7 as never)).toThrow(TypeError);
    expect(() => createCrypters({ protocol: 'ALTSRP_GCM_AES128', side: 'client', key: keyFor('ALTSRP_GCM_AES128'), counters: 5 as never })).toThrow(/"counters"/);
  });
});
