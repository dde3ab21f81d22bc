/**
 * The public entry points: `wrap` an existing socket, `connect` to a server, `createServer`.
 * With `handshaker`, each connection runs the ALTS handshake first (docs/handshake.md) and gets
 * its own key; without, the caller brings the key (one key, both directions; the counters' side
 * bit keeps the directions apart). Options are resolved and checked first (options.ts).
 * @module
 */
import net from 'node:net';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { aint } from './_check.js';
import { AltsConn } from './conn/AltsConn.js';
import { checkKey, createCrypters } from './crypto/index.js';
import { HandshakeError } from './handshake/errors.js';
import { recordOptionsFor, runHandshake, type AltsContext } from './handshake/index.js';
import { isAltsError } from './errors.js';
import { NativeReader } from './io/NativeReader.js';
import { fromNodeError } from './io/ioError.js';
import { StreamReader } from './io/StreamReader.js';
import type { ReadyReader } from './io/types.js';
import { loadNative } from './native.js';
import { takeOverSocket } from './native-takeover.js';
import { resolveConnectOptions, resolveConnOptions, type ConnConfig, type ConnectOptions, type ConnOptions, type MultiConnOptions } from './options.js';

export { defaultPool, defaultReader, type ConnectOptions, type ConnOptions, type KeyFunction, type KeyInfo, type MultiConnOptions } from './options.js';

/**
 * Run the record protocol over `socket`. With the native reader the socket must be a connected
 * one Node has not read a byte from (accepted with `pauseOnConnect`, or wrapped in its
 * 'connection' or 'connect' listener): its fd is taken over and the net.Socket destroyed
 * (native-takeover.ts). Any Duplex works with 'stream'. Every option is checked before the
 * socket is touched: a bad one throws and leaves the socket as it was.
 */
export function wrap(socket: net.Socket | Duplex, o: ConnOptions): AltsConn {
  const isSocket = socket instanceof net.Socket;
  if (!isSocket && !isDuplex(socket)) throw new TypeError('"socket" expected net.Socket or Duplex');
  return wrapResolved(socket, resolveConnOptions(o, isSocket ? 'socket' : 'duplex'));
}

function isDuplex(v: unknown): v is Duplex {
  const d = v as Partial<Duplex> | null;
  return typeof d?.write === 'function' && typeof d.on === 'function' && typeof d.read === 'function';
}

/**
 * @internal `wrap` with options already resolved (createServer and the grpc connector resolve
 * once), for a config without a handshake. A key function is called here, before the socket is
 * taken: a bad key leaves the socket as it was.
 */
export function wrapResolved(socket: net.Socket | Duplex, c: ConnConfig): AltsConn {
  if (c.handshaker !== null) throw new TypeError('"handshaker" needs connect, createServer or altsChannelCredentials');
  const peer = peerOf(socket);
  let keyed = c;
  if (c.keyFn !== null) {
    const key = c.keyFn(peer);
    checkKey(c.protocol, key);
    keyed = { ...c, key };
  }
  return makeConn(readerFor(socket, c), keyed, null, peer);
}

function peerOf(socket: net.Socket | Duplex): { remoteAddress: string | undefined; remotePort: number | undefined } {
  const s = socket as Partial<net.Socket>;
  return { remoteAddress: s.remoteAddress, remotePort: s.remotePort };
}

/**
 * @internal The handshake, then the record protocol, over one reader (docs/handshake.md §8): the
 * native reader takes the fd once and carries on after the handshake; the handshake's leftover
 * is the conn's `protected`. On failure the reader (and so the socket) is closed.
 */
export async function handshakeResolved(socket: net.Socket | Duplex, c: ConnConfig, signal?: AbortSignal): Promise<AltsConn> {
  const h = c.handshaker;
  if (h === null) throw new TypeError('"handshaker" expected');
  const peer = peerOf(socket);
  let reader: ReadyReader;
  try {
    reader = readerFor(socket, c);
  } catch (e) {
    socket.destroy();
    throw e;
  }
  const outcome = await runHandshake(reader, { ...h, side: c.side, maxFrameSize: c.maxFrameSize, ...(signal && { signal }) });
  try {
    return makeConn(reader, { ...c, ...recordOptionsFor(c.side, outcome) }, outcome.altsContext, peer);
  } finally {
    outcome.key.fill(0); // the crypters hold their own copy
  }
}

function readerFor(socket: net.Socket | Duplex, c: ConnConfig): ReadyReader {
  let reader: ReadyReader;
  if (c.reader === 'native') {
    // resolveConnOptions allows 'native' only for a net.Socket, with the addon loaded.
    const binding = loadNative();
    // Frames are whole messages: send them now, as gRPC does (Nagle would hold back a frame's tail).
    (socket as net.Socket).setNoDelay(true);
    const fd = takeOverSocket(socket as net.Socket, binding); // throws leaving the socket untouched
    try {
      reader = new NativeReader(binding, fd);
    } catch (e) {
      binding.closeFd(fd); // the ReadyHandle did not take it: nothing else would close it
      throw e;
    }
  } else {
    if (socket instanceof net.Socket) socket.setNoDelay(true);
    reader = new StreamReader(socket);
  }
  return reader;
}

/**
 * Run the record protocol over a socket fd the caller hands over (e.g. from a native accept or
 * a socketpair): the native reader owns it from now on and closes it exactly once. A bad option
 * throws before the fd is taken: the caller still owns it then.
 */
export function wrapFd(fd: number, o: Omit<ConnOptions, 'reader'> & { reader?: 'native' }): AltsConn {
  aint('fd', fd, 0, 2 ** 31 - 1);
  const c = resolveConnOptions(o, 'fd');
  if (c.keyFn !== null || c.handshaker !== null) throw new TypeError('"key" expected Uint8Array for wrapFd (one connection)');
  return makeConn(new NativeReader(loadNative(), fd), c);
}

function makeConn(reader: ReadyReader, c: ConnConfig, altsContext: AltsContext | null = null, peer?: ReturnType<typeof peerOf>): AltsConn {
  try {
    const crypters = createCrypters({ ...c, lazy: true }); // checked already by resolveConnOptions
    return new AltsConn({
      reader,
      pool: c.pool,
      inbound: crypters.inbound,
      outbound: crypters.outbound,
      maxFrameSize: c.maxFrameSize,
      readSize: c.readSize,
      altsContext,
      ...peer,
      ...(c.protected !== undefined && { protected: c.protected }),
    });
  } catch (e) {
    reader.close();
    throw e;
  }
}

/**
 * Connect over TCP and run the record protocol: with `handshaker`, as the client after the
 * handshake; else as `o.side` with `o.key`. `o.signal` cancels the TCP connect and the
 * handshake; `handshaker.timeoutMs` counts from this call, the TCP connect included. Every
 * option is checked before the connection is opened; a failure after it is open closes it.
 */
export async function connect(o: ConnectOptions): Promise<AltsConn> {
  const c = resolveConnectOptions(o);
  const deadline = Date.now() + (c.handshaker?.timeoutMs ?? 0);
  const socket = net.connect({ host: c.host, port: c.port });
  // Paused before 'connect', Node never starts reading it, so the addon can take the fd whole.
  socket.pause();
  await tcpConnected(socket, c);
  if (c.handshaker !== null) {
    const timeoutMs = Math.max(1, deadline - Date.now());
    return handshakeResolved(socket, { ...c, handshaker: { ...c.handshaker, timeoutMs } }, c.signal);
  }
  try {
    return wrapResolved(socket, c);
  } catch (e) {
    socket.destroy();
    throw e;
  }
}

/**
 * Waits for the TCP connect, bounded by the caller's signal and (with a handshaker) its
 * deadline; on any failure the socket is destroyed. Cancelled: HANDSHAKE_FAILED CANCELLED with
 * a handshaker, else the AbortError of events.once. Timed out: HANDSHAKE_FAILED TIMEOUT, the
 * peer's (the connection never came up).
 */
async function tcpConnected(socket: net.Socket, c: ReturnType<typeof resolveConnectOptions>): Promise<void> {
  const h = c.handshaker;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  const timer = h === null ? null : setTimeout(onAbort, h.timeoutMs);
  if (c.signal?.aborted) stop.abort();
  else c.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await once(socket, 'connect', { signal: stop.signal });
  } catch (e) {
    socket.destroy();
    if (!stop.signal.aborted) throw fromNodeError(e);
    if (c.signal?.aborted) throw h === null ? e : new HandshakeError('CANCELLED', 'the connect was cancelled', { cause: c.signal.reason });
    throw new HandshakeError('TIMEOUT', `no TCP connection to ${c.host}:${c.port} within ${h!.timeoutMs} ms (waiting for the peer)`, { fault: 'peer' });
  } finally {
    if (timer !== null) clearTimeout(timer);
    c.signal?.removeEventListener('abort', onAbort);
  }
}

export interface AltsServer {
  listen(port: number, host: string): Promise<{ port: number }>;
  /** Stop accepting and close every connection still open. */
  close(): Promise<void>;
  /** Connections accepted and not yet closed. */
  readonly connections: ReadonlySet<AltsConn>;
  /** With `handshaker`: connections accepted whose handshake has not ended yet. */
  readonly pendingHandshakes: number;
  /**
   * Errors outside the protocol of a live connection: a connection that could not be set up,
   * a handler that threw or whose promise rejected (that connection is closed). Without a
   * listener each one is a process warning instead; the server keeps serving either way.
   */
  on(event: 'error', listener: (err: Error) => void): AltsServer;
}

/** What createServer calls with each connection; a promise it returns is watched for rejection. */
export type ConnHandler = (conn: AltsConn) => void | PromiseLike<unknown>;

/**
 * Accept TCP connections and run the record protocol on each: with `handshaker`, as the server
 * after each connection's handshake (a failed one is reported and never reaches `onConn`); else
 * with `o.key` as a function called per connection, or one fixed key only with
 * `unsafeSharedKey: true`. The options are resolved once, here: a bad one throws now, not at the
 * first connection.
 */
export function createServer(o: MultiConnOptions, onConn: ConnHandler): AltsServer {
  const c = resolveConnOptions(o, 'socket', 'server');
  if (typeof onConn !== 'function') throw new TypeError('"onConn" expected function');
  const conns = new Set<AltsConn>();
  let closing = false;
  const forget = function (this: AltsConn): void {
    conns.delete(this);
  };
  // One failure, one report: on 'error' when someone listens, else a warning; never a crash.
  const report = (e: unknown): void => {
    const err = e instanceof Error ? e : new Error(`alts-record: connection handler failed with ${String(e)}`, { cause: e });
    if (server.listenerCount('error') > 0) server.emit('error', err);
    else process.emitWarning(err);
  };
  // Handshakes in progress: close() cancels them (their sockets are closed by the handshake).
  const handshakes = new Set<AbortController>();
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    if (c.handshaker === null) {
      let conn: AltsConn;
      try {
        conn = wrapResolved(socket, c);
      } catch (e) {
        // One connection that could not be set up (e.g. IO_ERROR EMFILE from the takeover's dup).
        socket.destroy();
        report(e);
        return;
      }
      serve(conn);
      return;
    }
    const ac = new AbortController();
    handshakes.add(ac);
    handshakeResolved(socket, c, ac.signal).then(
      (conn) => {
        handshakes.delete(ac);
        if (closing) conn.close();
        else serve(conn);
      },
      (e: unknown) => {
        handshakes.delete(ac);
        if (!ac.signal.aborted) report(e); // a failed handshake is one connection's setup failure
      },
    );
  });
  const serve = (conn: AltsConn): void => {
    conns.add(conn);
    conn.on('close', forget); // 'close' comes once; one shared listener, no closure per connection
    const failed = (e: unknown): void => {
      // A reset, not a FIN: ALTS has no close_notify, so only an abortive close tells the client
      // that what it read is not the whole reply (docs/spec.md §10).
      conn.close({ abort: true });
      // close() below closes every connection: a handler's read failing CLOSED then is no fault.
      if (!(closing && isAltsError(e) && e.code === 'CLOSED')) report(e);
    };
    let result: ReturnType<ConnHandler>;
    try {
      result = onConn(conn);
    } catch (e) {
      failed(e);
      return;
    }
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') (result as PromiseLike<unknown>).then(undefined, failed);
  };
  const api: AltsServer = {
    connections: conns,
    get pendingHandshakes() {
      return handshakes.size;
    },
    async listen(port, host) {
      aint('port', port, 0, 65535);
      server.listen(port, host);
      await once(server, 'listening');
      return { port: (server.address() as net.AddressInfo).port };
    },
    close() {
      closing = true;
      for (const ac of handshakes) ac.abort();
      for (const conn of conns) conn.close();
      return new Promise((resolve) => server.close(() => resolve()));
    },
    on(event, listener) {
      server.on(event, listener);
      return api;
    },
  };
  return api;
}
