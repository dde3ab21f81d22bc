/**
 * Properties of protect → unprotect (docs/spec.md §1 "Frame", "Lengths"): any plaintext sequence
 * survives any split of the byte stream (inside the 4-byte length too, and into the handshake
 * leftover), and protect splits at exactly maxFrameSize − 24 payload bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createProtector } from '../../src/protector.js';
import { FRAME_OVERHEAD } from '../../src/record/constants.js';
import { arbBytes, arbKey, arbProtocol, arbSide, arbStart, concat, expectBytes, params, peerOf, SEED } from './_fc.js';

/** Cut `wire` at the given fractions (sorted, deduplicated). */
function cuts(wire: Uint8Array, at: number[]): Uint8Array[] {
  const pos = [...new Set(at.map((f) => Math.floor(f * wire.length)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let last = 0;
  for (const p of pos) {
    parts.push(wire.subarray(last, p));
    last = p;
  }
  parts.push(wire.subarray(last));
  return parts;
}

describe(`record round trip (seed ${SEED})`, () => {
  for (const backend of ['native', 'node', 'noble'] as const) {
    it(`${backend}: protect → unprotect under any split, with any leftover`, () => {
      fc.assert(
        fc.property(
          arbProtocol.chain((protocol) =>
            fc.record({
              protocol: fc.constant(protocol),
              key: arbKey(protocol),
              side: arbSide,
              start: arbStart(protocol),
              maxFrameSize: fc.oneof(fc.constant(4096), fc.integer({ min: 4096, max: 20000 })),
              msgs: fc.array(arbBytes(backend === 'noble' ? 5000 : 12000), { maxLength: 6 }),
              at: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
              leftover: fc.nat({ max: 40 }),
            }),
          ),
          ({ protocol, key, side, start, maxFrameSize, msgs, at, leftover }) => {
            const a = createProtector({ protocol, side, key, backend, maxFrameSize, counters: { outbound: start } });
            const wire = concat(msgs.map((m) => a.protect(m)));
            const lo = Math.min(leftover, wire.length);
            const b = createProtector({ protocol, side: peerOf(side), key, backend, protected: wire.slice(0, lo), counters: { inbound: start } });
            const got = concat(cuts(wire.subarray(lo), at).map((p) => b.unprotect(p)));
            expectBytes(got, concat(msgs));
            expect(b.pendingBytes).toBe(0);
            expect(b.error).toBe(null);
          },
        ),
        params(backend === 'noble' ? 40 : 150),
      );
    });
  }

  it('in chunks of 1..9 (or up to 800) bytes: every cut inside the length field and the header is met', () => {
    fc.assert(
      fc.property(
        arbProtocol,
        // Payloads above 256 bytes so the length's upper bytes vary too.
        fc.array(arbBytes(700), { minLength: 1, maxLength: 4 }),
        fc.array(fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 10, max: 800 })), { minLength: 1, maxLength: 20 }),
        (protocol, msgs, sizes) => {
          const key = new Uint8Array(protocol === 'ALTSRP_GCM_AES128' ? 16 : 44).fill(3);
          const a = createProtector({ protocol, side: 'server', key });
          const b = createProtector({ protocol, side: 'client', key });
          const wire = concat(msgs.map((m) => a.protect(m)));
          const got: Uint8Array[] = [];
          for (let i = 0, k = 0; i < wire.length; k++) {
            const n = sizes[k % sizes.length]!;
            got.push(b.unprotect(wire.subarray(i, i + n)));
            i += n;
          }
          expectBytes(concat(got), concat(msgs));
          expect(b.pendingBytes).toBe(0);
        },
      ),
      params(100),
    );
  });

  it('frames carry at most maxFrameSize − 24 payload bytes, all full but the last (4 KiB and 1 MiB edges)', () => {
    const arbSize = fc.oneof(fc.constantFrom(4096, 4097, 16384, (1 << 20) - 1, 1 << 20), fc.integer({ min: 4096, max: 1 << 20 }));
    fc.assert(
      fc.property(arbProtocol, arbSize, fc.nat({ max: 3 }), fc.integer({ min: -2, max: 2 }), (protocol, maxFrameSize, k, d) => {
        const payload = maxFrameSize - FRAME_OVERHEAD;
        const n = Math.max(0, k * payload + d);
        const key = new Uint8Array(protocol === 'ALTSRP_GCM_AES128' ? 16 : 44).fill(9);
        const pt = new Uint8Array(n).fill(0x5a);
        const wire = createProtector({ protocol, side: 'client', key, maxFrameSize }).protect(pt);
        const sizes: number[] = [];
        const dv = new DataView(wire.buffer, wire.byteOffset, wire.byteLength);
        for (let off = 0; off < wire.length; ) {
          const len = dv.getUint32(off, true);
          expect(dv.getUint32(off + 4, true)).toBe(6);
          sizes.push(len - 20);
          off += 4 + len;
        }
        expect(sizes.length).toBe(Math.ceil(n / payload));
        for (const s of sizes.slice(0, -1)) expect(s).toBe(payload);
        if (sizes.length > 0) expect(sizes.at(-1)).toBe(n - payload * (sizes.length - 1));
        expect(sizes.reduce((x, y) => x + y, 0)).toBe(n);
        expectBytes(createProtector({ protocol, side: 'server', key }).unprotect(wire), pt);
      }),
      params(40),
    );
  });
});
