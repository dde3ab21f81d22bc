/**
 * close(abort) resets the connection: on loopback TCP the peer's next read fails with
 * ECONNRESET instead of reading a clean EOF; a plain close() sends a FIN. Both readers. On
 * AF_UNIX, which has no RST, the peer reads EOF (the guarantee is TCP's).
 */
import { once } from 'node:events';
import net from 'node:net';
import { constants } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { NativeReader } from '../../src/io/NativeReader.js';
import { StreamReader } from '../../src/io/StreamReader.js';
import type { ReadyReader } from '../../src/io/types.js';
import { takeOverSocket } from '../../src/native-takeover.js';
import { closeCallbacksRan, loopbackTcp, native } from '../conn/harness.js';

const cleanup: (() => void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) f();
  await closeCallbacksRan();
});

/** A loopback TCP connection: our end (accepted, not yet read from) and the raw peer. */
async function tcp(): Promise<{ ours: net.Socket; peer: net.Socket }> {
  const { accepted: ours, dialled: peer, close } = await loopbackTcp();
  cleanup.push(() => {
    peer.destroy();
    void close();
  });
  return { ours, peer };
}

/** How the peer's reading ends: 'eof', or the error code. */
function peerEnding(peer: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    peer.on('data', () => {});
    peer.once('end', () => resolve('eof'));
    peer.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

const readers: Record<string, (s: net.Socket) => ReadyReader> = {
  native: (s) => new NativeReader(native, takeOverSocket(s, native)),
  stream: (s) => new StreamReader(s),
};

describe('ReadyReader.close(abort) on loopback TCP', () => {
  for (const [kind, make] of Object.entries(readers)) {
    it(`${kind}: close(true) makes the peer's read fail with ECONNRESET`, async () => {
      const { ours, peer } = await tcp();
      const r = make(ours);
      const ending = peerEnding(peer);
      r.close(true);
      r.close(true); // idempotent
      expect(await ending).toBe('ECONNRESET');
    });

    it(`${kind}: close() sends a FIN: the peer reads EOF`, async () => {
      const { ours, peer } = await tcp();
      const r = make(ours);
      const ending = peerEnding(peer);
      r.close();
      expect(await ending).toBe('eof');
    });

    it(`${kind}: close(true) fails queued writes with CLOSED`, async () => {
      const { ours } = await tcp();
      const r = make(ours);
      const results: (string | null)[] = [];
      const big = new Uint8Array(64 << 20); // more than loopback takes at once: some stays queued
      const settled = new Promise<void>((resolve) => r.write(big, (e) => (results.push(e?.code ?? null), resolve())));
      r.close(true);
      await settled;
      expect(results).toEqual(['CLOSED']);
    });
  }

  it('native: close(abort) checks its argument and closes the fd exactly once', async () => {
    const [a, b] = native.socketpair();
    const h = new native.ReadyHandle(a, () => {});
    expect(() => h.close('yes' as never)).toThrow(/"abort" expected boolean/);
    const before = native.stats().fdsClosed;
    h.close(true);
    h.close(true);
    await closeCallbacksRan();
    expect(native.stats().fdsClosed - before).toBe(1);
    expect(h.closed).toBe(true);
    native.closeFd(b);
  });

  it('stream: close(true) on a stream that is not a TCP socket destroys it', async () => {
    const [a, b] = native.socketpair();
    const s = new net.Socket({ fd: a, readable: true, writable: true }); // a pipe handle: no RST to send
    const r = new StreamReader(s);
    const closed = once(s, 'close');
    r.close(true);
    await closed;
    expect(s.destroyed).toBe(true);
    native.closeFd(b);
  });
});

/**
 * AF_UNIX has no RST: the reset guarantee is TCP's (docs/spec.md §9, Abortive close). A unix
 * stream socket closed with bytes still unread in its receive queue does make the peer's read
 * fail with ECONNRESET (the kernel's own rule), but an aborting conn cannot count on holding such
 * bytes, so a plain abortive close reads as EOF there.
 */
describe('ReadyReader.close(abort) on an AF_UNIX socketpair', () => {
  const unixReaders: Record<string, (fd: number) => ReadyReader> = {
    native: (fd) => new NativeReader(native, fd),
    stream: (fd) => new StreamReader(new net.Socket({ fd, readable: true, writable: true })),
  };
  for (const [kind, make] of Object.entries(unixReaders)) {
    it(`${kind}: close(true) with nothing unread: the peer reads EOF (no RST on AF_UNIX)`, async () => {
      const [a, b] = native.socketpair();
      const r = make(a);
      const peer = new net.Socket({ fd: b, readable: true, writable: true });
      cleanup.push(() => peer.destroy());
      const ending = peerEnding(peer);
      r.close(true);
      expect(await ending).toBe('eof');
    });

    it(`${kind}: close(true) with bytes unread in its queue: the peer reads ECONNRESET`, async () => {
      const [a, b] = native.socketpair();
      const r = make(a);
      const w = new native.ReadyHandle(b, () => {});
      expect(w.write(new Uint8Array([1, 2, 3]), 0, 3)).toBe(3); // queued for us, never read
      r.close(true);
      await closeCallbacksRan();
      const got = w.read(new Uint8Array(8), 0, 8);
      w.close();
      expect(got).toBe(-constants.errno.ECONNRESET);
    });
  }
});
