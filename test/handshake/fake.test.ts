/**
 * The fake handshaker's sessions, in memory: two relays and two fake sessions exchange every
 * byte as the relay loop would, the peer bytes cut at arbitrary points (frames split across
 * requests), and the fake validates what a real service validates.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { decodeHandshakerResp, encodeHandshakerResp, type HandshakerReq, type HandshakerResp } from '../../src/handshake/messages.js';
import { Relay, type RelayStep } from '../../src/handshake/relay.js';
import { APPLICATION_PROTOCOLS, clientStart, OFFERED_RECORD_PROTOCOLS, serverStart } from '../../src/handshake/requests.js';
import { RPC_VERSIONS } from '../../src/handshake/result.js';
import { frame, FrameError, Kind, parseFrame, MAX_FRAME_BODY } from '../../src/handshake/fake/frames.js';
import { DEFAULT_IDENTITY, FakeSession, Status } from '../../src/handshake/fake/session.js';
import { startFakeHandshaker } from '../../src/handshake/fake/server.js';
import { DO_HANDSHAKE } from '../../src/handshake/service.js';
import { fcParams, seedTitle } from '../../properties/conn/params.js';

const policy = { recordProtocols: OFFERED_RECORD_PROTOCOLS, applicationProtocols: APPLICATION_PROTOCOLS, rpcVersions: RPC_VERSIONS, maxFrameSize: 16384 };
const relay = (side: 'client' | 'server', local?: string, targets: string[] = []) => {
  const p = { side, targetServiceAccounts: targets, maxFrameSize: side === 'client' ? 8192 : 32768, ...(local && { localServiceAccount: local }) };
  return new Relay({ side, ...(side === 'client' ? { clientStart: clientStart(p) } : { serverStart: serverStart(p) }), maxPeerBytes: 65536, policy: { ...policy, maxFrameSize: p.maxFrameSize } });
};

type Done = Extract<RelayStep, { op: 'done' }>;

/**
 * Both ends in memory. `cut(n)` says how many of the n bytes in flight to the other end arrive
 * in the next read; `tail` follows the client's last handshake message in the same stream.
 */
function handshakeInMemory(cut: (n: number) => number, tail: Uint8Array, ids: { client?: string; server?: string; targets?: string[] } = {}) {
  const ends = {
    client: { relay: relay('client', ids.client, ids.targets), fake: new FakeSession(), inbox: [] as number[], step: null as RelayStep | null, done: null as Done | null },
    server: { relay: relay('server', ids.server), fake: new FakeSession(), inbox: [] as number[], step: null as RelayStep | null, done: null as Done | null },
  };
  const other = { client: ends.server, server: ends.client };
  const run = (side: 'client' | 'server', step: RelayStep | null): void => {
    const e = ends[side];
    while (step?.op === 'send') step = e.relay.response(encodeHandshakerResp(e.fake.handle(step.request)));
    if (step === null || step.op === 'failed') throw new Error(`${side} failed: ${step?.error.message}`);
    if (step.write) other[side].inbox.push(...step.write);
    if (step.op === 'done') {
      e.done = step;
      if (side === 'client') other.client.inbox.push(...tail);
    }
    e.step = step;
  };
  run('client', ends.client.relay.begin());
  run('server', ends.server.relay.begin());
  for (let guard = 0; guard < 10_000 && !(ends.client.done && ends.server.done); guard++) {
    for (const side of ['client', 'server'] as const) {
      const e = ends[side];
      if (e.done || e.inbox.length === 0) continue;
      const n = Math.max(1, Math.min(e.inbox.length, cut(e.inbox.length), e.relay.readLimit));
      run(side, e.relay.peerBytes(Uint8Array.from(e.inbox.splice(0, n))));
    }
  }
  // What the server's relay never read stays in its inbox (the kernel's, for a socket).
  return { client: ends.client.done!, server: ends.server.done!, unread: Uint8Array.from(ends.server.inbox) };
}

describe(`fake handshaker sessions (${seedTitle()})`, () => {
  it('whole messages: same fresh key both ends, identities from the start requests, frame sizes crossed', () => {
    const { client, server } = handshakeInMemory((n) => n, new Uint8Array(0), { client: 'alice@x', server: 'bob@x', targets: ['bob@x'] });
    expect(client.result.key).toEqual(server.result.key);
    expect(client.result.peerIdentity.serviceAccount).toBe('bob@x');
    expect(server.result.peerIdentity.serviceAccount).toBe('alice@x');
    expect(client.result.localIdentity?.serviceAccount).toBe('alice@x');
    // each side is told the other's frame size and writes min(peer, ours)
    expect(client.result.maxFrameSize).toBe(8192);
    expect(server.result.maxFrameSize).toBe(8192);
  });

  it('with no identities in the start requests, the fake names a default one per side', () => {
    const { client, server } = handshakeInMemory((n) => n, new Uint8Array(0));
    expect(client.result.peerIdentity.serviceAccount).toBe(DEFAULT_IDENTITY.server);
    expect(server.result.peerIdentity.serviceAccount).toBe(DEFAULT_IDENTITY.client);
  });

  it('property: however the peer bytes are cut, both ends agree on the key, and the bytes after ClientFinished are the leftover', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 50 }), fc.uint8Array({ maxLength: 64 }), (cuts, tail) => {
        let i = 0;
        const { client, server, unread } = handshakeInMemory(() => cuts[i++ % cuts.length]!, tail);
        expect(client.result.key).toEqual(server.result.key);
        expect(Uint8Array.from([...server.leftover, ...unread])).toEqual(tail);
      }),
      fcParams(200),
    );
  });

  it('different handshakes, different keys', () => {
    const a = handshakeInMemory((n) => n, new Uint8Array(0));
    const b = handshakeInMemory((n) => n, new Uint8Array(0));
    expect(a.client.result.key).not.toEqual(b.client.result.key);
  });
});

describe('fake handshaker: requests validated as a real service does', () => {
  const goodClient = () => clientStart({ side: 'client', targetServiceAccounts: [], maxFrameSize: 16384 });
  const goodServer = () => serverStart({ side: 'server', targetServiceAccounts: [], maxFrameSize: 16384 });
  const refused = (reqs: HandshakerReq[], code: number) => {
    const s = new FakeSession();
    let last: HandshakerResp = {};
    for (const r of reqs) last = s.handle(r);
    expect(last.status?.code).toBe(code);
    expect(s.ended).toBe(true);
  };

  it('client_start: ALTS, application and record protocols, RPC versions, non-empty targets', () => {
    refused([{ clientStart: { ...goodClient(), handshakeSecurityProtocol: 1 } }], Status.INVALID_ARGUMENT);
    refused([{ clientStart: { ...goodClient(), applicationProtocols: [] } }], Status.INVALID_ARGUMENT);
    refused([{ clientStart: { ...goodClient(), recordProtocols: [] } }], Status.INVALID_ARGUMENT);
    const { rpcVersions: _, ...noVersions } = goodClient();
    refused([{ clientStart: noVersions }], Status.INVALID_ARGUMENT);
    refused([{ clientStart: { ...goodClient(), targetIdentities: [{}] } }], Status.INVALID_ARGUMENT);
  });

  it('server_start: application protocols, ALTS parameters with record protocols, RPC versions', () => {
    refused([{ serverStart: { ...goodServer(), applicationProtocols: [] } }], Status.INVALID_ARGUMENT);
    refused([{ serverStart: { ...goodServer(), handshakeParameters: {} } }], Status.INVALID_ARGUMENT);
    const { rpcVersions: _, ...noVersions } = goodServer();
    refused([{ serverStart: noVersions }], Status.INVALID_ARGUMENT);
  });

  it('the order of requests: one oneof each, a start first, one start per stream', () => {
    refused([{}], Status.INVALID_ARGUMENT);
    refused([{ clientStart: goodClient(), next: { inBytes: new Uint8Array(1) } }], Status.INVALID_ARGUMENT);
    refused([{ next: { inBytes: new Uint8Array(1) } }], Status.FAILED_PRECONDITION);
    refused([{ clientStart: goodClient() }, { clientStart: goodClient() }], Status.FAILED_PRECONDITION);
  });

  it('frames: a length out of range, an unknown kind, a kind out of turn, a hello that is not one', () => {
    const len = (n: number) => Uint8Array.of(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
    refused([{ serverStart: { ...goodServer(), inBytes: len(0) } }], Status.INVALID_ARGUMENT);
    refused([{ serverStart: { ...goodServer(), inBytes: len(MAX_FRAME_BODY + 2) } }], Status.INVALID_ARGUMENT);
    refused([{ serverStart: { ...goodServer(), inBytes: frame(9 as 1, new Uint8Array(1)) } }], Status.INVALID_ARGUMENT);
    refused([{ serverStart: { ...goodServer(), inBytes: frame(Kind.ClientFinished, new Uint8Array(32)) } }], Status.INVALID_ARGUMENT);
    refused([{ serverStart: { ...goodServer(), inBytes: frame(Kind.ClientInit, new Uint8Array(32)) } }], Status.INVALID_ARGUMENT);
    refused([{ serverStart: { ...goodServer(), inBytes: frame(Kind.ClientInit, new Uint8Array(40)) } }], Status.INVALID_ARGUMENT);
    const notHello = new Uint8Array(32 + 2);
    notHello.set(Buffer.from('{}'), 32);
    refused([{ serverStart: { ...goodServer(), inBytes: frame(Kind.ClientInit, notHello) } }], Status.INVALID_ARGUMENT);
    expect(() => parseFrame(len(0))).toThrow(FrameError);
    expect(parseFrame(Uint8Array.of(1, 0, 0))).toBeNull();
  });

  it('negotiation: no protocol in common, a server outside the targets, a Finished that does not verify', () => {
    // The server offers only a record protocol the client did not.
    const s = new FakeSession();
    const c = new FakeSession();
    const ci = c.handle({ clientStart: goodClient() }).outFrames!;
    const other = { ...goodServer(), handshakeParameters: { 2: { recordProtocols: ['ALTSRP_GCM_AES128'] } } };
    expect(s.handle({ serverStart: { ...other, inBytes: ci } }).status?.code).toBe(Status.FAILED_PRECONDITION);

    const pick = (targets: string[], tamper: boolean) => {
      const client = new FakeSession();
      const server = new FakeSession();
      const init = client.handle({ clientStart: { ...goodClient(), targetIdentities: targets.map((serviceAccount) => ({ serviceAccount })) } }).outFrames!;
      const back = Uint8Array.from(server.handle({ serverStart: { ...goodServer(), inBytes: init } }).outFrames!);
      if (tamper) back[back.length - 1]! ^= 1;
      return client.handle({ next: { inBytes: back } });
    };
    expect(pick(['someone-else@x'], false).status?.code).toBe(Status.PERMISSION_DENIED);
    expect(pick([DEFAULT_IDENTITY.server], false).result).toBeDefined();
    expect(pick([], true).status?.code).toBe(Status.PERMISSION_DENIED);
  });

  it('a tampered ClientFinished is refused by the server', () => {
    const client = new FakeSession();
    const server = new FakeSession();
    const init = client.handle({ clientStart: goodClient() }).outFrames!;
    const back = server.handle({ serverStart: { ...goodServer(), inBytes: init } }).outFrames!;
    const fin = Uint8Array.from(client.handle({ next: { inBytes: back } }).outFrames!);
    fin[fin.length - 1]! ^= 1;
    expect(server.handle({ next: { inBytes: fin } }).status?.code).toBe(Status.PERMISSION_DENIED);
  });

  it('over gRPC: a request that does not decode is answered INVALID_ARGUMENT and ends the stream', async () => {
    const fake = await startFakeHandshaker();
    const client = new grpc.Client(fake.address, grpc.credentials.createInsecure());
    const call = client.makeBidiStreamRequest(DO_HANDSHAKE, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b);
    const got: Buffer[] = [];
    call.on('data', (b: Buffer) => got.push(b));
    const ended = once(call, 'end');
    call.write(Uint8Array.of(0x0a, 0x7f)); // field 1, a length beyond the message
    await ended;
    expect(got.map((b) => decodeHandshakerResp(b).status?.code)).toEqual([Status.INVALID_ARGUMENT]);
    client.close();
    await fake.close();
  });

  it('after the result, the stream takes no more requests', () => {
    const client = new FakeSession();
    const server = new FakeSession();
    const init = client.handle({ clientStart: goodClient() }).outFrames!;
    const back = server.handle({ serverStart: { ...goodServer(), inBytes: init } }).outFrames!;
    expect(client.handle({ next: { inBytes: back } }).result).toBeDefined();
    expect(client.handle({ next: { inBytes: new Uint8Array(1) } }).status?.code).toBe(Status.FAILED_PRECONDITION);
  });
});
