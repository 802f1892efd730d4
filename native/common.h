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
#include <string>

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

// Reads argument `i` as an External tagged with `tag` (napi type tags keep a
// pidfd from being passed where a watcher is expected). Returns nullptr with
// a pending TypeError naming `what` otherwise.
template <typename T>
T* ArgTagged(const Napi::CallbackInfo& info, size_t i, const napi_type_tag* tag, const char* what) {
  napi_env env = info.Env();
  napi_value v = info[i];
  bool tagged = false;
  napi_valuetype type;
  if (napi_typeof(env, v, &type) == napi_ok && type == napi_external &&
      napi_check_object_type_tag(env, v, tag, &tagged) == napi_ok && tagged) {
    void* data = nullptr;
    if (napi_get_value_external(env, v, &data) == napi_ok) return static_cast<T*>(data);
  }
  Napi::TypeError::New(env, std::string("sigkit native: expected ") + what).ThrowAsJavaScriptException();
  return nullptr;
}

// Each domain file adds its functions to the exports object.
void InitKill(Napi::Env env, Napi::Object exports);
void InitProc(Napi::Env env, Napi::Object exports);
void InitSigaction(Napi::Env env, Napi::Object exports);
void InitPidfd(Napi::Env env, Napi::Object exports);
void InitWait(Napi::Env env, Napi::Object exports);
void InitPtrace(Napi::Env env, Napi::Object exports);
void InitPorts(Napi::Env env, Napi::Object exports);
void InitSpawn(Napi::Env env, Napi::Object exports);

}  // namespace sigkit
