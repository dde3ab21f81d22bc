/**
 * The start requests a side sends the handshaker service (docs/handshake.md §3), as grpc-go
 * 1.33.3 builds them, plus the max_frame_size it leaves out.
 * @module
 */
import type { RecordProtocol, Side } from '../crypto/types.js';
import { HandshakeProtocol, type Identity, type StartClientHandshakeReq, type StartServerHandshakeReq } from './messages.js';
import { RPC_VERSIONS } from './result.js';

export const APPLICATION_PROTOCOLS: readonly string[] = ['grpc'];
export const OFFERED_RECORD_PROTOCOLS: readonly RecordProtocol[] = ['ALTSRP_GCM_AES128_REKEY'];

export interface StartParams {
  side: Side;
  /** Client: the service accounts the server may have (empty: any). */
  targetServiceAccounts: readonly string[];
  /** The identity to handshake as; absent: the service's default. */
  localServiceAccount?: string;
  /** Client: the server's name (grpc-go sends the channel's authority). */
  targetName?: string;
  /** The frame size we announce (docs/handshake.md §4). */
  maxFrameSize: number;
}

const account = (serviceAccount: string): Identity => ({ serviceAccount });

export function clientStart(p: StartParams): StartClientHandshakeReq {
  return {
    handshakeSecurityProtocol: HandshakeProtocol.ALTS,
    applicationProtocols: [...APPLICATION_PROTOCOLS],
    recordProtocols: [...OFFERED_RECORD_PROTOCOLS],
    targetIdentities: p.targetServiceAccounts.map(account),
    ...(p.localServiceAccount !== undefined && { localIdentity: account(p.localServiceAccount) }),
    ...(p.targetName !== undefined && { targetName: p.targetName }),
    rpcVersions: RPC_VERSIONS,
    maxFrameSize: p.maxFrameSize,
  };
}

/** server_start without in_bytes: those are the first bytes the client sends. */
export function serverStart(p: StartParams): Omit<StartServerHandshakeReq, 'inBytes'> {
  return {
    applicationProtocols: [...APPLICATION_PROTOCOLS],
    handshakeParameters: {
      [HandshakeProtocol.ALTS]: {
        recordProtocols: [...OFFERED_RECORD_PROTOCOLS],
        localIdentities: p.localServiceAccount === undefined ? [] : [account(p.localServiceAccount)],
      },
    },
    rpcVersions: RPC_VERSIONS,
    maxFrameSize: p.maxFrameSize,
  };
}
