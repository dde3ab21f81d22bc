/**
 * Empty frames (len = 20, a valid tag, no plaintext) on real sockets: each is authenticated and
 * uses a counter value, produces nothing and is never read as EOF (docs/spec.md §1, §3). A peer
 * may send any number of them in a row; the read side must go through them in a loop, whatever
 * the buffer size, and hand up the plaintext after them.
 */
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { frames, pairOf, type ReaderKind } from '../hardening/pairs.js';
import { sealer, sealOne } from '../../properties/hostile/streams.js';
import { plaintextFor } from '../../properties/conn/Real.js';

const RUN = 60_000;

/** The peer's stream: `lead` frames of the given payload sizes, then RUN empty frames, then `tail` bytes of plaintext. */
function stream(lead: number[], tail: number): { wire: Uint8Array; plain: Uint8Array } {
  const out = sealer('ALTSRP_GCM_AES128_REKEY', 'server');
  const parts: Uint8Array[] = [];
  const plain: Uint8Array[] = [];
  let seq = 0;
  for (const n of lead) {
    parts.push(sealOne(out, n, seq));
    plain.push(plaintextFor(n, seq++));
  }
  // Each empty frame is sealed with its own counter value.
  for (let i = 0; i < RUN; i++) parts.push(sealOne(out, 0, 0));
  parts.push(sealOne(out, tail, seq));
  plain.push(plaintextFor(tail, seq));
  return { wire: Buffer.concat(parts), plain: Buffer.concat(plain) };
}

async function readAll(conn: { read(into: Uint8Array): Promise<number> }, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await conn.read(out.subarray(got));
    if (k === 0) throw new Error(`clean EOF after ${got} of ${n} bytes`);
    got += k;
  }
  return out;
}

describe.each<ReaderKind>(['native', 'stream'])('a run of empty frames (%s reader)', (reader) => {
  it.each([64 * 1024, 128 * 1024, 1024 * 1024])('60,000 empty frames with readSize %i: the conn survives and the plaintext after them arrives', async (readSize) => {
    const pool = new BufferPool();
    const { conn, peer } = pairOf({ reader, pool, readSize });
    const { wire, plain } = stream([], 100);
    const sending = peer.write(wire);
    const got = await readAll(conn, plain.length);
    expect(await sending).toBe(true);
    expect(Buffer.from(got).equals(Buffer.from(plain))).toBe(true);
    expect(conn.error).toBeNull();
    expect(conn.state).toBe('idle');
    expect(pool.outstanding).toBe(0);
    conn.close();
    peer.close();
  });

  it('empty frames after a large partial frame grew the buffer: the conn survives and the plaintext arrives', async () => {
    const pool = new BufferPool();
    const { conn, peer } = pairOf({ reader, pool, readSize: 64 * 1024 });
    const big = 900 * 1024;
    const { wire, plain } = stream([big], 10);
    // The big frame's first half alone, so the conn grows a partial buffer for it; then the rest.
    const reading = readAll(conn, plain.length);
    expect(await peer.write(wire.subarray(0, big / 2))).toBe(true);
    expect(await peer.write(wire.subarray(big / 2))).toBe(true);
    const got = await reading;
    expect(Buffer.from(got).equals(Buffer.from(plain))).toBe(true);
    expect(conn.error).toBeNull();
    expect(pool.outstanding).toBe(0);
    conn.close();
    peer.close();
  });

  it('empty frames are not EOF: a read across them waits for the plaintext after them', async () => {
    const pool = new BufferPool();
    const { conn, peer } = pairOf({ reader, pool });
    const f = frames(0, 0, 0, 5);
    const into = new Uint8Array(64);
    const reading = conn.read(into);
    for (const b of f.bytes) expect(await peer.write(b)).toBe(true);
    expect(await reading).toBe(5);
    expect(Buffer.from(into.subarray(0, 5)).equals(Buffer.from(f.plain[3]!))).toBe(true);
    conn.close();
    peer.close();
  });
});
