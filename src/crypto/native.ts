/**
 * The `native` backend: AES-GCM through the addon's AesGcm (native/aead.cc),
 * i.e. the EVP API of the OpenSSL inside Node, with one reusable cipher context per key: the
 * key schedule is set once, each frame sets only its IV and is sealed or opened in place, and
 * the JS→C++ call allocates nothing. A prepared key is one AesGcm; a direction keeps it until
 * the rekey protocol derives the next one (once per 2^16 frames). The rekey KDF's HMAC-SHA256
 * comes from node:crypto; the counters, nonce mask and KDF inputs are _direction.ts's, shared
 * with the other backends, so all three are byte-identical by construction of the inputs.
 * On AUTH_FAILED the bytes decrypted into are zeroed (the DirectionCrypter contract allows
 * garbage there).
 * @module
 */
import { AltsError } from '../errors.js';
import { nativeLoadError, tryLoadNative, type AesGcm, type NativeBinding } from '../native.js';
import type { AeadPrimitive } from './_aead.js';
import { nodeAead } from './node.js';

/** The native AeadPrimitive over a loaded binding. */
export function nativeAeadOf(binding: NativeBinding): AeadPrimitive {
  const Ctor = binding.AesGcm;
  return {
    name: 'native',
    importKey: (key) => new Ctor(key),
    seal(key, nonce, buf, off, n, aad) {
      (key as AesGcm).seal(nonce, buf, off, n, aad);
    },
    sealTo(key, nonce, src, srcOff, n, dst, dstOff) {
      (key as AesGcm).sealTo(nonce, src, srcOff, n, dst, dstOff);
    },
    open(key, nonce, src, off, n, dst, dstOff, aad) {
      if (!(key as AesGcm).open(nonce, src, off, n, dst, dstOff, aad)) throw new AltsError('AUTH_FAILED', 'the frame does not authenticate');
    },
    hmacSha256: nodeAead.hmacSha256,
  };
}

let loaded: AeadPrimitive | null | undefined;

/** The native AeadPrimitive, or null when the addon did not load (see `nativeUnavailable`). Tried once. */
export function nativeAead(): AeadPrimitive | null {
  if (loaded === undefined) {
    const b = tryLoadNative();
    loaded = b !== null && typeof b.AesGcm === 'function' ? nativeAeadOf(b) : null;
  }
  return loaded;
}

/** Why the native backend is unavailable: the loader's error, or an addon built before AesGcm. */
export function nativeUnavailable(): Error {
  return nativeLoadError() ?? new Error('the loaded alts_native addon has no AesGcm export: it predates the native backend');
}
