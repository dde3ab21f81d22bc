/**
 * Crypto for the ALTS record protocol (docs/spec.md §1): `createCrypters` builds the outbound and
 * inbound DirectionCrypter of one side, on the `native` (OpenSSL EVP in the addon), `node`
 * (node:crypto) or `noble` (pure JS) backend. Without `backend` the default is `native` where
 * the addon loaded and `node` otherwise (`defaultBackend()`): every entry point (createProtector,
 * connect, createServer, wrap) gets it through here, with nothing extra to import. A factory
 * registered as `native` (registerBackend) replaces the addon's. `aesGcm` exposes the bare
 * AES-GCM primitive (with AAD) of the three, for conformance vectors that are not ALTS frames
 * (AES-256, AAD).
 * @module
 */
import { abytes, aoneOf } from '../_check.js';
import { AltsError } from '../errors.js';
import { checkCounterIndex, counterAt, OVERFLOW_BYTES } from '../record/counter.js';
import type { AeadPrimitive } from './_aead.js';
import { AES128_KEY_BYTES, aeadDirection, REKEY_KEY_BYTES } from './_direction.js';
import { keyString, LazyDirection, type LazyRecipe } from './lazy.js';
import { nobleAead } from './noble.js';
import { nativeAead, nativeUnavailable } from './native.js';
import { nodeAead } from './node.js';
import { type BackendFactory, registeredBackend } from './registry.js';
import {
  BACKENDS,
  RECORD_PROTOCOLS,
  SIDES,
  type Backend,
  type CounterStart,
  type DirectionCrypter,
  type RecordProtocol,
  type Side,
} from './types.js';

export { registerBackend, type BackendFactory } from './registry.js';

export const KEY_BYTES: Readonly<Record<RecordProtocol, number>> = {
  ALTSRP_GCM_AES128: AES128_KEY_BYTES,
  ALTSRP_GCM_AES128_REKEY: REKEY_KEY_BYTES,
};

export interface CrypterOptions {
  protocol: RecordProtocol;
  side: Side;
  key: Uint8Array;
  backend?: Backend;
  /** Frame indices the two counters start at (default 0n): for tests that reach the edges. */
  counters?: CounterStart;
  /**
   * Build each direction at its first use (LazyDirection): a connection that never carries a
   * frame holds no cipher state. Arguments are still all checked now. Default false.
   */
  lazy?: boolean;
}

const BUILTIN: Readonly<Record<'noble' | 'node', AeadPrimitive>> = { noble: nobleAead, node: nodeAead };

/** The AES-GCM primitive of `backend`; for `native` a RangeError (with the fix) if the addon did not load. */
function primitive(backend: Backend): AeadPrimitive {
  if (backend !== 'native') return BUILTIN[backend];
  const aead = nativeAead();
  if (aead === null)
    throw new RangeError(
      `"backend" 'native' needs the alts_native addon, which did not load: run \`npm rebuild alts-record\` (or use backend 'node')`,
      { cause: nativeUnavailable() },
    );
  return aead;
}

/** One factory per built-in primitive, made once: a connection's lazy directions keep a reference to it. */
const factories = new Map<AeadPrimitive, BackendFactory>();

function factoryFor(backend: Backend): BackendFactory {
  const registered = backend === 'native' ? registeredBackend(backend) : undefined;
  if (registered !== undefined) return registered;
  const aead = primitive(backend);
  let f = factories.get(aead);
  if (f === undefined) factories.set(aead, (f = (o) => aeadDirection(aead, o)));
  return f;
}

/** The backend used when none is given: `native` where the addon loaded (or one is registered), else `node`. */
export function defaultBackend(): Backend {
  return registeredBackend('native') !== undefined || nativeAead() !== null ? 'native' : 'node';
}

/** The backends this process can use, fastest first. */
export function availableBackends(): Backend[] {
  return defaultBackend() === 'native' ? ['native', 'node', 'noble'] : ['node', 'noble'];
}

/** Check the record protocol and key: UNKNOWN_PROTOCOL, TypeError, BAD_KEY. */
export function checkKey(protocol: unknown, key: unknown): asserts protocol is RecordProtocol {
  if (!(RECORD_PROTOCOLS as readonly unknown[]).includes(protocol))
    throw new AltsError('UNKNOWN_PROTOCOL', `"protocol" expected one of ${RECORD_PROTOCOLS.join(', ')}, got ${String(protocol)}`);
  abytes('key', key);
  const want = KEY_BYTES[protocol as RecordProtocol];
  if (key.length !== want) throw new AltsError('BAD_KEY', `"key" for ${String(protocol)} expected ${want} bytes, got ${key.length}`);
}

/** The outbound and inbound crypters of `o.side`. Every argument is checked before anything is built. */
export function createCrypters(o: CrypterOptions): { outbound: DirectionCrypter; inbound: DirectionCrypter } {
  if (typeof o !== 'object' || o === null) throw new TypeError(`"options" expected object, got ${o === null ? 'null' : typeof o}`);
  const { protocol, side, key } = o;
  checkKey(protocol, key);
  aoneOf('side', side, SIDES);
  const backend = o.backend ?? defaultBackend();
  aoneOf('backend', backend, BACKENDS);
  const counters = o.counters ?? {};
  if (typeof counters !== 'object' || counters === null) throw new TypeError(`"counters" expected object, got ${typeof counters}`);
  const n = OVERFLOW_BYTES[protocol];
  const peer: Side = side === 'client' ? 'server' : 'client';
  const outAt = counters.outbound ?? 0n;
  const inAt = counters.inbound ?? 0n;
  checkCounterIndex(outAt, n, 'counters.outbound');
  checkCounterIndex(inAt, n, 'counters.inbound');
  const make = factoryFor(backend);
  if (o.lazy === true) {
    const recipe: LazyRecipe = { make, protocol, key: keyString(key), overflowBytes: n };
    return { outbound: new LazyDirection(recipe, side, outAt), inbound: new LazyDirection(recipe, peer, inAt) };
  }
  const outCtr = counterAt(side, outAt, n);
  const inCtr = counterAt(peer, inAt, n);
  return {
    outbound: make({ protocol, key, counter: outCtr, overflowBytes: n }),
    inbound: make({ protocol, key, counter: inCtr, overflowBytes: n }),
  };
}

/**
 * Plain AES-GCM (128 or 256) of a backend's own primitive (for `native` always the addon's,
 * even when a factory is registered as `native`): seal → ciphertext ‖ tag; open → plaintext.
 */
export function aesGcm(backend: Backend, key: Uint8Array, nonce: Uint8Array, aad?: Uint8Array) {
  aoneOf('backend', backend, BACKENDS);
  abytes('key', key, 16, 32);
  abytes('nonce', nonce, 12);
  if (aad !== undefined) abytes('aad', aad);
  const aead = primitive(backend);
  const k = aead.importKey(key);
  return {
    seal(plaintext: Uint8Array): Uint8Array {
      abytes('plaintext', plaintext);
      const buf = new Uint8Array(plaintext.length + 16);
      buf.set(plaintext);
      aead.seal(k, nonce, buf, 0, plaintext.length, aad);
      return buf;
    },
    open(sealed: Uint8Array): Uint8Array {
      abytes('sealed', sealed);
      if (sealed.length < 16) throw new RangeError(`"sealed" expected at least 16 bytes, got ${sealed.length}`);
      const out = new Uint8Array(sealed.length - 16);
      aead.open(k, nonce, sealed, 0, out.length, out, 0, aad);
      return out;
    },
  };
}

/**
 * One direction from a raw 12-byte initial counter value (any bytes, side bit included), for
 * vectors whose counter is not a frame index (e.g. grpc-go's random counters).
 */
export function createDirection(o: { protocol: RecordProtocol; key: Uint8Array; counter: Uint8Array; backend?: Backend }): DirectionCrypter {
  checkKey(o.protocol, o.key);
  abytes('counter', o.counter, 12);
  const backend = o.backend ?? defaultBackend();
  aoneOf('backend', backend, BACKENDS);
  return factoryFor(backend)({ protocol: o.protocol, key: o.key, counter: o.counter, overflowBytes: OVERFLOW_BYTES[o.protocol] });
}
