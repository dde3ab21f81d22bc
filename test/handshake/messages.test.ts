import { describe, expect, it } from 'vitest';
import {
  decodeAltsContext,
  decodeHandshakerReq,
  decodeHandshakerResp,
  encodeAltsContext,
  encodeHandshakerReq,
  encodeHandshakerResp,
  HandshakeProtocol,
  type HandshakerReq,
  type HandshakerResp,
} from '../../src/handshake/messages.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (...v: number[]): Uint8Array => Uint8Array.from(v);

describe('grpc.gcp messages: encodings pinned to hand-computed bytes (field numbers are the contract)', () => {
  it('next.in_bytes is HandshakerReq field 3, NextHandshakeMessageReq field 1', () => {
    // 0x1a = field 3 LEN, 0x0a = field 1 LEN
    expect(hex(encodeHandshakerReq({ next: { inBytes: bytes(1, 2, 3) } }))).toBe('1a050a03010203');
  });

  it('client_start: security protocol field 1, max_frame_size field 10 (tag 0x50)', () => {
    const b = encodeHandshakerReq({ clientStart: { handshakeSecurityProtocol: HandshakeProtocol.ALTS, maxFrameSize: 16384 } });
    expect(hex(b)).toBe('0a06' + '0802' + '50808001');
  });

  it('client_start: target_name field 8, rpc_versions field 9 with max 1 / min 2 and major 1 / minor 2', () => {
    const b = encodeHandshakerReq({
      clientStart: { targetName: 'x', rpcVersions: { maxRpcVersion: { major: 2, minor: 1 }, minRpcVersion: { major: 2, minor: 1 } } },
    });
    // 42 01 78 = field 8 "x"; 4a 0c = field 9, 0a 04 (08 02 10 01) twice (field 1 then 12 = field 2)
    expect(hex(b)).toBe('0a11' + '420178' + '4a0c' + '0a0408021001' + '120408021001');
  });

  it('server_start: handshake_parameters is a map<int32, ServerHandshakeParameters> at field 2, in_bytes field 3', () => {
    const b = encodeHandshakerReq({ serverStart: { handshakeParameters: { 2: { recordProtocols: ['X'] } }, inBytes: bytes(0xff) } });
    // map entry: key (08 02), value (12 03 0a 01 58); then 1a 01 ff
    expect(hex(b)).toBe('120c' + '1207' + '0802' + '12030a0158' + '1a01ff');
  });

  it('HandshakerResp: out_frames 1, bytes_consumed 2, result 3 (max_frame_size 8, hostname 2), status 4', () => {
    const b = encodeHandshakerResp({
      outFrames: bytes(0x61, 0x62),
      bytesConsumed: 300,
      result: { peerIdentity: { hostname: 'h' }, maxFrameSize: 4096 },
      status: { code: 3, details: 'd' },
    });
    expect(hex(b)).toBe('0a026162' + '10ac02' + '1a08' + '2203120168' + '408020' + '2205' + '0803' + '120164');
  });

  it('AltsContext: peer_service_account 4, peer_attributes map at 7', () => {
    const b = encodeAltsContext({ peerServiceAccount: 'p', peerAttributes: { k: 'v' } });
    expect(hex(b)).toBe('220170' + '3a06' + '0a016b' + '120176');
  });
});

describe('grpc.gcp messages: round trips', () => {
  it('a full client_start survives encode/decode', () => {
    const req: HandshakerReq = {
      clientStart: {
        handshakeSecurityProtocol: 2,
        applicationProtocols: ['grpc'],
        recordProtocols: ['ALTSRP_GCM_AES128_REKEY'],
        targetIdentities: [{ serviceAccount: 'a@x' }, { hostname: 'b.example', attributes: { k: 'v' } }],
        localIdentity: { serviceAccount: 'me@x' },
        localEndpoint: { ipAddress: '127.0.0.1', port: 1, protocol: 1 },
        remoteEndpoint: { ipAddress: '::1', port: 65535, protocol: 2 },
        targetName: 'svc',
        rpcVersions: { maxRpcVersion: { major: 2, minor: 1 }, minRpcVersion: { major: 2, minor: 1 } },
        maxFrameSize: 1048576,
      },
    };
    expect(decodeHandshakerReq(encodeHandshakerReq(req))).toEqual(req);
  });

  it('server_start and next survive encode/decode (map keys come back as strings)', () => {
    const req: HandshakerReq = {
      serverStart: {
        applicationProtocols: ['grpc'],
        handshakeParameters: { 2: { recordProtocols: ['ALTSRP_GCM_AES128_REKEY'], localIdentities: [{ serviceAccount: 's@x' }] } },
        inBytes: bytes(1, 2, 3),
        rpcVersions: { maxRpcVersion: { major: 2, minor: 1 }, minRpcVersion: { major: 2, minor: 1 } },
        maxFrameSize: 16384,
      },
    };
    const back = decodeHandshakerReq(encodeHandshakerReq(req));
    expect(Object.keys(back.serverStart!.handshakeParameters!)).toEqual(['2']);
    expect(back).toEqual({ serverStart: { ...req.serverStart, inBytes: Buffer.from([1, 2, 3]) } });
    expect(decodeHandshakerReq(encodeHandshakerReq({ next: { inBytes: bytes(9) } }))).toEqual({ next: { inBytes: Buffer.from([9]) } });
  });

  it('a HandshakerResp with a result survives encode/decode', () => {
    const resp: HandshakerResp = {
      outFrames: bytes(1),
      bytesConsumed: 7,
      result: {
        applicationProtocol: 'grpc',
        recordProtocol: 'ALTSRP_GCM_AES128_REKEY',
        keyData: new Uint8Array(64).fill(7),
        peerIdentity: { serviceAccount: 'p@x', attributes: { a: 'b' } },
        localIdentity: { hostname: 'l' },
        keepChannelOpen: true,
        peerRpcVersions: { maxRpcVersion: { major: 2, minor: 1 }, minRpcVersion: { major: 2, minor: 0 } },
        maxFrameSize: 16384,
      },
      status: { code: 0, details: '' },
    };
    const back = decodeHandshakerResp(encodeHandshakerResp(resp));
    expect(back.result!.keyData).toEqual(Buffer.from(resp.result!.keyData!));
    expect({ ...back, outFrames: [...back.outFrames!], result: { ...back.result, keyData: null } }).toEqual({
      ...resp,
      outFrames: [1],
      result: { ...resp.result, keyData: null },
    });
  });

  it('AltsContext survives encode/decode', () => {
    const c = { applicationProtocol: 'grpc', recordProtocol: 'ALTSRP_GCM_AES128_REKEY', securityLevel: 2, peerServiceAccount: 'p', localServiceAccount: 'l' };
    expect(decodeAltsContext(encodeAltsContext(c))).toEqual(c);
  });

  it('decoding skips unknown fields (a newer service) and rejects malformed bytes', () => {
    // field 1 (out_frames "a"), then an unknown field 15 varint 1
    expect(decodeHandshakerResp(bytes(0x0a, 0x01, 0x61, 0x78, 0x01))).toEqual({ outFrames: Buffer.from('a') });
    expect(() => decodeHandshakerResp(bytes(0x0a, 0x05, 0x61))).toThrow(); // length beyond the input
  });

  it('encoding refuses a value of the wrong type', () => {
    expect(() => encodeHandshakerReq({ next: { inBytes: 5 as unknown as Uint8Array } })).toThrow(TypeError);
  });
});
