/**
 * Checking a HandshakerResult before its key is used (docs/handshake.md §4): the key's length,
 * the record and application protocols, the peer's identity and RPC versions, and the frame
 * size this side writes. Pure: no I/O.
 * @module
 */
import type { RecordProtocol } from '../crypto/types.js';
import { MAX_MAX_FRAME_SIZE, MIN_MAX_FRAME_SIZE } from '../record/constants.js';
import { HandshakeError } from './errors.js';
import type { HandshakerResult, Identity, RpcProtocolVersions, Version } from './messages.js';

/** Key bytes per record protocol: the first that many bytes of key_data are the key. */
export const KEY_LENGTH: Readonly<Record<RecordProtocol, number>> = { ALTSRP_GCM_AES128: 16, ALTSRP_GCM_AES128_REKEY: 44 };
/** The frame size a peer that announces none is written (docs/handshake.md §4). */
export const UNANNOUNCED_FRAME_SIZE = 16 * 1024;
/** Our RPC protocol versions: 2.1..2.1, as every gRPC stack sends. */
export const RPC_VERSIONS: RpcProtocolVersions = { maxRpcVersion: { major: 2, minor: 1 }, minRpcVersion: { major: 2, minor: 1 } };

/** A version with both numbers: an absent one is 0, as proto3 reads it. */
export interface CheckedVersion {
  major: number;
  minor: number;
}

/** The peer's RPC versions once checked: both ends of the range present. */
export interface PeerRpcVersions {
  maxRpcVersion: CheckedVersion;
  minRpcVersion: CheckedVersion;
}

const checkedVersion = (v: Version | undefined): CheckedVersion => ({ major: v?.major ?? 0, minor: v?.minor ?? 0 });

export interface CheckedResult {
  recordProtocol: RecordProtocol;
  /** Exactly KEY_LENGTH[recordProtocol] bytes, our own copy. */
  key: Uint8Array;
  applicationProtocol: string;
  /** The whole-frame size this side writes (docs/handshake.md §4). */
  maxFrameSize: number;
  peerIdentity: Identity;
  localIdentity: Identity | null;
  peerRpcVersions: PeerRpcVersions;
}

export interface ResultPolicy {
  /** The record protocols we offered. */
  recordProtocols: readonly RecordProtocol[];
  /** The application protocols we offered. */
  applicationProtocols: readonly string[];
  rpcVersions: RpcProtocolVersions;
  /** The frame size we announced. */
  maxFrameSize: number;
  /** Client: the accounts the server may run as (empty: any the service accepts). */
  targetServiceAccounts?: readonly string[];
}

/** -1, 0, 1 as a is below, equal to, above b (major, then minor; absent = 0). */
export function compareVersions(a: Version | undefined, b: Version | undefined): number {
  const d = (a?.major ?? 0) - (b?.major ?? 0) || (a?.minor ?? 0) - (b?.minor ?? 0);
  return Math.sign(d);
}

/**
 * grpc-go's checkRPCVersions (credentials/alts/alts.go): compatible when
 * min(local.max, peer.max) >= max(local.min, peer.min); returns that highest common version,
 * or null. A missing peer range is incompatible.
 */
export function commonRpcVersion(local: RpcProtocolVersions, peer: RpcProtocolVersions | undefined): Version | null {
  if (peer === undefined) return null;
  const max = compareVersions(local.maxRpcVersion, peer.maxRpcVersion) > 0 ? peer.maxRpcVersion : local.maxRpcVersion;
  const min = compareVersions(local.minRpcVersion, peer.minRpcVersion) > 0 ? local.minRpcVersion : peer.minRpcVersion;
  return compareVersions(max, min) < 0 ? null : { major: max?.major ?? 0, minor: max?.minor ?? 0 };
}

/** docs/handshake.md §4: clamp(min(peer, ours), 4 KiB, 1 MiB); a peer that announced none: min(ours, 16 KiB). */
export function negotiatedFrameSize(peer: number | undefined, ours: number): number {
  if (!peer) return Math.min(ours, UNANNOUNCED_FRAME_SIZE);
  return Math.max(MIN_MAX_FRAME_SIZE, Math.min(peer, ours, MAX_MAX_FRAME_SIZE));
}

const hasIdentity = (id: Identity | undefined): id is Identity => !!(id && (id.serviceAccount || id.hostname));

/** The checked result, or the HandshakeError that refuses it. Zeroes `r.keyData` once copied. */
export function checkResult(r: HandshakerResult, p: ResultPolicy): CheckedResult | HandshakeError {
  const protocol = p.recordProtocols.find((x) => x === r.recordProtocol);
  if (protocol === undefined) return new HandshakeError('UNKNOWN_RECORD_PROTOCOL', `the service chose record protocol '${r.recordProtocol ?? ''}', not one offered`);
  const keyLen = KEY_LENGTH[protocol];
  const keyData = r.keyData ?? new Uint8Array(0);
  if (keyData.length < keyLen) return new HandshakeError('SHORT_KEY', `${protocol} needs ${keyLen} key bytes, the service returned ${keyData.length}`);
  if (r.applicationProtocol === undefined || !p.applicationProtocols.includes(r.applicationProtocol))
    return new HandshakeError('APPLICATION_PROTOCOL', `the service chose application protocol '${r.applicationProtocol ?? ''}', not one offered`);
  if (!hasIdentity(r.peerIdentity)) return new HandshakeError('NO_PEER_IDENTITY', 'the result names no peer identity');
  // The service checks the targets too; checking its answer here means a service that says OK
  // for another account still cannot hand us a connection to it.
  const targets = p.targetServiceAccounts ?? [];
  if (targets.length > 0 && !targets.includes(r.peerIdentity.serviceAccount ?? ''))
    return new HandshakeError('PEER_IDENTITY', `the service accepted peer '${r.peerIdentity.serviceAccount ?? r.peerIdentity.hostname ?? ''}', not one of the target service accounts`);
  if (commonRpcVersion(p.rpcVersions, r.peerRpcVersions) === null) return new HandshakeError('RPC_VERSIONS', 'the peer shares no RPC protocol version with us');
  const key = new Uint8Array(keyData.subarray(0, keyLen)); // a copy (Buffer#slice would be a view)
  keyData.fill(0);
  return {
    recordProtocol: protocol,
    key,
    applicationProtocol: r.applicationProtocol,
    maxFrameSize: negotiatedFrameSize(r.maxFrameSize, p.maxFrameSize),
    peerIdentity: r.peerIdentity,
    localIdentity: r.localIdentity ?? null,
    // commonRpcVersion refused a result without them; an absent bound reads as 0.0.
    peerRpcVersions: { maxRpcVersion: checkedVersion(r.peerRpcVersions!.maxRpcVersion), minRpcVersion: checkedVersion(r.peerRpcVersions!.minRpcVersion) },
  };
}
