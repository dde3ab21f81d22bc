/** Framing (docs/spec.md §1 "Frame", "Lengths") and argument errors at the API edge. */
import { describe, expect, it } from 'vitest';
import { aeadDirection } from '../../src/crypto/_direction.js';
import { nobleAead } from '../../src/crypto/noble.js';
import { createCrypters, registerBackend } from '../../src/crypto/index.js';
import { createProtector } from '../../src/protector.js';
import { frameBytesAt, openFrame, sealedSize, sealFrames, sealFramesInto } from '../../src/record/frame.js';
import { codeOf, keyFor, PROTOCOLS } from './_helpers.js';

const le = (v: number) => Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
const AES = 'ALTSRP_GCM_AES128';
const key = keyFor(AES);

describe('frameBytesAt', () => {
  it('needs the 4 length bytes', () => {
    for (let n = 0; n < 4; n++) expect(frameBytesAt(new Uint8Array(8), 0, n)).toBe(-1);
    expect(frameBytesAt(le(20), 0, 4)).toBe(24);
    expect(frameBytesAt(Uint8Array.of(9, 9, ...le(100)), 2, 4)).toBe(104);
  });
  it('accepts len 20 .. 1 MiB', () => {
    expect(frameBytesAt(le(1 << 20), 0, 4)).toBe(4 + (1 << 20));
  });
  it('FRAME_TOO_LARGE from the 4 length bytes alone', () => {
    for (const len of [(1 << 20) + 1, 0x7fffffff, 0xffffffff]) expect(codeOf(() => frameBytesAt(le(len), 0, 4))).toBe('FRAME_TOO_LARGE');
  });
  it('FRAME_TOO_SHORT for len 0..19, never a crash', () => {
    for (let len = 0; len < 20; len++) expect(codeOf(() => frameBytesAt(le(len), 0, 4))).toBe('FRAME_TOO_SHORT');
  });
  it('BAD_MESSAGE_TYPE from the 8 header bytes alone, never before the type word is whole', () => {
    const hdr = Uint8Array.of(...le(1000), ...le(0x106));
    for (let n = 4; n < 8; n++) expect(frameBytesAt(hdr, 0, n)).toBe(1004);
    expect(codeOf(() => frameBytesAt(hdr, 0, 8))).toBe('BAD_MESSAGE_TYPE');
    expect(frameBytesAt(Uint8Array.of(...le(1000), ...le(6)), 0, 8)).toBe(1004);
  });
});

describe('openFrame', () => {
  const frame = () => sealFrames(createCrypters({ protocol: AES, side: 'client', key }).outbound, Uint8Array.of(1, 2, 3));
  const inbound = () => createCrypters({ protocol: AES, side: 'server', key }).inbound;

  it('opens in place and into another buffer', () => {
    const f = frame();
    expect(openFrame(inbound(), f, 0, f.length, f, 8)).toBe(3);
    expect(Array.from(f.subarray(8, 11))).toEqual([1, 2, 3]);
    const g = frame();
    const dst = new Uint8Array(10);
    expect(openFrame(inbound(), g, 0, g.length, dst, 5)).toBe(3);
    expect(Array.from(dst.subarray(5, 8))).toEqual([1, 2, 3]);
  });

  it('BAD_MESSAGE_TYPE unless the whole type word is 6 (0x106 fails)', () => {
    for (const type of [0x106, 0x0600, 0x06000000, 7, 0, 0xffffffff]) {
      const f = frame();
      f.set(le(type), 4);
      expect(codeOf(() => openFrame(inbound(), f, 0, f.length, f, 8))).toBe('BAD_MESSAGE_TYPE');
    }
  });

  it('AUTH_FAILED for a tampered frame', () => {
    const f = frame();
    f[10]! ^= 1;
    expect(codeOf(() => openFrame(inbound(), f, 0, f.length, f, 8))).toBe('AUTH_FAILED');
  });

  it('RangeError for a frameBytes that is not a frame inside buf', () => {
    const f = frame();
    expect(() => openFrame(inbound(), f, 0, f.length + 1, f, 8)).toThrow(RangeError);
    expect(() => openFrame(inbound(), f, 0, 23, f, 8)).toThrow(/frameBytes/);
    expect(() => openFrame(inbound(), f, 0, f.length, new Uint8Array(2), 0)).toThrow(/dst/);
  });
});

describe('sealedSize / sealFrames / sealFramesInto', () => {
  it('counts 24 bytes per frame of at most maxFrameSize − 24 payload bytes', () => {
    expect(sealedSize(0, 4096)).toBe(0);
    expect(sealedSize(1, 4096)).toBe(25);
    expect(sealedSize(4072, 4096)).toBe(4096);
    expect(sealedSize(4073, 4096)).toBe(4073 + 48);
    expect(sealedSize(16360)).toBe(16384);
    expect(sealedSize((1 << 20) - 24, 1 << 20)).toBe(1 << 20);
  });
  it('empty plaintext is zero frames', () => {
    const { outbound } = createCrypters({ protocol: AES, side: 'client', key });
    expect(sealFrames(outbound, new Uint8Array(0))).toHaveLength(0);
    expect(outbound.counter).toBe(0n);
  });
  it('sealFramesInto writes at an offset and returns the byte count', () => {
    const out = new Uint8Array(100).fill(0xee);
    const n = sealFramesInto(createCrypters({ protocol: AES, side: 'client', key }).outbound, Uint8Array.of(1, 2), out, 7, 4096);
    expect(n).toBe(26);
    expect(out[6]).toBe(0xee);
    expect(out[33]).toBe(0xee);
    expect(Array.from(out.subarray(7, 15))).toEqual([22, 0, 0, 0, 6, 0, 0, 0]);
  });
  it('maxFrameSize outside 4 KiB..1 MiB is a RangeError naming it; a non-number a TypeError', () => {
    const { outbound } = createCrypters({ protocol: AES, side: 'client', key });
    for (const m of [4095, (1 << 20) + 1, 4096.5, NaN, 0, -1]) {
      expect(() => sealFrames(outbound, Uint8Array.of(1), m)).toThrow(RangeError);
      expect(() => sealedSize(1, m)).toThrow(/"maxFrameSize"/);
      expect(() => createProtector({ protocol: AES, side: 'client', key, maxFrameSize: m })).toThrow(RangeError);
    }
    expect(() => sealFrames(outbound, Uint8Array.of(1), '16384' as unknown as number)).toThrow(TypeError);
  });
  it('argument types: TypeError naming the argument; out too small a RangeError', () => {
    const { outbound } = createCrypters({ protocol: AES, side: 'client', key });
    expect(() => sealFrames(outbound, [1, 2] as unknown as Uint8Array)).toThrow(/"plaintext"/);
    expect(() => sealFrames(outbound, 'ab' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => sealFramesInto(outbound, Uint8Array.of(1, 2), new Uint8Array(25), 0)).toThrow(/"out"/);
    expect(() => sealFramesInto(outbound, Uint8Array.of(1, 2), new Uint8Array(26), -1)).toThrow(/"outOff"/);
  });
});

describe('createCrypters / createProtector options', () => {
  it('UNKNOWN_PROTOCOL for any other protocol name', () => {
    for (const protocol of ['ALTSRP_GCM_AES256', 'altsrp_gcm_aes128', '', undefined, 5])
      expect(codeOf(() => createCrypters({ protocol, side: 'client', key } as never))).toBe('UNKNOWN_PROTOCOL');
  });
  it('a key that is not a Uint8Array is a TypeError naming "key"', () => {
    for (const k of [undefined, 'k'.repeat(16), Array(16).fill(0), new Uint16Array(16)])
      expect(() => createCrypters({ protocol: AES, side: 'client', key: k as never })).toThrow(/"key"/);
    expect(() => createProtector({ protocol: AES, side: 'client', key: null as never })).toThrow(TypeError);
  });
  it('BAD_KEY for the wrong length', () => {
    for (const protocol of PROTOCOLS)
      for (const n of [0, 15, 17, 32, protocol === AES ? 44 : 16])
        expect(codeOf(() => createProtector({ protocol, side: 'server', key: new Uint8Array(n) }))).toBe('BAD_KEY');
  });
  it('side, backend and counters are checked with RangeError/TypeError naming them', () => {
    expect(() => createCrypters({ protocol: AES, side: 'peer' as never, key })).toThrow(/"side"/);
    expect(() => createCrypters({ protocol: AES, side: 'client', key, backend: 'openssl' as never })).toThrow(RangeError);
    expect(() => createCrypters({ protocol: AES, side: 'client', key, backend: 'openssl' as never })).toThrow(/"backend"/);
    expect(() => createCrypters({ protocol: AES, side: 'client', key, counters: { outbound: 1 as never } })).toThrow(TypeError);
    expect(() => createCrypters({ protocol: AES, side: 'client', key, counters: { inbound: -1n } })).toThrow(/counters\.inbound/);
    expect(() => createCrypters({ protocol: AES, side: 'client', key, counters: { outbound: 1n << 40n } })).toThrow(RangeError);
    expect(() => createProtector(null as never)).toThrow(TypeError);
    expect(() => createProtector({ protocol: AES, side: 'client', key, protected: 'x' as never })).toThrow(/"protected"/);
  });
  it("a factory registered as 'native' replaces the addon's; 'noble' and 'node' cannot be replaced", () => {
    expect(() => registerBackend('node', (o) => aeadDirection(nobleAead, o))).toThrow(RangeError);
    expect(() => registerBackend('native', 'f' as never)).toThrow(TypeError);
    let calls = 0;
    registerBackend('native', (o) => {
      calls++;
      return aeadDirection(nobleAead, o);
    });
    const p = createProtector({ protocol: AES, side: 'client', key, backend: 'native' });
    const q = createProtector({ protocol: AES, side: 'server', key, backend: 'node' });
    expect(Array.from(q.unprotect(p.protect(Uint8Array.of(42))))).toEqual([42]);
    expect(calls).toBe(2);
    createProtector({ protocol: AES, side: 'client', key }); // the default is 'native' too
    expect(calls).toBe(4);
  });
});
