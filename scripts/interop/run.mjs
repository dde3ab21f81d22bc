#!/usr/bin/env node
/**
 * npm run interop (docs/handshake.md §9): grpc-go 1.33.3's own ALTS handshaker client and record
 * layer against alts-record, both through alts-record's fake handshaker service, over loopback
 * TCP. Three runs:
 *   go-pair      a Go client and a Go server (grpc-go against the fake alone)
 *   node→go      alts-record's client (native reader) with a Go server
 *   go→node      a Go client with alts-record's server (native reader)
 * Each: the handshake, then one message each way over the record layer, then 256 KiB each way
 * (grpc-go's 4 KiB frames into our reader, our 16 KiB frames into grpc-go's). Prints one JSON line per
 * run and exits 1 if any failed. Needs the build (npm run build) and Debian's golang-go and
 * golang-google-grpc-dev.
 * @module
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { buildPeer } from './build.mjs';

const dist = (p) => import(new URL(`../../dist/${p}`, import.meta.url).href);
const [{ startFakeHandshaker }, { DEFAULT_IDENTITY }, { runHandshake }, { resolveHandshaker }, { closeHandshakerClients }, { NativeReader }, { loadNative }, { takeOverSocket }, { AltsConn }, { createCrypters }, { BufferPool }] =
  await Promise.all(
    ['handshake/fake/server.js', 'handshake/fake/session.js', 'handshake/handshake.js', 'handshake/options.js', 'handshake/service.js', 'io/NativeReader.js', 'native.js', 'native-takeover.js', 'conn/AltsConn.js', 'crypto/index.js', 'pool/BufferPool.js'].map(dist),
  );

const enc = new TextEncoder();
const dec = new TextDecoder();
const pool = new BufferPool();

/** Spawn the Go peer; its stdout lines, one JSON value each, as an async iterator. */
function peer(bin, args) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = once(child, 'exit').then(([code]) => code);
  return {
    next: async () => {
      const r = await lines.next();
      if (r.done) throw new Error(`the Go peer ended (exit ${await exited}) without the line expected`);
      return JSON.parse(r.value);
    },
    exited,
  };
}

/** The record connection over the reader the handshake used, starting from its leftover. */
function connOver(reader, side, hs) {
  const { inbound, outbound } = createCrypters({ protocol: hs.recordProtocol, side, key: hs.key });
  return new AltsConn({ reader, pool, inbound, outbound, maxFrameSize: hs.maxFrameSize, protected: hs.leftover });
}

/** The Go peer's bulk pattern: byte i = i*7 mod 251, 256 KiB. */
const BULK = Uint8Array.from({ length: 256 * 1024 }, (_, i) => (i * 7) % 251);

async function readExactly(conn, n) {
  const out = new Uint8Array(n);
  for (let got = 0; got < n; ) {
    const k = await conn.read(out.subarray(got));
    if (k === 0) throw new Error(`EOF after ${got} of ${n} bytes`);
    got += k;
  }
  return out;
}

const sameBytes = (a, b) => a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

async function readText(conn) {
  const into = new Uint8Array(1024);
  const n = await conn.read(into);
  return dec.decode(into.subarray(0, n));
}

function check(name, facts) {
  const failed = Object.entries(facts).filter(([, ok]) => !ok).map(([k]) => k);
  console.log(JSON.stringify({ run: name, ok: failed.length === 0, ...(failed.length > 0 && { failed }) }));
  return failed.length === 0;
}

async function goPair(bin, address) {
  const p = peer(bin, ['-mode', 'pair', '-handshaker', address, '-target', DEFAULT_IDENTITY.server]);
  const c = await p.next();
  const s = await p.next();
  return check('go-pair', {
    'client read pong': c.read === 'pong: ping from go client',
    'server read ping': s.read === 'ping from go client',
    'bulk intact both ways': c.bulkIntact === true && s.bulkIntact === true,
    'identities crossed': c.peerServiceAccount === s.localServiceAccount && s.peerServiceAccount === c.localServiceAccount,
    'rekey protocol': c.recordProtocol === 'ALTSRP_GCM_AES128_REKEY' && s.recordProtocol === c.recordProtocol,
    'peer exit 0': (await p.exited) === 0,
  });
}

async function nodeToGo(bin, address) {
  const p = peer(bin, ['-mode', 'server', '-handshaker', address]);
  const { listening } = await p.next();
  const [host, port] = [listening.slice(0, listening.lastIndexOf(':')), Number(listening.slice(listening.lastIndexOf(':') + 1))];
  const socket = net.connect({ host, port });
  socket.pause();
  await once(socket, 'connect');
  const reader = new NativeReader(loadNative(), takeOverSocket(socket));
  const hs = await runHandshake(reader, { ...resolveHandshaker({ address, targetServiceAccounts: [DEFAULT_IDENTITY.server] }), side: 'client', maxFrameSize: 16384 });
  const conn = connOver(reader, 'client', hs);
  await conn.write(enc.encode('ping from node client'));
  const reply = await readText(conn);
  await conn.write(BULK);
  const back = await readExactly(conn, BULK.length);
  const g = await p.next();
  conn.close();
  return check('node→go', {
    'node read pong': reply === 'pong: ping from node client',
    'go read ping': g.read === 'ping from node client',
    'bulk intact at go': g.bulkIntact === true,
    'bulk intact at node': sameBytes(back, BULK),
    'node sees the go server': hs.altsContext.peerServiceAccount === g.localServiceAccount,
    'go sees the node client': g.peerServiceAccount === hs.altsContext.localServiceAccount,
    'go peer rpc 2.1': g.peerRpcMax === '2.1',
    'peer exit 0': (await p.exited) === 0,
  });
}

async function goToNode(bin, address) {
  const server = net.createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const p = peer(bin, ['-mode', 'client', '-handshaker', address, '-connect', `127.0.0.1:${server.address().port}`]);
  const [socket] = await accepted;
  server.close();
  const reader = new NativeReader(loadNative(), takeOverSocket(socket));
  const hs = await runHandshake(reader, { ...resolveHandshaker({ address }), side: 'server', maxFrameSize: 16384 });
  const conn = connOver(reader, 'server', hs);
  const got = await readText(conn);
  await conn.write(enc.encode(`pong: ${got}`));
  const bulk = await readExactly(conn, BULK.length);
  await conn.write(bulk);
  const g = await p.next();
  conn.close();
  return check('go→node', {
    'node read ping': got === 'ping from go client',
    'go read pong': g.read === 'pong: ping from go client',
    'bulk intact at node': sameBytes(bulk, BULK),
    'bulk intact at go (after our frames)': g.bulkIntact === true,
    'node sees the go client': hs.altsContext.peerServiceAccount === g.localServiceAccount,
    'go sees the node server': g.peerServiceAccount === hs.altsContext.localServiceAccount,
    'frame size for a peer that announced none': hs.maxFrameSize === 16384,
    'peer exit 0': (await p.exited) === 0,
  });
}

let bin;
try {
  bin = buildPeer();
} catch (e) {
  console.error(`interop: ${e.message}`);
  process.exit(1);
}
const fake = await startFakeHandshaker();
let ok = true;
for (const run of [goPair, nodeToGo, goToNode]) {
  try {
    ok = (await run(bin, fake.address)) && ok;
  } catch (e) {
    console.log(JSON.stringify({ run: run.name, ok: false, error: String(e?.stack ?? e) }));
    ok = false;
  }
}
closeHandshakerClients();
await fake.close();
process.exitCode = ok ? 0 : 1;
