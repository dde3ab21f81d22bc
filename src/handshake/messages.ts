/**
 * The grpc.gcp handshaker-service messages (docs/handshake.md §2), written from their field
 * numbers: the numbers are the wire contract, the names here are ours (camelCase). Encoding
 * and decoding are protobufjs's reflection codec over a descriptor built in code, so no .proto
 * file or generated code ships. Decoding skips unknown fields, as proto3 requires: newer
 * services add fields (access tokens, transport preferences) that a 2.1 client never reads.
 * @module
 */
import protobuf from 'protobufjs/light.js';

export const HandshakeProtocol = { UNSPECIFIED: 0, TLS: 1, ALTS: 2 } as const;
export const NetworkProtocol = { UNSPECIFIED: 0, TCP: 1, UDP: 2 } as const;
export const SecurityLevel = { SECURITY_NONE: 0, INTEGRITY_ONLY: 1, INTEGRITY_AND_PRIVACY: 2 } as const;

export interface Endpoint {
  ipAddress?: string;
  port?: number;
  protocol?: number;
}
/** One of serviceAccount / hostname (a oneof on the wire). */
export interface Identity {
  serviceAccount?: string;
  hostname?: string;
  attributes?: Record<string, string>;
}
export interface Version {
  major?: number;
  minor?: number;
}
export interface RpcProtocolVersions {
  maxRpcVersion?: Version;
  minRpcVersion?: Version;
}
export interface StartClientHandshakeReq {
  handshakeSecurityProtocol?: number;
  applicationProtocols?: string[];
  recordProtocols?: string[];
  targetIdentities?: Identity[];
  localIdentity?: Identity;
  localEndpoint?: Endpoint;
  remoteEndpoint?: Endpoint;
  targetName?: string;
  rpcVersions?: RpcProtocolVersions;
  maxFrameSize?: number;
}
export interface ServerHandshakeParameters {
  recordProtocols?: string[];
  localIdentities?: Identity[];
}
export interface StartServerHandshakeReq {
  applicationProtocols?: string[];
  /** Keyed by HandshakeProtocol number (ALTS = 2); decoded keys are strings, as in JSON. */
  handshakeParameters?: Record<string, ServerHandshakeParameters>;
  inBytes?: Uint8Array;
  localEndpoint?: Endpoint;
  remoteEndpoint?: Endpoint;
  rpcVersions?: RpcProtocolVersions;
  maxFrameSize?: number;
}
export interface NextHandshakeMessageReq {
  inBytes?: Uint8Array;
}
/** Exactly one of the three is set (a oneof on the wire). */
export interface HandshakerReq {
  clientStart?: StartClientHandshakeReq;
  serverStart?: StartServerHandshakeReq;
  next?: NextHandshakeMessageReq;
}
export interface HandshakerResult {
  applicationProtocol?: string;
  recordProtocol?: string;
  keyData?: Uint8Array;
  peerIdentity?: Identity;
  localIdentity?: Identity;
  keepChannelOpen?: boolean;
  peerRpcVersions?: RpcProtocolVersions;
  maxFrameSize?: number;
}
export interface HandshakerStatus {
  /** A gRPC status code; absent means OK. */
  code?: number;
  details?: string;
}
export interface HandshakerResp {
  outFrames?: Uint8Array;
  bytesConsumed?: number;
  result?: HandshakerResult;
  status?: HandshakerStatus;
}
/** grpc.gcp.AltsContext: what a stack exposes about an established connection. */
export interface AltsContextMessage {
  applicationProtocol?: string;
  recordProtocol?: string;
  securityLevel?: number;
  peerServiceAccount?: string;
  localServiceAccount?: string;
  peerRpcVersions?: RpcProtocolVersions;
  peerAttributes?: Record<string, string>;
}

type Fields = Record<string, { id: number; type: string; rule?: 'repeated'; keyType?: string }>;
const msg = (fields: Fields, oneofs?: Record<string, { oneof: string[] }>) => (oneofs ? { fields, oneofs } : { fields });
const f = (id: number, type: string) => ({ id, type });
const rep = (id: number, type: string) => ({ id, type, rule: 'repeated' as const });
const map = (id: number, keyType: string, type: string) => ({ id, type, keyType });

// docs/handshake.md §2: field numbers from grpc-proto's grpc/gcp/{handshaker,transport_security_common,altscontext}.proto.
const descriptor = {
  nested: {
    grpc: {
      nested: {
        gcp: {
          nested: {
            HandshakeProtocol: { values: { HANDSHAKE_PROTOCOL_UNSPECIFIED: 0, TLS: 1, ALTS: 2 } },
            NetworkProtocol: { values: { NETWORK_PROTOCOL_UNSPECIFIED: 0, TCP: 1, UDP: 2 } },
            SecurityLevel: { values: { SECURITY_NONE: 0, INTEGRITY_ONLY: 1, INTEGRITY_AND_PRIVACY: 2 } },
            Endpoint: msg({ ipAddress: f(1, 'string'), port: f(2, 'int32'), protocol: f(3, 'NetworkProtocol') }),
            Identity: msg(
              { serviceAccount: f(1, 'string'), hostname: f(2, 'string'), attributes: map(3, 'string', 'string') },
              { identityOneof: { oneof: ['serviceAccount', 'hostname'] } },
            ),
            RpcProtocolVersions: {
              fields: { maxRpcVersion: f(1, 'Version'), minRpcVersion: f(2, 'Version') },
              nested: { Version: msg({ major: f(1, 'uint32'), minor: f(2, 'uint32') }) },
            },
            StartClientHandshakeReq: msg({
              handshakeSecurityProtocol: f(1, 'HandshakeProtocol'),
              applicationProtocols: rep(2, 'string'),
              recordProtocols: rep(3, 'string'),
              targetIdentities: rep(4, 'Identity'),
              localIdentity: f(5, 'Identity'),
              localEndpoint: f(6, 'Endpoint'),
              remoteEndpoint: f(7, 'Endpoint'),
              targetName: f(8, 'string'),
              rpcVersions: f(9, 'RpcProtocolVersions'),
              maxFrameSize: f(10, 'uint32'),
            }),
            ServerHandshakeParameters: msg({ recordProtocols: rep(1, 'string'), localIdentities: rep(2, 'Identity') }),
            StartServerHandshakeReq: msg({
              applicationProtocols: rep(1, 'string'),
              handshakeParameters: map(2, 'int32', 'ServerHandshakeParameters'),
              inBytes: f(3, 'bytes'),
              localEndpoint: f(4, 'Endpoint'),
              remoteEndpoint: f(5, 'Endpoint'),
              rpcVersions: f(6, 'RpcProtocolVersions'),
              maxFrameSize: f(7, 'uint32'),
            }),
            NextHandshakeMessageReq: msg({ inBytes: f(1, 'bytes') }),
            HandshakerReq: msg(
              { clientStart: f(1, 'StartClientHandshakeReq'), serverStart: f(2, 'StartServerHandshakeReq'), next: f(3, 'NextHandshakeMessageReq') },
              { reqOneof: { oneof: ['clientStart', 'serverStart', 'next'] } },
            ),
            HandshakerResult: msg({
              applicationProtocol: f(1, 'string'),
              recordProtocol: f(2, 'string'),
              keyData: f(3, 'bytes'),
              peerIdentity: f(4, 'Identity'),
              localIdentity: f(5, 'Identity'),
              keepChannelOpen: f(6, 'bool'),
              peerRpcVersions: f(7, 'RpcProtocolVersions'),
              maxFrameSize: f(8, 'uint32'),
            }),
            HandshakerStatus: msg({ code: f(1, 'uint32'), details: f(2, 'string') }),
            HandshakerResp: msg({
              outFrames: f(1, 'bytes'),
              bytesConsumed: f(2, 'uint32'),
              result: f(3, 'HandshakerResult'),
              status: f(4, 'HandshakerStatus'),
            }),
            AltsContext: msg({
              applicationProtocol: f(1, 'string'),
              recordProtocol: f(2, 'string'),
              securityLevel: f(3, 'SecurityLevel'),
              peerServiceAccount: f(4, 'string'),
              localServiceAccount: f(5, 'string'),
              peerRpcVersions: f(6, 'RpcProtocolVersions'),
              peerAttributes: map(7, 'string', 'string'),
            }),
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
const type = (name: string): protobuf.Type => root.lookupType(`grpc.gcp.${name}`);
const TYPES = {
  HandshakerReq: type('HandshakerReq'),
  HandshakerResp: type('HandshakerResp'),
  AltsContext: type('AltsContext'),
};
// Decoded objects: bytes are Buffers, uint32 stay numbers, unset fields absent.
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, defaults: false };

function encode(t: protobuf.Type, value: object): Uint8Array {
  const err = t.verify(value);
  if (err !== null) throw new TypeError(`${t.name}: ${err}`);
  return t.encode(t.fromObject(value)).finish();
}

function decode<T>(t: protobuf.Type, bytes: Uint8Array): T {
  // As a Buffer, so every bytes field decodes to a Buffer (a view into `bytes`), whatever came in.
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return t.toObject(t.decode(b), TO_OBJECT) as T;
}

export const encodeHandshakerReq = (m: HandshakerReq): Uint8Array => encode(TYPES.HandshakerReq, m);
/** Throws (protobufjs's Error) on bytes that are not a HandshakerReq. */
export const decodeHandshakerReq = (b: Uint8Array): HandshakerReq => decode(TYPES.HandshakerReq, b);
export const encodeHandshakerResp = (m: HandshakerResp): Uint8Array => encode(TYPES.HandshakerResp, m);
/** Throws (protobufjs's Error) on bytes that are not a HandshakerResp. */
export const decodeHandshakerResp = (b: Uint8Array): HandshakerResp => decode(TYPES.HandshakerResp, b);
export const encodeAltsContext = (m: AltsContextMessage): Uint8Array => encode(TYPES.AltsContext, m);
export const decodeAltsContext = (b: Uint8Array): AltsContextMessage => decode(TYPES.AltsContext, b);
