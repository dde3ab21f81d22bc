/**
 * One DoHandshake stream of the fake handshaker (docs/handshake.md §7): a pure state machine
 * from HandshakerReq to HandshakerResp. It validates requests as a real service does, consumes
 * only whole frames (a frame split across requests is left unconsumed until the rest comes),
 * and never reads past the last handshake frame: what follows it is the record stream.
 * @module
 */
import { HandshakeProtocol, type HandshakerReq, type HandshakerResp, type HandshakerResult, type Identity, type RpcProtocolVersions } from '../messages.js';
import {
  deriveSecrets,
  FrameError,
  helloOf,
  initFrame,
  Kind,
  macMatches,
  frame,
  parseFrame,
  type ClientHello,
  type Frame,
  type Secrets,
  type ServerHello,
} from './frames.js';

/** gRPC status codes the fake answers with. */
export const Status = { INVALID_ARGUMENT: 3, PERMISSION_DENIED: 7, FAILED_PRECONDITION: 9 } as const;

export const DEFAULT_IDENTITY = { client: 'fake-client@alts-record.invalid', server: 'fake-server@alts-record.invalid' } as const;

class Refusal extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

type State =
  | { name: 'new' }
  | { name: 'client:serverInit'; hello: ClientHello; clientInit: Uint8Array; targets: Identity[] }
  | { name: 'client:serverFinished'; hello: ClientHello; peer: ServerHello; secrets: Secrets }
  | { name: 'server:clientInit'; hello: Omit<ServerHello, 'recordProtocol' | 'applicationProtocol'>; recordProtocols: string[]; applicationProtocols: string[] }
  | { name: 'server:clientFinished'; hello: ServerHello; peer: ClientHello; secrets: Secrets }
  | { name: 'ended' };

const hasVersions = (v: RpcProtocolVersions | undefined): v is RpcProtocolVersions => !!(v?.maxRpcVersion && v.minRpcVersion);
const isIdentity = (id: Identity | undefined): id is Identity => !!(id && (id.serviceAccount || id.hostname));
const sameIdentity = (a: Identity, b: Identity) => (a.serviceAccount ?? '') === (b.serviceAccount ?? '') && (a.hostname ?? '') === (b.hostname ?? '');

function checkHello(h: unknown, server: boolean): asserts h is ClientHello | ServerHello {
  const o = h as Partial<ClientHello & ServerHello> | null;
  const ok =
    o !== null && typeof o === 'object' && isIdentity(o.identity) && hasVersions(o.rpcVersions) &&
    (server ? typeof o.recordProtocol === 'string' && typeof o.applicationProtocol === 'string' : Array.isArray(o.recordProtocols) && Array.isArray(o.applicationProtocols));
  if (!ok) throw new FrameError('a hello without its fields');
}

export class FakeSession {
  #state: State = { name: 'new' };

  get ended(): boolean {
    return this.#state.name === 'ended';
  }

  /** The response to `req`; a response with a status ends the session (the stream ends after it). */
  handle(req: HandshakerReq): HandshakerResp {
    try {
      return this.#handle(req);
    } catch (e) {
      this.#state = { name: 'ended' };
      const code = e instanceof Refusal ? e.code : Status.INVALID_ARGUMENT;
      return { status: { code, details: (e as Error).message } };
    }
  }

  #handle(req: HandshakerReq): HandshakerResp {
    const n = [req.clientStart, req.serverStart, req.next].filter((x) => x !== undefined).length;
    if (n !== 1) throw new Refusal(Status.INVALID_ARGUMENT, 'a HandshakerReq sets exactly one of client_start, server_start, next');
    const s = this.#state;
    if (req.clientStart || req.serverStart) {
      if (s.name !== 'new') throw new Refusal(Status.FAILED_PRECONDITION, 'a second start on one stream');
      return req.clientStart ? this.#clientStart(req.clientStart) : this.#serverStart(req.serverStart!);
    }
    if (s.name === 'new' || s.name === 'ended') throw new Refusal(Status.FAILED_PRECONDITION, `next in state ${s.name}`);
    return this.#advance(req.next!.inBytes ?? new Uint8Array(0));
  }

  #clientStart(c: NonNullable<HandshakerReq['clientStart']>): HandshakerResp {
    if (c.handshakeSecurityProtocol !== HandshakeProtocol.ALTS) throw new Refusal(Status.INVALID_ARGUMENT, 'handshake_security_protocol must be ALTS');
    if (!c.applicationProtocols?.length) throw new Refusal(Status.INVALID_ARGUMENT, 'no application_protocols');
    if (!c.recordProtocols?.length) throw new Refusal(Status.INVALID_ARGUMENT, 'no record_protocols');
    if (!hasVersions(c.rpcVersions)) throw new Refusal(Status.INVALID_ARGUMENT, 'no rpc_versions');
    const targets = c.targetIdentities ?? [];
    if (!targets.every(isIdentity)) throw new Refusal(Status.INVALID_ARGUMENT, 'an empty target identity');
    const hello: ClientHello = {
      identity: isIdentity(c.localIdentity) ? c.localIdentity : { serviceAccount: DEFAULT_IDENTITY.client },
      rpcVersions: c.rpcVersions,
      ...(c.maxFrameSize && { maxFrameSize: c.maxFrameSize }),
      recordProtocols: c.recordProtocols,
      applicationProtocols: c.applicationProtocols,
    };
    const clientInit = initFrame(Kind.ClientInit, hello);
    this.#state = { name: 'client:serverInit', hello, clientInit, targets };
    return { outFrames: clientInit, bytesConsumed: 0 };
  }

  #serverStart(s: NonNullable<HandshakerReq['serverStart']>): HandshakerResp {
    if (!s.applicationProtocols?.length) throw new Refusal(Status.INVALID_ARGUMENT, 'no application_protocols');
    const alts = s.handshakeParameters?.[String(HandshakeProtocol.ALTS)];
    if (!alts?.recordProtocols?.length) throw new Refusal(Status.INVALID_ARGUMENT, 'no ALTS handshake_parameters with record_protocols');
    if (!hasVersions(s.rpcVersions)) throw new Refusal(Status.INVALID_ARGUMENT, 'no rpc_versions');
    const local = alts.localIdentities?.find(isIdentity);
    this.#state = {
      name: 'server:clientInit',
      hello: { identity: local ?? { serviceAccount: DEFAULT_IDENTITY.server }, rpcVersions: s.rpcVersions, ...(s.maxFrameSize && { maxFrameSize: s.maxFrameSize }) },
      recordProtocols: alts.recordProtocols,
      applicationProtocols: s.applicationProtocols,
    };
    return this.#advance(s.inBytes ?? new Uint8Array(0));
  }

  /** Consume every whole frame the current state needs from `inBytes`, and no byte more. */
  #advance(inBytes: Uint8Array): HandshakerResp {
    let consumed = 0;
    let out: Uint8Array | undefined;
    let result: HandshakerResult | undefined;
    for (;;) {
      const s = this.#state;
      if (s.name === 'ended' || s.name === 'new') break;
      const f = parseFrame(inBytes.subarray(consumed));
      if (f === null) break;
      consumed += f.bytes.length;
      const r = this.#onFrame(s, f);
      if (r.out) out = r.out;
      if (r.result) {
        result = r.result;
        break;
      }
    }
    return { ...(out && { outFrames: out }), bytesConsumed: consumed, ...(result && { result }) };
  }

  #onFrame(s: Exclude<State, { name: 'new' | 'ended' }>, f: Frame): { out?: Uint8Array; result?: HandshakerResult } {
    const want = { 'client:serverInit': Kind.ServerInit, 'client:serverFinished': Kind.ServerFinished, 'server:clientInit': Kind.ClientInit, 'server:clientFinished': Kind.ClientFinished }[s.name];
    if (f.kind !== want) throw new FrameError(`frame kind ${f.kind} where ${want} was due`);
    switch (s.name) {
      case 'server:clientInit': {
        const peer = helloOf(f);
        checkHello(peer, false);
        const c = peer as ClientHello;
        const recordProtocol = c.recordProtocols.find((p) => s.recordProtocols.includes(p));
        const applicationProtocol = c.applicationProtocols.find((p) => s.applicationProtocols.includes(p));
        if (recordProtocol === undefined || applicationProtocol === undefined)
          throw new Refusal(Status.FAILED_PRECONDITION, 'no record or application protocol in common with the client');
        const hello: ServerHello = { ...s.hello, recordProtocol, applicationProtocol };
        const serverInit = initFrame(Kind.ServerInit, hello);
        const secrets = deriveSecrets(f.bytes, serverInit);
        this.#state = { name: 'server:clientFinished', hello, peer: c, secrets };
        return { out: concat(serverInit, frame(Kind.ServerFinished, secrets.serverFinished)) };
      }
      case 'client:serverInit': {
        const peer = helloOf(f);
        checkHello(peer, true);
        const p = peer as ServerHello;
        if (!s.hello.recordProtocols.includes(p.recordProtocol) || !s.hello.applicationProtocols.includes(p.applicationProtocol))
          throw new Refusal(Status.FAILED_PRECONDITION, 'the server chose a protocol the client did not offer');
        if (s.targets.length > 0 && !s.targets.some((t) => sameIdentity(t, p.identity)))
          throw new Refusal(Status.PERMISSION_DENIED, 'the server is none of the target identities');
        this.#state = { name: 'client:serverFinished', hello: s.hello, peer: p, secrets: deriveSecrets(s.clientInit, f.bytes) };
        return {};
      }
      case 'client:serverFinished':
        if (!macMatches(f, s.secrets.serverFinished)) throw new Refusal(Status.PERMISSION_DENIED, 'ServerFinished does not verify');
        this.#state = { name: 'ended' };
        return { out: frame(Kind.ClientFinished, s.secrets.clientFinished), result: resultOf(s.hello, s.peer, s.peer, s.secrets) };
      case 'server:clientFinished':
        if (!macMatches(f, s.secrets.clientFinished)) throw new Refusal(Status.PERMISSION_DENIED, 'ClientFinished does not verify');
        this.#state = { name: 'ended' };
        return { result: resultOf(s.hello, s.peer, s.hello, s.secrets) };
    }
  }
}

function resultOf(local: ClientHello | ServerHello, peer: ClientHello | ServerHello, chosen: ServerHello, secrets: Secrets): HandshakerResult {
  return {
    applicationProtocol: chosen.applicationProtocol,
    recordProtocol: chosen.recordProtocol,
    keyData: secrets.keyData,
    peerIdentity: peer.identity,
    localIdentity: local.identity,
    peerRpcVersions: peer.rpcVersions,
    ...(peer.maxFrameSize && { maxFrameSize: peer.maxFrameSize }),
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
