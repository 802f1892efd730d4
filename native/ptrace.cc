// ptrace.cc: watching the signals another process receives.
//
// System calls: ptrace(2) PTRACE_SEIZE, PTRACE_GETSIGINFO, PTRACE_CONT,
// PTRACE_LISTEN, PTRACE_INTERRUPT, PTRACE_DETACH; wait4(2) for one pid.
// Man pages: ptrace(2) ("Signal-delivery-stop", "Group-stop", "PTRACE_SEIZE
// and PTRACE_LISTEN"), wait(2).
//
// One native thread per watch. ptrace requests are bound to the thread that
// attached (the tracer is a task, not a process), so every request for a
// watch is made on that watch's own thread. That thread runs a private libuv
// loop woken by three things: SIGCHLD (the kernel sends it to the tracer's
// process at each ptrace stop of the tracee; libuv's signal pipe brings it to
// every loop that watches SIGCHLD), a uv_async_t (close requests from JS), and
// a slow timer (a safety net for a SIGCHLD someone made SA_NOCLDSTOP or
// SIG_IGN). On each wake it drains wait4(pid, WNOHANG | __WALL | __WNOTHREAD).
//
// Never reaping or stealing a child of this process:
// - wait4 names the tracee's pid, never -1, and __WNOTHREAD limits it to the
//   calling thread's own children and tracees: the dedicated tracer thread
//   forks nothing, so the only task it can ever see is the tracee.
// - A tracee that is a child of this process is refused in TypeScript before
//   it gets here: when the tracer shares the real parent's thread group, the
//   kernel reports the ptrace stops to the parent's own waits too (libuv's
//   waitpid(pid, WNOHANG) would take a stop for an exit) and the tracer's
//   wait of the exit reaps the child outright (EXIT_DEAD, not EXIT_TRACE).
// - For a non-child, the tracer's wait of the exit only ends the ptrace view
//   (EXIT_TRACE); the kernel then notifies the real parent, which reaps it.
//
// Every signal-delivery-stop is reported (PTRACE_GETSIGINFO) and the same
// signal is re-injected with PTRACE_CONT: the kernel keeps the original
// siginfo when the number is unchanged. Group-stops (PTRACE_EVENT_STOP with a
// stop signal) are answered with PTRACE_LISTEN, so the tracee stays stopped
// exactly as untraced and a SIGCONT wakes it. close() makes the tracer thread
// PTRACE_INTERRUPT the tracee and PTRACE_DETACH it from the resulting stop
// (or from a signal-delivery-stop met on the way, re-injecting that signal);
// a group-stopped tracee stays stopped. If no stop comes within a deadline (a
// tracee in uninterruptible sleep), the thread ends, and the kernel detaches
// every tracee of an exiting tracer thread.
//
// Results reach JS through a threadsafe function (never from a signal
// handler: the SIGCHLD handler is libuv's, which only writes to a pipe).
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common.h"

namespace sigkit {
namespace {

constexpr napi_type_tag kWatchTag = {0x7e3a51c2d9b04f17ULL, 0xa48c06e1f25d9b33ULL};

// How often the loop re-drains without a SIGCHLD (the safety net), and how
// long close() waits for the tracee to reach a stop before leaving the detach
// to the kernel.
constexpr uint64_t kFallbackPollMs = 200;
constexpr uint64_t kDetachDeadlineMs = 2000;

// Event kinds passed to JS: callback(kind, data).
enum Kind : int32_t {
  kSignal = 1,  // data: signo, code, pid, uid, value, status
  kExit = 2,    // data: code (-1 none), signal (0 none), core (0/1)
  kError = 3,   // data: -errno, the ptrace request that failed (as a number)
  kEnd = 4,     // data: 1 detached by close, 0 the tracee ended
};

struct Event {
  int32_t kind;
  int32_t data[6];
};

bool IsStopSignal(int sig) { return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU; }

class Watch {
 public:
  explicit Watch(pid_t pid) : pid_(pid) {}
  ~Watch() { Join(); }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  // Starts the tracer thread and waits for PTRACE_SEIZE's result -> 0 | -errno.
  // On failure the thread has ended and the tsfn is released.
  int Start(napi_env env, napi_value callback) {
    napi_value name;
    napi_create_string_utf8(env, "sigkit.watchSignals", NAPI_AUTO_LENGTH, &name);
    // Queue size 0: unbounded, so the tracer thread never blocks on JS (the
    // JS side bounds what it keeps). One thread holds the function.
    if (napi_create_threadsafe_function(env, callback, nullptr, name, 0, 1, nullptr, nullptr, nullptr, CallJs, &tsfn_) != napi_ok) {
      return -ENOMEM;
    }
    thread_ = std::thread([this] { Run(); });
    std::unique_lock<std::mutex> lock(mu_);
    started_cv_.wait(lock, [this] { return seize_result_ != 1; });
    int r = seize_result_;
    lock.unlock();
    if (r < 0) Join();
    return r;
  }

  // Asks the tracer thread to detach and waits for it to end. Idempotent.
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      close_requested_ = true;
      if (loop_alive_) uv_async_send(&wake_);
    }
    Join();
  }

 private:
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  static void CallJs(napi_env env, napi_value js_cb, void* /*context*/, void* data) {
    Event* ev = static_cast<Event*>(data);
    if (env != nullptr && js_cb != nullptr) {
      napi_handle_scope scope;
      napi_open_handle_scope(env, &scope);
      napi_value args[2], result, recv;
      napi_create_int32(env, ev->kind, &args[0]);
      napi_create_array_with_length(env, 6, &args[1]);
      for (uint32_t i = 0; i < 6; i++) {
        napi_value v;
        napi_create_int32(env, ev->data[i], &v);
        napi_set_element(env, args[1], i, v);
      }
      napi_get_global(env, &recv);
      // napi_make_callback, not napi_call_function: it runs the microtasks
      // (promise resolutions of the iterator) when it returns. An exception
      // from the JS side is its own bug: reported as uncaught.
      if (napi_make_callback(env, nullptr, recv, js_cb, 2, args, &result) != napi_ok) {
        bool pending = false;
        napi_is_exception_pending(env, &pending);
        napi_value error;
        if (pending && napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
      }
      napi_close_handle_scope(env, scope);
    }
    delete ev;
  }

  void Emit(int32_t kind, std::initializer_list<int32_t> data) {
    auto* ev = new Event{kind, {0, 0, 0, 0, 0, 0}};
    int i = 0;
    for (int32_t d : data) ev->data[i++] = d;
    // napi_closing at env teardown: nobody listens any more.
    if (napi_call_threadsafe_function(tsfn_, ev, napi_tsfn_nonblocking) != napi_ok) delete ev;
  }

  // The tracer thread.
  void Run() {
    bool inited = uv_loop_init(&loop_) == 0;
    bool loop_ok = inited;
    if (inited) {
      wake_.data = this;
      chld_.data = this;
      timer_.data = this;
      uv_async_init(&loop_, &wake_, [](uv_async_t* h) { static_cast<Watch*>(h->data)->OnWake(); });
      uv_signal_init(&loop_, &chld_);
      uv_timer_init(&loop_, &timer_);
      // Watch SIGCHLD before attaching, so that no stop can come unseen.
      loop_ok = uv_signal_start(&chld_, [](uv_signal_t* h, int) { static_cast<Watch*>(h->data)->Drain(); }, SIGCHLD) == 0;
    }
    int r = loop_ok ? 0 : -EAGAIN;
    if (r == 0) {
      // No options: no exec/clone/exit events, only signal and group stops.
      // Not PTRACE_O_EXITKILL: our end must never end the tracee.
      r = ptrace(PTRACE_SEIZE, pid_, nullptr, nullptr) == 0 ? 0 : -errno;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      seize_result_ = r;
      loop_alive_ = loop_ok && r == 0;
    }
    started_cv_.notify_one();
    if (r == 0) {
      uv_timer_start(&timer_, [](uv_timer_t* h) { static_cast<Watch*>(h->data)->Drain(); }, kFallbackPollMs, kFallbackPollMs);
      OnWake();  // a close may already be asked for
      Drain();
      if (!finished_) uv_run(&loop_, UV_RUN_DEFAULT);
      Emit(kEnd, {detached_ ? 1 : 0});
    }
    if (inited) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        loop_alive_ = false;
      }
      uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
      uv_close(reinterpret_cast<uv_handle_t*>(&chld_), nullptr);
      uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
      uv_run(&loop_, UV_RUN_DEFAULT);  // runs the close callbacks
      uv_loop_close(&loop_);
    }
    // Ending this thread detaches the tracee if it is still attached
    // (exit_ptrace): the kernel's own way out, used after the deadline.
    napi_release_threadsafe_function(tsfn_, napi_tsfn_release);
  }

  void Finish() {
    finished_ = true;
    uv_stop(&loop_);
  }

  // A close request: interrupt the tracee; its stop is detached in Drain.
  void OnWake() {
    bool requested;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requested = close_requested_;
    }
    if (!requested || closing_ || finished_) return;
    closing_ = true;
    if (ptrace(PTRACE_INTERRUPT, pid_, nullptr, nullptr) != 0) {
      // ESRCH: it is exiting; its exit is drained next. Anything else:
      // leave it to the thread's end.
      if (errno != ESRCH) Finish();
    }
    uv_timer_start(&timer_, [](uv_timer_t* h) {
      auto* self = static_cast<Watch*>(h->data);
      self->Drain();
      if (!self->finished_ && self->DeadlinePassed()) self->Finish();
    }, 10, 10);
    close_started_ms_ = uv_now(&loop_);
  }

  bool DeadlinePassed() { return uv_now(&loop_) - close_started_ms_ >= kDetachDeadlineMs; }

  void Detach(int sig) {
    if (ptrace(PTRACE_DETACH, pid_, nullptr, reinterpret_cast<void*>(static_cast<intptr_t>(sig))) == 0) {
      detached_ = true;
    }
    Finish();
  }

  // Handles every pending wait status of the tracee.
  void Drain() {
    while (!finished_) {
      int status = 0;
      // __WALL: the tracee may be a thread-group leader of any kind;
      // __WNOTHREAD: only this thread's tracees (see the header).
      pid_t got = static_cast<pid_t>(RetryEintr([&] { return static_cast<long>(wait4(pid_, &status, WNOHANG | __WALL | __WNOTHREAD, nullptr)); }));
      if (got == 0) return;
      if (got < 0) {
        // ECHILD: no longer our tracee (it vanished with no status for us).
        Emit(kError, {-errno, 0});
        Finish();
        return;
      }
      Handle(status);
    }
  }

  void Handle(int status) {
    if (WIFEXITED(status)) {
      Emit(kExit, {WEXITSTATUS(status), 0, 0});
      Finish();
      return;
    }
    if (WIFSIGNALED(status)) {
      Emit(kExit, {-1, WTERMSIG(status), WCOREDUMP(status) ? 1 : 0});
      Finish();
      return;
    }
    if (!WIFSTOPPED(status)) return;
    int sig = WSTOPSIG(status);
    int event = (status >> 16) & 0xff;
    if (event == PTRACE_EVENT_STOP) {
      if (closing_) {
        Detach(0);  // a group-stopped tracee stays stopped once detached
      } else if (IsStopSignal(sig)) {
        // Group-stop: stay stopped, but let SIGCONT (or our interrupt) wake it.
        Request(PTRACE_LISTEN, 0);
      } else {
        // The re-trap after a SIGCONT ended a listened group-stop.
        Request(PTRACE_CONT, 0);
      }
      return;
    }
    if (event != 0) {
      Request(PTRACE_CONT, 0);  // no other event is asked for
      return;
    }
    // Signal-delivery-stop.
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (ptrace(PTRACE_GETSIGINFO, pid_, nullptr, &si) != 0) {
      if (errno == ESRCH) return;  // killed meanwhile: its exit comes next
      memset(&si, 0, sizeof si);
      si.si_signo = sig;
    }
    if (!closing_) {
      int32_t status_field = sig == SIGCHLD ? si.si_status : 0;
      Emit(kSignal, {si.si_signo, si.si_code, si.si_pid, static_cast<int32_t>(si.si_uid), si.si_value.sival_int, status_field});
      Request(PTRACE_CONT, sig);
    } else {
      Detach(sig);  // leaves with the signal delivered, as untraced
    }
  }

  // glibc types a request as enum __ptrace_request, musl as int: take
  // whichever this libc's constants have.
  using PtraceRequest = decltype(PTRACE_CONT);
  void Request(PtraceRequest req, int sig) {
    if (ptrace(req, pid_, nullptr, reinterpret_cast<void*>(static_cast<intptr_t>(sig))) != 0 && errno != ESRCH) {
      Emit(kError, {-errno, static_cast<int32_t>(req)});
    }
  }

  const pid_t pid_;
  napi_threadsafe_function tsfn_ = nullptr;
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable started_cv_;
  int seize_result_ = 1;  // 1: not yet known
  bool loop_alive_ = false;
  bool close_requested_ = false;

  // Tracer thread only.
  uv_loop_t loop_;
  uv_async_t wake_;
  uv_signal_t chld_;
  uv_timer_t timer_;
  bool closing_ = false;
  bool finished_ = false;
  bool detached_ = false;
  uint64_t close_started_ms_ = 0;
};

// The owner of a Watch seen by JS. Closes it on ptraceWatchClose, on garbage
// collection, or at env teardown (a worker ending), whichever comes first.
struct WatchRef {
  napi_env env;
  Watch* watch;
  bool hooked;
};

void CloseRef(WatchRef* ref);

void OnEnvCleanup(void* arg) {
  auto* ref = static_cast<WatchRef*>(arg);
  ref->hooked = false;  // Node drops a hook once it ran
  CloseRef(ref);
}

void CloseRef(WatchRef* ref) {
  if (ref->watch != nullptr) {
    ref->watch->Close();
    delete ref->watch;
    ref->watch = nullptr;
  }
  if (ref->hooked) {
    ref->hooked = false;
    napi_remove_env_cleanup_hook(ref->env, OnEnvCleanup, ref);
  }
}

// ptraceWatch(pid, callback) -> External | -errno. Attaches on a new thread;
// callback(kind, data) receives the events (see Kind).
Napi::Value PtraceWatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t pid;
  if (!ArgInt32(info, 0, &pid)) return Napi::Value();
  if (!info[1].IsFunction()) {
    Napi::TypeError::New(env, "sigkit native: expected a function").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  if (pid <= 0) return Napi::Number::New(env, -EINVAL);
  auto* watch = new Watch(pid);
  int r = watch->Start(env, info[1]);
  if (r < 0) {
    delete watch;
    return Napi::Number::New(env, r);
  }
  auto* ref = new WatchRef{env, watch, false};
  if (napi_add_env_cleanup_hook(env, OnEnvCleanup, ref) == napi_ok) ref->hooked = true;
  Napi::External<WatchRef> ext = Napi::External<WatchRef>::New(env, ref, [](Napi::Env, WatchRef* p) {
    CloseRef(p);
    delete p;
  });
  napi_type_tag_object(env, ext, &kWatchTag);
  return ext;
}

// ptraceWatchClose(watch) -> 0. Detaches (or finds the tracee gone) and ends
// the thread before returning. Idempotent.
Napi::Value PtraceWatchClose(const Napi::CallbackInfo& info) {
  WatchRef* ref = ArgTagged<WatchRef>(info, 0, &kWatchTag, "a signal watch");
  if (ref == nullptr) return Napi::Value();
  CloseRef(ref);
  return Napi::Number::New(info.Env(), 0);
}

}  // namespace

void InitPtrace(Napi::Env env, Napi::Object exports) {
  exports.Set("ptraceWatch", Napi::Function::New(env, PtraceWatch, "ptraceWatch"));
  exports.Set("ptraceWatchClose", Napi::Function::New(env, PtraceWatchClose, "ptraceWatchClose"));
}

}  // namespace sigkit
