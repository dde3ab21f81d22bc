/**
 * `npm start`: a server and clients on loopback run the ALTS handshake through the fake
 * handshaker service (started here, docs/handshake.md §7), so each connection has its own key,
 * then exchange data over ALTS and sit idle with a read pending on every connection. Prints
 * throughput, the pool's bytes lent while busy and while idle (0), and what a design that pins
 * a read buffer per connection would hold. Needs no configuration and ends by itself.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, defaultReader } from './api.js';
import type { AltsConn } from './conn/AltsConn.js';
import { defaultBackend } from './crypto/index.js';
import { closeHandshakerClients, startFakeHandshaker } from './handshake/index.js';
import { BufferPool } from './pool/BufferPool.js';

const CLIENTS = 64;
const BYTES_PER_CLIENT = 4 * 1024 * 1024;
const WRITE_SIZE = 64 * 1024;
const PINNED_PER_CONN = 32 * 1024 + 512; // grpc-go's ALTS read buffer, held for a connection's life
const SERVER_ACCOUNT = 'demo-server@alts-record.invalid';

const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;
const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

async function drainAndEcho(c: AltsConn, pool: BufferPool): Promise<void> {
  // The server reads everything, then answers with the byte count (8 bytes). readOnReady borrows
  // only once plaintext is there: a server conn waiting for its client holds nothing.
  let total = 0;
  for (let got; (got = await c.readOnReady(64 * 1024, pool)) !== null; ) {
    total += got.n;
    pool.put(got.buf);
  }
  const reply = new Uint8Array(8);
  new DataView(reply.buffer).setBigUint64(0, BigInt(total), true);
  await c.write(reply);
  await c.end();
}

async function main(): Promise<void> {
  const pool = new BufferPool();
  const reader = defaultReader();
  const fake = await startFakeHandshaker(); // loopback only: its keys are computable by anyone who sees the handshake
  const handshaker = { address: fake.address };
  const clientOptions = { handshaker: { ...handshaker, targetServiceAccounts: [SERVER_ACCOUNT] }, host: '127.0.0.1', pool };
  console.log(`alts-record demo: ${CLIENTS} clients, reader '${reader}', backend '${defaultBackend()}', loopback, handshakes via the fake handshaker at ${fake.address}`);

  const serverConns: AltsConn[] = [];
  const served: Promise<void>[] = [];
  const server = createServer({ handshaker: { ...handshaker, localServiceAccount: SERVER_ACCOUNT }, pool }, (c) => {
    serverConns.push(c);
    served.push(drainAndEcho(c, pool));
  });
  const { port } = await server.listen(0, '127.0.0.1');

  // 1. Busy: every client streams BYTES_PER_CLIENT, the server counts it.
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connect({ ...clientOptions, port })));
  const chunk = randomBytes(WRITE_SIZE);
  let busyPeak = 0;
  const sampler = setInterval(() => (busyPeak = Math.max(busyPeak, pool.outstanding)), 5);
  const t0 = process.hrtime.bigint();
  await Promise.all(
    clients.map(async (c) => {
      for (let sent = 0; sent < BYTES_PER_CLIENT; sent += WRITE_SIZE) await c.write(chunk);
      await c.end();
    }),
  );
  const counts = await Promise.all(
    clients.map(async (c) => {
      const into = new Uint8Array(8);
      const n = await c.read(into);
      return n === 8 ? Number(new DataView(into.buffer).getBigUint64(0, true)) : -1;
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(sampler);
  await Promise.all(served); // every server handler ran: both ends of every handshake are done
  const ctx = clients[0]!.altsContext!;
  console.log(`hands: ${clients.length} handshakes, each connection its own key (${fake.results} results from the fake, ${fake.distinctKeys} distinct keys); ` +
    `peer ${ctx.peerServiceAccount}, ${ctx.recordProtocol}, RPC ${ctx.peerRpcVersions.maxRpcVersion.major}.${ctx.peerRpcVersions.maxRpcVersion.minor}`);
  const total = counts.reduce((a, b) => a + b, 0);
  if (counts.some((n) => n !== BYTES_PER_CLIENT)) throw new Error(`demo: byte counts differ: ${counts.join(',')}`);
  console.log(`busy:  ${mib(total)} client->server in ${seconds.toFixed(2)} s = ${mib(total / seconds)}/s, every byte counted`);
  console.log(`       pool bytes lent, highest seen: ${kib(Math.max(busyPeak, pool.highWater))} (high-water ${kib(pool.highWater)})`);
  for (const c of [...clients, ...serverConns]) c.close();

  // 2. Idle: fresh connections, each side with a read pending and nothing to read.
  const idleServer: AltsConn[] = [];
  let allAccepted!: () => void;
  const accepted = new Promise<void>((resolve) => (allAccepted = resolve));
  const server2 = createServer({ handshaker: { ...handshaker, localServiceAccount: SERVER_ACCOUNT }, pool }, (c) => {
    idleServer.push(c);
    if (idleServer.length === CLIENTS) allAccepted();
  });
  const { port: port2 } = await server2.listen(0, '127.0.0.1');
  const idleClients = await Promise.all(Array.from({ length: CLIENTS }, () => connect({ ...clientOptions, port: port2 })));
  await accepted;
  const all = [...idleClients, ...idleServer];
  const pendingReads = all.map((c) => c.read(new Uint8Array(1)).catch((e: Error) => e));
  await new Promise<void>((resolve) => setImmediate(resolve));
  const held = all.reduce((a, c) => a + c.heldBytes, 0);
  const states = new Set(all.map((c) => c.state));
  console.log(`idle:  ${all.length} connections, a read pending on each: states {${[...states].join(', ')}}, ` +
    `pool bytes lent ${pool.outstanding}, held by conns ${held}`);
  console.log(`       a pinned ${kib(PINNED_PER_CONN)} buffer per connection (grpc-go's design) would hold ${kib(all.length * PINNED_PER_CONN)}`);

  for (const c of all) c.close();
  const settled = await Promise.all(pendingReads);
  const closedCodes = new Set(settled.map((r) => (r instanceof Error ? (r as { code?: string }).code : 'resolved')));
  await server.close();
  await server2.close();
  closeHandshakerClients();
  await fake.close();
  console.log(`close: every pending read settled (${[...closedCodes].join(', ')}), pool bytes lent ${pool.outstanding}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
