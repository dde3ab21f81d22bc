/**
 * LazyDirection (src/crypto/lazy.ts): the conn's directions are built at their first use, so an
 * idle connection holds no cipher state; a lazy direction is byte-identical to a built one and
 * checks its arguments up front like one.
 */
import { describe, expect, it } from 'vitest';
import { createCrypters } from '../../src/crypto/index.js';
import { keyString, LazyDirection, type LazyRecipe } from '../../src/crypto/lazy.js';
import type { DirectionCrypter } from '../../src/crypto/types.js';
import { BACKENDS, keyFor } from './_helpers.js';

const protocol = 'ALTSRP_GCM_AES128_REKEY' as const;

/** A recipe whose factory returns a stand-in direction. */
const recipeOf = (make: () => DirectionCrypter): LazyRecipe => ({ make, protocol, key: keyString(new Uint8Array(44)), overflowBytes: 8 });

describe.each(BACKENDS)('lazy directions (%s)', (backend) => {
  it('are not built until a frame, the counter or framesLeft is asked for', () => {
    const c = createCrypters({ protocol, side: 'client', key: keyFor(protocol, 3), backend, lazy: true });
    const out = c.outbound as LazyDirection;
    const inb = c.inbound as LazyDirection;
    expect([out.built, inb.built]).toEqual([false, false]);
    out.seal(new Uint8Array(16), 0, 0);
    expect([out.built, inb.built]).toEqual([true, false]);
    expect(inb.counter).toBe(0n);
    expect(inb.built).toBe(true);
    const other = createCrypters({ protocol, side: 'client', key: keyFor(protocol, 3), backend, lazy: true }).outbound as LazyDirection;
    expect(other.framesLeft()).toBe(2 ** 32);
    expect(other.built).toBe(true);
  });

  it('seal and open match built directions frame for frame, across the 2^16 rekey boundary', () => {
    const key = keyFor(protocol, 5);
    const counters = { outbound: 65534n, inbound: 65534n };
    const lazy = createCrypters({ protocol, side: 'client', key: key.slice(), backend, counters, lazy: true });
    const eager = createCrypters({ protocol, side: 'client', key, backend, counters });
    const peer = createCrypters({ protocol, side: 'server', key, backend, counters });
    for (let i = 0; i < 4; i++) {
      const a = Uint8Array.from({ length: 40 }, (_, j) => j * i);
      const b = a.slice();
      lazy.outbound.seal(a, 0, 24);
      eager.outbound.seal(b, 0, 24);
      expect(a).toEqual(b);
      const f = Uint8Array.from({ length: 40 }, (_, j) => j + i);
      peer.outbound.seal(f, 0, 24);
      const got = new Uint8Array(24);
      lazy.inbound.open(f, 0, 24, got, 0);
      expect(got).toEqual(Uint8Array.from({ length: 24 }, (_, j) => j + i));
    }
    expect(lazy.outbound.counter).toBe(65538n);
  });

  it('keeps its own copy of the key: the caller reusing its array before the first frame changes nothing', () => {
    const key = keyFor(protocol, 9);
    const lazy = createCrypters({ protocol, side: 'client', key, backend, lazy: true });
    const eager = createCrypters({ protocol, side: 'client', key: key.slice(), backend });
    key.fill(0);
    const a = new Uint8Array(32);
    const b = new Uint8Array(32);
    lazy.outbound.seal(a, 0, 16);
    eager.outbound.seal(b, 0, 16);
    expect(a).toEqual(b);
  });
});

it('a lazy shell checks every argument now, not at first use', () => {
  expect(() => createCrypters({ protocol, side: 'client', key: new Uint8Array(16), lazy: true })).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
  expect(() => createCrypters({ protocol, side: 'client', key: keyFor(protocol, 1), lazy: true, counters: { outbound: -1n } })).toThrow(RangeError);
});

it('a built direction without framesLeft reports the saturated count', () => {
  const d = new LazyDirection(recipeOf(() => ({ seal() {}, open() {}, counter: 7n })), 'client', 0n);
  expect(d.framesLeft()).toBe(2 ** 32);
  expect(d.counter).toBe(7n);
});

describe.each(BACKENDS)('sealTo (%s)', (backend) => {
  it('is copy-then-seal, on built and lazy directions alike', () => {
    const key = keyFor(protocol, 11);
    const a = createCrypters({ protocol, side: 'server', key, backend });
    const b = createCrypters({ protocol, side: 'server', key, backend, lazy: true });
    const ref = createCrypters({ protocol, side: 'server', key, backend });
    for (const n of [0, 1, 1000]) {
      const src = Uint8Array.from({ length: n + 4 }, (_, i) => i * 7);
      const want = new Uint8Array(n + 16);
      want.set(src.subarray(2, 2 + n));
      ref.outbound.seal(want, 0, n);
      for (const d of [a.outbound, b.outbound]) {
        const got = new Uint8Array(n + 16 + 3);
        d.sealTo!(src, 2, n, got, 3);
        expect(got.subarray(3)).toEqual(want);
      }
    }
  });
});

it('a lazy shell over a direction without sealTo copies, then seals', () => {
  const calls: string[] = [];
  const d = new LazyDirection(recipeOf(() => ({ seal: (buf: Uint8Array, off: number) => void calls.push(`seal ${buf[off]} @${off}`), open() {}, counter: 0n })), 'client', 0n);
  const dst = new Uint8Array(40);
  d.sealTo(Uint8Array.of(9, 8, 7), 1, 2, dst, 5);
  expect(calls).toEqual(['seal 8 @5']);
  expect([...dst.subarray(5, 7)]).toEqual([8, 7]);
});

it('the factory gets the key bytes, the protocol and the start counter of the shell it builds', () => {
  const seen: { key: number[]; counter: number[]; protocol: string }[] = [];
  const key = Uint8Array.from({ length: 44 }, (_, i) => 255 - i);
  const recipe: LazyRecipe = {
    make: (o) => (seen.push({ key: [...o.key], counter: [...o.counter], protocol: o.protocol }), { seal() {}, open() {}, counter: 0n }),
    protocol,
    key: keyString(key.subarray(0)),
    overflowBytes: 8,
  };
  void new LazyDirection(recipe, 'server', 258n).counter;
  expect(seen).toEqual([{ key: [...key], counter: [2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80], protocol }]);
});
