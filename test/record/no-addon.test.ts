/**
 * Without the addon (the loader's ALTS_NATIVE_ADDON override pointing at a file that is not
 * there, or at an older build that has no AesGcm): the default backend is `node`, nothing breaks,
 * and asking for `native` is a RangeError naming "backend" with the fix and the loader's error
 * as its cause. The modules are loaded fresh under the override (vi.resetModules), so the real
 * loader runs.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keyFor, toHex } from './_helpers.js';

const saved = process.env.ALTS_NATIVE_ADDON;
afterEach(() => {
  if (saved === undefined) delete process.env.ALTS_NATIVE_ADDON;
  else process.env.ALTS_NATIVE_ADDON = saved;
});

/** crypto/index.ts and the protector, loaded fresh with the addon looked for at `addon` only. */
async function loadWith(addon: string) {
  process.env.ALTS_NATIVE_ADDON = addon;
  vi.resetModules();
  const crypto = await import('../../src/crypto/index.js');
  const { createProtector } = await import('../../src/protector.js');
  return { ...crypto, createProtector };
}

const dir = mkdtempSync(join(tmpdir(), 'alts-no-addon-'));

describe('without the addon', () => {
  it("the default is 'node', and 'native' is a RangeError with the fix and the loader's error as cause", async () => {
    const missing = join(dir, 'alts_native.node');
    const m = await loadWith(missing);
    expect(m.defaultBackend()).toBe('node');
    expect(m.availableBackends()).toEqual(['node', 'noble']);
    const protocol = 'ALTSRP_GCM_AES128_REKEY';
    const key = keyFor(protocol);
    const { outbound } = m.createCrypters({ protocol, side: 'client', key });
    expect((outbound as unknown as { aead: { name: string } }).aead.name).toBe('node');
    const a = m.createProtector({ protocol, side: 'client', key });
    const b = m.createProtector({ protocol, side: 'server', key, backend: 'noble' });
    expect(toHex(b.unprotect(a.protect(Uint8Array.of(7, 8))))).toBe('0708');

    let err: unknown;
    try {
      m.createCrypters({ protocol, side: 'client', key, backend: 'native' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toMatch(/"backend"/);
    expect((err as Error).message).toMatch(/npm rebuild alts-record/);
    expect(((err as Error).cause as Error).message).toContain(missing);
    expect(() => m.createProtector({ protocol, side: 'client', key, backend: 'native' })).toThrow(RangeError);
    expect(() => m.aesGcm('native', new Uint8Array(16), new Uint8Array(12))).toThrow(/npm rebuild/);
  });

  it('an addon built before the native backend (no AesGcm) counts as no native backend, and says so', async () => {
    // Stands in for a stale build: it has the exports the loader checks, and no AesGcm.
    const stale = join(dir, 'stale.cjs');
    writeFileSync(stale, 'module.exports = { ReadyHandle: function ReadyHandle() {}, socketpair() { return [-1, -1]; } };\n');
    const m = await loadWith(stale);
    expect(m.defaultBackend()).toBe('node');
    expect(() => m.createCrypters({ protocol: 'ALTSRP_GCM_AES128', side: 'server', key: keyFor('ALTSRP_GCM_AES128'), backend: 'native' })).toThrow(
      expect.objectContaining({ cause: expect.objectContaining({ message: expect.stringMatching(/no AesGcm/) }) }),
    );
  });
});
