/**
 * Every AltsError code reachable at connection level, on real sockets (native reader), with
 * the connection giving everything back afterwards.
 */
import net from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { connect, createServer, wrapFd } from '../../src/api.js';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { AltsError, type AltsErrorCode } from '../../src/errors.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { bytes, keyFor, makePair, native, waitForState } from './harness.js';

function header(len: number, type: number): Uint8Array {
  const h = new Uint8Array(8);
  const v = new DataView(h.buffer);
  v.setUint32(0, len, true);
  v.setUint32(4, type, true);
  return h;
}

async function expectCode(p: Promise<unknown>, code: AltsErrorCode): Promise<AltsError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(AltsError);
  expect((err as AltsError).code).toBe(code);
  return err as AltsError;
}

describe('conn-level errors from the peer (fault: peer)', () => {
  const cases: [AltsErrorCode, (peer: ReturnType<typeof makePair>['peer']) => Uint8Array][] = [
    ['FRAME_TOO_LARGE', () => header((1 << 20) + 1, 6).subarray(0, 4)], // only the 4 length bytes
    ['FRAME_TOO_SHORT', () => header(19, 6)],
    ['BAD_MESSAGE_TYPE', () => new Uint8Array([...header(20, 0x106), ...new Uint8Array(16)])],
    ['AUTH_FAILED', (peer) => {
      const f = peer.protect(bytes(100));
      f[20]! ^= 1;
      return f;
    }],
  ];
  it.each(cases)('%s fails the pending read, after the good frame before it', async (code, bad) => {
    const { conn, pool, peer, send } = makePair();
    const good = peer.protect(bytes(33));
    send(new Uint8Array([...good, ...bad(peer)]));
    expect(await conn.read(new Uint8Array(100))).toBe(33);
    const err = await expectCode(conn.read(new Uint8Array(100)), code);
    expect(err.fault).toBe('peer');
    expect(conn.state).toBe('closed');
    expect(conn.heldBytes).toBe(0);
    expect(pool.outstanding).toBe(0);
    await expectCode(conn.read(new Uint8Array(1)), code); // sticky
  });

  it('COUNTER_EXHAUSTED when the inbound counter has no value left (ALTSRP_GCM_AES128: 2^40 - 1 frames)', async () => {
    const last = 2n ** 40n - 2n;
    const { conn, pool, send, peer } = makePair({ protocol: 'ALTSRP_GCM_AES128', counters: { inbound: last }, peerCounters: { outbound: last } });
    const f = peer.protect(bytes(10));
    send(f);
    expect(await conn.read(new Uint8Array(10))).toBe(10);
    send(f); // any further frame: no counter value left to open it with
    await expectCode(conn.read(new Uint8Array(10)), 'COUNTER_EXHAUSTED');
    expect(pool.outstanding).toBe(0);
  });

  it('COUNTER_EXHAUSTED on write when the outbound counter has no value left', async () => {
    const { conn } = makePair({ protocol: 'ALTSRP_GCM_AES128_REKEY', counters: { outbound: 2n ** 64n - 1n } });
    await expectCode(conn.write(bytes(10)), 'COUNTER_EXHAUSTED');
    conn.close();
  });
});

describe('conn-level errors from the caller (fault: caller)', () => {
  it('BAD_KEY and UNKNOWN_PROTOCOL before anything is set up', async () => {
    const [a, b] = native.socketpair();
    expect(() => wrapFd(a, { protocol: 'ALTSRP_GCM_AES128', side: 'client', key: new Uint8Array(15) })).toThrow(
      expect.objectContaining({ code: 'BAD_KEY', fault: 'caller' }),
    );
    expect(() => wrapFd(a, { protocol: 'ALTSRP_CHACHA' as never, side: 'client', key: new Uint8Array(16) })).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_PROTOCOL' }),
    );
    await expectCode(connect({ protocol: 'ALTSRP_GCM_AES128_REKEY', side: 'client', key: new Uint8Array(16), host: '127.0.0.1', port: 9 }), 'BAD_KEY');
    native.closeFd(a);
    native.closeFd(b);
  });

  it('READ_IN_PROGRESS for a second read while one is pending; CLOSED for reads and writes after close', async () => {
    const { conn } = makePair();
    const first = conn.read(new Uint8Array(1));
    await expectCode(conn.read(new Uint8Array(1)), 'READ_IN_PROGRESS');
    conn.close();
    await expectCode(first, 'CLOSED');
    await expectCode(conn.write(new Uint8Array(1)), 'CLOSED');
    await expectCode(conn.end(), 'CLOSED');
  });

  it('bad arguments are TypeError/RangeError naming the argument', () => {
    const { conn, pool } = makePair();
    expect(() => conn.read('x' as never)).toThrow(TypeError);
    expect(() => conn.read(new Uint8Array(0))).toThrow(/"into"/);
    expect(() => conn.readOnReady(0, pool)).toThrow(RangeError);
    expect(() => conn.readOnReady(10, {} as never)).toThrow(/"pool"/);
    expect(() => conn.write(null as never)).toThrow(/"data"/);
    conn.close();
  });
});

describe('conn-level I/O errors (fault: io)', () => {
  it('a reset mid-frame is IO_ERROR ECONNRESET, everything returned', async () => {
    const pool = new BufferPool();
    const key = keyFor('ALTSRP_GCM_AES128_REKEY');
    let onConn!: (c: AltsConn) => void;
    const accepted = new Promise<AltsConn>((resolve) => (onConn = resolve));
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    const server = createServer({ protocol: 'ALTSRP_GCM_AES128_REKEY', side: 'server', key, unsafeSharedKey: true, pool, reader: 'native' }, (c) => onConn(c));
    const { port } = await server.listen(0, '127.0.0.1');
    const raw = net.connect({ port, host: '127.0.0.1' });
    await once(raw, 'connect');
    const conn = await accepted;
    const pending = conn.read(new Uint8Array(10));
    const partial = waitForState(conn, 'partial');
    raw.write(header(1000, 6));
    await partial;
    raw.resetAndDestroy();
    const err = await expectCode(pending, 'IO_ERROR');
    expect(err.errno).toBe('ECONNRESET');
    expect(err.fault).toBe('io');
    expect(conn.state).toBe('closed');
    expect(pool.outstanding).toBe(0);
    await server.close();
  });
});
