/**
 * Every single-bit flip in a frame fails with AUTH_FAILED or a framing error, or (a length that
 * grew) leaves an incomplete frame that an EOF reports as TRUNCATED: never any plaintext.
 * docs/spec.md §1: the header is not authenticated, so the length and type checks carry it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createProtector } from '../../src/protector.js';
import { arbBytes, arbProtocol, arbSide, params, peerOf, SEED } from './_fc.js';

const FAILS = ['AUTH_FAILED', 'FRAME_TOO_LARGE', 'FRAME_TOO_SHORT', 'BAD_MESSAGE_TYPE'];

describe(`tampering (seed ${SEED})`, () => {
  for (const backend of ['native', 'node', 'noble'] as const) {
    it(`${backend}: every single-bit flip fails, never wrong plaintext`, () => {
      fc.assert(
        fc.property(arbProtocol, arbSide, arbBytes(backend === 'noble' ? 24 : 48), fc.nat({ max: 70000 }), (protocol, side, pt, start) => {
          const key = new Uint8Array(protocol === 'ALTSRP_GCM_AES128' ? 16 : 44).fill(0x42);
          const frame = createProtector({ protocol, side, key, backend, counters: { outbound: BigInt(start) } }).protect(pt.length ? pt : Uint8Array.of(1));
          for (let bit = 0; bit < frame.length * 8; bit++) {
            const f = frame.slice();
            f[bit >> 3]! ^= 1 << (bit & 7);
            const r = createProtector({ protocol, side: peerOf(side), key, backend, counters: { inbound: BigInt(start) } }).unprotectAll(f);
            expect(r.plaintext).toHaveLength(0);
            if (r.error === null) expect(bit).toBeLessThan(32); // a grown length: still waiting → TRUNCATED at EOF
            else expect(FAILS).toContain(r.error.code);
          }
        }),
        params(backend === 'noble' ? 4 : 15),
      );
    });
  }
});
