/**
 * The fake handshaker's own handshake frames (docs/handshake.md §7). Not ALTS's: a frame is
 * len (u32 LE, the bytes after it) ‖ kind (u8) ‖ body. ClientInit and ServerInit carry a fresh
 * 32-byte nonce and a JSON hello; the key and both Finished MACs derive from the two Init
 * frames, so both ends' services compute the same key from bytes both ends saw, and no service
 * keeps a table. Anyone who sees the frames can compute the key too: a fake, not a security
 * protocol.
 * @module
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Identity, RpcProtocolVersions } from '../messages.js';

export const Kind = { ClientInit: 1, ServerInit: 2, ServerFinished: 3, ClientFinished: 4 } as const;
export type KindNumber = (typeof Kind)[keyof typeof Kind];
export const NONCE_BYTES = 32;
export const MAC_BYTES = 32;
/** Largest frame the fake accepts: far beyond any hello it writes, far below a flood. */
export const MAX_FRAME_BODY = 16 * 1024;
/** key_data bytes per result: more than any record protocol's key, as a real service returns. */
export const KEY_DATA_BYTES = 128;

export interface Hello {
  identity: Identity;
  rpcVersions: RpcProtocolVersions;
  maxFrameSize?: number;
}
export interface ClientHello extends Hello {
  recordProtocols: string[];
  applicationProtocols: string[];
}
export interface ServerHello extends Hello {
  recordProtocol: string;
  applicationProtocol: string;
}

export class FrameError extends Error {}

export interface Frame {
  kind: number;
  body: Uint8Array;
  /** The whole frame, length field included. */
  bytes: Uint8Array;
}

export function frame(kind: KindNumber, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  new DataView(out.buffer).setUint32(0, 1 + body.length, true);
  out[4] = kind;
  out.set(body, 5);
  return out;
}

/** The first frame of `buf`, null if it has not all arrived; FrameError if it cannot be one of ours. */
export function parseFrame(buf: Uint8Array): Frame | null {
  if (buf.length < 4) return null;
  const len = new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0, true);
  if (len < 1 || len > 1 + MAX_FRAME_BODY) throw new FrameError(`frame length ${len} out of range`);
  if (buf.length < 4 + len) return null;
  const kind = buf[4]!;
  if (kind < Kind.ClientInit || kind > Kind.ClientFinished) throw new FrameError(`unknown frame kind ${kind}`);
  return { kind, body: buf.subarray(5, 4 + len), bytes: buf.subarray(0, 4 + len) };
}

export function initFrame(kind: typeof Kind.ClientInit | typeof Kind.ServerInit, hello: ClientHello | ServerHello): Uint8Array {
  const json = Buffer.from(JSON.stringify(hello));
  const body = new Uint8Array(NONCE_BYTES + json.length);
  body.set(randomBytes(NONCE_BYTES), 0);
  body.set(json, NONCE_BYTES);
  return frame(kind, body);
}

/** The hello of an Init frame's body (after its nonce); FrameError if it is not one. */
export function helloOf(f: Frame): unknown {
  if (f.body.length <= NONCE_BYTES) throw new FrameError('an Init frame without a hello');
  try {
    return JSON.parse(Buffer.from(f.body.subarray(NONCE_BYTES)).toString('utf8')) as unknown;
  } catch {
    throw new FrameError('an Init frame whose hello is not JSON');
  }
}

export interface Secrets {
  keyData: Uint8Array;
  serverFinished: Uint8Array;
  clientFinished: Uint8Array;
}

/** Everything both services derive from the two Init frames (both nonces, both hellos). */
export function deriveSecrets(clientInit: Uint8Array, serverInit: Uint8Array): Secrets {
  const secret = createHmac('sha256', 'alts-record fake handshaker v1').update(clientInit).update(serverInit).digest();
  const mac = (label: string) => new Uint8Array(createHmac('sha256', secret).update(label).digest());
  return {
    keyData: new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), 'key_data', KEY_DATA_BYTES)),
    serverFinished: mac('server finished'),
    clientFinished: mac('client finished'),
  };
}

export function macMatches(f: Frame, expected: Uint8Array): boolean {
  return f.body.length === expected.length && timingSafeEqual(f.body, expected);
}
