// AesGcm: AES-128/256-GCM (NIST SP 800-38D, 12-byte nonce, 16-byte tag) through the EVP API of
// the OpenSSL inside Node (its binary exports EVP; its headers ship with Node), for the `native`
// crypto backend. One object per key: the key schedule is set once per context,
// each frame sets only the IV and runs in place, so no allocation and no key expansion per
// frame. The ALTS counter, nonce mask and rekey KDF stay in JS (src/crypto/_direction.ts).
#ifndef ALTS_NATIVE_AEAD_H_
#define ALTS_NATIVE_AEAD_H_

#include <napi.h>
#include <openssl/evp.h>

namespace alts {

class AesGcm : public Napi::ObjectWrap<AesGcm> {
 public:
  static Napi::Function GetClass(Napi::Env env);
  explicit AesGcm(const Napi::CallbackInfo& info);
  ~AesGcm() override;

 private:
  // seal(nonce, buf, off, n[, aad]): encrypt buf[off, off+n) in place, tag to buf[off+n, +16).
  Napi::Value Seal(const Napi::CallbackInfo& info);
  // sealTo(nonce, src, srcOff, n, dst, dstOff): encrypt src[srcOff, +n) into dst[dstOff, +n),
  // tag to dst[dstOff+n, +16). No AAD (the ALTS frame has none).
  Napi::Value SealTo(const Napi::CallbackInfo& info);
  // open(nonce, src, off, n, dst, dstOff[, aad]) -> boolean: false if the tag does not verify
  // (dst[dstOff, +n) is then zeroed, or src[off, +n) if the two ranges partially overlap).
  Napi::Value Open(const Napi::CallbackInfo& info);
  Napi::Value GetKeyBytes(const Napi::CallbackInfo& info);

  // The encrypt or decrypt context, created with the key on first use (a direction only ever
  // seals or only opens, so it pays for one).
  EVP_CIPHER_CTX* Context(Napi::Env env, bool encrypt);

  unsigned char key_[32];
  int key_bytes_ = 0;
  EVP_CIPHER_CTX* enc_ = nullptr;
  EVP_CIPHER_CTX* dec_ = nullptr;
};

}  // namespace alts

#endif  // ALTS_NATIVE_AEAD_H_
