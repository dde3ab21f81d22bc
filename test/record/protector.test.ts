/** createProtector (docs/spec.md §1): partial frames, leftover bytes, and what happens on errors. */
import { describe, expect, it } from 'vitest';
import { createCrypters } from '../../src/crypto/index.js';
import { AltsError } from '../../src/errors.js';
import { sealFrames } from '../../src/record/frame.js';
import { createProtector, type RecordOptions } from '../../src/protector.js';
import { BACKENDS, codeOf, keyFor, PROTOCOLS } from './_helpers.js';

const bytes = (n: number, seed = 0) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
const cat = (...a: Uint8Array[]) => Uint8Array.from(a.flatMap((x) => Array.from(x)));

function pair(protocol: (typeof PROTOCOLS)[number], extra: Partial<RecordOptions> = {}) {
  const key = keyFor(protocol);
  return {
    client: createProtector({ protocol, side: 'client', key, ...extra }),
    server: (o: Partial<RecordOptions> = {}) => createProtector({ protocol, side: 'server', key, ...extra, ...o }),
  };
}

describe.each(PROTOCOLS)('createProtector %s', (protocol) => {
  it.each(BACKENDS)('round-trips several messages in one call (%s)', (backend) => {
    const { client, server } = pair(protocol, { backend });
    const s = server();
    const msgs = [bytes(1), bytes(0), bytes(20000, 3), bytes(16360, 5)];
    const wire = cat(...msgs.map((m) => client.protect(m)));
    expect(s.unprotect(wire)).toEqual(cat(...msgs));
  });

  it('empty in, empty out', () => {
    const { client, server } = pair(protocol);
    expect(client.protect(new Uint8Array(0))).toHaveLength(0);
    expect(server().unprotect(new Uint8Array(0))).toHaveLength(0);
  });

  it('keeps a partial frame across calls, holding only its bytes', () => {
    const { client, server } = pair(protocol);
    const s = server();
    const f = client.protect(bytes(100));
    expect(s.unprotect(f.subarray(0, 3))).toHaveLength(0);
    expect(s.pendingBytes).toBe(3);
    expect(s.unprotect(f.subarray(3, 50))).toHaveLength(0);
    expect(s.pendingBytes).toBe(50);
    expect(s.unprotect(f.subarray(50))).toEqual(bytes(100));
    expect(s.pendingBytes).toBe(0);
  });

  it('parses the handshake leftover (`protected`) first, even when it ends inside a frame', () => {
    const { client, server } = pair(protocol);
    const wire = cat(client.protect(bytes(10)), client.protect(bytes(30, 1)), client.protect(bytes(5, 2)));
    for (const cut of [0, 2, 34, 40, 60, wire.length]) {
      const s = server({ protected: wire.subarray(0, cut) });
      expect(s.unprotect(wire.subarray(cut))).toEqual(cat(bytes(10), bytes(30, 1), bytes(5, 2)));
    }
  });

  it('a good frame before a bad one: unprotect returns its plaintext and throws on the next call', () => {
    const { client, server } = pair(protocol);
    const good = client.protect(bytes(10));
    const bad = client.protect(bytes(10, 1));
    bad[bad.length - 1]! ^= 1;
    const s = server();
    expect(s.unprotect(cat(good, bad))).toEqual(bytes(10));
    expect(s.error?.code).toBe('AUTH_FAILED');
    let first: unknown;
    try {
      s.unprotect(new Uint8Array(0));
    } catch (e) {
      first = e;
    }
    expect(first).toBeInstanceOf(AltsError);
    expect(() => s.unprotect(good)).toThrow(first as Error);
    expect(() => s.protect(bytes(1))).toThrow(first as Error);
    expect(s.unprotectAll(good)).toEqual({ plaintext: new Uint8Array(0), error: first });
  });

  it('unprotectAll returns the good plaintext and the framing error together (too large, detected from 4 bytes)', () => {
    const { client, server } = pair(protocol);
    const s = server();
    const r = s.unprotectAll(cat(client.protect(bytes(7)), Uint8Array.of(1, 0, 0x10, 0)));
    expect(r.plaintext).toEqual(bytes(7));
    expect(r.error?.code).toBe('FRAME_TOO_LARGE');
  });

  it('a bad frame alone throws at once; FRAME_TOO_LARGE/SHORT need only the length bytes, even split', () => {
    const { server } = pair(protocol);
    expect(codeOf(() => server().unprotect(Uint8Array.of(1, 0, 0x10, 0)))).toBe('FRAME_TOO_LARGE');
    const s = server();
    expect(s.unprotect(Uint8Array.of(19, 0))).toHaveLength(0);
    expect(codeOf(() => s.unprotect(Uint8Array.of(0, 0)))).toBe('FRAME_TOO_SHORT');
    expect(codeOf(() => server({ protected: Uint8Array.of(1, 0, 0x10) }).unprotect(Uint8Array.of(0)))).toBe('FRAME_TOO_LARGE');
  });

  it('a small TLS ClientHello (a legal length) fails BAD_MESSAGE_TYPE with the hint from its 8 header bytes', () => {
    const e = pair(protocol).server().unprotectAll(Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0x6b, 0x01, 0x00, 0x00)).error;
    expect(e?.code).toBe('BAD_MESSAGE_TYPE');
    expect(e?.message).toMatch(/may not be speaking ALTS/);
  });

  it('a frame with type 0x106 is BAD_MESSAGE_TYPE', () => {
    const { client, server } = pair(protocol);
    const f = client.protect(bytes(3));
    f[5] = 1;
    expect(codeOf(() => server().unprotect(f))).toBe('BAD_MESSAGE_TYPE');
  });

  it('argument errors name the argument and do not kill the protector', () => {
    const { client, server } = pair(protocol);
    const s = server();
    expect(() => s.unprotect('x' as never)).toThrow(/"bytes"/);
    expect(() => client.protect(null as never)).toThrow(/"plaintext"/);
    expect(s.unprotect(client.protect(bytes(4)))).toEqual(bytes(4));
  });
});

describe('createProtector drives the same frame reader as the conn (docs/spec.md §1)', () => {
  const protocol = 'ALTSRP_GCM_AES128_REKEY' as const;
  const key = keyFor(protocol);
  const empty = (c: ReturnType<typeof createCrypters>['outbound']) => {
    const f = new Uint8Array(24);
    new DataView(f.buffer).setUint32(0, 20, true);
    new DataView(f.buffer).setUint32(4, 6, true);
    c.seal(f, 8, 0);
    return f;
  };

  it('empty frames: authenticated, nothing handed up, any number, split anywhere', () => {
    const out = createCrypters({ protocol, side: 'client', key }).outbound;
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 20_000; i++) frames.push(empty(out));
    frames.push(sealFrames(out, bytes(10)));
    const wire = cat(...frames);
    for (const cut of [0, 3, 24, 25, 47, wire.length - 30, wire.length]) {
      const s = createProtector({ protocol, side: 'server', key });
      const got = cat(s.unprotect(wire.subarray(0, cut)), s.unprotect(wire.subarray(cut)));
      expect(got).toEqual(bytes(10));
      expect(s.error).toBeNull();
    }
  });

  it('an empty frame that does not authenticate fails AUTH_FAILED, after the good plaintext before it', () => {
    const out = createCrypters({ protocol, side: 'client', key }).outbound;
    const good = sealFrames(out, bytes(10));
    const bad = empty(out);
    bad[23]! ^= 1;
    const s = createProtector({ protocol, side: 'server', key });
    const r = s.unprotectAll(cat(good, bad, sealFrames(out, bytes(5))));
    expect(r.plaintext).toEqual(bytes(10));
    expect(r.error?.code).toBe('AUTH_FAILED');
  });

  it('4 length bytes claiming 1 MiB cost memory in proportion to what arrived, not the claim', () => {
    const claim = new Uint8Array(8);
    new DataView(claim.buffer).setUint32(0, 1 << 20, true);
    new DataView(claim.buffer).setUint32(4, 6, true);
    const before = process.memoryUsage().arrayBuffers;
    const held: ReturnType<typeof createProtector>[] = [];
    for (let i = 0; i < 1000; i++) {
      const s = createProtector({ protocol, side: 'server', key });
      expect(s.unprotect(claim)).toHaveLength(0);
      expect(s.pendingBytes).toBe(8);
      held.push(s);
    }
    // Sized to what arrived (64 bytes each), 1000 of them are well under 1 MiB; sized to the
    // claim they would be 1 GiB.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    expect(held).toHaveLength(1000);
  });

  it('a non-ALTS first frame says so; the same bytes after a good frame do not', () => {
    const get = new TextEncoder().encode('GET / HTTP/1.1\r\n');
    const s = createProtector({ protocol, side: 'server', key });
    const e1 = s.unprotectAll(get).error;
    expect(e1?.code).toBe('FRAME_TOO_LARGE');
    expect(e1?.message).toMatch(/may not be speaking ALTS/);
    const out = createCrypters({ protocol, side: 'client', key }).outbound;
    const t = createProtector({ protocol, side: 'server', key });
    const r = t.unprotectAll(cat(sealFrames(out, bytes(3)), get));
    expect(r.plaintext).toEqual(bytes(3));
    expect(r.error?.code).toBe('FRAME_TOO_LARGE');
    expect(r.error?.message).not.toMatch(/ALTS/);
  });
});
