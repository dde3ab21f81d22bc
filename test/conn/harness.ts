/**
 * Test harness: a real AltsConn (native reader) on one end of a socketpair, and a raw peer on
 * the other end that writes protected bytes with a synchronous write(2), so that once `send`
 * returns the bytes are in the conn's receive queue. No mocks: real socket, addon and pool.
 */
import { once } from 'node:events';
import net from 'node:net';
import { wrapFd } from '../../src/api.js';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { loadNative, type ReadyHandle } from '../../src/native.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { createProtector } from '../../src/protector.js';
import type { CounterStart, RecordProtocol } from '../../src/crypto/types.js';

export const native = loadNative();

export interface Pair {
  conn: AltsConn;
  pool: BufferPool;
  /** The peer's record layer: `protect` makes frames the conn accepts. */
  peer: ReturnType<typeof createProtector>;
  /** Raw bytes onto the wire, synchronously. */
  send(bytes: Uint8Array): void;
  /** Peer closes its end (the conn sees EOF). */
  hangUp(): void;
  peerHandle: ReadyHandle;
  /** The conn's own fd (owned by its native reader). */
  fd: number;
}

export function keyFor(protocol: RecordProtocol): Uint8Array {
  const key = new Uint8Array(protocol === 'ALTSRP_GCM_AES128' ? 16 : 44);
  for (let i = 0; i < key.length; i++) key[i] = (i * 37 + 11) & 0xff;
  return key;
}

export function makePair(o: { budget?: number; protocol?: RecordProtocol; readSize?: number; counters?: CounterStart; peerCounters?: CounterStart; maxFrameSize?: number } = {}): Pair {
  const protocol = o.protocol ?? 'ALTSRP_GCM_AES128_REKEY';
  const key = keyFor(protocol);
  const pool = new BufferPool(o.budget === undefined ? {} : { budget: o.budget });
  const [a, b] = native.socketpair();
  const conn = wrapFd(a, {
    protocol, side: 'client', key, pool,
    ...(o.readSize !== undefined && { readSize: o.readSize }),
    ...(o.counters !== undefined && { counters: o.counters }),
    ...(o.maxFrameSize !== undefined && { maxFrameSize: o.maxFrameSize }),
  });
  const peer = createProtector({
    protocol, side: 'server', key,
    ...(o.peerCounters !== undefined && { counters: o.peerCounters }),
    ...(o.maxFrameSize !== undefined && { maxFrameSize: o.maxFrameSize }),
  });
  const peerHandle = new native.ReadyHandle(b, () => {});
  return {
    conn, pool, peer, peerHandle, fd: a,
    send(bytes) {
      let off = 0;
      while (off < bytes.length) {
        const n = peerHandle.write(bytes, off, bytes.length - off);
        if (n < 0) throw new Error(`peer write failed: ${n}`);
        off += n;
      }
    },
    hangUp() {
      peerHandle.close();
    },
  };
}

/** One event-loop turn (setImmediate: the poll phase included). */
export function loopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Two turns of the event loop: the addon closes an fd in uv_close's callback, after close() returns. */
export async function closeCallbacksRan(): Promise<void> {
  for (let i = 0; i < 2; i++) await loopTurn();
}

/** Resolve when the conn reports `state` (or now, if it is in it already). */
export async function waitForState(conn: AltsConn, state: string): Promise<void> {
  while (conn.state !== state) await once(conn, 'state');
}

/** Resolve at the next readiness the conn acts on. */
export function nextWakeup(conn: AltsConn): Promise<{ spurious: boolean; bytes: number }> {
  return once(conn, 'wakeup').then(([w]) => w as { spurious: boolean; bytes: number });
}

export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Read until `n` bytes came, with reads of `chunk` bytes. */
export async function readExactly(conn: AltsConn, n: number, chunk = 65536): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const into = new Uint8Array(Math.min(chunk, n - got));
    const k = await conn.read(into);
    if (k === 0) throw new Error(`EOF after ${got} of ${n} bytes`);
    out.set(into.subarray(0, k), got);
    got += k;
  }
  return out;
}

/**
 * A loopback TCP connection: `accepted` (taken with pauseOnConnect, so Node has read nothing and
 * the native reader can take it over) and `dialled`, the other end. `close` stops the listener.
 */
export async function loopbackTcp(o: { allowHalfOpen?: boolean } = {}): Promise<{ accepted: net.Socket; dialled: net.Socket; close: () => Promise<void> }> {
  const server = net.createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const incoming = once(server, 'connection') as Promise<[net.Socket]>;
  const dialled = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', ...o });
  await once(dialled, 'connect');
  const [accepted] = await incoming;
  return { accepted, dialled, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
