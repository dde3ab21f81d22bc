/**
 * node:http2 over alts-record: a real http2 server and client, each end an
 * AltsConn with the native reader on loopback TCP, joined through conn.toDuplex() (the server
 * gets it by emitting 'connection', the client by `createConnection`). Multi-MiB streamed
 * responses and uploads, 64 streams open at once, every byte checked by hash, then a clean
 * shutdown: every conn closed by EOF (not by force), every pool buffer back, every fd closed.
 */
import http2 from 'node:http2';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { connect, createServer } from '../../src/api.js';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { closeCallbacksRan, closeOf, newKey, openFds, protocol } from './_helpers.js';

const DOWNLOADS = 4;
const DOWNLOAD_BYTES = 4 * 1024 * 1024; // per response, streamed in 64 KiB writes
const UPLOADS = 64; // all open at once: the server answers none before it has seen them all
const UPLOAD_BYTES = 128 * 1024;
const CHUNK = 64 * 1024;

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The server's routes: GET /download streams random bytes (sha256 in the trailers); POST /upload answers the body's sha256. */
function h2App(uploadsExpected: number) {
  const h2 = http2.createServer();
  let open = 0;
  let peakOpen = 0;
  let uploadsSeen = 0;
  let allUploadsOpen!: () => void;
  const uploadsOpen = new Promise<void>((resolve) => (allUploadsOpen = resolve));
  h2.on('stream', (stream, headers) => {
    peakOpen = Math.max(peakOpen, ++open);
    stream.once('close', () => open--);
    if (headers[':path'] === '/download') void download(stream);
    else void upload(stream);
  });
  async function download(stream: http2.ServerHttp2Stream): Promise<void> {
    const hash = createHash('sha256');
    stream.respond({ ':status': 200 }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'x-sha256': hash.digest('hex') }));
    for (let sent = 0; sent < DOWNLOAD_BYTES; sent += CHUNK) {
      const chunk = randomBytes(CHUNK);
      hash.update(chunk);
      if (!stream.write(chunk)) await once(stream, 'drain');
    }
    stream.end();
  }
  async function upload(stream: http2.ServerHttp2Stream): Promise<void> {
    if (++uploadsSeen === uploadsExpected) allUploadsOpen();
    const hash = createHash('sha256');
    let bytes = 0;
    stream.on('data', (d: Buffer) => {
      hash.update(d);
      bytes += d.length;
    });
    await Promise.all([once(stream, 'end'), uploadsOpen]);
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
  }
  return { h2, peakOpen: () => peakOpen };
}

async function download(session: http2.ClientHttp2Session): Promise<void> {
  const req = session.request({ ':path': '/download' });
  const hash = createHash('sha256');
  let bytes = 0;
  let sent: unknown = null;
  req.on('data', (d: Buffer) => {
    hash.update(d);
    bytes += d.length;
  });
  req.on('trailers', (t) => (sent = t['x-sha256'])); // before 'end', so listen from the start
  await once(req, 'end');
  expect(bytes).toBe(DOWNLOAD_BYTES);
  expect(sent).toBe(hash.digest('hex'));
}

async function upload(session: http2.ClientHttp2Session): Promise<void> {
  const body = randomBytes(UPLOAD_BYTES);
  const req = session.request({ ':path': '/upload', ':method': 'POST' });
  req.write(body.subarray(0, UPLOAD_BYTES / 2));
  req.end(body.subarray(UPLOAD_BYTES / 2));
  let text = '';
  req.setEncoding('utf8');
  req.on('data', (d: string) => (text += d));
  await once(req, 'end');
  expect(JSON.parse(text)).toEqual({ bytes: UPLOAD_BYTES, sha256: sha256(body) });
}

describe('node:http2 over alts-record (native reader, loopback TCP)', () => {
  it(`${DOWNLOADS} streamed ${DOWNLOAD_BYTES / 2 ** 20} MiB responses and ${UPLOADS} concurrent uploads intact; clean shutdown`, async () => {
    const fdsBefore = openFds();
    const key = newKey();
    const serverPool = new BufferPool();
    const clientPool = new BufferPool();
    const { h2, peakOpen } = h2App(UPLOADS);
    const sessionsClosed: Promise<unknown>[] = [];
    h2.on('session', (s: http2.ServerHttp2Session) => sessionsClosed.push(once(s, 'close')));
    const serverConns: AltsConn[] = [];
    const closes: Promise<void>[] = [];
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    const server = createServer({ protocol, side: 'server', key, unsafeSharedKey: true, pool: serverPool }, (conn) => {
      serverConns.push(conn);
      closes.push(closeOf(conn));
      h2.emit('connection', conn.toDuplex());
    });
    const { port } = await server.listen(0, '127.0.0.1');

    const conn = await connect({ protocol, side: 'client', key, host: '127.0.0.1', port, pool: clientPool });
    closes.push(closeOf(conn));
    const session = http2.connect(`http://127.0.0.1:${port}`, { createConnection: () => conn.toDuplex() });
    const sessionClosed = once(session, 'close');

    await Promise.all([
      ...Array.from({ length: DOWNLOADS }, () => download(session)),
      ...Array.from({ length: UPLOADS }, () => upload(session)),
    ]);
    expect(peakOpen()).toBeGreaterThanOrEqual(UPLOADS);

    // ALTS on the wire, both ways: each side opened frames, and read more than the plaintext.
    expect(serverConns).toHaveLength(1);
    const [serverConn] = serverConns as [AltsConn];
    for (const c of [conn, serverConn]) expect(c.reader).toBe('native');
    expect(conn.stats.framesOpened).toBeGreaterThan(0);
    expect(conn.stats.bytesRead).toBeGreaterThan(DOWNLOADS * DOWNLOAD_BYTES);
    expect(serverConn.stats.framesOpened).toBeGreaterThan(0);
    expect(serverConn.stats.bytesRead).toBeGreaterThan(UPLOADS * UPLOAD_BYTES);

    // Clean shutdown: the client session's close ends its conn; the server's follows at EOF.
    session.close();
    await Promise.all([sessionClosed, ...sessionsClosed, ...closes]);
    expect(server.connections.size).toBe(0); // closed by EOF, before server.close() could force them
    await server.close();
    for (const pool of [serverPool, clientPool]) {
      expect(pool.stats.lent).toBe(0);
      expect(pool.outstanding).toBe(0);
    }
    await closeCallbacksRan();
    expect(openFds()).toBe(fdsBefore);
  });

  it('a plain HTTP/2 client is refused: its preface is no ALTS frame', async () => {
    const key = newKey();
    const pool = new BufferPool();
    const { h2 } = h2App(1);
    const serverConns: AltsConn[] = [];
    const closes: Promise<void>[] = [];
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    const server = createServer({ protocol, side: 'server', key, unsafeSharedKey: true, pool }, (conn) => {
      serverConns.push(conn);
      closes.push(closeOf(conn));
      h2.emit('connection', conn.toDuplex());
    });
    const { port } = await server.listen(0, '127.0.0.1');
    const plain = http2.connect(`http://127.0.0.1:${port}`);
    const errors: string[] = [];
    plain.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? 'none'));
    const req = plain.request({ ':path': '/download' });
    req.on('error', () => {}); // the session's error says it
    req.on('response', () => errors.push('unexpected response'));
    await new Promise((resolve) => plain.once('close', resolve)); // not once(): it rejects at 'error'
    await Promise.all(closes);
    // The client fails on the server's protected SETTINGS (a protocol error), or on the reset.
    expect(errors.length).toBeGreaterThan(0);
    expect(errors).not.toContain('unexpected response');
    expect(serverConns.map((c) => c.error?.code)).toEqual(['FRAME_TOO_LARGE']);
    await server.close();
    expect(pool.stats.lent).toBe(0);
  });
});
