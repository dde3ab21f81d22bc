/**
 * Differential and direction properties (docs/spec.md §1 "Nonce = counter"; "all backends
 * byte-identical"): noble, node and native produce the same frames for the same key, side,
 * counter start (around the 2^16 rekey boundary too) and plaintext sequence, under both
 * protocols, and each opens the others'; and a direction never opens the other direction's
 * frames, whatever the two counters' values.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAltsError } from '../../src/errors.js';
import { createProtector } from '../../src/protector.js';
import { arbBytes, arbKey, arbProtocol, arbSide, arbStart, concat, expectBytes, params, peerOf, SEED } from './_fc.js';

const arbCase = arbProtocol.chain((protocol) =>
  fc.record({
    protocol: fc.constant(protocol),
    key: arbKey(protocol),
    side: arbSide,
    start: arbStart(protocol),
    msgs: fc.array(arbBytes(9000), { maxLength: 5 }),
  }),
);

describe(`backends and directions (seed ${SEED})`, () => {
  it('noble, node and native frames are byte-identical, and each opens the others', () => {
    const backends = ['noble', 'node', 'native'] as const;
    fc.assert(
      fc.property(arbCase, ({ protocol, key, side, start, msgs }) => {
        const o = { protocol, side, key, maxFrameSize: 4096, counters: { outbound: start } };
        const [fn, ...others] = backends.map((backend) => {
          const p = createProtector({ ...o, backend });
          return msgs.map((m) => p.protect(m));
        });
        for (const f of others) expect(f).toEqual(fn);
        const recv = (backend: (typeof backends)[number]) => createProtector({ protocol, side: peerOf(side), key, backend, counters: { inbound: start } });
        // Each backend opens the frames of the next one (noble → node → native → noble).
        const frames = [fn!, ...others];
        backends.forEach((backend, i) => expectBytes(recv(backend).unprotect(concat(frames[(i + 1) % 3]!)), concat(msgs)));
      }),
      params(40),
    );
  });

  it("client→server and server→client never open each other's frames", () => {
    fc.assert(
      fc.property(arbProtocol, arbSide, arbBytes(100), fc.nat({ max: 1000 }), fc.nat({ max: 1000 }), (protocol, side, pt, i, j) => {
        const key = new Uint8Array(protocol === 'ALTSRP_GCM_AES128' ? 16 : 44).fill(1);
        const frame = createProtector({ protocol, side, key, counters: { outbound: BigInt(i) } }).protect(pt.length ? pt : Uint8Array.of(0));
        // The sender's own inbound direction expects the peer's counters: any index, never opens.
        const self = createProtector({ protocol, side, key, counters: { inbound: BigInt(j) } });
        const r = self.unprotectAll(frame);
        expect(r.plaintext).toHaveLength(0);
        expect(isAltsError(r.error, 'AUTH_FAILED')).toBe(true);
      }),
      params(200),
    );
  });
});
