/**
 * A listener's exception is the listener's, not the caller's (docs/spec.md §3, Events): it is
 * reported as an uncaught exception of its own, never through the call that ran the loop (a
 * read(), an end()), and it costs the conn neither its state nor a byte. A close() from inside
 * a listener is taken at the loop's next step boundary, so its 'state' 'closed' comes before
 * 'close'. Readers keep their level-triggered readiness going when the callback throws. Real
 * socketpairs, native reader, and the stream reader over a real socket.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { wrapFd } from '../../src/api.js';
import { NativeReader } from '../../src/io/NativeReader.js';
import { StreamReader } from '../../src/io/StreamReader.js';
import type { ReadyReader } from '../../src/io/types.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { createProtector } from '../../src/protector.js';
import { bytes, closeCallbacksRan, keyFor, makePair, native } from './harness.js';
import { pairOf } from '../hardening/pairs.js';

const protocol = 'ALTSRP_GCM_AES128_REKEY' as const;
const key = keyFor(protocol);

/** The next uncaught exception of the process, kept from the test runner's own handler. */
function nextUncaught(): Promise<unknown> {
  return new Promise((resolve) => {
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.once('uncaughtException', (e) => {
      for (const l of listeners) process.on('uncaughtException', l);
      resolve(e);
    });
  });
}

/** Resolve when `p` settles, or with 'timeout' once `ms` passed (a bound, not a synchronisation). */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([p, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref())]);
}

describe("a listener's exception is reported out of band", () => {
  it("a 'wakeup' listener that throws during read() neither rejects the read nor loses its bytes", async () => {
    const frame = createProtector({ protocol, side: 'server', key }).protect(bytes(11, 7));
    const pool = new BufferPool();
    const [a, b] = native.socketpair();
    const conn = wrapFd(a, { protocol, side: 'client', key, pool, protected: frame.subarray(0, 10) });
    const peer = new native.ReadyHandle(b, () => {});
    const boom = new Error('wakeup listener failed');
    conn.once('wakeup', () => {
      throw boom;
    });
    const uncaught = nextUncaught();
    const into = new Uint8Array(64);
    const first = conn.read(into);
    expect(peer.write(frame, 10, frame.length - 10)).toBe(frame.length - 10);
    expect(await first).toBe(11);
    expect(into.subarray(0, 11)).toEqual(bytes(11, 7));
    expect(await within(uncaught, 2000)).toBe(boom);
    conn.close();
    peer.close();
    expect(pool.outstanding).toBe(0);
  });

  it("a 'close' listener that throws when end() gives the socket back is reported, and end() resolves", async () => {
    const { conn, pool, hangUp } = makePair();
    hangUp();
    expect(await conn.read(new Uint8Array(16))).toBe(0); // read side done at EOF
    const boom = new Error('close listener failed');
    conn.once('close', () => {
      throw boom;
    });
    const uncaught = nextUncaught();
    await conn.end();
    expect(await within(uncaught, 2000)).toBe(boom);
    expect(conn.state).toBe('closed');
    expect(pool.outstanding).toBe(0);
  });
});

describe('close() from inside a listener', () => {
  it("emits 'state' 'closed' before 'close', and rejects the pending read with CLOSED", async () => {
    const { conn, pool, peer, send, peerHandle } = makePair();
    const log: string[] = [];
    conn.on('state', (s) => log.push(`state:${s}`));
    conn.on('close', () => log.push('close'));
    conn.once('wakeup', () => {
      log.push('wakeup');
      conn.close();
    });
    const pending = conn.read(new Uint8Array(16));
    send(peer.protect(bytes(100)).subarray(0, 30)); // a partial frame: the read stays pending
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    expect(log.slice(log.indexOf('wakeup'))).toEqual(['wakeup', 'state:closed', 'close']);
    expect(pool.outstanding).toBe(0);
    peerHandle.close();
  });
});

describe("a reader's readiness survives an onReadable that throws", () => {
  const readers = {
    native: (fd: number): ReadyReader => new NativeReader(native, fd),
    stream: (fd: number): ReadyReader => new StreamReader(new net.Socket({ fd, readable: true, writable: true })),
  };
  for (const [kind, make] of Object.entries(readers)) {
    it(`${kind}: after a reset, readiness comes again once the callback threw`, async () => {
      const [a, b] = native.socketpair();
      const r = make(a);
      // One byte the peer never reads: its close then resets the connection (docs/spec.md §3).
      await new Promise<void>((resolve, reject) => r.write(new Uint8Array([1]), (e) => (e ? reject(e) : resolve())));
      new native.ReadyHandle(b, () => {}).close();
      await closeCallbacksRan();
      const boom = new Error('onReadable failed');
      const uncaught = nextUncaught();
      let calls = 0;
      const again = new Promise<void>((resolve) => {
        r.onReadable = () => {
          calls++;
          if (calls === 1) throw boom;
          resolve();
        };
      });
      r.watchReadable(true);
      expect(await within(uncaught, 2000)).toBe(boom);
      expect(await within(again, 2000)).toBeUndefined();
      r.close();
      await closeCallbacksRan();
    });
  }
});

describe.each(['native', 'stream'] as const)("%s reader: a read from inside the 'close' of a conn whose both directions are done", (reader) => {
  it("resolves 0 (clean EOF): the final read is settled before that step's events, 'state' 'closed' still before 'close'", async () => {
    const pool = new BufferPool();
    const { conn, peer } = pairOf({ reader, pool });
    const seen: string[] = [];
    conn.on('state', (s) => void seen.push(`state ${s}`));
    let inClose: Promise<number | string> | null = null;
    conn.on('close', () => {
      seen.push('close');
      inClose = conn.read(new Uint8Array(8)).then(
        (n) => n,
        (e: { code: string }) => e.code,
      );
    });
    await conn.end(); // our direction done
    const into = new Uint8Array(8);
    const last = conn.read(into);
    peer.finish(); // theirs: EOF at a frame boundary
    expect(await last).toBe(0);
    expect(inClose).not.toBeNull();
    expect(await inClose).toBe(0);
    expect(seen.slice(-2)).toEqual(['state closed', 'close']);
    expect(await conn.read(into)).toBe(0);
    peer.close();
  });
});
