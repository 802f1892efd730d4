// common.h: helpers shared by every native domain of sigkit.
//
// Contract of the native layer (see STYLE.md): a binding function converts its
// arguments, makes one system call (retrying EINTR where the call can be
// interrupted) and returns the result or -errno. It never throws for an errno;
// the TypeScript layer decides what an errno means. Argument-type mistakes are
// prevented by the TypeScript layer, so here they only raise a TypeError.
#pragma once

#include <napi.h>

#include <cerrno>
#include <cstdint>

namespace sigkit {

// Result of a syscall wrapper: `ret` when it is >= 0, else -errno.
inline int32_t ResultOrErrno(long ret) {
  return ret < 0 ? -errno : static_cast<int32_t>(ret);
}

// Retries a call while it fails with EINTR. Returns the final return value.
template <typename F>
inline long RetryEintr(F call) {
  long ret;
  do {
    ret = call();
  } while (ret < 0 && errno == EINTR);
  return ret;
}

// Reads argument `i` as an int32. Returns false (with a pending TypeError)
// when it is not a number; the TypeScript layer validates ranges first.
inline bool ArgInt32(const Napi::CallbackInfo& info, size_t i, int32_t* out) {
  napi_value v = info[i];
  if (napi_get_value_int32(info.Env(), v, out) != napi_ok) {
    Napi::TypeError::New(info.Env(), "sigkit native: expected a number")
        .ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// Each domain file adds its functions to the exports object.
void InitKill(Napi::Env env, Napi::Object exports);
void InitProc(Napi::Env env, Napi::Object exports);
void InitSigaction(Napi::Env env, Napi::Object exports);
void InitPidfd(Napi::Env env, Napi::Object exports);
void InitWait(Napi::Env env, Napi::Object exports);

}  // namespace sigkit
