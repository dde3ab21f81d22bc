/**
 * The options of connect, createServer, wrap and wrapFd, resolved and checked once into one
 * frozen config before any socket is opened or taken: a bad option is a TypeError (wrong type,
 * or a name that is not an option: a typo such as `readsize` is not silently ignored) or a
 * RangeError (wrong value), naming the option. The key, protocol, side, backend and counters
 * are checked by the crypto layer's own checks (createCrypters), not again here.
 * @module
 */
import { abytes, aint, aoneOf, aoptions } from './_check.js';
import { DEFAULT_READ_SIZE } from './conn/AltsConn.js';
import { createCrypters, defaultBackend } from './crypto/index.js';
import type { Backend, CounterStart, RecordProtocol, Side } from './crypto/types.js';
import type { ReaderKind } from './io/types.js';
import { requireNative, tryLoadNative, warnNativeFallback } from './native.js';
import { BufferPool } from './pool/BufferPool.js';
import { MAX_CLASS, MIN_CLASS } from './pool/sizeClass.js';
import type { RecordOptions } from './protector.js';
import { DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE, MIN_MAX_FRAME_SIZE } from './record/constants.js';

export interface ConnOptions extends RecordOptions {
  /** Where read buffers come from. Default: one pool shared by every connection without one. */
  pool?: BufferPool;
  /**
   * 'native' (libuv readiness on an fd the addon owns) or 'stream'. Default: 'native' for a
   * net.Socket where the addon loaded, else 'stream'. Asking for 'native' makes the addon a
   * requirement: without it this is a RangeError, never a fallback.
   */
  reader?: ReaderKind;
  /** Bytes borrowed for a read from idle, 64..1 MiB + 4 (rounded up to a size class). Default 64 KiB. */
  readSize?: number;
}

export interface ConnectOptions extends ConnOptions {
  host: string;
  port: number;
}

/** Every option of a connection, checked, with its default filled in. */
export interface ConnConfig {
  readonly protocol: RecordProtocol;
  readonly side: Side;
  readonly key: Uint8Array;
  readonly maxFrameSize: number;
  readonly backend: Backend;
  readonly protected: Uint8Array | undefined;
  readonly counters: Readonly<CounterStart> | undefined;
  readonly pool: BufferPool;
  readonly reader: ReaderKind;
  /** The caller named the reader: an explicit 'native' is a requirement, never switched for 'stream'. */
  readonly readerAsked: boolean;
  readonly readSize: number;
}

export interface ConnectConfig extends ConnConfig {
  readonly host: string;
  readonly port: number;
}

/** What the connection runs over: it decides the default reader and which readers can run. */
export type Transport = 'socket' | 'duplex' | 'fd';

const CONN_KEYS: readonly string[] = ['protocol', 'side', 'key', 'maxFrameSize', 'backend', 'protected', 'counters', 'pool', 'reader', 'readSize'];
const CONNECT_KEYS: readonly string[] = [...CONN_KEYS, 'host', 'port'];

let sharedPool: BufferPool | null = null;
/** The pool connections use when given none. */
export function defaultPool(): BufferPool {
  return (sharedPool ??= new BufferPool());
}

/** Which reader a net.Socket gets when it does not ask: native where the addon loaded. */
export function defaultReader(): ReaderKind {
  return tryLoadNative() ? 'native' : 'stream';
}

function resolveReader(v: unknown, transport: Transport): ReaderKind {
  if (transport === 'fd') {
    if (v !== undefined) aoneOf('reader', v, ['native'] as const);
    requireNative('wrapFd', "use wrap(socket, { reader: 'stream' }) on a net.Socket");
    return 'native';
  }
  if (v === undefined) {
    if (transport === 'duplex') return 'stream';
    if (tryLoadNative()) return 'native';
    warnNativeFallback();
    return 'stream';
  }
  aoneOf('reader', v, ['native', 'stream'] as const);
  if (v === 'native') {
    if (transport === 'duplex') throw new TypeError('"socket" expected net.Socket for the native reader');
    requireNative(`"reader" 'native'`, "use reader 'stream'");
  }
  return v;
}

/** Checks `o` (the options of wrap, wrapFd or createServer) and returns it resolved and frozen. */
export function resolveConnOptions(o: unknown, transport: Transport): ConnConfig {
  aoptions('options', o, CONN_KEYS);
  return resolveChecked(o as unknown as ConnOptions, transport);
}

/** Checks connect's options (the connection's, plus host and port). */
export function resolveConnectOptions(o: unknown): ConnectConfig {
  aoptions('options', o, CONNECT_KEYS);
  const { host, port } = o;
  if (typeof host !== 'string') throw new TypeError(`"host" expected string, got ${typeof host}`);
  aint('port', port, 1, 65535);
  return Object.freeze({ ...resolveChecked(o as unknown as ConnOptions, 'socket'), host, port });
}

function resolveChecked(o: ConnOptions, transport: Transport): ConnConfig {
  const backend = o.backend ?? defaultBackend();
  // The crypto layer's own checks: protocol, key length, side, backend (and its addon), counters.
  createCrypters({ protocol: o.protocol, side: o.side, key: o.key, backend, ...(o.counters !== undefined && { counters: o.counters }), lazy: true });
  const maxFrameSize = o.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  aint('maxFrameSize', maxFrameSize, MIN_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE);
  const readSize = o.readSize ?? DEFAULT_READ_SIZE;
  aint('readSize', readSize, MIN_CLASS, MAX_CLASS);
  if (o.pool !== undefined && !(o.pool instanceof BufferPool)) throw new TypeError('"pool" expected BufferPool');
  if (o.protected !== undefined) abytes('protected', o.protected);
  const reader = resolveReader(o.reader, transport);
  return Object.freeze({
    protocol: o.protocol,
    side: o.side,
    // Copies (not slice: a Buffer's slice is a view): the config outlives the call, and a caller
    // reusing its buffers must not change it.
    key: new Uint8Array(o.key),
    maxFrameSize,
    backend,
    protected: o.protected === undefined ? undefined : new Uint8Array(o.protected),
    counters: o.counters === undefined ? undefined : Object.freeze({ ...o.counters }),
    pool: o.pool ?? defaultPool(),
    reader,
    readerAsked: o.reader !== undefined,
    readSize,
  });
}
