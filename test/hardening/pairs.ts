/**
 * Helpers for the hardening tests and the hostile-input property: a conn with either
 * reader on one end of a real AF_UNIX socketpair (or of a loopback TCP connection), a raw peer on
 * the other that writes with write(2) and waits for writability (never a sleep), waits on the
 * conn's own events, frames to send, the AltsError a promise rejects with, and the process's
 * open-fd count for leak checks.
 */
import net from 'node:net';
import { readdirSync } from 'node:fs';
import { expect } from 'vitest';
import { wrap, wrapFd } from '../../src/api.js';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import type { RecordProtocol } from '../../src/crypto/types.js';
import { EAGAIN, type ReadyHandle } from '../../src/native.js';
import { AltsError } from '../../src/errors.js';
import type { BufferPool } from '../../src/pool/BufferPool.js';
import { plaintextFor } from '../../properties/conn/Real.js';
import { sealer, sealOne } from '../../properties/hostile/streams.js';
import { keyFor, loopbackTcp, native } from '../conn/harness.js';

export type ReaderKind = 'native' | 'stream';

/** Open fds of this process where /proc says (Linux), else null. */
export function openFds(): number | null {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}

/** One event-loop turn (the addon closes an fd in uv_close's callback, a turn after close()). */
export { loopTurn } from '../conn/harness.js';

/**
 * A conn (side 'client') on socket fd `fd`: the native reader takes the fd whole; the stream
 * reader runs over a net.Socket opened on it.
 */
export function connOn(
  fd: number,
  o: { reader: ReaderKind; pool: BufferPool; protocol?: RecordProtocol; readSize?: number },
): AltsConn {
  const protocol = o.protocol ?? 'ALTSRP_GCM_AES128_REKEY';
  const base = { protocol, side: 'client' as const, key: keyFor(protocol), pool: o.pool, ...(o.readSize !== undefined && { readSize: o.readSize }) };
  if (o.reader === 'native') return wrapFd(fd, base);
  return wrap(new net.Socket({ fd, readable: true, writable: true }), { ...base, reader: 'stream' });
}

/** The raw peer: write(2) until done, waiting for writability when the socket buffer is full. */
export class Peer {
  readonly handle: ReadyHandle;
  #writable: (() => void) | null = null;

  constructor(fd: number) {
    this.handle = new native.ReadyHandle(fd, () => {
      const w = this.#writable;
      this.#writable = null;
      this.handle.watch(false, false);
      w?.();
    });
  }

  /** Write all of `chunk`; false if the conn's end is gone (EPIPE, ECONNRESET). */
  async write(chunk: Uint8Array): Promise<boolean> {
    for (let off = 0; off < chunk.length; ) {
      const n = this.handle.write(chunk, off, chunk.length - off);
      if (n === -EAGAIN) {
        await new Promise<void>((resolve) => {
          this.#writable = resolve;
          this.handle.watch(false, true);
        });
        continue;
      }
      if (n < 0) return false;
      off += n;
    }
    return true;
  }

  /** shutdown(SHUT_WR): the conn reads EOF, and can still write to us. */
  finish(): void {
    this.handle.shutdownWrite();
  }

  close(): void {
    if (!this.handle.closed) this.handle.close();
  }
}

/** A conn and a raw peer on the two ends of a fresh socketpair. */
export function pairOf(o: { reader: ReaderKind; pool: BufferPool; protocol?: RecordProtocol; readSize?: number }): { conn: AltsConn; peer: Peer; fd: number } {
  const [a, b] = native.socketpair();
  return { conn: connOn(a, o), peer: new Peer(b), fd: a };
}

/**
 * A conn (side 'client') on the accepted end of a loopback TCP connection, and the raw peer's
 * net.Socket (half-open allowed: it can send its FIN and go on reading). `done()` closes the
 * listener and destroys the raw socket.
 */
export async function tcpPairOf(o: { reader: ReaderKind; pool: BufferPool }): Promise<{ conn: AltsConn; raw: net.Socket; done: () => Promise<void> }> {
  const { accepted: sock, dialled: raw, close } = await loopbackTcp({ allowHalfOpen: true });
  const protocol = 'ALTSRP_GCM_AES128_REKEY' as const;
  const conn = wrap(sock, { protocol, side: 'client', key: keyFor(protocol), pool: o.pool, reader: o.reader });
  return {
    conn,
    raw,
    done: async () => {
      raw.destroy();
      await close();
    },
  };
}

/** The next event after which the conn may have moved: a readiness it acted on, a state change, starving or resuming, its close. */
export function nextEvent(conn: AltsConn): Promise<void> {
  return new Promise((resolve) => {
    const events = ['wakeup', 'state', 'starved', 'resumed', 'close'] as const;
    const done = () => {
      for (const e of events) conn.off(e, done);
      resolve();
    };
    for (const e of events) conn.on(e, done);
  });
}

/** Wait (on the conn's events) until `cond()` holds. */
export async function until(conn: AltsConn, cond: () => boolean): Promise<void> {
  while (!cond()) await nextEvent(conn);
}

/** Frames the peer (side 'server') sends, in order, with their plaintexts. */
export function frames(...sizes: number[]): { bytes: Uint8Array[]; plain: Uint8Array[] } {
  const out = sealer('ALTSRP_GCM_AES128_REKEY', 'server');
  return { bytes: sizes.map((n, i) => sealOne(out, n, i)), plain: sizes.map((n, i) => plaintextFor(n, i)) };
}

/** The AltsError `p` rejects with (fails if it resolves, or rejects with anything else). */
export async function rejection(p: Promise<unknown>): Promise<AltsError> {
  const e = await p.then(
    (v) => new Error(`resolved with ${String(v)}`),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AltsError);
  return e as AltsError;
}
