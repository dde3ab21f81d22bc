/**
 * The `node` backend: AES-GCM and HMAC-SHA256 from node:crypto (OpenSSL). node:crypto has no way
 * to reuse a cipher context, so each frame pays for a new one (≈4–5 µs); the key is
 * imported once as a KeyObject. Decryption copies into `dst` only after the tag verifies.
 * @module
 */
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { AltsError } from '../errors.js';
import type { AeadPrimitive, PreparedKey } from './_aead.js';
import { TAG_BYTES } from '../record/constants.js';

interface NodeKey {
  alg: 'aes-128-gcm' | 'aes-256-gcm';
  key: KeyObject;
}

export const nodeAead: AeadPrimitive = {
  name: 'node',
  importKey(key): NodeKey {
    return { alg: key.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm', key: createSecretKey(key) };
  },
  seal(pk: PreparedKey, nonce, buf, off, n, aad) {
    const k = pk as NodeKey;
    const c = createCipheriv(k.alg, k.key, nonce);
    if (aad !== undefined && aad.length > 0) c.setAAD(aad);
    if (n > 0) buf.set(c.update(buf.subarray(off, off + n)), off);
    c.final();
    buf.set(c.getAuthTag(), off + n);
  },
  open(pk: PreparedKey, nonce, src, off, n, dst, dstOff, aad) {
    const k = pk as NodeKey;
    const d = createDecipheriv(k.alg, k.key, nonce);
    if (aad !== undefined && aad.length > 0) d.setAAD(aad);
    d.setAuthTag(src.subarray(off + n, off + n + TAG_BYTES));
    const pt = n > 0 ? d.update(src.subarray(off, off + n)) : undefined;
    try {
      d.final();
    } catch (e) {
      throw new AltsError('AUTH_FAILED', 'the frame does not authenticate', { cause: e });
    }
    if (pt !== undefined) dst.set(pt, dstOff);
  },
  hmacSha256: (key, msg) => createHmac('sha256', key).update(msg).digest(),
};
