#!/usr/bin/env node
/**
 * npm run interop (docs/handshake.md §9): grpc-go 1.33.3's own ALTS handshaker client and record
 * layer against alts-record, over loopback TCP. The first five runs go through alts-record's fake
 * handshaker service:
 *   go-pair      a Go client and a Go server (grpc-go against the fake alone)
 *   node→go      alts-record's connect({ handshaker }) (native reader) with a Go server
 *   go→node      a Go client with alts-record's createServer({ handshaker }) (native reader)
 * Each: the handshake, then one message each way over the record layer, then 256 KiB each way
 * (grpc-go's 4 KiB frames into our reader, our 16 KiB frames into grpc-go's). Then gRPC itself,
 * the standard health service (Check unary, Watch server-streaming) both ways:
 *   grpc go→node a grpc-go client (its ALTS handshaker and record layer as TransportCredentials)
 *                with a grpc-js server fed by createServer({ handshaker }) through AltsPeers
 *   grpc node→go a grpc-js client on altsChannelCredentials({ handshaker }) with a grpc-go server
 * The last two go through a second, independent fake service in the Go peer (-mode fake-service,
 * on grpc-go's generated HandshakerService types), so our handshaker client is not tied to our
 * own fake:
 *   node↔node via go-fake  connect({ handshaker }) with createServer({ handshaker }), native
 *                          readers, 256 KiB each way; and a connect whose target the Go service
 *                          refuses (PERMISSION_DENIED)
 *   node→go via go-fake    the node→go run above, both ends through the Go service
 * Prints one JSON line per run and exits 1 if any failed. Needs the build (npm run build) and
 * Debian's golang-go and golang-google-grpc-dev.
 * @module
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { buildPeer } from './build.mjs';

const dist = (p) => import(new URL(`../../dist/${p}`, import.meta.url).href);
const [{ startFakeHandshaker }, { DEFAULT_IDENTITY }, { closeHandshakerClients }] = await Promise.all(
  ['handshake/fake/server.js', 'handshake/fake/session.js', 'handshake/service.js'].map(dist),
);

const [{ connect, createServer }, { AltsPeers, altsChannelCredentials }] = await Promise.all(['api.js', 'integrations/grpc.js'].map(dist));
const grpc = (await import('@grpc/grpc-js')).default;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Spawn the Go peer; its stdout lines, one JSON value each, as an async iterator. */
function peer(bin, args) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = once(child, 'exit').then(([code]) => code);
  return {
    kill: () => child.kill('SIGTERM'),
    next: async () => {
      const r = await lines.next();
      if (r.done) throw new Error(`the Go peer ended (exit ${await exited}) without the line expected`);
      return JSON.parse(r.value);
    },
    exited,
  };
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

async function nodeToGo(bin, address, name = 'node→go', target = DEFAULT_IDENTITY.server) {
  const p = peer(bin, ['-mode', 'server', '-handshaker', address]);
  const { listening } = await p.next();
  const [host, port] = [listening.slice(0, listening.lastIndexOf(':')), Number(listening.slice(listening.lastIndexOf(':') + 1))];
  const conn = await connect({ host, port, reader: 'native', handshaker: { address, targetServiceAccounts: [target] } });
  const hs = { altsContext: conn.altsContext };
  await conn.write(enc.encode('ping from node client'));
  const reply = await readText(conn);
  await conn.write(BULK);
  const back = await readExactly(conn, BULK.length);
  const g = await p.next();
  conn.close();
  return check(name, {
    'node read pong': reply === 'pong: ping from node client',
    'go read ping': g.read === 'ping from node client',
    'bulk intact at go': g.bulkIntact === true,
    'bulk intact at node': sameBytes(back, BULK),
    'node sees the go server': hs.altsContext.peerServiceAccount === g.localServiceAccount,
    'go sees the node client': g.peerServiceAccount === hs.altsContext.localServiceAccount,
    'go peer rpc 2.1': g.peerRpcMax === '2.1',
    'native reader': conn.reader === 'native',
    'peer exit 0': (await p.exited) === 0,
  });
}

async function goToNode(bin, address) {
  let accepted;
  const first = new Promise((resolve) => (accepted = resolve));
  const server = createServer({ handshaker: { address }, reader: 'native' }, (c) => accepted(c));
  const { port } = await server.listen(0, '127.0.0.1');
  const p = peer(bin, ['-mode', 'client', '-handshaker', address, '-connect', `127.0.0.1:${port}`]);
  const conn = await first;
  const hs = { altsContext: conn.altsContext, maxFrameSize: 16384 };
  const got = await readText(conn);
  await conn.write(enc.encode(`pong: ${got}`));
  const bulk = await readExactly(conn, BULK.length);
  await conn.write(bulk);
  const g = await p.next();
  conn.close();
  await server.close();
  return check('go→node', {
    'node read ping': got === 'ping from go client',
    'go read pong': g.read === 'pong: ping from go client',
    'bulk intact at node': sameBytes(bulk, BULK),
    'bulk intact at go (after our frames)': g.bulkIntact === true,
    'node sees the go client': hs.altsContext.peerServiceAccount === g.localServiceAccount,
    'go sees the node server': g.peerServiceAccount === hs.altsContext.localServiceAccount,
    'peer exit 0': (await p.exited) === 0,
  });
}

// grpc.health.v1.Health on raw bytes: HealthCheckRequest is ignored, HealthCheckResponse{status: SERVING} is 08 01.
const raw = { serialize: (b) => b, deserialize: (b) => b };
const method = (name, responseStream) => ({ path: `/grpc.health.v1.Health/${name}`, requestStream: false, responseStream,
  requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize });
const Health = { Check: method('Check', false), Watch: method('Watch', true) };
const SERVING = Buffer.from([0x08, 0x01]);
const statusOf = (b) => (b.length === 2 && b[0] === 0x08 ? ['UNKNOWN', 'SERVING', 'NOT_SERVING'][b[1]] : `bytes ${b.toString('hex')}`);

async function grpcGoToNode(bin, address) {
  const g = new grpc.Server();
  const peers = new AltsPeers(g.createConnectionInjector(grpc.ServerCredentials.createInsecure()));
  const callers = [];
  g.addService(Health, {
    Check: (call, done) => {
      callers.push(peers.contextOf(call)?.peerServiceAccount);
      done(null, SERVING);
    },
    Watch: (call) => {
      callers.push(peers.contextOf(call)?.peerServiceAccount);
      call.write(SERVING); // and stays open, as a health watch does, until the client goes
      call.on('cancelled', () => call.end());
    },
  });
  const serverConns = [];
  const server = createServer({ handshaker: { address, localServiceAccount: DEFAULT_IDENTITY.server }, reader: 'native' }, (c) => {
    serverConns.push(c);
    peers.inject(c);
  });
  const { port } = await server.listen(0, '127.0.0.1');
  const p = peer(bin, ['-mode', 'grpc-client', '-handshaker', address, '-connect', `127.0.0.1:${port}`, '-target', DEFAULT_IDENTITY.server]);
  const r = await p.next();
  const code = await p.exited;
  g.forceShutdown();
  await server.close();
  return check('grpc go→node', {
    'Check SERVING (unary)': r.check === 'SERVING',
    'Watch SERVING (streaming)': r.watch === 'SERVING',
    'go sees the node server': r.peerServiceAccount === DEFAULT_IDENTITY.server,
    'the node handlers see the go client': callers.length === 2 && callers.every((c) => c === r.localServiceAccount),
    'native reader': serverConns.length > 0 && serverConns.every((c) => c.reader === 'native'),
    'peer exit 0': code === 0,
  });
}

async function grpcNodeToGo(bin, address) {
  const p = peer(bin, ['-mode', 'grpc-server', '-handshaker', address]);
  const { listening } = await p.next();
  const conns = [];
  const creds = altsChannelCredentials({ handshaker: { address, targetServiceAccounts: [DEFAULT_IDENTITY.server] }, onConn: (c) => conns.push(c) });
  const Client = grpc.makeGenericClientConstructor(Health, 'Health');
  const client = new Client(listening, creds);
  const deadline = Date.now() + 20_000;
  const check1 = await new Promise((resolve, reject) => client.Check(Buffer.alloc(0), { deadline }, (e, b) => (e ? reject(e) : resolve(b))));
  const watch = client.Watch(Buffer.alloc(0), { deadline });
  const [first] = await once(watch, 'data');
  watch.on('error', () => {}); // the cancel below ends it with CANCELLED
  watch.cancel();
  const s = await p.next();
  client.close();
  const [conn] = conns;
  p.kill();
  await p.exited;
  return check('grpc node→go', {
    'Check SERVING (unary)': statusOf(check1) === 'SERVING',
    'Watch SERVING (streaming)': statusOf(first) === 'SERVING',
    'node sees the go server': conn?.altsContext?.peerServiceAccount === s.localServiceAccount,
    'go sees the node client': s.peerServiceAccount === conn?.altsContext?.localServiceAccount && s.peerServiceAccount !== '',
    'rekey protocol': s.recordProtocol === 'ALTSRP_GCM_AES128_REKEY',
  });
}

// The Go service's account for a server whose start request names none (fakeservice.go).
const GO_FAKE_SERVER = 'go-fake-server@altsrecordpeer.invalid';
const NODE = { client: 'node-client@interop.invalid', server: 'node-server@interop.invalid' };

async function nodeViaGoFake(address) {
  const server = createServer({ handshaker: { address, localServiceAccount: NODE.server }, reader: 'native' }, async (c) => {
    await c.write(await readExactly(c, BULK.length));
  });
  const refusals = [];
  server.on('error', (e) => refusals.push(e)); // the refused connect below, seen from the server
  const { port } = await server.listen(0, '127.0.0.1');
  const conn = await connect({ host: '127.0.0.1', port, reader: 'native',
    handshaker: { address, localServiceAccount: NODE.client, targetServiceAccounts: [NODE.server] } });
  const ctx = conn.altsContext;
  await conn.write(BULK);
  const back = await readExactly(conn, BULK.length);
  conn.close();
  const refused = await connect({ host: '127.0.0.1', port, reader: 'native',
    handshaker: { address, targetServiceAccounts: ['someone-else@interop.invalid'] } }).then(() => null, (e) => e);
  await server.close();
  return check('node↔node via go-fake', {
    'bulk intact both ways': sameBytes(back, BULK),
    'identities from the start requests': ctx.peerServiceAccount === NODE.server && ctx.localServiceAccount === NODE.client,
    'rekey protocol': ctx.recordProtocol === 'ALTSRP_GCM_AES128_REKEY',
    'native reader': conn.reader === 'native',
    'a wrong target refused by the service': refused?.reason === 'SERVICE_STATUS' && refused.cause?.code === 7,
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
for (const run of [goPair, nodeToGo, goToNode, grpcGoToNode, grpcNodeToGo]) {
  try {
    ok = (await run(bin, fake.address)) && ok;
  } catch (e) {
    console.log(JSON.stringify({ run: run.name, ok: false, error: String(e?.stack ?? e) }));
    ok = false;
  }
}
await fake.close();
const goFake = peer(bin, ['-mode', 'fake-service']);
const { address: goAddress } = await goFake.next();
const viaGoFake = [
  ['node↔node via go-fake', () => nodeViaGoFake(goAddress)],
  ['node→go via go-fake', () => nodeToGo(bin, goAddress, 'node→go via go-fake', GO_FAKE_SERVER)],
];
for (const [name, run] of viaGoFake) {
  try {
    ok = (await run()) && ok;
  } catch (e) {
    console.log(JSON.stringify({ run: name, ok: false, error: String(e?.stack ?? e) }));
    ok = false;
  }
}
goFake.kill();
await goFake.exited;
closeHandshakerClients();
process.exitCode = ok ? 0 : 1;
