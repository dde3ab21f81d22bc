/**
 * The addon's AesGcm (native/aead.cc) straight from JS: byte-identical with node:crypto for
 * AES-128/256 with and without AAD, in place and between buffers (partial overlaps too), a bad
 * tag returns false with the decrypted bytes zeroed and the context still usable, and every bad
 * argument is a TypeError/RangeError naming it, thrown before any byte is written.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { native } from './helpers.js';

const { AesGcm } = native;
const TAG = 16;

/** node:crypto's ciphertext ‖ tag. */
function reference(key: Uint8Array, nonce: Uint8Array, pt: Uint8Array, aad?: Uint8Array): Buffer {
  const c = createCipheriv(key.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm', key, nonce);
  if (aad !== undefined) c.setAAD(aad);
  return Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
}

const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

describe('AesGcm', () => {
  it('takes a 16- or 32-byte key, nothing else', () => {
    expect(new AesGcm(new Uint8Array(16)).keyBytes).toBe(16);
    expect(new AesGcm(Buffer.alloc(32)).keyBytes).toBe(32);
    for (const n of [0, 15, 17, 24, 31, 33, 44]) expect(() => new AesGcm(new Uint8Array(n))).toThrow(/"key" expected 16 or 32 bytes/);
    for (const n of [0, 15, 24, 44]) expect(() => new AesGcm(new Uint8Array(n))).toThrow(RangeError);
    for (const k of [undefined, 'k'.repeat(16), Array(16).fill(0), new Uint16Array(8), new DataView(new ArrayBuffer(16))])
      expect(() => new AesGcm(k as never)).toThrow(TypeError);
    expect(() => (AesGcm as unknown as (k: Uint8Array) => unknown)(new Uint8Array(16))).toThrow(TypeError);
  });

  it('seals like node:crypto (AES-128/256, with and without AAD, empty plaintext), touching only [off, off+n+16)', () => {
    for (const keyBytes of [16, 32])
      for (const n of [0, 1, 15, 16, 17, 1000, 16384])
        for (const aad of [undefined, randomBytes(13)]) {
          const key = randomBytes(keyBytes);
          const nonce = randomBytes(12);
          const pt = randomBytes(n);
          const g = new AesGcm(key);
          const buf = new Uint8Array(n + TAG + 10).fill(0xee);
          buf.set(pt, 3);
          g.seal(nonce, buf, 3, n, aad);
          expect(hexOf(buf.subarray(3, 3 + n + TAG))).toBe(reference(key, nonce, pt, aad).toString('hex'));
          expect([...buf.subarray(0, 3), ...buf.subarray(3 + n + TAG)].every((b) => b === 0xee)).toBe(true);
          // The same object again (one reusable context, a new IV per call) gives the same bytes.
          const again = new Uint8Array(n + TAG);
          again.set(pt);
          g.seal(nonce, again, 0, n, aad);
          expect(hexOf(again)).toBe(hexOf(buf.subarray(3, 3 + n + TAG)));
        }
  });

  it('sealTo: out of place equals node:crypto, touching only dst[dstOff, +n+16); partial overlaps too', () => {
    const key = randomBytes(16);
    const nonce = randomBytes(12);
    const k = new AesGcm(key);
    for (const n of [0, 1, 100, 5000]) {
      const src = randomBytes(n + 10);
      const dst = new Uint8Array(n + 16 + 20).fill(0xee);
      k.sealTo(nonce, src, 5, n, dst, 7);
      expect(hexOf(dst.subarray(7, 7 + n + TAG))).toBe(hexOf(reference(key, nonce, src.subarray(5, 5 + n))));
      expect(dst.subarray(0, 7).every((b) => b === 0xee)).toBe(true);
      expect(dst.subarray(7 + n + TAG).every((b) => b === 0xee)).toBe(true);
    }
    for (const shift of [-3, 3]) {
      const buf = randomBytes(200);
      const pt = Uint8Array.from(buf.subarray(50, 150)); // a copy (Buffer#slice would share)
      k.sealTo(nonce, buf, 50, 100, buf, 50 + shift); // overlapping source and destination
      expect(hexOf(buf.subarray(50 + shift, 50 + shift + 100 + TAG))).toBe(hexOf(reference(key, nonce, pt)));
    }
    const src = new Uint8Array(10);
    expect(() => k.sealTo(nonce, src, 5, 6, new Uint8Array(100), 0)).toThrow(RangeError);
    expect(() => k.sealTo(nonce, src, 0, 10, new Uint8Array(25), 0)).toThrow(/"dst"/);
    expect(() => k.sealTo(nonce, src, 0, 10, 'x' as never, 0)).toThrow(TypeError);
  });

  it('opens in place, into another buffer, and across partially overlapping ranges either way', () => {
    const key = randomBytes(16);
    const nonce = randomBytes(12);
    const pt = randomBytes(300);
    const sealed = reference(key, nonce, pt);
    const g = new AesGcm(key);
    // In place.
    const a = Uint8Array.from(sealed);
    expect(g.open(nonce, a, 0, pt.length, a, 0)).toBe(true);
    expect(hexOf(a.subarray(0, pt.length))).toBe(pt.toString('hex'));
    // Into another buffer at an offset; the bytes around are untouched, the source too.
    const src = Uint8Array.from(sealed);
    const dst = new Uint8Array(pt.length + 9).fill(0xee);
    expect(g.open(nonce, src, 0, pt.length, dst, 4)).toBe(true);
    expect(hexOf(dst.subarray(4, 4 + pt.length))).toBe(pt.toString('hex'));
    expect([...dst.subarray(0, 4), ...dst.subarray(4 + pt.length)].every((b) => b === 0xee)).toBe(true);
    expect(hexOf(src)).toBe(sealed.toString('hex'));
    // Partial overlaps: dst 8 bytes after src (the conn's frame header case) and 3 bytes before.
    for (const shift of [8, -3]) {
      const buf = new Uint8Array(sealed.length + 20);
      buf.set(sealed, 10);
      expect(g.open(nonce, buf, 10, pt.length, buf, 10 + shift)).toBe(true);
      expect(hexOf(buf.subarray(10 + shift, 10 + shift + pt.length))).toBe(pt.toString('hex'));
    }
    // Views with a byteOffset into a bigger ArrayBuffer.
    const big = new Uint8Array(sealed.length + 64);
    big.set(sealed, 40);
    const view = big.subarray(33);
    const out = new Uint8Array(big.buffer, 1, pt.length);
    expect(g.open(nonce, view, 7, pt.length, out, 0)).toBe(true);
    expect(hexOf(out)).toBe(pt.toString('hex'));
  });

  it('a bad tag, ciphertext, AAD or nonce: false, the decrypted bytes zeroed, the context still usable', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const aad = randomBytes(5);
    const pt = randomBytes(64);
    const sealed = reference(key, nonce, pt, aad);
    const g = new AesGcm(key);
    const flips: Array<[string, () => boolean]> = [];
    const dst = new Uint8Array(pt.length + 2).fill(0xee);
    for (const at of [0, 40, pt.length, sealed.length - 1])
      flips.push([`byte ${at}`, () => {
        const bad = Uint8Array.from(sealed);
        bad[at]! ^= 0x10;
        return g.open(nonce, bad, 0, pt.length, dst, 1, aad);
      }]);
    flips.push(['aad', () => g.open(nonce, sealed, 0, pt.length, dst, 1, Uint8Array.from(aad, (b, i) => (i === 2 ? b ^ 1 : b)))]);
    flips.push(['no aad', () => g.open(nonce, sealed, 0, pt.length, dst, 1)]);
    flips.push(['nonce', () => g.open(Uint8Array.from(nonce, (b, i) => (i === 11 ? b ^ 0x80 : b)), sealed, 0, pt.length, dst, 1, aad)]);
    for (const [what, open] of flips) {
      dst.fill(0xee);
      expect(open(), what).toBe(false);
      expect(dst.subarray(1, 1 + pt.length).every((b) => b === 0), what).toBe(true);
      expect(dst[0]).toBe(0xee);
      expect(dst[pt.length + 1]).toBe(0xee);
      // The same context opens the good frame right after.
      expect(g.open(nonce, sealed, 0, pt.length, dst, 1, aad), what).toBe(true);
      expect(hexOf(dst.subarray(1, 1 + pt.length))).toBe(pt.toString('hex'));
    }
  });

  it('an out-of-bounds offset or length is a RangeError naming it, and nothing is written', () => {
    const g = new AesGcm(new Uint8Array(16));
    const nonce = new Uint8Array(12);
    const buf = new Uint8Array(64).fill(7);
    const dst = new Uint8Array(32).fill(7);
    const cases: Array<[RegExp, () => unknown]> = [
      [/"buf"/, () => g.seal(nonce, buf, 0, 49)], // 49 + 16 > 64
      [/"buf"/, () => g.seal(nonce, buf, 49, 0)],
      [/"buf"/, () => g.seal(nonce, buf.subarray(60), 0, 0)],
      [/"off"/, () => g.seal(nonce, buf, -1, 0)],
      [/"off"/, () => g.seal(nonce, buf, 1.5, 0)],
      [/"off"/, () => g.seal(nonce, buf, Number.NaN, 0)],
      [/"n"/, () => g.seal(nonce, buf, 0, -1)],
      [/"n"/, () => g.seal(nonce, buf, 0, 2 ** 31)],
      [/"n"/, () => g.seal(nonce, buf, 0, Infinity)],
      [/"nonce"/, () => g.seal(new Uint8Array(11), buf, 0, 0)],
      [/"nonce"/, () => g.seal(new Uint8Array(13), buf, 0, 0)],
      [/"src"/, () => g.open(nonce, buf, 0, 49, dst, 0)],
      [/"src"/, () => g.open(nonce, buf, 2 ** 31 - 1, 0, dst, 0)],
      [/"dst"/, () => g.open(nonce, buf, 0, 33, dst, 0)],
      [/"dst"/, () => g.open(nonce, buf, 0, 16, dst, 17)],
      [/"dstOff"/, () => g.open(nonce, buf, 0, 0, dst, -1)],
    ];
    for (const [name, f] of cases) {
      expect(f, String(f)).toThrow(RangeError);
      expect(f, String(f)).toThrow(name);
    }
    expect(buf.every((b) => b === 7)).toBe(true);
    expect(dst.every((b) => b === 7)).toBe(true);
  });

  it('a detached buffer is a RangeError (no room), never a write', () => {
    const g = new AesGcm(new Uint8Array(16));
    const buf = new Uint8Array(64);
    structuredClone(buf.buffer, { transfer: [buf.buffer] });
    expect(buf.length).toBe(0);
    expect(() => g.seal(new Uint8Array(12), buf, 0, 0)).toThrow(RangeError);
  });

  it('a wrong argument type is a TypeError naming it', () => {
    const g = new AesGcm(new Uint8Array(16));
    const nonce = new Uint8Array(12);
    const buf = new Uint8Array(64);
    const cases: Array<[RegExp, () => unknown]> = [
      [/"nonce"/, () => g.seal(new Uint16Array(6) as never, buf, 0, 0)],
      [/"nonce"/, () => g.seal(undefined as never, buf, 0, 0)],
      [/"buf"/, () => g.seal(nonce, 'x'.repeat(64) as never, 0, 0)],
      [/"buf"/, () => g.seal(nonce, new DataView(buf.buffer) as never, 0, 0)],
      [/"off"/, () => g.seal(nonce, buf, '0' as never, 0)],
      [/"n"/, () => g.seal(nonce, buf, 0, 1n as never)],
      [/"aad"/, () => g.seal(nonce, buf, 0, 0, [1] as never)],
      [/"aad"/, () => g.open(nonce, buf, 0, 0, buf, 0, null as never)],
      [/"dst"/, () => g.open(nonce, buf, 0, 0, undefined as never, 0)],
      [/"dstOff"/, () => g.open(nonce, buf, 0, 0, buf, undefined as never)],
      [/"src"/, () => g.open(nonce, [] as never, 0, 0, buf, 0)],
    ];
    for (const [name, f] of cases) {
      expect(f, String(f)).toThrow(TypeError);
      expect(f, String(f)).toThrow(name);
    }
  });
});
