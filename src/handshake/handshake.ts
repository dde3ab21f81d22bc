/**
 * runHandshake: one ALTS handshake over a connection's ReadyReader (docs/handshake.md §3, §8),
 * driving the sans-IO relay with the service's stream and the peer's readiness.
 *
 * Reading the peer holds nothing while it waits: the reader only watches for readiness; when
 * the peer is readable, one read(2) goes into a fixed scratch buffer shared by every handshake
 * (reads are synchronous, so no two use it at once) and the bytes read are copied out at once.
 * No pool buffer is ever borrowed. After the handshake the same reader carries the record
 * stream: it is left unwatched, its callbacks reset, and `leftover` holds the peer's bytes the
 * service did not consume.
 *
 * The reader is the caller's until the handshake fails: then runHandshake closes it (the
 * connection never came to be), so every path ends with the socket either handed back or closed.
 * @module
 */
import { aoneOf } from '../_check.js';
import { SIDES, type RecordProtocol, type Side } from '../crypto/types.js';
import { AGAIN, type ReadyReader } from '../io/types.js';
import { describeStatus, HandshakeError } from './errors.js';
import type { HandshakerReq } from './messages.js';
import { resolveFrameSize, resolveHandshaker, type ResolvedHandshaker } from './options.js';
import { Relay, type RelayStep } from './relay.js';
import { APPLICATION_PROTOCOLS, clientStart, OFFERED_RECORD_PROTOCOLS, serverStart } from './requests.js';
import { RPC_VERSIONS, type CheckedResult, type PeerRpcVersions } from './result.js';
import { handshakerClient, HandshakerClient, type HandshakeStream } from './service.js';
import type { Slot } from './limiter.js';

/** What a connection exposes about its handshake (grpc.gcp.AltsContext). */
export interface AltsContext {
  applicationProtocol: string;
  recordProtocol: RecordProtocol;
  securityLevel: 'INTEGRITY_AND_PRIVACY';
  /** '' when the peer's identity is a hostname, as grpc-go reports it. */
  peerServiceAccount: string;
  localServiceAccount: string;
  /** The peer's RPC version range; both bounds are always there (the result check needs them). */
  peerRpcVersions: PeerRpcVersions;
  peerAttributes: Record<string, string>;
}

export interface HandshakeOutcome {
  recordProtocol: RecordProtocol;
  /** This connection's key: fresh per handshake, never to be used for another connection. */
  key: Uint8Array;
  /** The frame size to write (docs/handshake.md §4). */
  maxFrameSize: number;
  /** The start of the peer's record stream: the record layer's `protected`. */
  leftover: Uint8Array;
  altsContext: AltsContext;
}

export interface RunHandshakeOptions extends ResolvedHandshaker {
  side: Side;
  /** The frame size we announce. */
  maxFrameSize: number;
  /** Cancels the handshake (HANDSHAKE_FAILED, reason CANCELLED, fault caller). */
  signal?: AbortSignal;
  /** Default: the shared client for `address`. */
  client?: HandshakerClient;
}

/** Bytes one read may take from the peer; enough for any handshake message in one go. */
const SCRATCH = new Uint8Array(16 * 1024);
const noop = (): void => {};

/**
 * Handshake as `o.side` over `io`. Arguments are checked before anything starts (TypeError /
 * RangeError, thrown, not rejected); from then on it settles with the outcome or a HandshakeError.
 */
export function runHandshake(io: ReadyReader, o: RunHandshakeOptions): Promise<HandshakeOutcome> {
  for (const m of ['readInto', 'write', 'watchReadable', 'close'] as const)
    if (typeof (io as Partial<ReadyReader> | null)?.[m] !== 'function') throw new TypeError(`"io" expected a ReadyReader (no ${m}())`);
  aoneOf('side', o?.side, SIDES);
  const checked = { ...resolveHandshaker(o, o.side, 'options', ['side', 'maxFrameSize', 'signal', 'client']), side: o.side, maxFrameSize: resolveFrameSize(o.maxFrameSize) };
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new TypeError('"signal" expected AbortSignal');
  if (o.client !== undefined && !(o.client instanceof HandshakerClient)) throw new TypeError('"client" expected HandshakerClient');
  const run = { ...checked, ...(o.signal && { signal: o.signal }), ...(o.client && { client: o.client }) };
  return new Promise((resolve, reject) => new Run(io, run, resolve, reject).start());
}

/** The record layer's options for this side of a finished handshake (docs/handshake.md §8). */
export function recordOptionsFor(side: Side, h: HandshakeOutcome): { protocol: RecordProtocol; side: Side; key: Uint8Array; maxFrameSize: number; protected: Uint8Array } {
  return { protocol: h.recordProtocol, side, key: h.key, maxFrameSize: h.maxFrameSize, protected: h.leftover };
}

class Run {
  readonly #io: ReadyReader;
  readonly #o: RunHandshakeOptions;
  readonly #relay: Relay;
  readonly #resolve: (v: HandshakeOutcome) => void;
  readonly #reject: (e: HandshakeError) => void;
  #slot: Slot | null = null;
  #stream: HandshakeStream | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(io: ReadyReader, o: RunHandshakeOptions, resolve: (v: HandshakeOutcome) => void, reject: (e: HandshakeError) => void) {
    this.#io = io;
    this.#o = o;
    this.#resolve = resolve;
    this.#reject = reject;
    const params = { ...o };
    this.#relay = new Relay({
      side: o.side,
      ...(o.side === 'client' ? { clientStart: clientStart(params) } : { serverStart: serverStart(params) }),
      maxPeerBytes: o.maxPeerBytes,
      policy: { recordProtocols: OFFERED_RECORD_PROTOCOLS, applicationProtocols: APPLICATION_PROTOCOLS, rpcVersions: RPC_VERSIONS, maxFrameSize: o.maxFrameSize, ...(o.side === 'client' && { targetServiceAccounts: o.targetServiceAccounts }) },
    });
  }

  start(): void {
    const { signal } = this.#o;
    if (signal?.aborted) return this.#step(this.#cancelled());
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#timer = setTimeout(() => this.#step(this.#relay.timedOut(this.#o.timeoutMs)), this.#o.timeoutMs);
    this.#io.onReadable = () => this.#onReadable();
    this.#step(this.#relay.begin());
  }

  /**
   * The first request opens the stream, once a slot is free: a server waiting for its client's
   * first bytes holds neither a slot nor a stream (docs/handshake.md §6).
   */
  #openStream(first: HandshakerReq): void {
    let client: HandshakerClient;
    try {
      client = this.#o.client ?? handshakerClient(this.#o.address);
    } catch (e) {
      return this.#step(this.#relay.fail('SERVICE_UNREACHABLE', `no client for the handshaker service at ${this.#o.address}`, e));
    }
    this.#slot = client.slot(this.#o.side, () => {
      if (this.#relay.state !== 'service') return; // failed while waiting for the slot
      try {
        this.#stream = this.#open(client);
      } catch (e) {
        return this.#step(this.#relay.fail('SERVICE_UNREACHABLE', `no stream to the handshaker service at ${this.#o.address}`, e));
      }
      this.#stream.send(first);
    });
  }

  #open(client: HandshakerClient): HandshakeStream {
    return client.open({
      onResponse: (b) => this.#guard(() => this.#step(this.#relay.response(b))),
      onEnd: (err) =>
        this.#guard(() =>
          this.#step(
            err
              ? this.#relay.fail('SERVICE_UNREACHABLE', streamFailure(this.#o.address, err), err)
              : this.#relay.fail('SERVICE_CLOSED', 'the handshaker service ended the stream without a result'),
          ),
        ),
    });
  }

  /**
   * Runs a stream event's handling: the stream emits from its own callbacks, where a throw would
   * end the process, so anything thrown fails this handshake instead.
   */
  #guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.#step(this.#relay.fail('BAD_RESPONSE', 'handling the handshaker service\'s response failed', e));
    }
  }

  readonly #onAbort = (): void => this.#step(this.#cancelled());

  #cancelled(): RelayStep | null {
    return this.#relay.fail('CANCELLED', 'the handshake was cancelled', this.#o.signal?.reason);
  }

  #onReadable(): void {
    if (this.#relay.state !== 'peer') return;
    let n: number;
    try {
      n = this.#io.readInto(SCRATCH, 0, Math.min(SCRATCH.length, this.#relay.readLimit));
    } catch (e) {
      return this.#step(this.#relay.fail('IO', 'reading from the peer failed', e));
    }
    if (n === AGAIN) return; // a spurious wakeup: keep watching
    this.#io.watchReadable(false);
    this.#step(n === 0 ? this.#relay.peerEnded() : this.#relay.peerBytes(SCRATCH.slice(0, n)));
  }

  #step(s: RelayStep | null): void {
    if (s === null) return;
    switch (s.op) {
      case 'send':
        if (this.#stream !== null) this.#stream.send(s.request);
        else if (this.#slot === null) this.#openStream(s.request);
        return;
      case 'read':
        if (s.write) this.#io.write(s.write, (err) => err && this.#step(this.#relay.fail('IO', 'writing to the peer failed', err)));
        this.#io.watchReadable(true);
        return;
      case 'done':
        this.#finish();
        if (s.write === null) return this.#resolve(outcome(s.result, s.leftover, this.#o));
        this.#io.write(s.write, (err) => {
          if (err === null) return this.#resolve(outcome(s.result, s.leftover, this.#o));
          s.result.key.fill(0);
          this.#io.close();
          this.#reject(new HandshakeError('IO', 'writing the last handshake message to the peer failed', { cause: err }));
        });
        return;
      case 'failed':
        this.#finish();
        this.#io.close();
        this.#reject(s.error);
    }
  }

  /** Everything the handshake holds goes, whichever way it ended. */
  #finish(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#o.signal?.removeEventListener('abort', this.#onAbort);
    this.#io.watchReadable(false);
    this.#io.onReadable = noop;
    if (this.#relay.state === 'done') this.#stream?.finish();
    else this.#stream?.cancel();
    this.#stream = null;
    this.#slot?.release();
    this.#slot = null;
  }
}

/** The stream's gRPC error, said in the message: its status, or that the server is no handshaker. */
function streamFailure(address: string, err: Error): string {
  const { code, details } = err as Error & { code?: unknown; details?: unknown };
  if (typeof code !== 'number') return `the handshaker service at ${address} failed: ${err.message}`;
  const status = describeStatus(code, typeof details === 'string' ? details : undefined);
  // 12 UNIMPLEMENTED: a gRPC server answered, but it has no DoHandshake method.
  if (code === 12) return `${address} is not a handshaker service (${status})`;
  return `the handshaker service at ${address} failed: ${status}`;
}

function outcome(r: CheckedResult, leftover: Uint8Array, o: RunHandshakeOptions): HandshakeOutcome {
  return {
    recordProtocol: r.recordProtocol,
    key: r.key,
    maxFrameSize: r.maxFrameSize,
    leftover,
    altsContext: {
      applicationProtocol: r.applicationProtocol,
      recordProtocol: r.recordProtocol,
      securityLevel: 'INTEGRITY_AND_PRIVACY',
      peerServiceAccount: r.peerIdentity.serviceAccount ?? '',
      localServiceAccount: r.localIdentity?.serviceAccount ?? o.localServiceAccount ?? '',
      peerRpcVersions: r.peerRpcVersions,
      peerAttributes: { ...r.peerIdentity.attributes },
    },
  };
}
