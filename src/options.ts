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
import { createCrypters, defaultBackend, KEY_BYTES } from './crypto/index.js';
import type { Backend, CounterStart, RecordProtocol, Side } from './crypto/types.js';
import { resolveHandshaker, type HandshakerOptions, type ResolvedHandshaker } from './handshake/options.js';
import type { ReaderKind } from './io/types.js';
import { requireNative, tryLoadNative, warnNativeFallback } from './native.js';
import { BufferPool } from './pool/BufferPool.js';
import { MAX_CLASS, MIN_CLASS } from './pool/sizeClass.js';
import type { RecordOptions } from './protector.js';
import { DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE, MIN_MAX_FRAME_SIZE } from './record/constants.js';

/** Who a per-connection key is for: the accepted peer's address. */
export interface KeyInfo {
  remoteAddress: string | undefined;
  remotePort: number | undefined;
}
/** A key per connection (createServer, altsChannelCredentials): called once for each. */
export type KeyFunction = (info: KeyInfo) => Uint8Array;

export interface ConnOptions extends Omit<RecordOptions, 'protocol' | 'side' | 'key'> {
  /** Without `handshaker`: the record protocol the key is for. */
  protocol?: RecordProtocol;
  /** Without `handshaker`: this end's side. */
  side?: Side;
  /**
   * Without `handshaker`: this one connection's key (wrap, wrapFd, connect). A key serves one
   * connection: two connections with one key repeat nonces (docs/spec.md §1).
   */
  key?: Uint8Array;
  /**
   * Run the ALTS handshake through this handshaker service (docs/handshake.md): the side follows
   * from connect/createServer, the record protocol, key and frame size from the handshake. Not
   * with `protocol`, `side` or `key`.
   */
  handshaker?: HandshakerOptions;
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
  /**
   * Cancels the TCP connect and the handshake: with `handshaker`, connect rejects
   * HANDSHAKE_FAILED (reason CANCELLED); without, with an AbortError during the TCP connect.
   */
  signal?: AbortSignal;
}

/** createServer's and altsChannelCredentials' options: many connections, so never one fixed key by default. */
export interface MultiConnOptions extends Omit<ConnOptions, 'key'> {
  /** A function called per connection; a fixed key only with `unsafeSharedKey: true`. */
  key?: Uint8Array | KeyFunction;
  /**
   * Use one fixed key for every connection. Unsafe: each connection's counters start at 0, so
   * every connection after the first repeats the first one's nonces under the same key (AES-GCM
   * loses confidentiality and integrity). For tests and benchmarks on one machine only.
   */
  unsafeSharedKey?: boolean;
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
  /** Set: run a handshake first; protocol and key come from it (`key` is empty until then). */
  readonly handshaker: ResolvedHandshaker | null;
  /** Set: call it for each connection's key (`key` is empty until then). */
  readonly keyFn: KeyFunction | null;
}

export interface ConnectConfig extends ConnConfig {
  readonly host: string;
  readonly port: number;
  readonly signal: AbortSignal | undefined;
}

/** Who opens the connections: one (wrap, wrapFd, connect) or many (createServer, a channel). */
export type Role = 'one' | 'server' | 'channel';

/** What the connection runs over: it decides the default reader and which readers can run. */
export type Transport = 'socket' | 'duplex' | 'fd';

const CONN_KEYS: readonly string[] = ['protocol', 'side', 'key', 'maxFrameSize', 'backend', 'protected', 'counters', 'pool', 'reader', 'readSize'];
const MULTI_KEYS: readonly string[] = [...CONN_KEYS, 'handshaker', 'unsafeSharedKey'];
const CONNECT_KEYS: readonly string[] = [...CONN_KEYS, 'handshaker', 'host', 'port', 'signal'];

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

/**
 * Checks `o` (the options of wrap and wrapFd: role 'one'; createServer: 'server'; a channel:
 * 'channel') and returns it resolved and frozen.
 */
export function resolveConnOptions(o: unknown, transport: Transport, role: Role = 'one'): ConnConfig {
  aoptions('options', o, role === 'one' ? CONN_KEYS : MULTI_KEYS);
  return resolveChecked(o as unknown as MultiConnOptions, transport, role);
}

/** Checks connect's options (the connection's, plus host and port). */
export function resolveConnectOptions(o: unknown): ConnectConfig {
  // Not a connect option at all, but with a handshaker say what createServer says of it.
  if ((o as { handshaker?: unknown } | null)?.handshaker !== undefined && (o as { unsafeSharedKey?: unknown }).unsafeSharedKey !== undefined)
    throw new TypeError(UNSAFE_WITH_HANDSHAKER);
  aoptions('options', o, CONNECT_KEYS);
  requireKeying(o);
  const { host, port } = o;
  if (typeof host !== 'string') throw new TypeError(`"host" expected string, got ${typeof host}`);
  // net.connect would take '' as localhost: an empty host is almost always a missing variable.
  if (host.length === 0) throw new RangeError('"host" expected a host name or address, got an empty string');
  aint('port', port, 1, 65535);
  const { signal } = o;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('"signal" expected AbortSignal');
  return Object.freeze({ ...resolveChecked(o as unknown as ConnOptions, 'socket', 'one'), host, port, signal: signal as AbortSignal | undefined });
}

/**
 * Where a handshake is possible (connect, createServer, a channel), options with neither
 * `handshaker` nor `key` are missing the handshaker: say that, not that a protocol is missing.
 */
function requireKeying(o: { handshaker?: unknown; key?: unknown }): void {
  if (o.handshaker === undefined && o.key === undefined)
    throw new TypeError('"handshaker" expected: give handshaker: { address } (or protocol, side and key)');
}

const UNSAFE_WITH_HANDSHAKER = '"unsafeSharedKey" is not an option with "handshaker": each handshake makes its own key';

const SHARED_KEY =
  'one fixed key for every connection repeats nonces across connections; give `handshaker`, or `key` as a function called per connection, ' +
  'or (tests and benchmarks only) `unsafeSharedKey: true`';

/** How the connection gets its key: a handshake, a function per connection, or the one fixed key. */
function resolveKeying(o: MultiConnOptions, role: Role): Pick<ConnConfig, 'protocol' | 'side' | 'key' | 'handshaker' | 'keyFn'> {
  if (o.unsafeSharedKey !== undefined && typeof o.unsafeSharedKey !== 'boolean') throw new TypeError('"unsafeSharedKey" expected boolean');
  if (role !== 'one') requireKeying(o);
  if (o.handshaker !== undefined) {
    for (const k of ['protocol', 'side', 'key', 'counters', 'unsafeSharedKey'] as const)
      if (o[k] !== undefined) throw new TypeError(k === 'unsafeSharedKey' ? UNSAFE_WITH_HANDSHAKER : `"${k}" is not an option with "handshaker": the handshake decides it`);
    const side: Side = role === 'server' ? 'server' : 'client';
    const handshaker = resolveHandshaker(o.handshaker, side);
    return { protocol: 'ALTSRP_GCM_AES128_REKEY', side, key: new Uint8Array(0), handshaker, keyFn: null };
  }
  if (typeof o.key === 'function') {
    if (o.unsafeSharedKey !== undefined) throw new TypeError('"unsafeSharedKey" is for a fixed key, not a key function');
    const keyFn = o.key;
    // Checked with a stand-in of the right length; each key the function returns is checked again.
    const len = KEY_BYTES[o.protocol as RecordProtocol] ?? 0;
    return { protocol: o.protocol as RecordProtocol, side: o.side as Side, key: new Uint8Array(len), handshaker: null, keyFn };
  }
  if (role !== 'one' && o.unsafeSharedKey !== true)
    throw new TypeError(`"key" as a fixed Uint8Array for ${role === 'server' ? 'createServer' : 'altsChannelCredentials'}: ${SHARED_KEY}`);
  return { protocol: o.protocol as RecordProtocol, side: o.side as Side, key: new Uint8Array(o.key as Uint8Array), handshaker: null, keyFn: null };
}

function resolveChecked(o: MultiConnOptions, transport: Transport, role: Role): ConnConfig {
  const backend = o.backend ?? defaultBackend();
  const keying = resolveKeying(o, role);
  // The crypto layer's own checks: protocol, key length, side, backend (and its addon), counters.
  if (keying.handshaker === null)
    createCrypters({ protocol: o.protocol as RecordProtocol, side: o.side as Side, key: (keying.keyFn ? keying.key : o.key) as Uint8Array, backend, ...(o.counters !== undefined && { counters: o.counters }), lazy: true });
  else createCrypters({ protocol: keying.protocol, side: keying.side, key: new Uint8Array(KEY_BYTES[keying.protocol]), backend, lazy: true });
  const maxFrameSize = o.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  aint('maxFrameSize', maxFrameSize, MIN_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE);
  const readSize = o.readSize ?? DEFAULT_READ_SIZE;
  aint('readSize', readSize, MIN_CLASS, MAX_CLASS);
  if (o.pool !== undefined && !(o.pool instanceof BufferPool)) throw new TypeError('"pool" expected BufferPool');
  if (o.protected !== undefined) abytes('protected', o.protected);
  const reader = resolveReader(o.reader, transport);
  return Object.freeze({
    // The key is a copy (not slice: a Buffer's slice is a view): the config outlives the call,
    // and a caller reusing its buffers must not change it.
    ...keying,
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
