/**
 * alts-record/grpc: @grpc/grpc-js channels over the ALTS record protocol (docs/ecosystem.md).
 *
 * Client side: `altsChannelCredentials(options)` is a grpc-js ChannelCredentials whose secure
 * connector turns each TCP connection grpc-js opens into an AltsConn and hands grpc-js the
 * conn's Duplex to run HTTP/2 over. The hook is `ChannelCredentials._createSecureConnector`
 * (grpc-js >= 1.13, PR grpc/grpc-node#2855): grpc-js's own extension point for its TLS and xDS
 * credentials, underscore-named and not covered by the public API promise, so a grpc-js minor
 * release may change it (1.13 already did once). Verified on 1.14.7.
 * Server side: `Server#createConnectionInjector` (gRFC L114, public since 1.11) takes any
 * Duplex, so `createServer(o, (c) => injector.injectConnection(c.toDuplex()))`; `AltsPeers`
 * does the same and lets a handler find the connection's `altsContext` from its call.
 *
 * grpc-js is an optional peer dependency, loaded on first use: `alts-record` itself never needs it.
 * @module
 */
import { createRequire } from 'node:module';
import type net from 'node:net';
import type * as Grpc from '@grpc/grpc-js';
import { handshakeResolved, wrapResolved } from '../api.js';
import type { AltsContext } from '../handshake/handshake.js';
import type { AltsConn } from '../conn/AltsConn.js';
import { nothingRead } from '../native-takeover.js';
import type { Side } from '../crypto/types.js';
import { resolveConnOptions, type ConnConfig, type MultiConnOptions } from '../options.js';

export interface AltsChannelOptions extends Omit<MultiConnOptions, 'side'> {
  /** Without `handshaker`: the side this channel speaks as. Default 'client'. */
  side?: Side;
  /** Called with each connection the channel opens (for stats, or to watch it close). */
  onConn?: (conn: AltsConn) => void;
}

type GrpcModule = typeof Grpc;
type ConnectorArgs = Parameters<Grpc.ChannelCredentials['_createSecureConnector']>;
type SecureConnector = ReturnType<Grpc.ChannelCredentials['_createSecureConnector']>;

let grpcModule: GrpcModule | null = null;

/** @grpc/grpc-js as the application sees it (the peer dependency), checked for the hook we use. */
function loadGrpc(): GrpcModule {
  if (grpcModule !== null) return grpcModule;
  const grpc = createRequire(import.meta.url)('@grpc/grpc-js') as GrpcModule;
  const probe = grpc.credentials.createInsecure() as { _createSecureConnector?: unknown };
  if (typeof probe._createSecureConnector !== 'function')
    throw new Error('alts-record/grpc needs @grpc/grpc-js with ChannelCredentials._createSecureConnector (1.13 or later; verified on 1.14.7)');
  return (grpcModule = grpc);
}

/**
 * ChannelCredentials that run every connection of the channel over the ALTS record protocol:
 * with `o.handshaker`, a client handshake per connection (each its own key); else with `o.key`
 * as a function called per connection, or one fixed key only with `unsafeSharedKey: true`.
 * `_isSecure()` is true, so call credentials compose with it and the HTTP/2 :scheme is https,
 * as grpc-go sends over ALTS.
 */
export function altsChannelCredentials(o: AltsChannelOptions): Grpc.ChannelCredentials {
  if (o === null || typeof o !== 'object') throw new TypeError(`"options" expected object, got ${o === null ? 'null' : typeof o}`);
  if (o.onConn !== undefined && typeof o.onConn !== 'function') throw new TypeError('"onConn" expected function');
  const { onConn, ...rest } = o;
  // Resolved once: a bad option fails here, not on every reconnect.
  const config = resolveConnOptions(rest.handshaker === undefined ? { ...rest, side: o.side ?? 'client' } : rest, 'socket', 'channel');
  const grpc = loadGrpc();

  class AltsChannelCredentials extends grpc.ChannelCredentials {
    _isSecure(): boolean {
      return true;
    }
    _equals(other: Grpc.ChannelCredentials): boolean {
      return other === this;
    }
    _createSecureConnector(_target: ConnectorArgs[0], _options: ConnectorArgs[1], callCredentials?: ConnectorArgs[2]): SecureConnector {
      const callCreds = callCredentials ?? grpc.CallCredentials.createEmpty();
      // grpc-js destroys the connector when it shuts the subchannel down (the channel closed):
      // a handshake still running then is cancelled, freeing its socket and service slot.
      const shutdown = new AbortController();
      return {
        async connect(socket: net.Socket) {
          let conn: AltsConn;
          try {
            conn = await wrapForChannel(socket, config, shutdown.signal);
          } catch (e) {
            socket.destroy(); // grpc-js hands the socket over: a connector that fails closes it
            throw e;
          }
          try {
            onConn?.(conn);
          } catch (e) {
            conn.close(); // grpc-js never sees this conn, so nothing else would close it
            throw e;
          }
          // grpc-js uses the socket as a Duplex only: http2's createConnection, 'close'/'error', closed, destroy().
          return { socket: conn.toDuplex() as net.Socket, secure: true };
        },
        waitForReady: () => Promise.resolve(),
        getCallCredentials: () => callCreds,
        destroy() {
          shutdown.abort(new Error('the gRPC channel was closed'));
        },
      };
    }
  }
  return new AltsChannelCredentials();
}

/**
 * grpc-js connects its socket flowing, so Node has started reading by the time the connector
 * sees it, but no bytes can have been read yet (the connector runs in the same turn as
 * 'connect'; a proxy's CONNECT exchange is the exception): the native reader takes the fd whole
 * (takeOverSocket). If Node has read bytes, the default reader falls back to the stream reader;
 * an explicit reader: 'native' is a requirement, so the takeover's RangeError stands.
 */
function wrapForChannel(socket: net.Socket, c: ConnConfig, signal: AbortSignal): Promise<AltsConn> {
  const fallBack = c.reader === 'native' && !c.readerAsked && !nothingRead(socket);
  const config = fallBack ? { ...c, reader: 'stream' as const } : c;
  if (config.handshaker !== null) return handshakeResolved(socket, config, signal);
  return Promise.resolve(wrapResolved(socket, config));
}

/**
 * A grpc-js server's connections over ALTS: `inject(conn)` hands the conn's Duplex to the
 * injector, and `contextOf(call)` finds that conn's `altsContext` (the peer's service account,
 * protocols, RPC versions) from a handler's call.
 *
 * grpc-js has no public way from a call to the connection it came in on, and `call.getPeer()`
 * is 'unknown' for an injected Duplex (node:http2 wraps it in a socket with no peer address).
 * So `contextOf` follows grpc-js's own objects from the call to its HTTP/2 session and the Duplex
 * under it: `call.call` (and each interceptor's `nextCall`) down to the call holding the http2
 * stream, `stream.session.socket.stream`. Those are grpc-js and node:http2 internals, not their
 * public API, like the channel's `_createSecureConnector` hook (verified on grpc-js 1.14.7);
 * where they differ, `contextOf` returns null rather than guess.
 */
export class AltsPeers {
  readonly #injector: Grpc.ConnectionInjector;
  readonly #conns = new WeakMap<object, AltsConn>();

  constructor(injector: Grpc.ConnectionInjector) {
    if (typeof (injector as Partial<Grpc.ConnectionInjector> | null)?.injectConnection !== 'function')
      throw new TypeError('"injector" expected a grpc-js ConnectionInjector (server.createConnectionInjector(credentials))');
    this.#injector = injector;
  }

  /** Serve `conn` on the injector's server, remembered (weakly) by its Duplex. */
  inject(conn: AltsConn): void {
    const duplex = conn.toDuplex();
    this.#conns.set(duplex, conn);
    this.#injector.injectConnection(duplex);
  }

  /** The ALTS context of the connection `call` came in on; null if unknown or without a handshake. */
  contextOf(call: object): AltsContext | null {
    const duplex = transportOf(call);
    return (duplex !== null && this.#conns.get(duplex)?.altsContext) || null;
  }
}

interface CallInternals {
  call?: unknown;
  nextCall?: unknown;
  stream?: { session?: { socket?: { stream?: unknown } } };
}

/** The Duplex a grpc-js server call arrived on (see AltsPeers), or null. */
function transportOf(call: object): object | null {
  let c = (call as CallInternals).call as CallInternals | undefined;
  for (let depth = 0; c !== null && typeof c === 'object' && depth < 32; depth++) {
    if (c.stream !== undefined) {
      const d = c.stream?.session?.socket?.stream;
      return typeof d === 'object' && d !== null ? d : null;
    }
    c = c.nextCall as CallInternals | undefined;
  }
  return null;
}
