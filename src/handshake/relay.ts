/**
 * The relay loop of docs/handshake.md §3 as a sans-IO state machine: it never touches a socket
 * or the service. Its inputs are the service's responses (raw bytes) and the peer's bytes; each
 * input returns the one step the driver takes next:
 *   send    give `request` to the service, then feed its response to `response()`
 *   read    write `write` (if any) to the peer, then read at most `readLimit` bytes and feed
 *           them to `peerBytes()` (or `peerEnded()` at EOF)
 *   done    write `write` (if any) to the peer; the handshake is over: `result`, and
 *           `leftover`, the peer's bytes the service did not consume (the record stream's start)
 *   failed  `error`; nothing more to do
 * External failures (the stream, the socket, the deadline, cancellation) enter through
 * `fail()`/`timedOut()`. Once done or failed, every input returns null.
 * @module
 */
import type { Side } from '../crypto/types.js';
import { HandshakeError, ServiceStatusError, type HandshakeFailure } from './errors.js';
import { decodeHandshakerResp, type HandshakerReq, type HandshakerResp, type StartClientHandshakeReq, type StartServerHandshakeReq } from './messages.js';
import { checkResult, type CheckedResult, type ResultPolicy } from './result.js';

export type RelayStep =
  | { op: 'send'; request: HandshakerReq }
  | { op: 'read'; write: Uint8Array | null }
  | { op: 'done'; write: Uint8Array | null; result: CheckedResult; leftover: Uint8Array }
  | { op: 'failed'; error: HandshakeError };

export interface RelayOptions {
  side: Side;
  /** Client: the whole client_start. */
  clientStart?: StartClientHandshakeReq;
  /** Server: server_start without in_bytes (the client's first bytes go there). */
  serverStart?: Omit<StartServerHandshakeReq, 'inBytes'>;
  /** Bytes the peer may send before the handshake completes. */
  maxPeerBytes: number;
  policy: ResultPolicy;
}

type State =
  | { name: 'new' }
  | { name: 'service'; sent: Uint8Array } // a request is with the service; `sent` its in_bytes
  | { name: 'peer'; pending: Uint8Array } // waiting for the peer; `pending` not yet consumed
  | { name: 'done' }
  | { name: 'failed'; error: HandshakeError };

export type RelayStateName = State['name'];

const EMPTY = new Uint8Array(0);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export class Relay {
  readonly #o: RelayOptions;
  #state: State = { name: 'new' };
  #received = 0; // peer bytes taken so far
  #started = false; // server: server_start sent

  constructor(o: RelayOptions) {
    if (o.side === 'client' ? o.clientStart === undefined : o.serverStart === undefined)
      throw new TypeError(`Relay: the ${o.side} side needs its ${o.side}Start request`);
    this.#o = o;
  }

  get state(): RelayStateName {
    return this.#state.name;
  }

  /** Bytes `peerBytes()` may take now: the rest of maxPeerBytes while reading, else 0. */
  get readLimit(): number {
    return this.#state.name === 'peer' ? this.#o.maxPeerBytes - this.#received : 0;
  }

  /** The first step: the client sends client_start; the server reads the client's first bytes. */
  begin(): RelayStep {
    this.#expect('new', 'begin');
    if (this.#o.side === 'client') return this.#send({ clientStart: this.#o.clientStart! }, EMPTY);
    this.#state = { name: 'peer', pending: EMPTY };
    return { op: 'read', write: null };
  }

  peerBytes(bytes: Uint8Array): RelayStep | null {
    if (this.#terminal()) return null;
    const s = this.#expect('peer', 'peerBytes');
    if (bytes.length === 0) throw new RangeError('Relay.peerBytes: empty input (EOF is peerEnded())');
    if (bytes.length > this.readLimit) return this.fail('PEER_FLOOD', `the peer sent more than ${this.#o.maxPeerBytes} bytes before the handshake completed`);
    this.#received += bytes.length;
    const inBytes = concat(s.pending, bytes);
    if (this.#o.side === 'server' && !this.#started) {
      this.#started = true;
      return this.#send({ serverStart: { ...this.#o.serverStart!, inBytes } }, inBytes);
    }
    return this.#send({ next: { inBytes } }, inBytes);
  }

  peerEnded(): RelayStep | null {
    if (this.#terminal()) return null;
    this.#expect('peer', 'peerEnded');
    return this.fail('PEER_CLOSED', 'the peer closed the connection before the handshake completed');
  }

  /**
   * A response from the service, as the bytes that came off the stream. One that arrives when no
   * request is with the service is the service's misbehaviour, not ours: it fails the handshake.
   */
  response(bytes: Uint8Array): RelayStep | null {
    if (this.#terminal()) return null;
    if (this.#state.name !== 'service') return this.fail('BAD_RESPONSE', `the service sent a response nobody asked for (while waiting for the ${this.#state.name === 'peer' ? 'peer' : 'first request'})`);
    const s = this.#state;
    let r: HandshakerResp;
    try {
      r = decodeHandshakerResp(bytes);
    } catch (e) {
      return this.fail('BAD_RESPONSE', 'the service sent a response that does not decode', e);
    }
    if (r.status?.code) {
      // The service judges the bytes it was given: with the peer's, a refusal is the peer's
      // fault; refusing our own start request (no peer bytes) is the service's or ours.
      const cause = new ServiceStatusError(r.status.code, r.status.details ?? '');
      return this.fail('SERVICE_STATUS', `the service refused the handshake: ${cause.message}`, cause, s.sent.length > 0 ? 'peer' : 'local');
    }
    const consumed = r.bytesConsumed ?? 0;
    if (consumed > s.sent.length) return this.fail('BYTES_CONSUMED', `the service consumed ${consumed} of ${s.sent.length} bytes`);
    const rest = s.sent.subarray(consumed);
    const write = r.outFrames && r.outFrames.length > 0 ? r.outFrames : null;
    if (r.result) {
      const result = checkResult(r.result, this.#o.policy);
      if (result instanceof HandshakeError) return this.#failWith(result);
      this.#state = { name: 'done' };
      return { op: 'done', write, result, leftover: new Uint8Array(rest) };
    }
    if (this.#received >= this.#o.maxPeerBytes)
      return this.fail('PEER_FLOOD', `the handshake needs more than ${this.#o.maxPeerBytes} bytes from the peer`);
    this.#state = { name: 'peer', pending: rest };
    return { op: 'read', write };
  }

  /** The deadline passed: the peer's fault if we were waiting for it, else the service's. */
  timedOut(ms: number): RelayStep | null {
    const waitingFor = this.#state.name === 'peer' ? 'peer' : 'service';
    return this.fail('TIMEOUT', `no handshake within ${ms} ms (waiting for the ${waitingFor})`, undefined, waitingFor === 'peer' ? 'peer' : 'local');
  }

  /** A failure outside the relay (the stream, the socket, cancellation). */
  fail(reason: HandshakeFailure, message: string, cause?: unknown, fault?: 'peer' | 'local'): RelayStep | null {
    if (this.#terminal()) return null;
    return this.#failWith(new HandshakeError(reason, message, { ...(cause !== undefined && { cause }), ...(fault && { fault }) }));
  }

  #failWith(error: HandshakeError): RelayStep {
    this.#state = { name: 'failed', error };
    return { op: 'failed', error };
  }

  #send(request: HandshakerReq, sent: Uint8Array): RelayStep {
    this.#state = { name: 'service', sent };
    return { op: 'send', request };
  }

  #terminal(): boolean {
    return this.#state.name === 'done' || this.#state.name === 'failed';
  }

  #expect<N extends RelayStateName>(name: N, input: string): Extract<State, { name: N }> {
    if (this.#state.name !== name) throw new Error(`Relay.${input}: not expected in state '${this.#state.name}'`);
    return this.#state as Extract<State, { name: N }>;
  }
}
