import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcParams, seedTitle } from '../../properties/conn/params.js';
import { AltsError } from '../../src/errors.js';
import { HandshakeError, isHandshakeError } from '../../src/handshake/errors.js';
import { encodeHandshakerResp, type HandshakerResp, type HandshakerResult } from '../../src/handshake/messages.js';
import { Relay, type RelayStep } from '../../src/handshake/relay.js';
import { clientStart, OFFERED_RECORD_PROTOCOLS, APPLICATION_PROTOCOLS, serverStart } from '../../src/handshake/requests.js';
import { commonRpcVersion, compareVersions, RPC_VERSIONS } from '../../src/handshake/result.js';

const policy = { recordProtocols: OFFERED_RECORD_PROTOCOLS, applicationProtocols: APPLICATION_PROTOCOLS, rpcVersions: RPC_VERSIONS, maxFrameSize: 16384 };
const params = { targetServiceAccounts: ['srv@x'], localServiceAccount: 'me@x', maxFrameSize: 16384 };
const client = (maxPeerBytes = 65536) => new Relay({ side: 'client', clientStart: clientStart({ side: 'client', ...params }), maxPeerBytes, policy });
const server = (maxPeerBytes = 65536) => new Relay({ side: 'server', serverStart: serverStart({ side: 'server', ...params }), maxPeerBytes, policy });
const b = (s: string) => new TextEncoder().encode(s);
const resp = (r: HandshakerResp) => encodeHandshakerResp(r);
const goodResult = (over: Partial<HandshakerResult> = {}): HandshakerResult => ({
  applicationProtocol: 'grpc',
  recordProtocol: 'ALTSRP_GCM_AES128_REKEY',
  keyData: Uint8Array.from({ length: 64 }, (_, i) => i + 1),
  peerIdentity: { serviceAccount: 'peer@x', attributes: { a: 'b' } },
  localIdentity: { serviceAccount: 'me@x' },
  peerRpcVersions: RPC_VERSIONS,
  maxFrameSize: 8192,
  ...over,
});

function failed(step: RelayStep | null): HandshakeError {
  expect(step?.op).toBe('failed');
  const e = (step as { error: HandshakeError }).error;
  expect(e).toBeInstanceOf(AltsError);
  expect(e.code).toBe('HANDSHAKE_FAILED');
  return e;
}

/** A client relay that has sent client_start and got back its first frame. */
function clientWaitingForPeer(maxPeerBytes?: number): Relay {
  const r = client(maxPeerBytes);
  r.begin();
  expect(r.response(resp({ outFrames: b('CI') }))).toEqual({ op: 'read', write: Buffer.from('CI') });
  return r;
}

describe('relay: the loop of docs/handshake.md §3', () => {
  it('client: client_start, out_frames to the peer, next with the peer bytes, done with the checked result', () => {
    const r = client();
    const first = r.begin();
    expect(first.op).toBe('send');
    const start = (first as unknown as { request: { clientStart: Record<string, unknown> } }).request.clientStart;
    expect(start).toMatchObject({ handshakeSecurityProtocol: 2, applicationProtocols: ['grpc'], recordProtocols: ['ALTSRP_GCM_AES128_REKEY'] });
    expect(start.targetIdentities).toEqual([{ serviceAccount: 'srv@x' }]);
    expect(start.localIdentity).toEqual({ serviceAccount: 'me@x' });
    expect(start.maxFrameSize).toBe(16384);
    expect(r.state).toBe('service');
    expect(r.response(resp({ outFrames: b('CI') }))).toEqual({ op: 'read', write: Buffer.from('CI') });
    expect(r.state).toBe('peer');
    expect(r.peerBytes(b('SI'))).toEqual({ op: 'send', request: { next: { inBytes: b('SI') } } });
    const key = goodResult().keyData!.slice(0, 44);
    const done = r.response(resp({ outFrames: b('CF'), bytesConsumed: 2, result: goodResult() }));
    expect(done).toMatchObject({ op: 'done', write: Buffer.from('CF'), leftover: new Uint8Array(0) });
    const result = (done as { result: { key: Uint8Array; maxFrameSize: number } }).result;
    expect(result.key).toEqual(key);
    expect(result.maxFrameSize).toBe(8192);
    expect(r.state).toBe('done');
    expect(r.peerBytes(b('x'))).toBeNull();
    expect(r.response(resp({}))).toBeNull();
    expect(r.fail('IO', 'late')).toBeNull();
  });

  it('server: reads first, server_start carries them as in_bytes; bytes the service did not consume are the leftover', () => {
    const r = server();
    expect(r.begin()).toEqual({ op: 'read', write: null });
    const s = r.peerBytes(b('CI')) as { op: string; request: { serverStart: { inBytes: Uint8Array; handshakeParameters: object } } };
    expect(s.op).toBe('send');
    expect(s.request.serverStart.inBytes).toEqual(b('CI'));
    expect(s.request.serverStart.handshakeParameters).toEqual({ 2: { recordProtocols: ['ALTSRP_GCM_AES128_REKEY'], localIdentities: [{ serviceAccount: 'me@x' }] } });
    expect(r.response(resp({ outFrames: b('SISF'), bytesConsumed: 2 }))).toEqual({ op: 'read', write: Buffer.from('SISF') });
    // The client's last handshake frame and its first record frame in one read.
    expect(r.peerBytes(b('CFrecord'))).toEqual({ op: 'send', request: { next: { inBytes: b('CFrecord') } } });
    const done = r.response(resp({ bytesConsumed: 2, result: goodResult() }));
    expect(done).toMatchObject({ op: 'done', write: null, leftover: b('record') });
  });

  it('bytes a response does not consume go again, in front of the next peer bytes (frames split across reads)', () => {
    const r = clientWaitingForPeer();
    r.peerBytes(b('SIS'));
    expect(r.response(resp({ bytesConsumed: 1 }))).toEqual({ op: 'read', write: null });
    expect(r.peerBytes(b('F'))).toEqual({ op: 'send', request: { next: { inBytes: b('ISF') } } });
  });

  it('a peer that announced no frame size is written 16 KiB frames (at most ours); one that announced is clamped to 4 KiB..ours', () => {
    const done = (over: Partial<HandshakerResult>, ours = 16384) => {
      const r = new Relay({ side: 'client', clientStart: clientStart({ side: 'client', ...params }), maxPeerBytes: 100, policy: { ...policy, maxFrameSize: ours } });
      r.begin();
      return (r.response(resp({ result: goodResult(over) })) as { result: { maxFrameSize: number } }).result.maxFrameSize;
    };
    expect(done({ maxFrameSize: 0 })).toBe(16384);
    expect(done({ maxFrameSize: 0 }, 4096)).toBe(4096);
    expect(done({ maxFrameSize: 1 << 20 }, 65536)).toBe(65536);
    expect(done({ maxFrameSize: 1000 })).toBe(4096);
  });
});

describe('relay: every failure is HANDSHAKE_FAILED with a reason and a fault', () => {
  const atResult = (over: Partial<HandshakerResult>) => {
    const r = client();
    r.begin();
    return failed(r.response(resp({ result: goodResult(over) })));
  };

  it('a key shorter than the record protocol needs: SHORT_KEY, local', () => {
    const e = atResult({ keyData: new Uint8Array(43) });
    expect([e.reason, e.fault]).toEqual(['SHORT_KEY', 'local']);
  });

  it('a record protocol we did not offer (or none): UNKNOWN_RECORD_PROTOCOL', () => {
    expect(atResult({ recordProtocol: 'ALTSRP_GCM_AES128' }).reason).toBe('UNKNOWN_RECORD_PROTOCOL');
    expect(atResult({ recordProtocol: undefined }).reason).toBe('UNKNOWN_RECORD_PROTOCOL');
  });

  it('an application protocol other than grpc (or none): APPLICATION_PROTOCOL', () => {
    expect(atResult({ applicationProtocol: 'h2' }).reason).toBe('APPLICATION_PROTOCOL');
    expect(atResult({ applicationProtocol: undefined }).reason).toBe('APPLICATION_PROTOCOL');
  });

  it('no peer identity, or an empty one: NO_PEER_IDENTITY', () => {
    expect(atResult({ peerIdentity: undefined }).reason).toBe('NO_PEER_IDENTITY');
    expect(atResult({ peerIdentity: { attributes: { a: 'b' } } }).reason).toBe('NO_PEER_IDENTITY');
  });

  it('peer RPC versions without a lower bound: accepted, the bound read as 0.0 so both are always there', () => {
    const r = client();
    r.begin();
    const done = r.response(resp({ result: goodResult({ peerRpcVersions: { maxRpcVersion: { major: 2, minor: 1 } } }) }));
    expect(done).toMatchObject({ op: 'done', result: { peerRpcVersions: { maxRpcVersion: { major: 2, minor: 1 }, minRpcVersion: { major: 0, minor: 0 } } } });
  });

  it('peer RPC versions with nothing in common, or none: RPC_VERSIONS, peer', () => {
    const e = atResult({ peerRpcVersions: { maxRpcVersion: { major: 3, minor: 0 }, minRpcVersion: { major: 2, minor: 2 } } });
    expect([e.reason, e.fault]).toEqual(['RPC_VERSIONS', 'peer']);
    expect(atResult({ peerRpcVersions: undefined }).reason).toBe('RPC_VERSIONS');
  });

  it('a status that is not OK on client_start (no peer bytes): SERVICE_STATUS, local, the status as an Error cause', () => {
    const r = client();
    r.begin();
    const e = failed(r.response(resp({ status: { code: 3, details: 'bad frame' }, outFrames: b('x') })));
    expect([e.reason, e.fault]).toEqual(['SERVICE_STATUS', 'local']);
    expect(e.cause).toBeInstanceOf(Error);
    expect(e.cause).toMatchObject({ code: 3, details: 'bad frame' });
  });

  it('a status that is not OK on the peer\'s bytes: SERVICE_STATUS, peer', () => {
    const r = clientWaitingForPeer();
    r.peerBytes(b('hello'));
    const e = failed(r.response(resp({ status: { code: 3 } })));
    expect([e.reason, e.fault]).toEqual(['SERVICE_STATUS', 'peer']);
    expect(e.cause).toMatchObject({ code: 3, details: '' });
  });

  it('bytes_consumed beyond the bytes sent: BYTES_CONSUMED (client_start sends none)', () => {
    const r = client();
    r.begin();
    expect(failed(r.response(resp({ bytesConsumed: 1 }))).reason).toBe('BYTES_CONSUMED');
    const s = server();
    s.begin();
    s.peerBytes(b('abc'));
    expect(failed(s.response(resp({ bytesConsumed: 4 }))).reason).toBe('BYTES_CONSUMED');
  });

  it('a response that does not decode: BAD_RESPONSE', () => {
    const r = client();
    r.begin();
    expect(failed(r.response(Uint8Array.of(0x0a, 0x09))).reason).toBe('BAD_RESPONSE');
  });

  it('the peer ends mid-handshake: PEER_CLOSED, peer', () => {
    const e = failed(clientWaitingForPeer().peerEnded());
    expect([e.reason, e.fault]).toEqual(['PEER_CLOSED', 'peer']);
  });

  it('the peer sends more than maxPeerBytes before a result: PEER_FLOOD, and readLimit never lets a driver read past it', () => {
    const r = clientWaitingForPeer(10);
    expect(r.readLimit).toBe(10);
    r.peerBytes(b('0123456'));
    expect(r.readLimit).toBe(0); // with the service
    r.response(resp({ bytesConsumed: 7 }));
    expect(r.readLimit).toBe(3);
    expect(failed(r.peerBytes(b('7890'))).reason).toBe('PEER_FLOOD');
    const full = clientWaitingForPeer(3);
    full.peerBytes(b('abc'));
    const e = failed(full.response(resp({ bytesConsumed: 3 })));
    expect([e.reason, e.fault]).toEqual(['PEER_FLOOD', 'peer']);
  });

  it('the deadline blames whom the relay waits for', () => {
    const p = failed(clientWaitingForPeer().timedOut(5));
    expect([p.reason, p.fault]).toEqual(['TIMEOUT', 'peer']);
    const r = client();
    r.begin();
    const s = failed(r.timedOut(5));
    expect([s.reason, s.fault]).toEqual(['TIMEOUT', 'local']);
    expect(r.timedOut(5)).toBeNull();
  });

  it('external failures keep their cause and reason; the first one wins', () => {
    const r = client();
    r.begin();
    const cause = new Error('unavailable');
    const e = failed(r.fail('SERVICE_UNREACHABLE', 'down', cause));
    expect(e.cause).toBe(cause);
    expect(isHandshakeError(e, 'SERVICE_UNREACHABLE')).toBe(true);
    expect(r.fail('CANCELLED', 'later')).toBeNull();
    expect(r.state).toBe('failed');
    expect(r.response(resp({}))).toBeNull();
    expect(r.peerEnded()).toBeNull();
  });

  it('misuse by the driver throws (an input out of turn is a bug, not a peer failure)', () => {
    const r = client();
    expect(() => r.peerBytes(b('x'))).toThrow(/state 'new'/);
    r.begin();
    expect(() => r.begin()).toThrow(Error);
    expect(() => r.peerBytes(b('x'))).toThrow(/state 'service'/);
    const w = clientWaitingForPeer();
    expect(() => w.peerBytes(new Uint8Array(0))).toThrow(RangeError);
    expect(() => new Relay({ side: 'server', maxPeerBytes: 1, policy })).toThrow(TypeError);
  });

  it('a response out of turn is the service\'s failure (BAD_RESPONSE), not a throw', () => {
    const w = clientWaitingForPeer();
    expect(w.response(resp({}))).toMatchObject({ op: 'failed', error: { reason: 'BAD_RESPONSE', fault: 'local' } });
    expect(w.state).toBe('failed');
    expect(client().response(resp({}))).toMatchObject({ op: 'failed', error: { reason: 'BAD_RESPONSE' } });
  });

  it('the key is copied out and key_data zeroed', () => {
    const r = client();
    r.begin();
    const raw = resp({ result: goodResult() });
    const done = r.response(raw) as { result: { key: Uint8Array } };
    expect(done.result.key).toEqual(Uint8Array.from({ length: 44 }, (_, i) => i + 1));
    // key_data was decoded as a view into `raw`: no byte of the key is left there
    expect(Buffer.from(raw).includes(Buffer.from(done.result.key.subarray(0, 8)))).toBe(false);
  });
});

describe('RPC versions: grpc-go\'s checkRPCVersions rule', () => {
  const v = (major: number, minor: number) => ({ major, minor });
  const range = (min: [number, number], max: [number, number]) => ({ minRpcVersion: v(...min), maxRpcVersion: v(...max) });

  it('compares major, then minor; an absent field is 0', () => {
    expect(compareVersions(v(2, 1), v(2, 1))).toBe(0);
    expect(compareVersions(v(2, 0), v(1, 9))).toBe(1);
    expect(compareVersions(v(2, 0), v(2, 1))).toBe(-1);
    expect(compareVersions(undefined, { minor: 0 })).toBe(0);
    expect(compareVersions({ major: 1 }, undefined)).toBe(1);
  });

  it('compatible when min(local.max, peer.max) >= max(local.min, peer.min): the common maximum', () => {
    expect(commonRpcVersion(range([2, 1], [2, 1]), range([2, 1], [2, 1]))).toEqual(v(2, 1));
    expect(commonRpcVersion(range([2, 0], [3, 0]), range([2, 1], [2, 5]))).toEqual(v(2, 5));
    expect(commonRpcVersion(range([2, 1], [2, 1]), range([1, 0], [3, 0]))).toEqual(v(2, 1));
    expect(commonRpcVersion(range([2, 1], [2, 1]), range([2, 2], [3, 0]))).toBeNull();
    expect(commonRpcVersion(range([2, 1], [2, 1]), range([1, 0], [2, 0]))).toBeNull();
    expect(commonRpcVersion(range([2, 1], [2, 1]), undefined)).toBeNull();
    expect(commonRpcVersion(range([2, 1], [2, 1]), {})).toBeNull();
  });
});

describe(`relay: any service, any peer (${seedTitle()})`, () => {
  const version = fc.record({ major: fc.nat(3), minor: fc.nat(3) }, { requiredKeys: [] });
  const good = fc.constant({ ...goodResult(), keyData: new Uint8Array(44).fill(9) });
  const anyResult = fc.record(
    {
      applicationProtocol: fc.constantFrom('grpc', 'h2', ''),
      recordProtocol: fc.constantFrom('ALTSRP_GCM_AES128_REKEY', 'ALTSRP_GCM_AES128', 'x'),
      keyData: fc.uint8Array({ maxLength: 80 }),
      peerIdentity: fc.oneof(fc.record({ serviceAccount: fc.string({ maxLength: 3 }) }), fc.record({ hostname: fc.string({ maxLength: 3 }) }), fc.constant({})),
      peerRpcVersions: fc.record({ maxRpcVersion: version, minRpcVersion: version }, { requiredKeys: [] }),
      maxFrameSize: fc.nat(2 << 20),
    },
    { requiredKeys: [] },
  );
  const result = fc.oneof(good, anyResult);
  const response = fc.record(
    {
      outFrames: fc.uint8Array({ maxLength: 8 }),
      bytesConsumed: fc.nat(12),
      result,
      status: fc.record({ code: fc.nat(16), details: fc.string({ maxLength: 4 }) }, { requiredKeys: [] }),
    },
    { requiredKeys: [] },
  );

  it('property: every step is one of the four, every failure HANDSHAKE_FAILED, a done key is 44 bytes and its leftover a suffix of what was sent', () => {
    const ends: Record<string, number> = { new: 0, service: 0, peer: 0, done: 0, failed: 0 };
    const params = fcParams(300);
    fc.assert(
      fc.property(fc.constantFrom('client', 'server'), fc.array(fc.tuple(response, fc.uint8Array({ minLength: 1, maxLength: 8 })), { maxLength: 12 }), (side, script) => {
        const r = side === 'client' ? client(40) : server(40);
        let step: RelayStep | null = r.begin();
        let sent: Uint8Array = new Uint8Array(0);
        for (const [resp, peer] of script) {
          if (step === null || step.op === 'done' || step.op === 'failed') break;
          if (step.op === 'read') {
            step = r.peerBytes(peer.subarray(0, Math.min(peer.length, r.readLimit)));
            if (step?.op === 'send') sent = (step.request.next?.inBytes ?? step.request.serverStart?.inBytes)!;
            continue;
          }
          step = r.response(encodeHandshakerResp(resp));
          if (step?.op === 'done') {
            expect(step.result.key.length).toBe(44);
            expect(step.result.maxFrameSize).toBeGreaterThanOrEqual(4096);
            expect(step.result.maxFrameSize).toBeLessThanOrEqual(16384);
            expect(Buffer.from(sent).subarray(sent.length - step.leftover.length)).toEqual(Buffer.from(step.leftover));
          }
          if (step?.op === 'failed') expect(step.error.code).toBe('HANDSHAKE_FAILED');
        }
        expect(['new', 'service', 'peer', 'done', 'failed']).toContain(r.state);
        ends[r.state]++;
      }),
      params,
    );
    // A full run reaches both ends, not only failures (a replay of one path need not).
    if (params.path === undefined && params.numRuns! >= 100) {
      expect(ends.done).toBeGreaterThan(0);
      expect(ends.failed).toBeGreaterThan(0);
    }
  });
});
