// wait.cc: reaping children without stealing them from libuv.
//
// System calls: waitpid(2) (always with __WNOTHREAD), prctl(2)
// PR_SET_CHILD_SUBREAPER / PR_GET_CHILD_SUBREAPER, gettid(2), and a read of
// /proc/self/task/<tid>/children (proc(5)). libuv: uv_walk() over this env's
// loop, uv_signal_t for SIGCHLD.
//
// Why a reaper here never takes a child_process child (NODE-LINUX-FACTS.md
// item 4): libuv reaps each of its children with waitpid(pid, WNOHANG) on the
// loop of the env that spawned it, and a child's parent is the *thread* that
// forked it. So the children of this env's thread are exactly (a) libuv's
// children on this loop, which uv_walk() lists as active UV_PROCESS handles,
// and (b) children that are nobody's in JS: orphans adopted by a subreaper
// (they go to the main thread), children of exited threads, forks made by
// native code. __WNOTHREAD makes the kernel refuse (ECHILD) any pid that is
// another thread's child, e.g. a worker's child_process child, and the list
// cannot change under us: only this thread spawns or reaps this thread's
// libuv children, and it is busy running this code.
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common.h"
#include "exit_status.h"
#include "loop_resources.h"

namespace sigkit {
namespace {

constexpr napi_type_tag kSigchldTag = {0x3e8f1c2b7a6d4f20ULL, 0x81b2c4d6e8f0a2c1ULL};

LoopResources* Resources(const Napi::CallbackInfo& info) { return static_cast<LoopResources*>(info.Data()); }

// waitpid(pid, noHang) -> exit object | 0 (noHang and still running) |
// -errno. waitpid(pid, __WNOTHREAD [| WNOHANG]): only a child of the calling
// thread, never -1, 0 or a group (those would take libuv's children).
// Blocks this thread when noHang is false.
Napi::Value Waitpid(const Napi::CallbackInfo& info) {
  int32_t pid;
  if (!ArgInt32(info, 0, &pid)) return Napi::Value();
  Napi::Env env = info.Env();
  if (pid <= 0) return Napi::Number::New(env, -EINVAL);  // never a wildcard
  int flags = __WNOTHREAD | (info[1].ToBoolean().Value() ? WNOHANG : 0);
  int status = 0;
  long r = RetryEintr([&] { return static_cast<long>(waitpid(pid, &status, flags)); });
  if (r < 0) return Napi::Number::New(env, -errno);
  if (r == 0) return Napi::Number::New(env, 0);
  return ExitObjectFromStatus(env, static_cast<pid_t>(r), status);
}

// prctlSetChildSubreaper(on) -> 0 | -errno.
Napi::Value PrctlSetChildSubreaper(const Napi::CallbackInfo& info) {
  unsigned long on = info[0].ToBoolean().Value() ? 1 : 0;
  return Napi::Number::New(info.Env(), ResultOrErrno(prctl(PR_SET_CHILD_SUBREAPER, on, 0, 0, 0)));
}

// prctlGetChildSubreaper() -> 0 | 1 | -errno.
Napi::Value PrctlGetChildSubreaper(const Napi::CallbackInfo& info) {
  int value = 0;
  long r = prctl(PR_GET_CHILD_SUBREAPER, &value, 0, 0, 0);
  if (r < 0) return Napi::Number::New(info.Env(), -errno);
  return Napi::Number::New(info.Env(), value != 0 ? 1 : 0);
}

// gettid() -> the calling thread's id (the env's loop thread).
Napi::Value Gettid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(syscall(SYS_gettid)));
}

// loopChildPids() -> pids of this env's loop's unreaped libuv children:
// active UV_PROCESS handles (libuv stops a process handle when it reaps it).
Napi::Value LoopChildPids(const Napi::CallbackInfo& info) {
  std::vector<int> pids;
  uv_walk(
      Resources(info)->loop(),
      [](uv_handle_t* h, void* arg) {
        if (h->type == UV_PROCESS && uv_is_active(h) && !uv_is_closing(h)) {
          static_cast<std::vector<int>*>(arg)->push_back(reinterpret_cast<uv_process_t*>(h)->pid);
        }
      },
      &pids);
  Napi::Array out = Napi::Array::New(info.Env(), pids.size());
  for (uint32_t i = 0; i < pids.size(); i++) out.Set(i, Napi::Number::New(info.Env(), pids[i]));
  return out;
}

class SigchldWatch;
using SignalBox = HandleBox<uv_signal_t, SigchldWatch>;

// A libuv SIGCHLD watcher on this env's loop. Through libuv rather than a
// sigaction of our own: libuv installs its handler when the first SIGCHLD
// watcher starts and resets SIGCHLD to SIG_DFL when the last one stops
// (a spawn while no child runs, or the last child's handle closing). While
// this watcher is active it is never the first nor the last, so nothing
// replaces the handler that wakes us, and every loop with a SIGCHLD watcher
// (main and workers) is woken by each SIGCHLD.
class SigchldWatch final : public LoopResource {
 public:
  explicit SigchldWatch(LoopResources* resources) : resources_(resources) { resources_->Track(this); }
  ~SigchldWatch() override {
    Shutdown();
    resources_->Untrack(this);
  }
  SigchldWatch(const SigchldWatch&) = delete;
  SigchldWatch& operator=(const SigchldWatch&) = delete;

  // -> 0 | -errno. Unref'd until Ref(true): a reaper alone does not keep the
  // process alive, like a process.on('SIGCHLD') listener.
  int Start(Napi::Function cb) {
    if (resources_->closing()) return -ECANCELED;
    auto* box = new SignalBox{};
    box->resources = resources_;
    box->owner = this;
    int r = uv_signal_init(resources_->loop(), &box->handle);
    if (r < 0) {
      delete box;
      return r;
    }
    box->handle.data = box;
    resources_->HandleOpened();
    uv_unref(reinterpret_cast<uv_handle_t*>(&box->handle));
    r = uv_signal_start(&box->handle, OnSignal, SIGCHLD);
    if (r < 0) {
      CloseBox(box);
      return r;
    }
    box_ = box;
    cb_ = Napi::Persistent(cb);
    return 0;
  }

  void SetRef(bool ref) {
    if (box_ == nullptr) return;
    auto* h = reinterpret_cast<uv_handle_t*>(&box_->handle);
    if (ref) {
      uv_ref(h);
    } else {
      uv_unref(h);
    }
  }

  // Stops watching (uv_close stops the signal watcher at once).
  void Shutdown() override {
    if (box_ != nullptr) {
      CloseBox(box_);
      box_ = nullptr;
    }
    cb_.Reset();
  }

 private:
  static void OnSignal(uv_signal_t* handle, int signum) {
    auto* box = static_cast<SignalBox*>(handle->data);
    SigchldWatch* self = box->owner;
    if (self == nullptr || self->cb_.IsEmpty()) return;
    CallFromLoop(self->cb_.Env(), self->cb_, signum);
  }

  LoopResources* resources_;
  SignalBox* box_ = nullptr;
  Napi::FunctionReference cb_;
};

SigchldWatch* ArgSigchld(const Napi::CallbackInfo& info, size_t i) {
  return ArgTagged<SigchldWatch>(info, i, &kSigchldTag, "a SIGCHLD watcher");
}

// sigchldWatch(callback) -> External | -errno. Calls callback(17) on this
// env's loop after SIGCHLD deliveries (several may coalesce into one).
Napi::Value SigchldWatchStart(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) {
    Napi::TypeError::New(info.Env(), "sigkit native: expected a function").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  auto* watch = new SigchldWatch(Resources(info));
  int r = watch->Start(info[0].As<Napi::Function>());
  if (r < 0) {
    delete watch;
    return Napi::Number::New(info.Env(), r);
  }
  auto ext = Napi::External<SigchldWatch>::New(info.Env(), watch, [](Napi::Env, SigchldWatch* w) { delete w; });
  napi_type_tag_object(info.Env(), ext, &kSigchldTag);
  return ext;
}

// sigchldRef(watcher, ref) -> 0.
Napi::Value SigchldRef(const Napi::CallbackInfo& info) {
  SigchldWatch* w = ArgSigchld(info, 0);
  if (w == nullptr) return Napi::Value();
  w->SetRef(info[1].ToBoolean().Value());
  return Napi::Number::New(info.Env(), 0);
}

// sigchldClose(watcher) -> 0. Idempotent.
Napi::Value SigchldClose(const Napi::CallbackInfo& info) {
  SigchldWatch* w = ArgSigchld(info, 0);
  if (w == nullptr) return Napi::Value();
  w->Shutdown();
  return Napi::Number::New(info.Env(), 0);
}

}  // namespace

void InitWait(Napi::Env env, Napi::Object exports) {
  LoopResources* resources = LoopResources::Create(env);
  if (resources == nullptr) return;
  auto fn = [&](const char* name, Napi::Function::Callback cb) {
    exports.Set(name, Napi::Function::New(env, cb, name, resources));
  };
  fn("waitpid", Waitpid);
  fn("prctlSetChildSubreaper", PrctlSetChildSubreaper);
  fn("prctlGetChildSubreaper", PrctlGetChildSubreaper);
  fn("gettid", Gettid);
  fn("loopChildPids", LoopChildPids);
  fn("sigchldWatch", SigchldWatchStart);
  fn("sigchldRef", SigchldRef);
  fn("sigchldClose", SigchldClose);
}

}  // namespace sigkit
