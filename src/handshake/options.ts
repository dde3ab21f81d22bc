/**
 * The `handshaker` option (docs/handshake.md §1), checked in full before any socket exists:
 * TypeError for a wrong type, RangeError for a wrong value, each naming the argument.
 * @module
 */
import { aint, aoptions } from '../_check.js';
import type { Side } from '../crypto/types.js';
import { DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE, MIN_MAX_FRAME_SIZE } from '../record/constants.js';
import { DEFAULT_HANDSHAKER_ADDRESS } from './service.js';

export interface HandshakerOptions {
  /** host:port of the handshaker service. Default metadata.google.internal.:8080 (grpc-go's). */
  address?: string;
  /** Client: the service accounts the server may run as (empty: any the service accepts). */
  targetServiceAccounts?: readonly string[];
  /** The service account to handshake as (default: the service's choice). */
  localServiceAccount?: string;
  /** Client: the server's name, sent as target_name. */
  targetName?: string;
  /** Deadline for the whole handshake, waiting for a slot included. Default 20000. */
  timeoutMs?: number;
  /** Bytes the peer may send before the handshake completes. Default 65536. */
  maxPeerBytes?: number;
}

export interface ResolvedHandshaker {
  address: string;
  targetServiceAccounts: readonly string[];
  localServiceAccount?: string;
  targetName?: string;
  timeoutMs: number;
  maxPeerBytes: number;
}

export const DEFAULT_TIMEOUT_MS = 20_000;
export const DEFAULT_MAX_PEER_BYTES = 64 * 1024;

function astring(name: string, v: unknown): asserts v is string {
  if (typeof v !== 'string') throw new TypeError(`"${name}" expected string, got ${v === null ? 'null' : typeof v}`);
}

const HANDSHAKER_KEYS = ['address', 'targetServiceAccounts', 'localServiceAccount', 'targetName', 'timeoutMs', 'maxPeerBytes'] as const;
/** Options only a client's handshake uses: the server it expects. */
const CLIENT_ONLY = ['targetServiceAccounts', 'targetName'] as const;

/**
 * Checks the `handshaker` option (named `name`) for a handshake as `side`. An unknown key is a
 * TypeError, not ignored: a misspelt targetServiceAccounts would turn the identity check off.
 * `extraKeys` are other keys the same object may hold (runHandshake's options are one object).
 */
export function resolveHandshaker(o: unknown, side: Side, name = 'handshaker', extraKeys: readonly string[] = []): ResolvedHandshaker {
  aoptions(name, o, [...HANDSHAKER_KEYS, ...extraKeys]);
  const h = o as HandshakerOptions;
  if (side === 'server')
    for (const k of CLIENT_ONLY)
      // An empty list asks for nothing (a resolved config carries one).
      if (h[k] !== undefined && !(Array.isArray(h[k]) && h[k].length === 0))
        throw new TypeError(
          `"${name}.${k}" is a client option: a server does not choose its clients by it; check conn.altsContext.peerServiceAccount in the connection handler (createServer's onConn) instead`,
        );
  const address = h.address ?? DEFAULT_HANDSHAKER_ADDRESS;
  astring(`${name}.address`, address);
  const port = /^(?:\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(address)?.[1];
  if (port === undefined || Number(port) > 65535) throw new RangeError(`"${name}.address" expected host:port, got '${address}'`);
  const targets = h.targetServiceAccounts ?? [];
  if (!Array.isArray(targets)) throw new TypeError(`"${name}.targetServiceAccounts" expected array of strings`);
  targets.forEach((t, i) => astring(`${name}.targetServiceAccounts[${i}]`, t));
  if (h.localServiceAccount !== undefined) astring(`${name}.localServiceAccount`, h.localServiceAccount);
  if (h.targetName !== undefined) astring(`${name}.targetName`, h.targetName);
  const timeoutMs = h.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  aint(`${name}.timeoutMs`, timeoutMs, 1, 2 ** 31 - 1);
  const maxPeerBytes = h.maxPeerBytes ?? DEFAULT_MAX_PEER_BYTES;
  aint(`${name}.maxPeerBytes`, maxPeerBytes, 1024, 16 << 20);
  return {
    address,
    targetServiceAccounts: [...targets],
    ...(h.localServiceAccount !== undefined && { localServiceAccount: h.localServiceAccount }),
    ...(h.targetName !== undefined && { targetName: h.targetName }),
    timeoutMs,
    maxPeerBytes,
  };
}

/** The frame size a handshake announces: the connection's maxFrameSize option. */
export function resolveFrameSize(v: unknown): number {
  const n = v ?? DEFAULT_MAX_FRAME_SIZE;
  aint('maxFrameSize', n, MIN_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE);
  return n;
}
