/**
 * The public entry points of DESIGN §4: `wrap` an existing socket, `connect` to a server,
 * `createServer`. The key is what the ALTS handshake negotiated (one key, both directions;
 * the counters' side bit keeps the directions apart).
 * @module
 */
import net from 'node:net';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { aint, aoneOf } from './_check.js';
import { AltsConn } from './conn/AltsConn.js';
import { createCrypters } from './crypto/index.js';
import { NativeReader } from './io/NativeReader.js';
import { fromNodeError } from './io/ioError.js';
import { StreamReader } from './io/StreamReader.js';
import type { ReaderKind, ReadyReader } from './io/types.js';
import { loadNative, tryLoadNative } from './native.js';
import { takeOverSocket } from './native-takeover.js';
import { BufferPool } from './pool/BufferPool.js';
import { DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE, MIN_MAX_FRAME_SIZE } from './record/constants.js';
import type { RecordOptions } from './protector.js';

export interface ConnOptions extends RecordOptions {
  /** Where read buffers come from. Default: one pool shared by every connection without one. */
  pool?: BufferPool;
  /** 'native' (libuv readiness on an fd the addon owns; the default where the addon loaded) or 'stream'. */
  reader?: ReaderKind;
  /** Bytes borrowed for a read from idle. Default 64 KiB. */
  readSize?: number;
}
export interface ConnectOptions extends ConnOptions {
  host: string;
  port: number;
}

let sharedPool: BufferPool | null = null;
/** The pool connections use when given none. */
export function defaultPool(): BufferPool {
  return (sharedPool ??= new BufferPool());
}

/** Which reader a connection gets when it does not ask: native where the addon loaded. */
export function defaultReader(): ReaderKind {
  return tryLoadNative() ? 'native' : 'stream';
}

/**
 * Run the record protocol over `socket`. With the native reader the socket must be a connected
 * one Node has not read a byte from (accepted with `pauseOnConnect`, or wrapped in its
 * 'connection' or 'connect' listener): its fd is taken over and the net.Socket destroyed
 * (native-takeover.ts). Any Duplex works with 'stream'.
 */
export function wrap(socket: net.Socket | Duplex, o: ConnOptions): AltsConn {
  const crypters = createCrypters({ ...o, lazy: true });
  const maxFrameSize = o.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  aint('maxFrameSize', maxFrameSize, MIN_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE);
  const kind = o.reader ?? (socket instanceof net.Socket ? defaultReader() : 'stream');
  aoneOf('reader', kind, ['native', 'stream'] as const);
  if (o.pool !== undefined && !(o.pool instanceof BufferPool)) throw new TypeError('"pool" expected BufferPool');
  // Frames are whole messages: send them now, as gRPC does (Nagle would hold back a frame's tail).
  if (socket instanceof net.Socket) socket.setNoDelay(true);
  let reader: ReadyReader;
  if (kind === 'native') {
    if (!(socket instanceof net.Socket)) throw new TypeError('"socket" expected net.Socket for the native reader');
    reader = new NativeReader(loadNative(), takeOverSocket(socket));
  } else {
    reader = new StreamReader(socket);
  }
  return makeConn(reader, o, crypters, maxFrameSize);
}

/**
 * Run the record protocol over a socket fd the caller hands over (e.g. from a native accept or
 * a socketpair): the native reader owns it from now on and closes it exactly once.
 */
export function wrapFd(fd: number, o: Omit<ConnOptions, 'reader'>): AltsConn {
  aint('fd', fd, 0, 2 ** 31 - 1);
  const crypters = createCrypters({ ...o, lazy: true });
  const maxFrameSize = o.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  aint('maxFrameSize', maxFrameSize, MIN_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE);
  return makeConn(new NativeReader(loadNative(), fd), o, crypters, maxFrameSize);
}

function makeConn(reader: ReadyReader, o: ConnOptions, crypters: ReturnType<typeof createCrypters>, maxFrameSize: number): AltsConn {
  if (o.pool !== undefined && !(o.pool instanceof BufferPool)) throw new TypeError('"pool" expected BufferPool');
  return new AltsConn({
    reader,
    pool: o.pool ?? defaultPool(),
    inbound: crypters.inbound,
    outbound: crypters.outbound,
    maxFrameSize,
    ...(o.readSize !== undefined && { readSize: o.readSize }),
    ...(o.protected !== undefined && { protected: o.protected }),
  });
}

/** Connect over TCP and run the record protocol as `o.side` (normally 'client'). */
export async function connect(o: ConnectOptions): Promise<AltsConn> {
  if (typeof o?.host !== 'string') throw new TypeError('"host" expected string');
  aint('port', o.port, 1, 65535);
  createCrypters(o); // check the key and protocol before touching the network
  const socket = net.connect({ host: o.host, port: o.port });
  // Paused before 'connect', Node never starts reading it, so the addon can take the fd whole.
  socket.pause();
  try {
    await once(socket, 'connect');
  } catch (e) {
    socket.destroy();
    throw fromNodeError(e);
  }
  return wrap(socket, o);
}

export interface AltsServer {
  listen(port: number, host: string): Promise<{ port: number }>;
  /** Stop accepting and close every connection still open. */
  close(): Promise<void>;
  /** Connections accepted and not yet closed. */
  readonly connections: ReadonlySet<AltsConn>;
  /** Errors outside any connection (accept failures, a connection that could not be set up). */
  on(event: 'error', listener: (err: Error) => void): AltsServer;
}

/** Accept TCP connections and run the record protocol on each as `o.side` (normally 'server'). */
export function createServer(o: ConnOptions, onConn: (c: AltsConn) => void): AltsServer {
  createCrypters(o); // fail now on a bad key, not on the first connection
  if (typeof onConn !== 'function') throw new TypeError('"onConn" expected function');
  // Load the addon now, while fds are plentiful, not at the first connection (see native.ts).
  if (o.reader === undefined) tryLoadNative();
  const conns = new Set<AltsConn>();
  const forget = function (this: AltsConn): void {
    conns.delete(this);
  };
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    let conn: AltsConn;
    try {
      conn = wrap(socket, o);
    } catch (e) {
      socket.destroy();
      // One connection that could not be set up (e.g. IO_ERROR EMFILE from the takeover's dup)
      // must not take the server down: without an 'error' listener it becomes a warning.
      if (server.listenerCount('error') > 0) server.emit('error', e);
      else process.emitWarning(e as Error);
      return;
    }
    conns.add(conn);
    conn.on('close', forget); // 'close' comes once; one shared listener, no closure per connection
    onConn(conn);
  });
  const api: AltsServer = {
    connections: conns,
    async listen(port, host) {
      aint('port', port, 0, 65535);
      server.listen(port, host);
      await once(server, 'listening');
      return { port: (server.address() as net.AddressInfo).port };
    },
    close() {
      for (const c of conns) c.close();
      return new Promise((resolve) => server.close(() => resolve()));
    },
    on(event, listener) {
      server.on(event, listener);
      return api;
    },
  };
  return api;
}
