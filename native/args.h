// Argument checks, mirroring src/_check.ts: a wrong type is a TypeError, a wrong value a
// RangeError, and every message names the argument ("fd" expected integer, got string).
#ifndef ALTS_NATIVE_ARGS_H_
#define ALTS_NATIVE_ARGS_H_

#include <napi.h>
#include <uv.h>

#include <cmath>
#include <cstdint>
#include <string>

namespace alts {

inline std::string Describe(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "boolean";
    case napi_number: return "number";
    case napi_string: return "string";
    case napi_symbol: return "symbol";
    case napi_function: return "function";
    case napi_bigint: return "bigint";
    default: break;
  }
  if (v.IsTypedArray() || v.IsDataView()) {
    Napi::Value ctor = v.As<Napi::Object>().Get("constructor");
    if (ctor.IsFunction()) return ctor.As<Napi::Object>().Get("name").ToString().Utf8Value();
  }
  if (v.IsArray()) return "Array";
  return "object";
}

inline std::string Q(const char* name) { return std::string("\"") + name + "\""; }

inline int64_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min,
                      int64_t max) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) {
    throw Napi::TypeError::New(info.Env(), Q(name) + " expected integer, got " + Describe(v));
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::trunc(d) != d || d < static_cast<double>(min) ||
      d > static_cast<double>(max)) {
    throw Napi::RangeError::New(info.Env(), Q(name) + " expected integer in " +
                                                std::to_string(min) + ".." + std::to_string(max) +
                                                ", got " + v.ToString().Utf8Value());
  }
  return static_cast<int64_t>(d);
}

inline bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsBoolean()) {
    throw Napi::TypeError::New(info.Env(), Q(name) + " expected boolean, got " + Describe(v));
  }
  return v.As<Napi::Boolean>().Value();
}

inline bool IsBytes(const Napi::Value& v) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
}

inline Napi::Uint8Array BytesArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!IsBytes(v)) {
    throw Napi::TypeError::New(info.Env(), Q(name) + " expected Uint8Array, got " + Describe(v));
  }
  return v.As<Napi::Uint8Array>();
}

// Thrown for a failed system call outside the read/write paths (which return -errno):
// an Error carrying `code` ("EMFILE") and `errno` (negative), like Node's system errors.
inline Napi::Error SysError(Napi::Env env, const char* syscall, int err) {
  const char* code = uv_err_name(-err);
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + " failed: " + code + " (" +
                                            uv_strerror(-err) + ")");
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

}  // namespace alts

#endif  // ALTS_NATIVE_ARGS_H_
