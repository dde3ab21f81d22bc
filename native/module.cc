// alts_native: the ReadyHandle class (readiness on an owned fd), the AesGcm class (AES-GCM
// through Node's own OpenSSL, aead.h) plus a few fd helpers (socketpair for tests and local
// pairs, dup for taking a socket over from Node, stats for leak checks).
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <napi.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aead.h"
#include "args.h"
#include "ready_handle.h"

namespace alts {
namespace {

Napi::Value Socketpair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sv[2];
#ifdef SOCK_CLOEXEC
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
    throw SysError(env, "socketpair", errno);
  }
#else
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) throw SysError(env, "socketpair", errno);
  for (int fd : sv) {
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
      int e = errno;
      ::close(sv[0]);
      ::close(sv[1]);
      throw SysError(env, "fcntl", e);
    }
  }
#endif
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, sv[0]));
  out.Set(1u, Napi::Number::New(env, sv[1]));
  return out;
}

Napi::Value Dup(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(IntArg(info, 0, "fd", 0, INT_MAX));
  int r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return Napi::Number::New(info.Env(), r < 0 ? -errno : r);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(IntArg(info, 0, "fd", 0, INT_MAX));
  int r = ::close(fd);
  return Napi::Number::New(info.Env(), r < 0 ? -errno : 0);
}

// 0 leaves that buffer as it is. Returns 0 or -errno.
Napi::Value SetSocketBuffers(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(IntArg(info, 0, "fd", 0, INT_MAX));
  int rcv = static_cast<int>(IntArg(info, 1, "rcvbuf", 0, INT_MAX));
  int snd = static_cast<int>(IntArg(info, 2, "sndbuf", 0, INT_MAX));
  int r = 0;
  if (rcv > 0) r = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  if (r == 0 && snd > 0) r = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
  return Napi::Number::New(info.Env(), r < 0 ? -errno : 0);
}

Napi::Value GetStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("handles", Napi::Number::New(env, static_cast<double>(g_stats.handles.load())));
  o.Set("fdsClosed", Napi::Number::New(env, static_cast<double>(g_stats.fds_closed.load())));
  o.Set("pollsStarted", Napi::Number::New(env, static_cast<double>(g_stats.polls_started.load())));
  o.Set("callbacks", Napi::Number::New(env, static_cast<double>(g_stats.callbacks.load())));
  return o;
}

}  // namespace
}  // namespace alts

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace alts;
  exports.Set("ReadyHandle", ReadyHandle::GetClass(env));
  exports.Set("AesGcm", AesGcm::GetClass(env));
  exports.Set("socketpair", Napi::Function::New(env, Socketpair, "socketpair"));
  exports.Set("dup", Napi::Function::New(env, Dup, "dup"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  exports.Set("setSocketBuffers", Napi::Function::New(env, SetSocketBuffers, "setSocketBuffers"));
  exports.Set("stats", Napi::Function::New(env, GetStats, "stats"));
  return exports;
}

NODE_API_MODULE(alts_native, Init)
