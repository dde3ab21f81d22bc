/**
 * The leftover path, made deterministic: the client's last handshake message and its first
 * record frame leave in ONE write, so the server's reader gets both in one read and the
 * service consumes only the handshake part. Then both ends run AltsConn over the very readers
 * the handshake used (the native reader carries on), the server starting from the leftover.
 */
import { describe, expect, it } from 'vitest';
import { AltsConn } from '../../src/conn/AltsConn.js';
import { createCrypters } from '../../src/crypto/index.js';
import type { Side } from '../../src/crypto/types.js';
import { runHandshake, type HandshakeOutcome } from '../../src/handshake/handshake.js';
import type { AltsError } from '../../src/errors.js';
import type { ReadyReader } from '../../src/io/types.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { createProtector } from '../../src/protector.js';
import { fakeForFile, hsOptions, readerPair } from './_rig.js';

const hold = fakeForFile();

/** Passes writes through, except the n-th, which it reports done at once and keeps. */
function holdingWrite(r: ReadyReader, n: number): { held: Promise<Uint8Array> } {
  const write = r.write.bind(r);
  let count = 0;
  let resolveHeld!: (b: Uint8Array) => void;
  const held = new Promise<Uint8Array>((res) => (resolveHeld = res));
  r.write = (data: Uint8Array, done: (err: AltsError | null) => void, transient?: boolean) => {
    if (++count !== n) return write(data, done, transient);
    resolveHeld(data.slice());
    done(null);
  };
  return { held };
}

const connFor = (reader: ReadyReader, side: Side, hs: HandshakeOutcome, pool: BufferPool) => {
  const { inbound, outbound } = createCrypters({ protocol: hs.recordProtocol, side, key: hs.key });
  return new AltsConn({ reader, pool, inbound, outbound, maxFrameSize: hs.maxFrameSize, protected: hs.leftover });
};

describe('handshake leftover', () => {
  it.each(['native', 'stream'] as const)('%s reader: a record frame sent in the same write as ClientFinished is the server\'s leftover, and the conns carry on over the same readers', async (kind) => {
    const { client, server } = await readerPair(kind);
    // The client writes ClientInit (1st) and ClientFinished (2nd): keep the 2nd back.
    const { held } = holdingWrite(client, 2);
    const serverHs = runHandshake(server, hsOptions('server', { address: hold.svc.address }));
    const c = await runHandshake(client, hsOptions('client', { address: hold.svc.address }));
    const clientFinished = await held;
    const record = createProtector({ protocol: c.recordProtocol, side: 'client', key: c.key }).protect(new TextEncoder().encode('first'));
    const both = new Uint8Array(clientFinished.length + record.length);
    both.set(clientFinished, 0);
    both.set(record, clientFinished.length);
    await new Promise<void>((resolve, reject) => client.write(both, (e) => (e ? reject(e) : resolve())));
    const s = await serverHs;
    expect(s.leftover).toEqual(record);

    // The conns take over the readers: the client's counter has used one frame already.
    const pool = new BufferPool();
    const sc = connFor(server, 'server', s, pool);
    const { inbound, outbound } = createCrypters({ protocol: c.recordProtocol, side: 'client', key: c.key, counters: { outbound: 1n } });
    const cc = new AltsConn({ reader: client, pool, inbound, outbound, maxFrameSize: c.maxFrameSize });
    const into = new Uint8Array(64);
    const n = await sc.read(into);
    expect(new TextDecoder().decode(into.subarray(0, n))).toBe('first');
    await cc.write(new TextEncoder().encode('second'));
    const m = await sc.read(into);
    expect(new TextDecoder().decode(into.subarray(0, m))).toBe('second');
    await sc.write(new TextEncoder().encode('back'));
    const k = await cc.read(into);
    expect(new TextDecoder().decode(into.subarray(0, k))).toBe('back');
    cc.close();
    sc.close();
    expect(pool.outstanding).toBe(0);
  });
});
