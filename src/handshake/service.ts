/**
 * The handshaker-service client (docs/handshake.md §6): one DoHandshake bidi stream per
 * handshake over plaintext gRPC, on one grpc-js channel per service address, with at most
 * `maxInFlight` client handshakes and as many server handshakes open (the rest wait, FIFO).
 * Two bounds, not one: a process that is both ends (a proxy, a test) would otherwise fill every
 * slot with client handshakes whose servers wait for a slot.
 *
 * @grpc/grpc-js is an optional peer dependency, loaded when the first handshake asks for it:
 * a user with a key from elsewhere never needs it, and a user who handshakes runs gRPC anyway
 * (one grpc-js in the process, the application's).
 * @module
 */
import { createRequire } from 'node:module';
import type * as Grpc from '@grpc/grpc-js';
import { aint } from '../_check.js';
import type { Side } from '../crypto/types.js';
import { encodeHandshakerReq, type HandshakerReq } from './messages.js';
import { Limiter, type Slot } from './limiter.js';

export const DO_HANDSHAKE = '/grpc.gcp.HandshakerService/DoHandshake';
/** grpc-go's default: the GCE metadata server. */
export const DEFAULT_HANDSHAKER_ADDRESS = 'metadata.google.internal.:8080';
/** grpc-go's maxPendingHandshakes (per side, as later grpc-go keeps two semaphores). */
export const MAX_IN_FLIGHT = 100;

let grpcModule: typeof Grpc | null = null;

/** @grpc/grpc-js as the application has it. */
export function loadGrpcJs(): typeof Grpc {
  if (grpcModule !== null) return grpcModule;
  try {
    grpcModule = createRequire(import.meta.url)('@grpc/grpc-js') as typeof Grpc;
  } catch (e) {
    throw new Error('an ALTS handshake needs @grpc/grpc-js (an optional peer dependency of alts-record): npm install @grpc/grpc-js', { cause: e });
  }
  return grpcModule;
}

export interface StreamHandlers {
  /** One HandshakerResp, as the bytes that came off the stream. */
  onResponse(bytes: Uint8Array): void;
  /** The stream ended: null if the service closed it cleanly, else the gRPC error. Once, and not after cancel(). */
  onEnd(err: Error | null): void;
}

export interface HandshakeStream {
  send(req: HandshakerReq): void;
  /** Half-close: the handshake is over. */
  finish(): void;
  /** Abandon the stream; no handler runs after this. */
  cancel(): void;
}

const identity = (b: Buffer): Buffer => b;

export class HandshakerClient {
  readonly address: string;
  readonly limiters: Readonly<Record<Side, Limiter>>;
  readonly #client: Grpc.Client;

  constructor(address: string, o: { maxInFlight?: number } = {}) {
    if (typeof address !== 'string' || address === '') throw new TypeError('"address" expected a non-empty string');
    const max = o.maxInFlight ?? MAX_IN_FLIGHT;
    aint('maxInFlight', max, 1, 2 ** 31 - 1);
    const grpc = loadGrpcJs();
    this.address = address;
    this.limiters = { client: new Limiter(max), server: new Limiter(max) };
    this.#client = new grpc.Client(address, grpc.credentials.createInsecure());
  }

  /** Wait for a `side` slot (FIFO), then `ready` runs; release the slot when the handshake ends. */
  slot(side: Side, ready: () => void): Slot {
    return this.limiters[side].acquire(ready);
  }

  /** Open one DoHandshake stream. */
  open(h: StreamHandlers): HandshakeStream {
    const call = this.#client.makeBidiStreamRequest(DO_HANDSHAKE, (m: Uint8Array) => Buffer.from(m.buffer, m.byteOffset, m.byteLength), identity);
    let live = true;
    const end = (err: Error | null): void => {
      if (!live) return;
      live = false;
      h.onEnd(err);
    };
    call.on('data', (b: Buffer) => {
      if (live) h.onResponse(b);
    });
    call.on('error', (e: Error) => end(e));
    call.on('end', () => end(null));
    return {
      send: (req) => {
        if (live) call.write(encodeHandshakerReq(req));
      },
      finish: () => {
        live = false;
        call.end();
      },
      cancel: () => {
        live = false;
        call.cancel();
      },
    };
  }

  close(): void {
    this.#client.close();
  }
}

const clients = new Map<string, HandshakerClient>();

/** The shared client for `address` (one channel and one limiter per service, as grpc-go keeps). */
export function handshakerClient(address: string): HandshakerClient {
  let c = clients.get(address);
  if (c === undefined) clients.set(address, (c = new HandshakerClient(address)));
  return c;
}

/** Close every shared client (their channels); later handshakes open new ones. */
export function closeHandshakerClients(): void {
  for (const c of clients.values()) c.close();
  clients.clear();
}
