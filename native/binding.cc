// binding.cc: the addon's entry point. It only registers the domains; each
// domain file (kill.cc, proc.cc, ...) owns its system calls.
#include "common.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("platformSupported", Napi::Boolean::New(env, true));
  sigkit::InitKill(env, exports);
  sigkit::InitProc(env, exports);
  sigkit::InitSigaction(env, exports);
  sigkit::InitPidfd(env, exports);
  sigkit::InitWait(env, exports);
  sigkit::InitPtrace(env, exports);
  sigkit::InitPorts(env, exports);
  sigkit::InitSpawn(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(sigkit, Init)
