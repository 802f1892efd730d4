// unsupported.cc: built instead of the Linux sources on every other OS, so
// that `npm install` succeeds there and the TypeScript layer can throw its
// ERR_SIGKIT_UNSUPPORTED_PLATFORM error instead of a build failure.
#include <napi.h>

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("platformSupported", Napi::Boolean::New(env, false));
  return exports;
}

}  // namespace

NODE_API_MODULE(sigkit, Init)
