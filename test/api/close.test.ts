/**
 * How a connection ends, as the peer and a stream consumer see it, on loopback TCP with both
 * readers: a close the caller asked for ends a Duplex without an error; a connection ended by a
 * failure (a handler that throws, a Duplex destroyed with an error, close({ abort: true })) resets,
 * so the peer never mistakes a truncated reply for a complete one; after a read-side failure,
 * write() and end() reject with the error that ended the connection.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type ConnHandler } from '../../src/api.js';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { isAltsError } from '../../src/errors.js';
import { tryLoadNative } from '../../src/native.js';

const protocol = 'ALTSRP_GCM_AES128_REKEY' as const;
const key = new Uint8Array(randomBytes(44));
// The side that watches for a reset: the native reader where the addon loaded. A Node socket
// (libuv) may report a reset that arrives right behind data as EOF (docs/spec.md §10).
const observer = tryLoadNative() ? 'native' : 'stream';
const readers = tryLoadNative() ? (['native', 'stream'] as const) : (['stream'] as const);

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function serve(handler: ConnHandler): Promise<number> {
  // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
  const server = createServer({ protocol, side: 'server', key, unsafeSharedKey: true }, handler);
  server.on('error', () => {});
  const { port } = await server.listen(0, '127.0.0.1');
  cleanup.push(() => server.close());
  return port;
}

/** Resolves on 'close' (events.once would reject on an 'error' before it). */
const closed = (e: NodeJS.EventEmitter): Promise<void> => new Promise((resolve) => e.once('close', () => resolve()));

/** A handler that keeps its connection open until the client ends it. */
const idle: ConnHandler = async (conn) => {
  await new Promise<void>((resolve) => conn.once('close', () => resolve()));
};

/** Reads until EOF or an error: 'eof' after a clean end, else the error's code. */
async function readToEnd(c: AltsConn): Promise<{ got: string; end: string }> {
  const into = new Uint8Array(64 * 1024);
  let got = '';
  try {
    for (let n; (n = await c.read(into)) > 0; ) got += new TextDecoder().decode(into.subarray(0, n));
    return { got, end: 'eof' };
  } catch (e) {
    return { got, end: isAltsError(e) ? e.code : String(e) };
  } finally {
    c.close();
  }
}

describe.each(readers)('reader %s', (reader) => {
  const client = (port: number) => connect({ protocol, side: 'client', key, host: '127.0.0.1', port, reader });

  it("conn.close() after toDuplex() ends the Duplex with 'close' and no 'error' (a read pending)", async () => {
    const c = await client(await serve(idle));
    const d = c.toDuplex();
    const errors: Error[] = [];
    d.on('error', (e) => errors.push(e));
    d.on('data', () => {});
    await new Promise((r) => setImmediate(r)); // the stream has asked for its first read
    c.close();
    await closed(d);
    expect(errors).toEqual([]);
  });

  it("conn.close() after toDuplex() with no read pending still ends the Duplex without an error", async () => {
    const c = await client(await serve(idle));
    const d = c.toDuplex();
    const errors: Error[] = [];
    d.on('error', (e) => errors.push(e));
    c.close();
    await closed(d);
    expect(d.destroyed).toBe(true);
    expect(errors).toEqual([]);
  });

  it("an http2 session over toDuplex() ends cleanly when the conn is closed instead of the session", async () => {
    const h2 = http2.createServer();
    const port = await serve(async (conn) => {
      h2.emit('connection', conn.toDuplex());
      await new Promise<void>((resolve) => conn.once('close', () => resolve()));
    });
    const c = await client(port);
    const session = http2.connect(`http://127.0.0.1:${port}`, { createConnection: () => c.toDuplex() });
    const errors: Error[] = [];
    session.on('error', (e) => errors.push(e));
    await once(session, 'connect');
    c.close();
    await closed(session);
    expect(errors).toEqual([]);
  });

  it('a handler that writes part of a reply and then throws resets the client: it never reads a clean EOF', async () => {
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    const server = createServer({ protocol, side: 'server', key, unsafeSharedKey: true, reader }, async (conn) => {
      await conn.read(new Uint8Array(16)); // the request: the client is connected by now
      await conn.write(new TextEncoder().encode('partial'));
      throw new Error('handler failed');
    });
    server.on('error', () => {});
    const { port } = await server.listen(0, '127.0.0.1');
    cleanup.push(() => server.close());
    const c = await connect({ protocol, side: 'client', key, host: '127.0.0.1', port, reader: observer });
    await c.write(new TextEncoder().encode('request'));
    const r = await readToEnd(c);
    expect(r.got).toBe('partial');
    expect(r.end).toBe('IO_ERROR');
  });

  it('a Duplex destroyed with an error resets the peer; destroyed without one, the peer reads EOF', async () => {
    for (const [err, want] of [[new Error('app failure'), 'IO_ERROR'], [undefined, 'eof']] as const) {
      let peer!: Promise<{ got: string; end: string }>;
      const port = await serve((conn) => {
        peer = readToEnd(conn);
        return peer.then(() => {});
      });
      const c = await client(port);
      const d = c.toDuplex();
      d.on('error', () => {});
      await new Promise<void>((resolve, reject) => d.write('hello', (e) => (e ? reject(e) : resolve())));
      d.destroy(err);
      await closed(d);
      await expect.poll(() => peer, { timeout: 5000 }).toBeDefined();
      expect(await peer).toEqual({ got: 'hello', end: want });
    }
  });

  it('close({ abort: true }) resets the peer; close() and close({ abort: false }) end it with EOF', async () => {
    for (const [opts, want] of [[{ abort: true }, 'IO_ERROR'], [{ abort: false }, 'eof'], [undefined, 'eof']] as const) {
      let peer!: Promise<{ got: string; end: string }>;
      let accepted!: () => void;
      const seen = new Promise<void>((r) => (accepted = r));
      const port = await serve((conn) => {
        peer = readToEnd(conn);
        accepted();
        return peer.then(() => {});
      });
      const c = await client(port);
      await c.write(new TextEncoder().encode('hi'));
      await seen;
      c.close(opts);
      expect(await peer).toEqual({ got: 'hi', end: want });
    }
  });
});

describe('close() options', () => {
  it('are checked: TypeError for a non-object, an unknown key, or a non-boolean abort', async () => {
    let conn!: AltsConn;
    const port = await serve(idle);
    conn = await connect({ protocol, side: 'client', key, host: '127.0.0.1', port });
    for (const bad of ['abort', null, 1, { abort: 1 }, { abrot: true }])
      expect(() => conn.close(bad as never), JSON.stringify(bad)).toThrow(TypeError);
    expect(conn.state).not.toBe('closed');
    conn.close();
  });
});

describe('after a read-side failure', () => {
  it('write() and end() both reject with the error that ended the connection', async () => {
    let result!: (v: unknown[]) => void;
    const outcome = new Promise<unknown[]>((r) => (result = r));
    const port = await serve(async (conn) => {
      const seen: unknown[] = [];
      await conn.read(new Uint8Array(1024)).catch((e) => seen.push(e));
      await conn.write(new Uint8Array(1)).catch((e) => seen.push(e));
      await conn.end().catch((e) => seen.push(e));
      result(seen);
    });
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.resume();
    await once(s, 'connect');
    s.write('GET / HTTP/1.1\r\n\r\n'); // not ALTS: its first bytes claim a ~540 MB frame
    const [read, write, end] = await outcome;
    s.destroy();
    expect(isAltsError(read) && read.code).toBe('FRAME_TOO_LARGE');
    expect(write).toBe(read);
    expect(end).toBe(read);
  });
});
