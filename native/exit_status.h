// exit_status.h: decodes how a process ended, from a wait(2) status or from
// the siginfo_t that waitid(2) fills, into { pid, code, signal, core } for
// the TypeScript layer (which names the signal). Man pages: wait(2),
// waitid(2) (si_code CLD_EXITED / CLD_KILLED / CLD_DUMPED).
#pragma once

#include <napi.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

namespace sigkit {

// { pid, code: exit code | null, signal: number | null, core: boolean }.
inline Napi::Object ExitObject(Napi::Env env, pid_t pid, int code, int signal, bool core) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, pid));
  o.Set("code", code >= 0 ? Napi::Number::New(env, code) : env.Null());
  o.Set("signal", signal > 0 ? Napi::Number::New(env, signal) : env.Null());
  o.Set("core", Napi::Boolean::New(env, core));
  return o;
}

// From a wait status (waitpid, or PIDFD_INFO_EXIT's exit_code).
inline Napi::Object ExitObjectFromStatus(Napi::Env env, pid_t pid, int status) {
  if (WIFSIGNALED(status)) return ExitObject(env, pid, -1, WTERMSIG(status), WCOREDUMP(status));
  return ExitObject(env, pid, WEXITSTATUS(status), 0, false);
}

// From waitid's siginfo (WEXITED only, so never CLD_STOPPED/CONTINUED).
inline Napi::Object ExitObjectFromSiginfo(Napi::Env env, const siginfo_t& si) {
  if (si.si_code == CLD_EXITED) return ExitObject(env, si.si_pid, si.si_status, 0, false);
  return ExitObject(env, si.si_pid, -1, si.si_status, si.si_code == CLD_DUMPED);
}

}  // namespace sigkit
