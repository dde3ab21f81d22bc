/**
 * A TLS client dialling an ALTS port (docs/spec.md §1 "Not ALTS", §6): its ClientHello's first 4
 * bytes read as a legal length (16 03 01 00 is 66,326), so the length check alone would wait for
 * 66 KB while the client waits for its ServerHello. The type word (bytes 4-7) is already wrong:
 * the conn fails BAD_MESSAGE_TYPE, saying the peer may not be speaking ALTS, as soon as the 8
 * header bytes are in, and the TLS client sees its connection end. Real loopback TCP, a real
 * tls.connect.
 */
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { wrap } from '../../src/api.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { frames, rejection, tcpPairOf, type ReaderKind } from '../hardening/pairs.js';
import { keyFor } from './harness.js';

const READERS: ReaderKind[] = ['native', 'stream'];
const protocol = 'ALTSRP_GCM_AES128_REKEY' as const;

/** A listener whose accepted sockets become server-side conns; `accepted` resolves with the first. */
async function altsListener(reader: ReaderKind, pool: BufferPool) {
  const server = net.createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = (once(server, 'connection') as Promise<[net.Socket]>).then(([sock]) =>
    wrap(sock, { protocol, side: 'server', key: keyFor(protocol), pool, reader }),
  );
  return { port: (server.address() as net.AddressInfo).port, accepted, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Real ClientHellos: Node's default one (a record length of 0x158 reads as a length above 1 MiB) and a small TLS 1.2 one (16 03 01 00: 66,326, a legal length). */
const hellos: [string, string, tls.ConnectionOptions][] = [
  ['a TLS 1.2 ClientHello of one cipher (its first 4 bytes a legal length)', 'BAD_MESSAGE_TYPE', { maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' }],
  ["Node's default ClientHello", 'FRAME_TOO_LARGE', {}],
];

describe.each(READERS)('%s reader: a TLS client on an ALTS port', (reader) => {
  it.each(hellos)('%s: the conn fails %s with the not-ALTS hint at once, and the TLS client sees its connection end', async (_name, code, options) => {
    const pool = new BufferPool();
    const l = await altsListener(reader, pool);
    const client = tls.connect({ port: l.port, host: '127.0.0.1', rejectUnauthorized: false, ...options });
    const clientEnded = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.on('error', () => {}); // a reset or an early close: either ends it
    const conn = await l.accepted;
    try {
      const err = await rejection(conn.read(new Uint8Array(100)));
      expect(err.code).toBe(code);
      expect(err.fault).toBe('peer');
      expect(err.message).toMatch(/may not be speaking ALTS/);
      // The whole ClientHello is a few hundred bytes: the conn did not wait for the length it claims.
      expect(conn.stats.bytesRead).toBeLessThan(1024);
      expect(conn.state).toBe('closed');
      await clientEnded;
      expect(pool.outstanding).toBe(0);
    } finally {
      conn.close();
      client.destroy();
      await l.close();
    }
  });

  it('a bad type word after a good frame: the frame is handed up first, then BAD_MESSAGE_TYPE (no hint) once the 8 header bytes are in, its payload never sent', async () => {
    const pool = new BufferPool();
    const { conn, raw, done } = await tcpPairOf({ reader, pool });
    raw.on('error', () => {});
    try {
      const good = frames(10).bytes[0]!;
      // The header of a 1000-byte frame of type 7, without its payload.
      const header = Uint8Array.from([0xe8, 0x03, 0, 0, 7, 0, 0, 0]);
      raw.write(Buffer.concat([good, header]));
      const into = new Uint8Array(100);
      expect(await conn.read(into)).toBe(10);
      const err = await rejection(conn.read(into));
      expect(err.code).toBe('BAD_MESSAGE_TYPE');
      expect(err.message).not.toMatch(/ALTS/);
      expect(conn.stats.bytesRead).toBe(good.length + header.length);
    } finally {
      conn.close();
      await done();
    }
  });
});
