/**
 * The readers' write order around a message made in batches (src/io/Outbox.ts, docs/spec.md §9),
 * on real socketpairs: plain writes and the FIN wait behind it in order, a transient buffer that
 * waits is copied, a reset fails what waits with the socket's error, and a message refused at
 * once gives back what it reserved.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { wrap } from '../../src/api.js';
import type { AltsError } from '../../src/errors.js';
import { NativeReader } from '../../src/io/NativeReader.js';
import { type BatchSource, type BatchWriter, WRITE_BATCHES } from '../../src/io/Outbox.js';
import { StreamReader } from '../../src/io/StreamReader.js';
import type { ReadyReader } from '../../src/io/types.js';
import { bytes, closeCallbacksRan, keyFor, native } from '../conn/harness.js';
import { rejection } from '../hardening/pairs.js';
import { closeAllWatched, Watched } from '../native/helpers.js';

type Reader = ReadyReader & BatchWriter;

/** Batches of `sizes` bytes, batch i filled with the value i + 1; counts what it was asked for. */
function batches(...sizes: number[]): BatchSource & { made: number; abandoned: number } {
  let i = 0;
  return {
    made: 0,
    abandoned: 0,
    get more() {
      return i < sizes.length;
    },
    next() {
      this.made++;
      return new Uint8Array(sizes[i]!).fill(++i);
    },
    abandon() {
      this.abandoned++;
    },
  };
}

const readers: Record<string, (fd: number) => Reader> = {
  native: (fd) => new NativeReader(native, fd),
  stream: (fd) => new StreamReader(new net.Socket({ fd, readable: true, writable: true })),
};

const open: ReadyReader[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) r.close();
  await closeAllWatched();
  await closeCallbacksRan();
});

function result(): { done: (e: AltsError | null) => void; settled: Promise<AltsError | null> } {
  let done!: (e: AltsError | null) => void;
  const settled = new Promise<AltsError | null>((resolve) => (done = resolve));
  return { done, settled };
}

describe('writes behind a message made in batches', () => {
  for (const [kind, make] of Object.entries(readers)) {
    it(`${kind}: plain writes and the FIN wait behind it, in order; a waiting transient buffer is copied`, async () => {
      const [a, b] = native.socketpair();
      const r = make(a);
      open.push(r);
      const peer = new Watched(b);
      const src = batches(100_000, 100_000, 50);
      const m = result();
      r[WRITE_BATCHES](src, m.done);
      expect(src.made).toBe(1); // the first batch at once, the rest as the kernel takes them
      const reused = new Uint8Array(10).fill(0xaa);
      const t = result();
      r.write(reused, t.done, true);
      reused.fill(0xbb); // the caller may reuse a transient buffer once write returns
      const kept = new Uint8Array(5).fill(0xcc);
      const k = result();
      r.write(kept, k.done);
      const end = result();
      r.shutdownWrite(end.done);
      const got = await peer.readExactly(200_065, 65536);
      expect(await Promise.all([m.settled, t.settled, k.settled, end.settled])).toEqual([null, null, null, null]);
      const want = Buffer.concat([new Uint8Array(100_000).fill(1), new Uint8Array(100_000).fill(2), new Uint8Array(50).fill(3), new Uint8Array(10).fill(0xaa), kept]);
      expect(Buffer.compare(got, want)).toBe(0);
      await peer.ready(true, false);
      expect(peer.handle.read(new Uint8Array(1), 0, 1)).toBe(0); // then EOF
      expect(src.abandoned).toBe(0);
      // After the end: refused, and the message gives back what it reserved.
      const late = batches(10);
      const l = result();
      r[WRITE_BATCHES](late, l.done);
      expect((await l.settled)?.code).toBe('CLOSED');
      expect(late).toMatchObject({ made: 0, abandoned: 1 });
    });
  }

  it('native: a peer gone mid-message fails the message and the writes waiting behind it with the socket error; the FIN still settles', async () => {
    const [a, b] = native.socketpair();
    native.setSocketBuffers(a, 0, 16 * 1024);
    const r = readers.native!(a);
    open.push(r);
    const m = result();
    r[WRITE_BATCHES](batches(1 << 20, 1 << 20), m.done); // more than the socket holds: it stalls
    const w = result();
    r.write(new Uint8Array(10), w.done, true);
    const end = result();
    r.shutdownWrite(end.done);
    native.closeFd(b);
    const [me, we] = await Promise.all([m.settled, w.settled]);
    expect(me).toMatchObject({ code: 'IO_ERROR' });
    expect(['EPIPE', 'ECONNRESET']).toContain(me!.errno);
    expect(we).toMatchObject({ code: 'IO_ERROR' });
    await end.settled; // ENOTCONN or a FIN with nowhere to go: not the caller's failure
  });

  it('stream: once the stream has met the reset, every conn write rejects with that error', async () => {
    const [a, b] = native.socketpair();
    const protocol = 'ALTSRP_GCM_AES128_REKEY' as const;
    const conn = wrap(new net.Socket({ fd: a, readable: true, writable: true }), { protocol, side: 'client', key: keyFor(protocol), reader: 'stream' });
    await conn.write(bytes(10, 1)); // never read by the peer: its close resets
    native.closeFd(b);
    // The stream meets the reset when it next reads or writes (Node reads on its own); the conn's writes then fail with it.
    let err: AltsError | null = null;
    for (let i = 0; i < 100 && err === null; i++) err = await conn.write(bytes(10, 2)).then(() => null, (e: AltsError) => e);
    expect(err).toMatchObject({ code: 'IO_ERROR' });
    expect(await rejection(conn.write(bytes(10, 3)))).toMatchObject({ code: 'IO_ERROR', errno: err!.errno });
    conn.close();
  });
});
