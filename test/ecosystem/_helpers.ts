/**
 * Shared by the ecosystem tests (node:http2, grpc-js over alts-record): the record options of
 * both ends, a conn's close as a promise, and the process's open fds for the leak check.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import type { RecordProtocol } from '../../src/crypto/types.js';

export { closeCallbacksRan } from '../conn/harness.js';

export const protocol: RecordProtocol = 'ALTSRP_GCM_AES128_REKEY';

/** A fresh 44-byte key per test: what the handshake would have negotiated. */
export function newKey(): Uint8Array {
  return new Uint8Array(randomBytes(44));
}

/** Resolves at the conn's 'close' (every fd and buffer given back). Call it when the conn is made. */
export function closeOf(conn: AltsConn): Promise<void> {
  return new Promise((resolve) => conn.once('close', () => resolve()));
}

/** Open fds of this process (Linux), or null where /proc is missing. */
export function openFds(): number | null {
  return existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : null;
}
