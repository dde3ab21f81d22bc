/**
 * Handshake failures (docs/handshake.md §5): every one is an AltsError with code
 * HANDSHAKE_FAILED, a `fault` saying who is to blame, a stable `reason` tests and callers can
 * branch on, and the underlying error (the service's status, a gRPC error, a socket error) as
 * `cause`.
 * @module
 */
import { AltsError, type AltsFault } from '../errors.js';

export type HandshakeFailure =
  | 'SERVICE_STATUS' // peer if the refused request carried the peer's bytes, else local: HandshakerResp.status not OK
  | 'RPC_VERSIONS' // peer: the peer's RPC versions and ours have nothing in common
  | 'PEER_CLOSED' // peer: the peer ended the connection mid-handshake
  | 'PEER_FLOOD' // peer: more handshake bytes than maxPeerBytes before a result
  | 'TIMEOUT' // peer (waiting for the peer) or local (waiting for the service or a slot)
  | 'SERVICE_UNREACHABLE' // local: the DoHandshake stream failed (gRPC error as cause)
  | 'SERVICE_CLOSED' // local: the stream ended without a result
  | 'BAD_RESPONSE' // local: a response that does not decode
  | 'BYTES_CONSUMED' // local: bytes_consumed beyond the bytes sent
  | 'SHORT_KEY' // local: key_data shorter than the record protocol's key
  | 'UNKNOWN_RECORD_PROTOCOL' // local: a record protocol we did not offer
  | 'APPLICATION_PROTOCOL' // local: an application protocol other than grpc
  | 'NO_PEER_IDENTITY' // local: a result without a peer identity
  | 'PEER_IDENTITY' // local: the service accepted a peer that is not among targetServiceAccounts
  | 'IO' // io: the socket to the peer failed (the IO_ERROR as cause)
  | 'CANCELLED'; // caller: the handshake was cancelled (abort signal)

const FAULT: Record<HandshakeFailure, AltsFault> = {
  SERVICE_STATUS: 'peer',
  RPC_VERSIONS: 'peer',
  PEER_CLOSED: 'peer',
  PEER_FLOOD: 'peer',
  TIMEOUT: 'local',
  SERVICE_UNREACHABLE: 'local',
  SERVICE_CLOSED: 'local',
  BAD_RESPONSE: 'local',
  BYTES_CONSUMED: 'local',
  SHORT_KEY: 'local',
  UNKNOWN_RECORD_PROTOCOL: 'local',
  APPLICATION_PROTOCOL: 'local',
  NO_PEER_IDENTITY: 'local',
  PEER_IDENTITY: 'local',
  IO: 'io',
  CANCELLED: 'caller',
};

export class HandshakeError extends AltsError {
  readonly reason: HandshakeFailure;

  constructor(reason: HandshakeFailure, message: string, opts: { cause?: unknown; fault?: AltsFault } = {}) {
    super('HANDSHAKE_FAILED', `${reason}: ${message}`, { ...opts, fault: opts.fault ?? FAULT[reason] });
    this.reason = reason;
  }
}

export function isHandshakeError(e: unknown, reason?: HandshakeFailure): e is HandshakeError {
  return e instanceof HandshakeError && (reason === undefined || e.reason === reason);
}

/** gRPC status code names (grpc/status.proto), for messages. */
const STATUS_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];

/** `14 UNAVAILABLE: details` for a status code and its details. */
export function describeStatus(code: number, details: string | undefined): string {
  const name = STATUS_NAMES[code];
  return `${code}${name ? ` ${name}` : ''}${details ? `: ${details}` : ''}`;
}

/** A status the handshaker service reported, as an Error: the `cause` of SERVICE_STATUS. */
export class ServiceStatusError extends Error {
  readonly code: number;
  readonly details: string;

  constructor(code: number, details: string) {
    super(`handshaker status ${describeStatus(code, details)}`);
    this.name = 'ServiceStatusError';
    this.code = code;
    this.details = details;
  }
}
