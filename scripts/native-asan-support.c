/* Test-only helpers for scripts/native-asan.mjs, built by it with the addon's ASan flags into
 * build-variants/asan/support/ (never part of the package):
 * - leakCheck(): LeakSanitizer now, in a live process. vitest kills a worker 500 ms after asking
 *   it to stop, too soon for the exit-time check, so the setup file calls this after each file.
 * - canaryOverflow(), canaryLeak(): a planted heap overflow and a planted leak, in code built and
 *   loaded like the addon. If either goes unreported the setup is broken and a clean run of the
 *   tests would prove nothing. */
#include <node_api.h>
#include <stdlib.h>

int __lsan_do_recoverable_leak_check(void);

static void *volatile sink;

static napi_value LeakCheck(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_int32(env, __lsan_do_recoverable_leak_check(), &out);
  return out;
}

/* One byte past a 16-byte block: ASan must stop the process. */
static napi_value CanaryOverflow(napi_env env, napi_callback_info info) {
  (void)env, (void)info;
  char *p = malloc(16);
  sink = p;
  p[16] = 1;
  free(p);
  return NULL;
}

/* A 16-byte block whose only pointer is dropped: LeakSanitizer must report it. */
__attribute__((noinline)) static void LeakOne(void) {
  sink = malloc(16);
  sink = NULL;
}

static napi_value CanaryLeak(napi_env env, napi_callback_info info) {
  (void)env, (void)info;
  LeakOne();
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"leakCheck", NULL, LeakCheck, NULL, NULL, NULL, napi_default, NULL},
      {"canaryOverflow", NULL, CanaryOverflow, NULL, NULL, NULL, napi_default, NULL},
      {"canaryLeak", NULL, CanaryLeak, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
