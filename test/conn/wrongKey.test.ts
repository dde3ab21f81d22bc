/**
 * Two ends with different keys, on loopback TCP, both readers, both directions, in the echo
 * pattern (one side writes then reads, the other reads then writes back): the side that receives
 * a frame fails with AUTH_FAILED, and the other side must see an error too, never a clean EOF.
 * A conn that fails for a peer fault resets the connection (docs/spec.md §6), so the side that
 * never received a frame reads IO_ERROR, not the FIN of a close.
 */
import { describe, expect, it } from 'vitest';
import { wrap } from '../../src/api.js';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { AltsError } from '../../src/errors.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { closeCallbacksRan, keyFor, loopbackTcp, makePair } from './harness.js';

type Reader = 'native' | 'stream';
const PROTOCOL = 'ALTSRP_GCM_AES128_REKEY' as const;

function otherKey(): Uint8Array {
  const k = keyFor(PROTOCOL);
  k[0]! ^= 0xff;
  return k;
}

async function tcpConns(reader: Reader): Promise<{ client: AltsConn; server: AltsConn; done: () => Promise<void> }> {
  const { accepted: sock, dialled: raw, close } = await loopbackTcp();
  const pool = new BufferPool();
  const server = wrap(sock, { protocol: PROTOCOL, side: 'server', key: keyFor(PROTOCOL), pool, reader });
  const client = wrap(raw, { protocol: PROTOCOL, side: 'client', key: otherKey(), pool, reader });
  return {
    client,
    server,
    done: async () => {
      client.close();
      server.close();
      await close();
    },
  };
}

/** How a read ended: the error code, or 'EOF' for a clean end, or the byte count. */
async function outcome(p: Promise<number>): Promise<string> {
  return p.then(
    (n) => (n === 0 ? 'EOF' : `read ${n}`),
    (e: unknown) => (e instanceof AltsError ? e.code : `not an AltsError: ${String(e)}`),
  );
}

describe.each<Reader>(['native', 'stream'])('a wrong key (%s reader)', (reader) => {
  it.each(['client', 'server'] as const)('the %s writes first: the receiver fails AUTH_FAILED, the writer sees an error, never a clean EOF', async (first) => {
    const { client, server, done } = await tcpConns(reader);
    try {
      const writer = first === 'client' ? client : server;
      const receiver = first === 'client' ? server : client;
      const writerRead = outcome(writer.write(new TextEncoder().encode('hello')).then(() => writer.read(new Uint8Array(64))));
      const receiverRead = outcome(receiver.read(new Uint8Array(64)));
      expect(await receiverRead).toBe('AUTH_FAILED');
      expect(receiver.error?.fault).toBe('peer');
      const w = await writerRead;
      expect(w).not.toBe('EOF');
      expect(w).toBe('IO_ERROR');
    } finally {
      await done();
    }
  });
});

describe('a conn failed AUTH_FAILED over AF_UNIX', () => {
  it('its peer reads a clean EOF: AF_UNIX has no RST, the reset guarantee is TCP\'s (docs/spec.md §9)', async () => {
    const { conn, pool, peer, send, peerHandle } = makePair();
    const frame = peer.protect(new TextEncoder().encode('hello'));
    frame[frame.length - 1]! ^= 1; // a bad tag
    send(frame);
    await expect(conn.read(new Uint8Array(64))).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await closeCallbacksRan();
    expect(peerHandle.read(new Uint8Array(8), 0, 8)).toBe(0);
    peerHandle.close();
    expect(pool.outstanding).toBe(0);
  });
});
