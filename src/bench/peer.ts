/**
 * The bench peer: the child process that holds the other end of the benches' connections
 * (forked by peerLink.ts; commands and replies over IPC, never sleeps). Scenarios:
 *   tp-listen  throughput: accept one connection; receive N bytes (reply `done`) or, on `go`,
 *              send N bytes (reply `sent`); tp-close closes both.
 *   idle-listen / settle  idle: accept connections and keep a read pending on each; `settle`
 *              waits until exactly `open` are set up, collects garbage, replies with memory.
 *   pool-connect  pool: open N alts connections to the parent (`connected`); on `go` stream
 *              N bytes on each, end them (`sent`).
 *   grpc-*       grpc-idle: grpc-js servers and clients (grpcPeer.ts).
 * @module
 */
import type net from 'node:net';
import type { AltsConn } from '../conn/AltsConn.js';
import { BufferPool } from '../pool/BufferPool.js';
import { grpcHandlers } from './grpcPeer.js';
import { settledMemory } from './memory.js';
import type { Msg } from './peerLink.js';
import { dialAlts, listen, openMany, type Endpoint, type Listener, type TransportSpec } from './transports.js';

const send = (m: Msg): void => void process.send!(m);
const CHUNK = new Uint8Array(64 * 1024).fill(0x5a);

let listener: Listener | null = null;
let endpoint: Endpoint | null = null;
let onGo: (() => void) | null = null;

// ---- throughput -----------------------------------------------------------------------------

async function tpListen(m: Msg): Promise<void> {
  const bytes = m.bytes as number;
  let go = false;
  let accepted: Endpoint | null = null;
  const startSending = () => {
    if (!go || accepted === null) return;
    accepted.send(bytes, CHUNK).then(() => send({ op: 'sent' }), fail);
  };
  onGo = () => {
    go = true;
    startSending();
  };
  listener = await listen(m.spec as TransportSpec, (e) => {
    endpoint = accepted = e;
    if (m.role === 'receive') e.receive(bytes).then(() => send({ op: 'done', info: e.describe() }), fail);
    else startSending();
  });
  send({ op: 'listening', port: listener.port });
}

async function closeAll(): Promise<void> {
  endpoint?.close();
  endpoint = null;
  await listener?.close();
  listener = null;
  onGo = null;
  send({ op: 'closed' });
}

// ---- idle -----------------------------------------------------------------------------------

const idlePool = new BufferPool();
const callerPool = new BufferPool();
const altsConns = new Set<AltsConn>();
let open = 0;
let onCountChange: () => void = () => {};

function opened(): void {
  open++;
  onCountChange();
}
function closed(): void {
  open--;
  onCountChange();
}

function forgetAlts(this: AltsConn): void {
  altsConns.delete(this);
  closed();
}

async function idleListen(m: Msg): Promise<void> {
  const keepReading = (c: AltsConn): void => {
    // A read pending, nothing borrowed while waiting (readOnReady); at EOF the conn is closed.
    c.readOnReady(16 * 1024, callerPool).then((r) => {
      if (r === null) return c.close();
      callerPool.put(r.buf);
      keepReading(c);
    }, () => c.close());
  };
  listener = await listen(m.spec as TransportSpec, () => {}, {
    pool: idlePool,
    onAlts: (c) => {
      altsConns.add(c);
      c.on('close', forgetAlts); // one shared listener, as the net sockets share `closed`
      keepReading(c);
      opened();
    },
    onSocket: (s: net.Socket) => {
      s.on('data', () => {}); // what Node users do: a 'data' listener, so the socket is reading
      s.on('error', () => {});
      s.once('close', closed);
      opened();
    },
  });
  send({ op: 'listening', port: listener.port });
}

async function settle(m: Msg): Promise<void> {
  const want = m.open as number;
  await new Promise<void>((resolve) => {
    onCountChange = () => {
      if (open === want) resolve();
    };
    onCountChange();
  });
  onCountChange = () => {};
  const mem = await settledMemory();
  let held = 0;
  const states: Record<string, number> = {};
  for (const c of altsConns) {
    held += c.heldBytes;
    states[c.state] = (states[c.state] ?? 0) + 1;
  }
  send({ op: 'settled', ...mem,
    poolOutstanding: idlePool.outstanding, poolHighWater: idlePool.highWater, held, states });
}

// ---- pool (the writers) ---------------------------------------------------------------------

async function poolConnect(m: Msg): Promise<void> {
  const spec = m.spec as TransportSpec;
  const conns = await openMany(m.conns as number, () => dialAlts(spec, m.port as number));
  const bytes = m.bytesPerConn as number;
  onGo = () => {
    Promise.all(
      conns.map(async (c) => {
        for (let sent = 0; sent < bytes; sent += CHUNK.length) await c.write(CHUNK.subarray(0, Math.min(CHUNK.length, bytes - sent)));
        await c.end();
      }),
    ).then(() => {
      for (const c of conns) c.close();
      send({ op: 'sent' });
    }, fail);
  };
  send({ op: 'connected' });
}

// ---- dispatch -------------------------------------------------------------------------------

function fail(e: unknown): void {
  send({ op: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
}

const handlers: Record<string, (m: Msg) => Promise<void> | void> = {
  'tp-listen': tpListen,
  'tp-close': closeAll,
  'idle-listen': idleListen,
  settle,
  'pool-connect': poolConnect,
  ...Object.fromEntries(Object.entries(grpcHandlers).map(([op, h]) => [op, (m: Msg) => h(m).then(send)])),
  go: () => onGo?.(),
  exit: () => process.exit(0),
};

process.on('message', (m: Msg) => {
  const h = handlers[m.op];
  if (h === undefined) return fail(new Error(`unknown command '${m.op}'`));
  Promise.resolve()
    .then(() => h(m))
    .catch(fail);
});
process.on('disconnect', () => process.exit(0)); // the parent went away
send({ op: 'ready' });
