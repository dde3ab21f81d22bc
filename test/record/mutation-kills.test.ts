/**
 * Tests written against the mutants StrykerJS left alive in src/record (stryker.config.json,
 * `npx stryker run --mutate 'src/record/**\/*.ts'`): openFrame's bounds (1 MiB frame limit,
 * negative offsets), sealFramesInto's room check at an offset and its COUNTER_EXHAUSTED
 * pre-check (no frame sealed when the counter cannot carry them all), the Counter and counterAt
 * argument checks, and next() never carrying past the counted bytes.
 */
import { describe, expect, it } from 'vitest';
import type { DirectionCrypter } from '../../src/crypto/types.js';
import { MAX_FRAME_BYTES, MIN_MAX_FRAME_SIZE } from '../../src/record/constants.js';
import { COUNTER_BYTES, Counter, counterAt } from '../../src/record/counter.js';
import { frameBytesAt, openFrame, sealFramesInto, sealedSize } from '../../src/record/frame.js';
import { codeOf } from './_helpers.js';

/** A crypter that records calls and does no crypto; framesLeft only when `left` is given. */
function fake(left?: number): DirectionCrypter & { seals: number; opens: number } {
  const c = {
    seals: 0,
    opens: 0,
    counter: 0n,
    seal() {
      c.seals++;
    },
    open() {
      c.opens++;
    },
  };
  return left === undefined ? c : Object.assign(c, { framesLeft: () => left });
}

function frame(len: number, type = 6): Uint8Array {
  const b = new Uint8Array(4 + len);
  new DataView(b.buffer).setUint32(0, len, true);
  new DataView(b.buffer).setUint32(4, type, true);
  return b;
}

describe('openFrame bounds', () => {
  it('accepts a frame of exactly 1 MiB + 4 bytes and rejects one byte more before looking at it', () => {
    const max = frame(MAX_FRAME_BYTES - 4);
    const inbound = fake();
    expect(openFrame(inbound, max, 0, MAX_FRAME_BYTES, max, 8)).toBe(MAX_FRAME_BYTES - 24);
    expect(inbound.opens).toBe(1);
    const over = frame(MAX_FRAME_BYTES - 3);
    expect(() => openFrame(inbound, over, 0, MAX_FRAME_BYTES + 1, over, 8)).toThrow(RangeError);
    expect(inbound.opens).toBe(1);
  });

  it('rejects negative offsets', () => {
    const f = frame(20);
    const inbound = fake();
    const buf = new Uint8Array(30);
    buf.set(f, 1);
    expect(() => openFrame(inbound, buf, -1, 24, new Uint8Array(0), 0)).toThrow(RangeError);
    expect(() => openFrame(inbound, f, 0, 24, new Uint8Array(4), -1)).toThrow(/"dst"/);
    expect(openFrame(inbound, buf, 1, 24, new Uint8Array(0), 0)).toBe(0);
    expect(inbound.opens).toBe(1);
  });

  it('length errors say which length', () => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, (1 << 20) + 1, true);
    expect(() => frameBytesAt(b, 0, 4)).toThrow(/frame length 1048577 is above 1048576/);
    new DataView(b.buffer).setUint32(0, 19, true);
    expect(() => frameBytesAt(b, 0, 4)).toThrow(/frame length 19 is below 20/);
    const t = frame(20, 7);
    expect(() => openFrame(fake(), t, 0, 24, t, 8)).toThrow(/frame type 0x7 is not 6/);
  });
});

describe('sealFramesInto checks', () => {
  it('checks room from outOff, not from the start of out', () => {
    const pt = new Uint8Array(10);
    const total = sealedSize(10);
    const out = new Uint8Array(total + 5);
    expect(() => sealFramesInto(fake(), pt, out, 6)).toThrow(new RangeError(`"out" expected room for ${total} bytes at 6, has ${total - 1}`));
    expect(sealFramesInto(fake(), pt, out, 5)).toBe(total);
  });

  it('throws COUNTER_EXHAUSTED before sealing any frame when the counter cannot carry them all', () => {
    const payload = MIN_MAX_FRAME_SIZE - 24;
    const pt = new Uint8Array(payload + 1); // two frames
    const out = new Uint8Array(sealedSize(pt.length, MIN_MAX_FRAME_SIZE));
    const short = fake(1);
    expect(codeOf(() => sealFramesInto(short, pt, out, 0, MIN_MAX_FRAME_SIZE))).toBe('COUNTER_EXHAUSTED');
    expect(() => sealFramesInto(short, pt, out, 0, MIN_MAX_FRAME_SIZE)).toThrow(/2 frames needed, 1 left in this direction/);
    expect(short.seals).toBe(0);
    const exact = fake(2);
    expect(sealFramesInto(exact, pt, out, 0, MIN_MAX_FRAME_SIZE)).toBe(out.length);
    expect(exact.seals).toBe(2);
    const noCount = fake(); // a crypter without framesLeft is not asked
    expect(sealFramesInto(noCount, pt, out, 0, MIN_MAX_FRAME_SIZE)).toBe(out.length);
    expect(noCount.seals).toBe(2);
  });

  it('argument errors name the argument', () => {
    expect(() => sealedSize(-1)).toThrow(/"n"/);
    expect(() => sealFramesInto(fake(), 'x' as never, new Uint8Array(64), 0)).toThrow(/"plaintext"/);
    expect(() => sealFramesInto(fake(), new Uint8Array(1), 'x' as never, 0)).toThrow(/"out"/);
  });
});

describe('Counter and counterAt checks', () => {
  it('Counter rejects a non-Uint8Array, a wrong length and an unknown overflow size', () => {
    expect(() => new Counter([0] as never, 5)).toThrow(new TypeError('"counter" expected Uint8Array, got object'));
    expect(() => new Counter(new Uint8Array(11), 5)).toThrow(new RangeError('"counter" expected length 12, got 11'));
    expect(() => new Counter(new Uint8Array(13), 5)).toThrow(RangeError);
    for (const bad of [0, 4, 6, 7, 9, 12]) expect(() => new Counter(new Uint8Array(COUNTER_BYTES), bad)).toThrow(/"overflowBytes" expected 5 or 8/);
    expect(new Counter(new Uint8Array(COUNTER_BYTES), 8).overflowBytes).toBe(8);
  });

  it('counterAt wants a bigint, naming the argument', () => {
    expect(() => counterAt('client', 1 as never, 5)).toThrow(new TypeError('"index" expected bigint, got number'));
    expect(() => counterAt('client', 1 as never, 5, 'start')).toThrow(/"start" expected bigint/);
  });

  it('the exhausted message counts the frames', () => {
    const c = new Counter(counterAt('client', (1n << 40n) - 1n, 5), 5);
    expect(c.exhausted).toBe(true);
    expect(() => c.check()).toThrow(/all 1099511627775 frames of this direction are used/);
  });

  for (const [n, side] of [
    [5, 'client'],
    [8, 'server'],
  ] as const) {
    it(`next() never carries past the ${n} counted bytes, even from the all-0xff value (${side})`, () => {
      const start = counterAt(side, (1n << BigInt(8 * n)) - 1n, n);
      start[n] = 0x42; // an uncounted byte must never change
      const c = new Counter(start, n);
      expect(c.next()).toBe(n - 1);
      expect(c.value[n]).toBe(0x42);
      expect(c.value[COUNTER_BYTES - 1]).toBe(side === 'server' ? 0x80 : 0);
    });
  }

  it('index reads only the counted bytes', () => {
    const v = counterAt('server', 258n, 5);
    v[5] = 0xaa;
    v[6] = 0xbb;
    expect(new Counter(v, 5).index).toBe(258n);
  });
});
