/**
 * Counters (docs/spec.md §1 "Nonce = counter", "Counter edge") and the rekey boundary, with injected
 * start values. Edge: at most 2^(8n) − 1 frames per direction (C-core/Java); see counter.ts.
 */
import { createCipheriv, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCrypters } from '../../src/crypto/index.js';
import type { Side } from '../../src/crypto/types.js';
import { createProtector } from '../../src/protector.js';
import { Counter, counterAt, maxFrames, OVERFLOW_BYTES } from '../../src/record/counter.js';
import { BACKENDS, codeOf, keyFor, PROTOCOLS, toHex } from './_helpers.js';

const SIDES: Side[] = ['client', 'server'];

describe('counterAt', () => {
  it('is 12 bytes little-endian with the side bit in byte 11 for server', () => {
    expect(toHex(counterAt('client', 0n, 5))).toBe('000000000000000000000000');
    expect(toHex(counterAt('server', 0n, 5))).toBe('000000000000000000000080');
    expect(toHex(counterAt('client', 0x0102030405n, 5))).toBe('050403020100000000000000');
    expect(toHex(counterAt('server', 0xffffffffffffffn, 8))).toBe('ffffffffffffff0000000080');
  });
  it('rejects indices outside 0..2^(8n)−1, naming the argument', () => {
    expect(() => counterAt('client', -1n, 5, 'counters.outbound')).toThrow(RangeError);
    expect(() => counterAt('client', 1n << 40n, 5, 'counters.outbound')).toThrow(/counters\.outbound/);
    expect(() => counterAt('client', 1 as unknown as bigint, 5)).toThrow(TypeError);
    expect(counterAt('client', (1n << 40n) - 1n, 5)).toHaveLength(12);
  });
});

describe('Counter', () => {
  it('increments little-endian and reports the highest byte that changed', () => {
    const c = new Counter(counterAt('client', 0xfffen, 8), 8);
    expect(c.next()).toBe(0);
    expect(c.index).toBe(0xffffn);
    expect(c.next()).toBe(2);
    expect(c.index).toBe(0x10000n);
    expect(toHex(c.value)).toBe('000001000000000000000000');
  });
  it('is exhausted exactly at the all-0xff value, and never touches bytes above the counted ones', () => {
    const c = new Counter(counterAt('server', maxFrames(5) - 1n, 5), 5); // the last usable index
    expect(c.exhausted).toBe(false);
    expect(c.framesLeft()).toBe(1);
    c.next();
    expect(c.exhausted).toBe(true);
    expect(c.framesLeft()).toBe(0);
    expect(codeOf(() => c.check())).toBe('COUNTER_EXHAUSTED');
    expect(toHex(c.value)).toBe('ffffffffff00000000000080');
  });
  it('framesLeft is exact below 2^32 and saturates at 2^32', () => {
    expect(new Counter(counterAt('client', 0n, 5), 5).framesLeft()).toBe(2 ** 32);
    expect(new Counter(counterAt('client', maxFrames(8) - 12345n, 8), 8).framesLeft()).toBe(12345);
    expect(new Counter(counterAt('client', maxFrames(5) - 2n ** 32n + 1n, 5), 5).framesLeft()).toBe(2 ** 32 - 1);
  });
});

describe.each(BACKENDS)('counter edge (%s)', (backend) => {
  for (const protocol of PROTOCOLS) {
    const last = maxFrames(OVERFLOW_BYTES[protocol]) - 1n; // the last usable frame index
    for (const side of SIDES) {
      const peer: Side = side === 'client' ? 'server' : 'client';
      it(`${protocol} ${side}: the last frame works, the next is COUNTER_EXHAUSTED (outbound and inbound)`, () => {
        const key = keyFor(protocol);
        const a = createProtector({ protocol, side, key, backend, counters: { outbound: last - 1n } });
        const b = createProtector({ protocol, side: peer, key, backend, counters: { inbound: last - 1n } });
        const f1 = a.protect(Uint8Array.of(1, 2, 3));
        const f2 = a.protect(Uint8Array.of(4));
        expect(Array.from(b.unprotect(f1))).toEqual([1, 2, 3]);
        expect(Array.from(b.unprotect(f2))).toEqual([4]);
        // Outbound: no counter value left; the protector is then dead with that error.
        const e = (() => {
          try {
            a.protect(Uint8Array.of(5));
          } catch (x) {
            return x;
          }
        })();
        expect(e).toMatchObject({ code: 'COUNTER_EXHAUSTED' });
        expect(() => a.protect(new Uint8Array(0))).toThrow(e as Error);
        // Inbound: any further frame fails before authentication.
        const other = createProtector({ protocol, side, key, backend, counters: { outbound: last } }).protect(Uint8Array.of(9));
        expect(codeOf(() => b.unprotect(other))).toBe('COUNTER_EXHAUSTED');
      });

      it(`${protocol} ${side}: a message needing more frames than are left fails before sealing any`, () => {
        const key = keyFor(protocol);
        const { outbound } = createCrypters({ protocol, side, key, backend, counters: { outbound: last } });
        const a = createProtector({ protocol, side, key, backend, counters: { outbound: last }, maxFrameSize: 4096 });
        expect(codeOf(() => a.protect(new Uint8Array(4073)))).toBe('COUNTER_EXHAUSTED');
        expect(outbound.counter).toBe(last);
        const seal = () => outbound.seal(new Uint8Array(16), 0, 0);
        seal();
        expect(codeOf(seal)).toBe('COUNTER_EXHAUSTED');
        expect(outbound.counter).toBe(last + 1n); // the failed call changed nothing
      });
    }
  }
});

/** Independent rekey computation: node:crypto HMAC and AES-GCM called directly. */
function rekeyFrameRef(key: Uint8Array, side: Side, index: bigint, pt: Uint8Array): string {
  const ctr = counterAt(side, index, 8);
  const aesKey = createHmac('sha256', key.subarray(0, 32)).update(Buffer.concat([ctr.subarray(2, 8), Buffer.of(1)])).digest().subarray(0, 16);
  const nonce = ctr.map((b, i) => b ^ key[32 + i]!);
  const c = createCipheriv('aes-128-gcm', aesKey, nonce);
  const ct = Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
  return toHex(ct);
}

describe.each(BACKENDS)('rekey boundary (%s)', (backend) => {
  for (const side of SIDES) {
    it(`${side}: frames 65534..65538 match an independent HMAC+GCM, and the key is derived once per 2^16 frames`, () => {
      const protocol = 'ALTSRP_GCM_AES128_REKEY';
      const key = keyFor(protocol, 7);
      const { outbound } = createCrypters({ protocol, side, key, backend, counters: { outbound: 65534n } });
      const derivations = () => (outbound as unknown as { derivations: number }).derivations;
      expect(derivations()).toBe(0); // prepared at the first frame, not when built
      const pt = Uint8Array.from({ length: 33 }, (_, i) => i);
      for (let i = 65534n; i <= 65538n; i++) {
        const buf = new Uint8Array(pt.length + 16);
        buf.set(pt);
        outbound.seal(buf, 0, pt.length);
        expect(toHex(buf)).toBe(rekeyFrameRef(key, side, i, pt));
      }
      expect(derivations()).toBe(2); // re-derived at 65536 only
      // Further frames inside the same 2^16 block derive nothing.
      for (let i = 0; i < 100; i++) outbound.seal(new Uint8Array(16), 0, 0);
      expect(derivations()).toBe(2);
    });

    it(`${side}: the inbound side re-derives in step (65535 → 65536, 2^24, 2^56)`, () => {
      const protocol = 'ALTSRP_GCM_AES128_REKEY';
      const key = keyFor(protocol, 3);
      const peer: Side = side === 'client' ? 'server' : 'client';
      for (const start of [65535n, (1n << 24n) - 1n, (1n << 56n) - 1n]) {
        const a = createProtector({ protocol, side, key, backend: 'node', counters: { outbound: start } });
        const b = createProtector({ protocol, side: peer, key, backend, counters: { inbound: start } });
        const frames = a.protect(new Uint8Array(3 * 4072).fill(7));
        expect(b.unprotect(frames)).toEqual(new Uint8Array(3 * 4072).fill(7));
      }
    });
  }
});
