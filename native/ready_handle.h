// ReadyHandle: one socket fd owned exclusively by the addon, watched with uv_poll.
// The JS connection is told "readable/writable now" and then calls read/write once; no buffer
// is held here. The fd is closed exactly once, in the uv_close callback of its poll handle.
#ifndef ALTS_NATIVE_READY_HANDLE_H_
#define ALTS_NATIVE_READY_HANDLE_H_

#include <napi.h>
#include <uv.h>

#include <atomic>
#include <memory>

namespace alts {

// Module-wide counters (tests check that every fd is closed once and no uv handle leaks).
struct Stats {
  std::atomic<int64_t> handles{0};       // uv_poll_t initialised and not yet closed
  std::atomic<int64_t> fds_closed{0};    // fds closed by a ReadyHandle
  std::atomic<int64_t> polls_started{0}; // uv_poll_start calls
  std::atomic<int64_t> callbacks{0};     // onReady invocations
};
extern Stats g_stats;

class ReadyHandle;

// Outlives the ReadyHandle when it is finalized while the poll handle is open: the uv_close
// callback frees it and closes the fd.
struct PollBox {
  uv_poll_t poll;
  int fd;
  ReadyHandle* owner;
  // Registered from uv_poll_init to the close callback, which removes it. A worker's
  // environment ends by unloading the addon (dlclose) once no environment uses it; a close
  // callback still queued then would run in unmapped code (a segfault in the worker's last
  // uv_run). Node runs this hook before and waits until it is removed (OnEnvTeardown).
  napi_async_cleanup_hook_handle teardown_hook;
};

class ReadyHandle : public Napi::ObjectWrap<ReadyHandle> {
 public:
  static Napi::Function GetClass(Napi::Env env);
  explicit ReadyHandle(const Napi::CallbackInfo& info);
  ~ReadyHandle() override;

 private:
  Napi::Value Watch(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Writev(const Napi::CallbackInfo& info);
  Napi::Value ShutdownWrite(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);

  static void OnPoll(uv_poll_t* poll, int status, int events);
  static void OnClose(uv_handle_t* handle);
  static void OnEnvTeardown(napi_async_cleanup_hook_handle hook, void* arg);
  void SetWatching(bool on);
  void DoClose(bool abort);

  PollBox* box_ = nullptr;  // null once closed
  bool watching_ = false;   // poll active and the JS object strongly referenced
  std::unique_ptr<Napi::AsyncContext> async_;
};

}  // namespace alts

#endif  // ALTS_NATIVE_READY_HANDLE_H_
