/** ReadyHandle over a socketpair: readiness, reads, writes, EOF, back-pressure, close, GC. */
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawnSync } from 'node:child_process';
import { setImmediate as immediate } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { EAGAIN, EBADF, UV_READABLE, UV_WRITABLE, nativePaths } from '../../src/native.js';
import { afterCloseCallbacks, closeAllWatched, native, pattern, Watched } from './helpers.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

afterEach(closeAllWatched); // a failed test leaves nothing open for the next one to count

function pair(): [Watched, Watched] {
  const [a, b] = native.socketpair();
  return [new Watched(a), new Watched(b)];
}

describe('ReadyHandle on a socketpair', () => {
  it('reports readability, then reads the bytes; nothing there reads -EAGAIN', async () => {
    const [a, b] = pair();
    const buf = new Uint8Array(64);
    expect(a.handle.read(buf, 0, 64)).toBe(-EAGAIN);
    expect(b.handle.write(enc('hello'), 0, 5)).toBe(5);
    const r = await a.ready(true, false);
    expect(r.status).toBe(0);
    expect(r.events & UV_READABLE).toBe(UV_READABLE);
    expect(a.handle.read(buf, 0, 64)).toBe(5);
    expect(dec(buf.subarray(0, 5))).toBe('hello');
    expect(a.handle.read(buf, 0, 64)).toBe(-EAGAIN);
    a.handle.close();
    b.handle.close();
  });

  it('reads into [off, off+len) of a subarray view, and writes from one', async () => {
    const [a, b] = pair();
    const src = enc('xxabcdexx').subarray(1); // byteOffset 1: 'xabcdexx'
    expect(b.handle.write(src, 1, 5)).toBe(5); // 'abcde'
    await a.ready(true, false);
    const backing = new Uint8Array(16).fill(0x2e);
    const view = backing.subarray(4, 12);
    expect(a.handle.read(view, 2, 3)).toBe(3);
    expect(a.handle.read(view, 5, 3)).toBe(2);
    expect(dec(backing)).toBe('......abcde.....');
    a.handle.close();
    b.handle.close();
  });

  it('reads 0 at EOF once the peer closes, after the data before it', async () => {
    const [a, b] = pair();
    b.handle.write(enc('last'), 0, 4);
    b.handle.close();
    await a.ready(true, false);
    const buf = new Uint8Array(16);
    expect(a.handle.read(buf, 0, 16)).toBe(4);
    expect(a.handle.read(buf, 0, 16)).toBe(0);
    expect((await a.ready(true, false)).events & UV_READABLE).toBe(UV_READABLE); // EOF stays readable
    a.handle.close();
  });

  it('shutdownWrite sends EOF but keeps the other direction open', async () => {
    const [a, b] = pair();
    expect(a.handle.shutdownWrite()).toBe(0);
    await b.ready(true, false);
    expect(b.handle.read(new Uint8Array(8), 0, 8)).toBe(0);
    expect(b.handle.write(enc('still'), 0, 5)).toBe(5);
    expect(dec(await a.readExactly(5))).toBe('still');
    expect(a.handle.write(enc('x'), 0, 1)).toBe(-(await import('node:os')).constants.errno.EPIPE);
    a.handle.close();
    b.handle.close();
  });

  it('a full socket buffer writes -EAGAIN; writability fires only once the peer drains', async () => {
    const [a, b] = pair();
    expect(native.setSocketBuffers(a.handle.fd, 4096, 4096)).toBe(0);
    expect(native.setSocketBuffers(b.handle.fd, 4096, 4096)).toBe(0);
    const data = pattern(1 << 20);
    let off = 0;
    for (;;) {
      const r = a.handle.write(data, off, 8192);
      if (r === -EAGAIN) break;
      expect(r).toBeGreaterThan(0);
      off += r;
    }
    expect(off).toBeGreaterThan(0);
    expect(off).toBeLessThan(data.length);
    let drained = false;
    const writable = a.ready(false, true).then((r) => ({ ...r, drained }));
    await afterCloseCallbacks(); // a full loop turn: the poll phase ran at least once
    expect(a.calls).toBe(0); // still full: no writable readiness yet
    drained = true;
    const got = await b.readExactly(off);
    expect(got).toEqual(data.subarray(0, off));
    const w = await writable;
    expect(w.drained).toBe(true);
    expect(w.events & UV_WRITABLE).toBe(UV_WRITABLE);
    expect(a.handle.write(data, off, 100)).toBe(100);
    a.handle.close();
    b.handle.close();
  });

  it('transfers 4 MiB both ways through tiny buffers without losing or reordering a byte', async () => {
    const [a, b] = pair();
    native.setSocketBuffers(a.handle.fd, 2048, 2048);
    const data = pattern(4 << 20, 3);
    const [, got] = await Promise.all([a.writeAll(data), b.readExactly(data.length, 1500)]);
    expect(Buffer.compare(got, data)).toBe(0);
    a.handle.close();
    b.handle.close();
  });

  it('writev writes several buffers in one call, at most IOV_MAX of them', async () => {
    const [a, b] = pair();
    expect(a.handle.writev([enc('ab'), new Uint8Array(0), enc('cde').subarray(1), enc('f')])).toBe(5);
    expect(dec(await b.readExactly(5))).toBe('abdef');
    const many = Array.from({ length: 3000 }, (_, i) => new Uint8Array([i & 0xff]));
    const n = a.handle.writev(many);
    expect(n).toBe(1024); // IOV_MAX on Linux and macOS
    const got = await b.readExactly(n);
    expect(got).toEqual(Uint8Array.from({ length: n }, (_, i) => i & 0xff));
    expect(a.handle.writev([])).toBe(0);
    a.handle.close();
    b.handle.close();
  });
});

describe('close', () => {
  it('close while watching a ready fd settles: no callback ever comes', async () => {
    const [a, b] = pair();
    b.handle.write(enc('pending'), 0, 7);
    const before = native.stats().callbacks;
    a.handle.watch(true, false);
    a.handle.close();
    await afterCloseCallbacks();
    await afterCloseCallbacks();
    expect(a.calls).toBe(0);
    expect(native.stats().callbacks).toBe(before);
    b.handle.close();
  });

  it('close inside onReady stops further callbacks even though data is still there', async () => {
    const [x, y] = native.socketpair();
    let calls = 0;
    const done = new Promise<void>((resolve) => {
      const h = new native.ReadyHandle(x, () => {
        calls++;
        h.close();
        resolve();
      });
      h.watch(true, true);
    });
    expect(native.closeFd(y)).toBe(0); // EOF: readable forever, level-triggered
    await done;
    await afterCloseCallbacks();
    await afterCloseCallbacks();
    expect(calls).toBe(1);
  });

  it('closes the fd exactly once, even if close is called twice; afterwards read/write are -EBADF', async () => {
    const [a, b] = pair();
    const fd = a.handle.fd;
    const s0 = native.stats();
    a.handle.watch(true, false);
    a.handle.close();
    a.handle.close();
    expect(a.handle.closed).toBe(true);
    expect(a.handle.fd).toBe(-1);
    a.handle.watch(true, true); // no-op after close
    const buf = new Uint8Array(4);
    expect(a.handle.read(buf, 0, 4)).toBe(-EBADF);
    expect(a.handle.write(buf, 0, 4)).toBe(-EBADF);
    expect(a.handle.writev([buf])).toBe(-EBADF);
    expect(a.handle.shutdownWrite()).toBe(-EBADF);
    await afterCloseCallbacks();
    const s1 = native.stats();
    expect(s1.fdsClosed - s0.fdsClosed).toBe(1);
    expect(s1.handles - s0.handles).toBe(-1);
    expect(native.closeFd(fd)).toBe(-EBADF); // really closed, and not by anyone else
    // The number may be reused: a later handle's fd is not touched by the closed one.
    const [c, d] = native.socketpair();
    a.handle.close();
    await afterCloseCallbacks();
    expect(native.stats().fdsClosed).toBe(s1.fdsClosed);
    expect(native.closeFd(c)).toBe(0);
    expect(native.closeFd(d)).toBe(0);
    b.handle.close();
  });

  it('a closed handle’s uv handle is freed and counted: handles goes back to where it was', async () => {
    const s0 = native.stats();
    const hs = Array.from({ length: 50 }, () => pair()).flat();
    expect(native.stats().handles - s0.handles).toBe(100);
    for (const h of hs) h.handle.close();
    await afterCloseCallbacks();
    const s1 = native.stats();
    expect(s1.handles).toBe(s0.handles);
    expect(s1.fdsClosed - s0.fdsClosed).toBe(100);
  });
});

describe('garbage collection', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;

  async function collect(until: () => boolean): Promise<void> {
    for (let i = 0; i < 50 && !until(); i++) {
      gc();
      await immediate(); // finalizers and uv_close callbacks run on later loop turns
    }
  }

  it('a handle collected without close closes its fd once and frees its uv handle', async () => {
    for (let i = 0; i < 3; i++) gc(); // earlier garbage is not counted below
    await afterCloseCallbacks();
    const [x, y] = native.socketpair();
    const s0 = native.stats();
    (() => {
      const h = new native.ReadyHandle(x, () => {});
      h.watch(true, false);
      h.watch(false, false); // not watching: collectable
    })();
    await collect(() => native.stats().fdsClosed > s0.fdsClosed);
    await afterCloseCallbacks();
    const s1 = native.stats();
    expect(s1.fdsClosed - s0.fdsClosed).toBe(1);
    expect(s1.handles).toBe(s0.handles); // created and freed
    expect(native.closeFd(x)).toBe(-EBADF);
    expect(native.closeFd(y)).toBe(0);
  });

  it('a watching handle is kept alive by its pending readiness, with no JS reference to it', async () => {
    const [x, y] = native.socketpair();
    const s0 = native.stats();
    let fired!: () => void;
    const done = new Promise<void>((r) => (fired = r));
    (() => {
      const h = new native.ReadyHandle(x, function (this: { close(): void }) {
        this.close(); // `this` is the handle
        fired();
      });
      h.watch(true, false);
    })();
    for (let i = 0; i < 10; i++) {
      gc();
      await immediate();
    }
    expect(native.stats().fdsClosed).toBe(s0.fdsClosed); // not collected
    native.closeFd(y);
    await done;
    await afterCloseCallbacks();
    expect(native.stats().fdsClosed - s0.fdsClosed).toBe(1);
  });
});

describe('onReady runs as a proper async callback', () => {
  it('sees the AsyncLocalStorage store of the context that created the handle', async () => {
    const als = new AsyncLocalStorage<string>();
    const [x, y] = native.socketpair();
    const seen = await new Promise<string | undefined>((resolve) => {
      const h = als.run('conn-42', () =>
        new native.ReadyHandle(x, () => {
          h.close();
          resolve(als.getStore());
        }),
      );
      native.closeFd(y);
      h.watch(true, false); // watched outside als.run
    });
    expect(seen).toBe('conn-42');
  });

  it('an exception thrown by onReady is an uncaught exception of the process', () => {
    const addon = nativePaths()[0]!;
    const script = `
      const b = require(${JSON.stringify(addon)});
      process.on('uncaughtException', (e) => { console.log('uncaught:' + e.message); process.exit(0); });
      const [x, y] = b.socketpair();
      const h = new b.ReadyHandle(x, () => { throw new Error('boom from onReady'); });
      b.closeFd(y);
      h.watch(true, false);
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout).toContain('uncaught:boom from onReady');
    expect(r.status).toBe(0);
    // And without a handler the process dies of it.
    const r2 = spawnSync(process.execPath, ['-e', script.replace(/process\.on[^\n]*\n/, '')], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r2.status).not.toBe(0);
    expect(r2.stderr).toContain('boom from onReady');
  });
});

