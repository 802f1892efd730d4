// kill.cc: sending signals.
//
// System calls: kill(2), killpg(3) (kill(2) with a negated pid), sigqueue(3)
// (rt_sigqueueinfo(2)). Man pages: kill(2), killpg(3), sigqueue(3), signal(7).
// Also exports the run-time realtime signal range: glibc reserves the first
// two kernel realtime signals (32, 33) for its threads and musl three, so
// SIGRTMIN is a function call, never a constant.
#include "common.h"

#include <signal.h>
#include <sys/types.h>

namespace sigkit {
namespace {

// Defense in depth: the TypeScript layer refuses these values first, but no
// future bug above may reach the kernel's special meanings. kill(0) is "my
// group", kill(-1) "every process I may signal", kill(-n) group n; and
// glibc's killpg(1, s) is kill(-1, s). Refused with -EINVAL, no call made.
constexpr int32_t kNoCall = -EINVAL;

// kill(pid, sig) -> 0 | -errno; -EINVAL without the call for pid <= 0.
Napi::Value Kill(const Napi::CallbackInfo& info) {
  int32_t pid, sig;
  if (!ArgInt32(info, 0, &pid) || !ArgInt32(info, 1, &sig)) return Napi::Value();
  if (pid <= 0) return Napi::Number::New(info.Env(), kNoCall);
  return Napi::Number::New(info.Env(), ResultOrErrno(kill(pid, sig)));
}

// killpg(pgid, sig) -> 0 | -errno; -EINVAL without the call for pgid <= 1.
Napi::Value Killpg(const Napi::CallbackInfo& info) {
  int32_t pgid, sig;
  if (!ArgInt32(info, 0, &pgid) || !ArgInt32(info, 1, &sig)) return Napi::Value();
  if (pgid <= 1) return Napi::Number::New(info.Env(), kNoCall);
  return Napi::Number::New(info.Env(), ResultOrErrno(killpg(pgid, sig)));
}

// sigqueue(pid, sig, value) -> 0 | -errno. The payload travels as
// sival_int; the receiver sees si_code SI_QUEUE and our pid/uid, which the
// kernel does not check (see NODE-LINUX-FACTS.md item 17).
Napi::Value Sigqueue(const Napi::CallbackInfo& info) {
  int32_t pid, sig, value;
  if (!ArgInt32(info, 0, &pid) || !ArgInt32(info, 1, &sig) || !ArgInt32(info, 2, &value)) {
    return Napi::Value();
  }
  if (pid <= 0) return Napi::Number::New(info.Env(), kNoCall);  // sigqueue(0) is "my group"
  union sigval sv;
  sv.sival_ptr = nullptr;  // zero the whole union before setting the int
  sv.sival_int = value;
  return Napi::Number::New(info.Env(), ResultOrErrno(sigqueue(pid, sig, sv)));
}

}  // namespace

void InitKill(Napi::Env env, Napi::Object exports) {
  exports.Set("kill", Napi::Function::New(env, Kill, "kill"));
  exports.Set("killpg", Napi::Function::New(env, Killpg, "killpg"));
  exports.Set("sigqueue", Napi::Function::New(env, Sigqueue, "sigqueue"));
  // Read once at load: libc fixes its reserved range before main() runs.
  exports.Set("sigrtmin", Napi::Number::New(env, SIGRTMIN));
  exports.Set("sigrtmax", Napi::Number::New(env, SIGRTMAX));
  // The kernel's highest signal number (_NSIG - 1), to tell "libc reserved"
  // numbers (below SIGRTMIN) from the realtime range.
  exports.Set("nsig", Napi::Number::New(env, NSIG));
}

}  // namespace sigkit
