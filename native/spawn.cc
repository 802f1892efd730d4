// spawn.cc: the in-process half of the supervisor toolkit (the other half is
// the sigkit-exec helper, native/exec_helper.c, which runs in the child).
//
// System calls: prctl(2) PR_SET_PDEATHSIG / PR_GET_PDEATHSIG for this process
// (sigkit init -p), and sigaction(2) + pthread_sigmask(3) + raise(3) to die of
// a signal with its default action (onShutdown's last step, so the exit
// status is "killed by SIGTERM" as supervisors expect).
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "common.h"

namespace sigkit {
namespace {

// prctlSetPdeathsig(sig) -> 0 | -errno. sig 0 clears it. The death signal
// comes when the *thread* that forked this process exits (prctl(2)).
Napi::Value PrctlSetPdeathsig(const Napi::CallbackInfo& info) {
  int32_t sig;
  if (!ArgInt32(info, 0, &sig)) return Napi::Value();
  if (sig < 0 || sig >= NSIG) return Napi::Number::New(info.Env(), -EINVAL);
  return Napi::Number::New(info.Env(), ResultOrErrno(prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(sig), 0, 0, 0)));
}

// prctlGetPdeathsig() -> signal number (0: none) | -errno.
Napi::Value PrctlGetPdeathsig(const Napi::CallbackInfo& info) {
  int sig = 0;
  long r = prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
  return Napi::Number::New(info.Env(), r < 0 ? -errno : sig);
}

// raiseDefault(sig) -> -errno, or 0 when the signal's default action did not
// end the process (e.g. SIGCHLD). Sets SIG_DFL, unblocks sig in this thread
// and raises it: the process dies of it here, as if it had never been caught.
Napi::Value RaiseDefault(const Napi::CallbackInfo& info) {
  int32_t sig;
  if (!ArgInt32(info, 0, &sig)) return Napi::Value();
  if (sig <= 0 || sig >= NSIG) return Napi::Number::New(info.Env(), -EINVAL);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  if (sigaction(sig, &dfl, nullptr) != 0) return Napi::Number::New(info.Env(), -errno);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  int r = pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  if (r != 0) return Napi::Number::New(info.Env(), -r);
  if (raise(sig) != 0) return Napi::Number::New(info.Env(), -errno);
  return Napi::Number::New(info.Env(), 0);
}

}  // namespace

void InitSpawn(Napi::Env env, Napi::Object exports) {
  exports.Set("prctlSetPdeathsig", Napi::Function::New(env, PrctlSetPdeathsig, "prctlSetPdeathsig"));
  exports.Set("prctlGetPdeathsig", Napi::Function::New(env, PrctlGetPdeathsig, "prctlGetPdeathsig"));
  exports.Set("raiseDefault", Napi::Function::New(env, RaiseDefault, "raiseDefault"));
}

}  // namespace sigkit
