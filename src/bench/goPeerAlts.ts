/**
 * alts-record's end of the throughput bench's grpc-go pairs (goPeer.ts), a child process taking
 * the same arguments as the Go peer's bench mode (scripts/interop/peer/bench.go) so that either
 * end of a pair is either implementation: the ALTS handshake through the handshaker service, then
 * `sink` (the server) writes one byte "go" and reads N MiB, or `source` (the client) waits for
 * that byte and writes N MiB in 64 KiB writes. Frames are 4 KiB, as grpc-go writes them. Prints
 * `{"listening":"HOST:PORT"}` (sink) and then `{"side","bytes","seconds"}`, seconds from "go" to
 * its last byte.
 *
 * Usage: node goPeerAlts.js sink|source HANDSHAKER_ADDR MIB [SERVER_ADDR]
 * @module
 */
import { connect, createServer } from '../api.js';
import type { AltsConn } from '../conn/AltsConn.js';
import { DEFAULT_IDENTITY } from '../handshake/fake/session.js';
import { altsEndpoint } from './transports.js';

const MIB = 1024 * 1024;
const FRAME = 4096;
const CHUNK = new Uint8Array(64 * 1024).fill(0xa5);

const emit = (v: unknown) => process.stdout.write(`${JSON.stringify(v)}\n`);

async function sink(conn: AltsConn, total: number): Promise<void> {
  const t0 = process.hrtime.bigint();
  await conn.write(Uint8Array.of(0x67));
  await altsEndpoint(conn).receive(total);
  emit({ side: 'sink', bytes: total, seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
  conn.close();
}

async function source(conn: AltsConn, total: number): Promise<void> {
  if ((await conn.read(new Uint8Array(1))) !== 1) throw new Error('the sink closed before "go"');
  const t0 = process.hrtime.bigint();
  await altsEndpoint(conn).send(total, CHUNK);
  emit({ side: 'source', bytes: total, seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
  // Stay until the sink closes: closing first could cut bytes still in flight.
  while ((await conn.read(new Uint8Array(1))) > 0);
  conn.close();
}

async function main(argv: string[]): Promise<void> {
  const [role, address, mib, server] = argv;
  const total = Number(mib) * MIB;
  if ((role !== 'sink' && role !== 'source') || address === undefined || !(total > 0)) throw new Error('usage: goPeerAlts sink|source HANDSHAKER_ADDR MIB [SERVER_ADDR]');
  if (role === 'source') {
    const at = (server ?? '').lastIndexOf(':');
    const conn = await connect({ host: server!.slice(0, at), port: Number(server!.slice(at + 1)), maxFrameSize: FRAME, handshaker: { address, targetServiceAccounts: [DEFAULT_IDENTITY.server] } });
    return source(conn, total);
  }
  let served!: (p: Promise<void>) => void;
  const first = new Promise<void>((resolve) => (served = resolve));
  const s = createServer({ maxFrameSize: FRAME, handshaker: { address } }, (conn) => served(sink(conn, total)));
  const { port } = await s.listen(0, '127.0.0.1');
  emit({ listening: `127.0.0.1:${port}` });
  try {
    await first;
  } finally {
    await s.close();
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`goPeerAlts: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
