// HTTP/2 over the ALTS record protocol: a node:http2 server and client on loopback, each end an
// alts-record connection (readiness-based reads), talking through conn.toDuplex(); the key comes
// from an ALTS handshake through the fake handshaker service (started here; loopback only).
// Run from the package root after `npm run build`: node examples/http2.mjs (exits 0 when every
// response arrived intact).
import http2 from 'node:http2';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, startFakeHandshaker } from 'alts-record';

const fake = await startFakeHandshaker();
const handshaker = { address: fake.address };
const STREAMS = 8;
const BYTES = 1024 * 1024; // per response, sent in 64 KiB writes

// Server: an HTTP/2 server that never listens itself. alts-record accepts the TCP connections
// and hands each one's Duplex to it, as a net server would hand it a socket.
const h2server = http2.createServer();
h2server.on('stream', async (stream) => {
  const hash = createHash('sha256');
  stream.respond({ ':status': 200 }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'x-sha256': hash.digest('hex') }));
  for (let sent = 0; sent < BYTES; sent += 64 * 1024) {
    const chunk = randomBytes(64 * 1024);
    hash.update(chunk);
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
});
const server = createServer({ handshaker }, (conn) => h2server.emit('connection', conn.toDuplex()));
const { port } = await server.listen(0, '127.0.0.1');

// Client: an HTTP/2 session whose connection is an alts-record conn.
const conn = await connect({ handshaker, host: '127.0.0.1', port });
const session = http2.connect(`http://127.0.0.1:${port}`, { createConnection: () => conn.toDuplex() });

async function fetchOne(i) {
  const req = session.request({ ':path': `/blob/${i}` });
  const hash = createHash('sha256');
  let bytes = 0;
  req.on('data', (d) => {
    hash.update(d);
    bytes += d.length;
  });
  let sent = null; // the server's hash, in the trailers (they come before 'end')
  req.on('trailers', (trailers) => (sent = trailers['x-sha256']));
  await once(req, 'end');
  if (bytes !== BYTES || sent !== hash.digest('hex')) throw new Error(`stream ${i}: the bytes differ`);
  return bytes;
}
const got = await Promise.all(Array.from({ length: STREAMS }, (_, i) => fetchOne(i)));

// Clean shutdown: the session's close ends the conn; the server's side follows at EOF.
const closed = new Promise((resolve) => conn.once('close', resolve));
session.close();
await closed;
await server.close();
await fake.close();
const total = got.reduce((a, b) => a + b, 0);
console.log(`http2 over ALTS: ${STREAMS} streams, ${total / 2 ** 20} MiB intact, ${conn.stats.framesOpened} ALTS frames opened by the client (${conn.reader} reader)`);
