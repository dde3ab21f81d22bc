// AesGcm (aead.h): EVP AES-GCM with the key schedule set once per context and only the IV set
// per frame. The per-call path is thin on purpose (target: ≤ 1 µs fixed cost per
// frame): one napi_get_typedarray_info per buffer, no allocation, no key expansion. Every
// offset and length is checked against the typed array before a byte is touched, so a bad range
// from JS is a RangeError, never a write outside the array.
#include "aead.h"

#include <openssl/crypto.h>
#include <openssl/err.h>

#include <climits>
#include <cstdint>
#include <cstring>
#include <string>

#include "args.h"

namespace alts {
namespace {

constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;

struct Bytes {
  uint8_t* data;
  size_t len;
};

// A Uint8Array (or Buffer) argument in one N-API call; TypeError naming it otherwise.
Bytes BytesView(const Napi::CallbackInfo& info, size_t i, const char* name) {
  napi_typedarray_type type;
  size_t len = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(info.Env(), info[i], &type, &len, &data, nullptr, nullptr) !=
          napi_ok ||
      type != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), Q(name) + " expected Uint8Array, got " +
                                               Describe(info[i]));
  }
  return {static_cast<uint8_t*>(data), len};
}

Bytes NonceArg(const Napi::CallbackInfo& info) {
  Bytes nonce = BytesView(info, 0, "nonce");
  if (nonce.len != kNonceBytes) {
    throw Napi::RangeError::New(info.Env(), "\"nonce\" expected 12 bytes, got " +
                                                std::to_string(nonce.len));
  }
  return nonce;
}

// The optional AAD at argument i: absent or undefined means none.
Bytes AadArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsUndefined()) return {nullptr, 0};
  Bytes aad = BytesView(info, i, "aad");
  if (aad.len > INT_MAX) throw Napi::RangeError::New(info.Env(), "\"aad\" is too long");
  return aad;
}

// `need` bytes at `off` must fit in `b` (named `name`).
void CheckRange(Napi::Env env, const Bytes& b, const char* name, int64_t off, int64_t need) {
  if (static_cast<uint64_t>(off) + static_cast<uint64_t>(need) > b.len) {
    throw Napi::RangeError::New(env, Q(name) + " (length " + std::to_string(b.len) +
                                         ") expected room for " + std::to_string(need) +
                                         " bytes at " + std::to_string(off));
  }
}

// Arguments 0..3 of seal and open: the nonce, then n bytes at off followed by the 16-byte tag,
// all inside the buffer named `name`.
struct Frame {
  Bytes nonce;
  uint8_t* at;
  int64_t n;
};

Frame FrameArgs(const Napi::CallbackInfo& info, const char* name) {
  Bytes nonce = NonceArg(info);
  Bytes buf = BytesView(info, 1, name);
  int64_t off = IntArg(info, 2, "off", 0, INT_MAX);
  int64_t n = IntArg(info, 3, "n", 0, INT_MAX - kTagBytes);
  CheckRange(info.Env(), buf, name, off, n + kTagBytes);
  return {nonce, buf.data + off, n};
}

// OpenSSL failing on a valid call means it is out of memory or broken: a plain Error.
[[noreturn]] void ThrowOpenSsl(Napi::Env env, const char* what) {
  unsigned long code = ERR_get_error();
  char msg[256] = "no OpenSSL error queued";
  if (code != 0) ERR_error_string_n(code, msg, sizeof msg);
  ERR_clear_error();
  throw Napi::Error::New(env, std::string(what) + " failed: " + msg);
}

// A new frame on a context that keeps its key and direction: only the 12-byte IV changes.
void SetIv(Napi::Env env, EVP_CIPHER_CTX* c, const Bytes& nonce) {
  if (EVP_CipherInit_ex(c, nullptr, nullptr, nullptr, nonce.data, -1) != 1) {
    ThrowOpenSsl(env, "EVP_CipherInit_ex(iv)");
  }
}

// The AAD, then the n bytes at `in` to `out` (the same bytes, or not overlapping).
void Feed(Napi::Env env, EVP_CIPHER_CTX* c, const Bytes& aad, const uint8_t* in, uint8_t* out,
          int n) {
  int outl = 0;
  if (aad.len > 0 &&
      EVP_CipherUpdate(c, nullptr, &outl, aad.data, static_cast<int>(aad.len)) != 1) {
    ThrowOpenSsl(env, "EVP_CipherUpdate(aad)");
  }
  if (n > 0 && EVP_CipherUpdate(c, out, &outl, in, n) != 1) ThrowOpenSsl(env, "EVP_CipherUpdate");
}

// One frame's encryption on a context that keeps its key: the IV, the AAD, the n bytes at `in`
// to `out` (the same bytes, or not overlapping), then the 16-byte tag at out + n.
void EncryptFrame(Napi::Env env, EVP_CIPHER_CTX* c, const Bytes& nonce, const Bytes& aad,
                  const uint8_t* in, uint8_t* out, int n) {
  int outl = 0;
  SetIv(env, c, nonce);
  Feed(env, c, aad, in, out, n);
  if (EVP_EncryptFinal_ex(c, out + n, &outl) != 1) ThrowOpenSsl(env, "EVP_EncryptFinal_ex");
  if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, kTagBytes, out + n) != 1) {
    ThrowOpenSsl(env, "EVP_CTRL_GCM_GET_TAG");
  }
}

bool Overlap(const uint8_t* a, const uint8_t* b, size_t n) {
  auto x = reinterpret_cast<uintptr_t>(a);
  auto y = reinterpret_cast<uintptr_t>(b);
  return n > 0 && x < y + n && y < x + n;
}

}  // namespace

Napi::Function AesGcm::GetClass(Napi::Env env) {
  return DefineClass(env, "AesGcm",
                     {
                         InstanceMethod("seal", &AesGcm::Seal),
                         InstanceMethod("sealTo", &AesGcm::SealTo),
                         InstanceMethod("open", &AesGcm::Open),
                         InstanceAccessor("keyBytes", &AesGcm::GetKeyBytes, nullptr),
                     });
}

AesGcm::AesGcm(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AesGcm>(info) {
  Bytes key = BytesView(info, 0, "key");
  if (key.len != 16 && key.len != 32) {
    throw Napi::RangeError::New(info.Env(), "\"key\" expected 16 or 32 bytes, got " +
                                                std::to_string(key.len));
  }
  std::memcpy(key_, key.data, key.len);
  key_bytes_ = static_cast<int>(key.len);
}

AesGcm::~AesGcm() {
  EVP_CIPHER_CTX_free(enc_);  // frees the expanded key too (OpenSSL cleanses it)
  EVP_CIPHER_CTX_free(dec_);
  OPENSSL_cleanse(key_, sizeof key_);
}

EVP_CIPHER_CTX* AesGcm::Context(Napi::Env env, bool encrypt) {
  EVP_CIPHER_CTX*& ctx = encrypt ? enc_ : dec_;
  if (ctx != nullptr) return ctx;
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  if (c == nullptr) ThrowOpenSsl(env, "EVP_CIPHER_CTX_new");
  const EVP_CIPHER* cipher = key_bytes_ == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
  // The default IV length of GCM is 12 bytes: nothing to set. The IV comes with each frame.
  if (EVP_CipherInit_ex(c, cipher, nullptr, key_, nullptr, encrypt ? 1 : 0) != 1) {
    EVP_CIPHER_CTX_free(c);
    ThrowOpenSsl(env, "EVP_CipherInit_ex");
  }
  ctx = c;
  return ctx;
}

Napi::Value AesGcm::Seal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Frame f = FrameArgs(info, "buf");
  Bytes aad = AadArg(info, 4);
  EncryptFrame(env, Context(env, true), f.nonce, aad, f.at, f.at, static_cast<int>(f.n));
  return env.Undefined();
}

Napi::Value AesGcm::SealTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes nonce = NonceArg(info);
  Bytes src = BytesView(info, 1, "src");
  int64_t src_off = IntArg(info, 2, "srcOff", 0, INT_MAX);
  int64_t n = IntArg(info, 3, "n", 0, INT_MAX - kTagBytes);
  CheckRange(env, src, "src", src_off, n);
  Bytes dst = BytesView(info, 4, "dst");
  int64_t dst_off = IntArg(info, 5, "dstOff", 0, INT_MAX);
  CheckRange(env, dst, "dst", dst_off, n + kTagBytes);
  uint8_t* in = src.data + src_off;
  uint8_t* out = dst.data + dst_off;
  // Out of place saves the copy of the plaintext into the frame; ranges that partly overlap
  // are moved into place first and sealed there (GCM runs in place, not on a partial overlap).
  if (in != out && Overlap(in, out, static_cast<size_t>(n))) {
    std::memmove(out, in, static_cast<size_t>(n));
    in = out;
  }
  EncryptFrame(env, Context(env, true), nonce, Bytes{nullptr, 0}, in, out, static_cast<int>(n));
  return env.Undefined();
}

Napi::Value AesGcm::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Frame f = FrameArgs(info, "src");
  int64_t n = f.n;
  Bytes dst = BytesView(info, 4, "dst");
  int64_t dst_off = IntArg(info, 5, "dstOff", 0, INT_MAX);
  CheckRange(env, dst, "dst", dst_off, n);
  Bytes aad = AadArg(info, 6);
  EVP_CIPHER_CTX* c = Context(env, false);
  uint8_t* in = f.at;
  uint8_t* out = dst.data + dst_off;
  // GCM runs in place (out == in) but not on partially overlapping ranges: then decrypt in
  // place and move the plaintext afterwards.
  bool partial = out != in && Overlap(in, out, static_cast<size_t>(n));
  uint8_t* target = partial ? in : out;
  SetIv(env, c, f.nonce);
  // The tag is copied into the context now, before the plaintext may overwrite it.
  if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, kTagBytes, in + n) != 1) {
    ThrowOpenSsl(env, "EVP_CTRL_GCM_SET_TAG");
  }
  Feed(env, c, aad, in, target, static_cast<int>(n));
  int outl = 0;
  uint8_t none[kTagBytes];  // GCM's final writes no bytes
  if (EVP_DecryptFinal_ex(c, none, &outl) != 1) {
    ERR_clear_error();
    // Never leave unauthenticated plaintext behind.
    if (n > 0) OPENSSL_cleanse(target, static_cast<size_t>(n));
    return Napi::Boolean::New(env, false);
  }
  if (partial) std::memmove(out, in, static_cast<size_t>(n));
  return Napi::Boolean::New(env, true);
}

Napi::Value AesGcm::GetKeyBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), key_bytes_);
}

}  // namespace alts
