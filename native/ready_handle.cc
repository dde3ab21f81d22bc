// ReadyHandle: see ready_handle.h. Level-triggered uv_poll on an fd the addon owns alone
// (polling an fd libuv already watches fails with EEXIST), one syscall per call.
#include "ready_handle.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "args.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0  // macOS: SO_NOSIGPIPE is set on the socket instead
#endif

namespace alts {

Stats g_stats;

namespace {

// read/write results: n >= 0, or -errno with EWOULDBLOCK reported as EAGAIN.
inline int64_t Result(ssize_t r) {
  if (r >= 0) return r;
  int e = errno;
  return e == EWOULDBLOCK ? -EAGAIN : -e;
}

}  // namespace

Napi::Function ReadyHandle::GetClass(Napi::Env env) {
  return DefineClass(env, "ReadyHandle",
                     {
                         InstanceMethod("watch", &ReadyHandle::Watch),
                         InstanceMethod("read", &ReadyHandle::Read),
                         InstanceMethod("write", &ReadyHandle::Write),
                         InstanceMethod("writev", &ReadyHandle::Writev),
                         InstanceMethod("shutdownWrite", &ReadyHandle::ShutdownWrite),
                         InstanceMethod("close", &ReadyHandle::Close),
                         InstanceAccessor("fd", &ReadyHandle::GetFd, nullptr),
                         InstanceAccessor("closed", &ReadyHandle::GetClosed, nullptr),
                     });
}

ReadyHandle::ReadyHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ReadyHandle>(info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(IntArg(info, 0, "fd", 0, INT_MAX));
  if (!info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "\"onReady\" expected function, got " + Describe(info[1]));
  }
  // The callback lives on the JS object (read-only, hidden), not in a strong native reference:
  // a closure over the owner of this handle would otherwise keep the handle alive forever.
  info.This().As<Napi::Object>().DefineProperty(
      Napi::PropertyDescriptor::Value("onReady", info[1], napi_default));
  async_ = std::make_unique<Napi::AsyncContext>(env, "alts:ReadyHandle");

  // Nothing below may throw once the fd is taken: on a throw the caller still owns the fd.
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) throw SysError(env, "fcntl", errno);
#ifdef SO_NOSIGPIPE
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);  // best effort (not a socket)
#endif
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    throw Napi::Error::New(env, "ReadyHandle: no libuv loop for this environment");
  }
  PollBox* box = new PollBox{};
  box->fd = fd;
  box->owner = this;
  if (napi_add_async_cleanup_hook(env, OnEnvTeardown, box, &box->teardown_hook) != napi_ok) {
    delete box;
    throw Napi::Error::New(env, "ReadyHandle: napi_add_async_cleanup_hook failed");
  }
  int r = uv_poll_init(loop, &box->poll, fd);
  if (r < 0) {
    napi_remove_async_cleanup_hook(box->teardown_hook);
    delete box;
    throw SysError(env, "uv_poll_init", -r);
  }
  box->poll.data = box;
  box_ = box;
  g_stats.handles++;
}

// GC without close(): close the fd once and let the close callback free the uv handle. A
// watching handle is strongly referenced, so only a stopped (or env-teardown) one gets here.
ReadyHandle::~ReadyHandle() {
  if (box_ == nullptr) return;
  box_->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&box_->poll), OnClose);
  box_ = nullptr;
}

void ReadyHandle::OnClose(uv_handle_t* handle) {
  PollBox* box = static_cast<PollBox*>(handle->data);
  ::close(box->fd);  // never retried: on Linux the fd is gone even on EINTR
  g_stats.fds_closed++;
  g_stats.handles--;
  // Unregisters the hook, or, if the environment is ending, tells Node this handle is done.
  napi_remove_async_cleanup_hook(box->teardown_hook);
  delete box;
}

// The environment is ending (a worker thread, or the main thread at exit) with this poll
// handle open: close it now, while the addon is still loaded; OnClose then removes the hook.
// If a close is already queued (owner gone), OnClose will remove the hook by itself.
void ReadyHandle::OnEnvTeardown(napi_async_cleanup_hook_handle, void* arg) {
  PollBox* box = static_cast<PollBox*>(arg);
  if (box->owner == nullptr) return;
  box->owner->box_ = nullptr;  // the wrapper, finalized later in the teardown, finds it closed
  box->owner = nullptr;
  uv_poll_stop(&box->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&box->poll), OnClose);
}

void ReadyHandle::SetWatching(bool on) {
  if (on == watching_) return;
  watching_ = on;
  // While watching, the JS object must outlive any pending readiness.
  if (on) {
    Ref();
  } else {
    Unref();
  }
}

void ReadyHandle::DoClose(bool abort) {
  if (box_ == nullptr) return;
  if (abort) {
    // Linger on, timeout 0: close(2) in OnClose discards what is unsent and sends an RST, so the
    // peer's next read fails (ECONNRESET) instead of reading a clean EOF. Best effort: not every
    // fd is a socket whose protocol can reset (an AF_UNIX peer sees EOF either way).
    struct linger lg = {1, 0};
    setsockopt(box_->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  uv_poll_stop(&box_->poll);
  SetWatching(false);
  box_->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&box_->poll), OnClose);
  box_ = nullptr;
}

void ReadyHandle::OnPoll(uv_poll_t* poll, int status, int events) {
  PollBox* box = static_cast<PollBox*>(poll->data);
  ReadyHandle* self = box->owner;
  if (self == nullptr) return;
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  Napi::Object obj = self->Value();  // keeps the object alive through the callback
  if (status < 0) {
    // libuv stops the poll on POLLERR and reports UV_EBADF; the socket's pending error
    // (ECONNRESET, ...) is the real cause. Reading SO_ERROR clears it, so read(2) will not
    // report it again: it returns the queued bytes, then EOF. The JS reader keeps the error and
    // raises it once the queue is drained, or, for EPIPE (a reset after the peer's FIN), reads
    // the drained queue as that end of stream (docs/spec.md §3).
    self->SetWatching(false);
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (status == UV_EBADF && getsockopt(box->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 &&
        soerr != 0) {
      status = -soerr;
    }
  }
  g_stats.callbacks++;
  try {
    Napi::Function cb = obj.Get("onReady").As<Napi::Function>();
    cb.MakeCallback(obj, {Napi::Number::New(env, status), Napi::Number::New(env, events)},
                    *self->async_);
  } catch (const Napi::Error& e) {
    // Not swallowed: it becomes the process's uncaught exception, as from any Node callback.
    napi_fatal_exception(env, e.Value());
  }
}

Napi::Value ReadyHandle::Watch(const Napi::CallbackInfo& info) {
  bool readable = BoolArg(info, 0, "readable");
  bool writable = BoolArg(info, 1, "writable");
  Napi::Env env = info.Env();
  if (box_ == nullptr) return env.Undefined();  // after close: nothing to watch
  int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
  if (events == 0) {
    uv_poll_stop(&box_->poll);
    SetWatching(false);
    return env.Undefined();
  }
  int r = uv_poll_start(&box_->poll, events, OnPoll);
  if (r < 0) throw SysError(env, "uv_poll_start", -r);
  g_stats.polls_started++;
  SetWatching(true);
  return env.Undefined();
}

Napi::Value ReadyHandle::Read(const Napi::CallbackInfo& info) {
  Napi::Uint8Array buf = BytesArg(info, 0, "buf");
  int64_t size = static_cast<int64_t>(buf.ByteLength());
  int64_t off = IntArg(info, 1, "off", 0, size);
  int64_t len = IntArg(info, 2, "len", 1, size - off);  // 0 would read as EOF
  Napi::Env env = info.Env();
  if (box_ == nullptr) return Napi::Number::New(env, -EBADF);
  ssize_t r;
  do {
    r = ::read(box_->fd, buf.Data() + off, static_cast<size_t>(len));
  } while (r < 0 && errno == EINTR);
  return Napi::Number::New(env, static_cast<double>(Result(r)));
}

Napi::Value ReadyHandle::Write(const Napi::CallbackInfo& info) {
  Napi::Uint8Array buf = BytesArg(info, 0, "buf");
  int64_t size = static_cast<int64_t>(buf.ByteLength());
  int64_t off = IntArg(info, 1, "off", 0, size);
  int64_t len = IntArg(info, 2, "len", 0, size - off);
  Napi::Env env = info.Env();
  if (box_ == nullptr) return Napi::Number::New(env, -EBADF);
  const uint8_t* p = buf.Data() + off;
  ssize_t r;
  do {
    r = ::send(box_->fd, p, static_cast<size_t>(len), MSG_NOSIGNAL);
    if (r < 0 && errno == ENOTSOCK) r = ::write(box_->fd, p, static_cast<size_t>(len));
  } while (r < 0 && errno == EINTR);
  return Napi::Number::New(env, static_cast<double>(Result(r)));
}

// One writev(2) of at most IOV_MAX buffers (the rest are left for the caller's next call:
// the result, like any partial write, says how many bytes went).
Napi::Value ReadyHandle::Writev(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) {
    throw Napi::TypeError::New(env, "\"bufs\" expected Array of Uint8Array, got " +
                                        Describe(info[0]));
  }
  Napi::Array arr = info[0].As<Napi::Array>();
  uint32_t count = arr.Length();
  std::vector<Napi::Uint8Array> keep;  // handles stay valid in this scope
  std::vector<struct iovec> iov;
  size_t n = std::min<size_t>(count, IOV_MAX);
  keep.reserve(n);
  iov.reserve(n);
  for (uint32_t i = 0; i < count; i++) {
    Napi::Value e = arr.Get(i);
    if (!IsBytes(e)) {
      throw Napi::TypeError::New(env, "\"bufs[" + std::to_string(i) +
                                          "]\" expected Uint8Array, got " + Describe(e));
    }
    if (i >= n) continue;
    Napi::Uint8Array b = e.As<Napi::Uint8Array>();
    keep.push_back(b);
    iov.push_back({b.Data(), b.ByteLength()});
  }
  if (box_ == nullptr) return Napi::Number::New(env, -EBADF);
  struct msghdr msg = {};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  ssize_t r;
  do {
    r = ::sendmsg(box_->fd, &msg, MSG_NOSIGNAL);
    if (r < 0 && errno == ENOTSOCK) r = ::writev(box_->fd, iov.data(), static_cast<int>(iov.size()));
  } while (r < 0 && errno == EINTR);
  return Napi::Number::New(env, static_cast<double>(Result(r)));
}

Napi::Value ReadyHandle::ShutdownWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (box_ == nullptr) return Napi::Number::New(env, -EBADF);
  int r = ::shutdown(box_->fd, SHUT_WR);
  return Napi::Number::New(env, r < 0 ? -errno : 0);
}

Napi::Value ReadyHandle::Close(const Napi::CallbackInfo& info) {
  bool abort = info.Length() > 0 && !info[0].IsUndefined() && BoolArg(info, 0, "abort");
  DoClose(abort);
  return info.Env().Undefined();
}

Napi::Value ReadyHandle::GetFd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), box_ == nullptr ? -1 : box_->fd);
}

Napi::Value ReadyHandle::GetClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), box_ == nullptr);
}

}  // namespace alts
