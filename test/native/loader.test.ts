/** The typed loader: finds the built addon, and fails with one error that lists the paths and the fix. */
import { writeFileSync, mkdtempSync, realpathSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EAGAIN,
  errnoName,
  loadNative,
  loadNativeFrom,
  nativeLoadError,
  nativePaths,
  tryLoadNative,
} from '../../src/native.js';

describe('loader', () => {
  it('loads build/Release/alts_native.node from the package root, cached', () => {
    const paths = nativePaths({});
    expect(paths[0]).toMatch(/[/\\]build[/\\]Release[/\\]alts_native\.node$/);
    expect(paths[1]).toMatch(/[/\\]build[/\\]Debug[/\\]alts_native\.node$/);
    expect(paths[0]).not.toMatch(/[/\\]src[/\\]build/);
    const b = tryLoadNative();
    expect(b).not.toBeNull();
    expect(loadNative()).toBe(b);
    expect(nativeLoadError()).toBeNull();
    expect(typeof b!.ReadyHandle).toBe('function');
  });

  it('with nothing loadable, throws one Error listing every path tried, the cause and the fix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alts-native-'));
    const garbage = join(dir, 'garbage.node');
    writeFileSync(garbage, 'not an ELF file');
    const notAddon = join(dir, 'other.json');
    writeFileSync(notAddon, '{"hello": 1}');
    const missing = join(dir, 'build', 'Release', 'alts_native.node');
    let err: Error | undefined;
    try {
      loadNativeFrom([missing, garbage, notAddon]);
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toContain(missing);
    expect(err!.message).toContain(garbage);
    expect(err!.message).toContain(notAddon);
    expect(err!.message).toContain('not the alts_native addon');
    expect(err!.message).toContain('npm rebuild alts-record');
    expect(err!.message).toContain('python3, make, a C++ compiler and Node\'s headers');
    // The cause is the real failure (the garbage file), not "module not found".
    expect((err!.cause as Error).message).toMatch(/garbage\.node|ELF|header/i);
  });

  it('ALTS_NATIVE_ADDON replaces the list with that one file, resolved against the working directory', () => {
    expect(nativePaths({ ALTS_NATIVE_ADDON: 'variant/alts_native.node' })).toEqual([
      resolve(process.cwd(), 'variant', 'alts_native.node'),
    ]);
    const abs = join(tmpdir(), 'x.node');
    expect(nativePaths({ ALTS_NATIVE_ADDON: abs })).toEqual([abs]);
    expect(nativePaths({ ALTS_NATIVE_ADDON: '' })).toEqual(nativePaths({}));
  });

  it('an override that cannot load fails naming it, with no fallback to build/Release', () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'alts-native-')), 'asan.node');
    expect(() => loadNativeFrom(nativePaths({ ALTS_NATIVE_ADDON: missing }))).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('Release') }),
    );
    expect(() => loadNativeFrom(nativePaths({ ALTS_NATIVE_ADDON: missing }))).toThrow(missing);
  });

  it('the binding in use is the file nativePaths() names first (the variant under ALTS_NATIVE_ADDON)', () => {
    const require = createRequire(import.meta.url);
    const file = realpathSync(nativePaths()[0]!);
    expect(require.cache[file]?.exports).toBe(tryLoadNative());
  });

  it('a cause of only missing files is MODULE_NOT_FOUND', () => {
    expect(() => loadNativeFrom(['/nonexistent/alts_native.node'])).toThrow(
      expect.objectContaining({ cause: expect.objectContaining({ code: 'MODULE_NOT_FOUND' }) }),
    );
  });

  it('errnoName names negative errnos, EAGAIN over EWOULDBLOCK', () => {
    expect(errnoName(-EAGAIN)).toBe('EAGAIN');
    expect(errnoName(EAGAIN)).toBe('EAGAIN');
    expect(errnoName(-9)).toBe('EBADF');
    expect(errnoName(-99999)).toBe('E99999');
  });
});

describe('loader out of fds', () => {
  it('a load that fails for lack of fds (EMFILE) is not cached: it loads once fds are free', () => {
    // A fresh process (nothing loaded yet) with a small fd limit, driven out of fds before the
    // first load. The built package is used: the child is plain node.
    const script = `
      import { openSync, closeSync } from 'node:fs';
      const { tryLoadNative, nativeLoadError } = await import(${JSON.stringify(new URL('../../dist/native.js', import.meta.url).href)});
      const held = [];
      try { for (;;) held.push(openSync('/dev/null', 'r')); } catch {}
      const first = tryLoadNative() === null ? String(nativeLoadError()?.message.includes('Too many open files')) : 'loaded';
      for (const fd of held) closeSync(fd);
      const second = tryLoadNative() === null ? 'null' : 'loaded';
      console.log(JSON.stringify({ first, second }));`;
    const r = spawnSync('sh', ['-c', `ulimit -n 40 && exec "$0" --input-type=module -e "$1"`, process.execPath, script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ first: 'true', second: 'loaded' });
  });
});
