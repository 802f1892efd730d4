// pidfd.cc: process file descriptors.
//
// System calls: pidfd_open(2) (5.3), pidfd_send_signal(2) (5.1),
// waitid(2) with P_PIDFD (5.4), poll(2), ioctl(2) PIDFD_GET_INFO (6.13;
// PIDFD_INFO_EXIT 6.15), close(2); and a read of /proc/<pid>/stat (proc(5))
// for the start time. For the fallback where the kernel or a seccomp filter
// refuses pidfds: open(2) of /proc/<pid> held as the process's identity and
// openat(2) of its stat, waitid(2) with P_PID and WNOWAIT; for the capability probe:
// vfork(2), waitpid(2), pthread_sigmask(3). Man pages: pidfd_open(2),
// pidfd_send_signal(2), waitid(2), ioctl_pidfd(2) where present, vfork(2).
//
// A pidfd names one process for as long as it is open: once that process is
// reaped, signalling through it fails with ESRCH even if its pid number has
// been given to a new process. It polls readable when the process exits
// (zombie) and readable+hangup once it is reaped; polling never reaps.
//
// JS holds a pidfd as an opaque, type-tagged External. The fd number never
// leaves this file: the External's owner closes it exactly once, on
// pidfdClose, on garbage collection, or at env teardown, whichever is first.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "common.h"
#include "exit_status.h"
#include "loop_resources.h"
#include "proc_parse.h"

// The generic syscall table numbers (x86-64 and arm64 alike), for libc
// headers that predate them.
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

namespace sigkit {
namespace {

// P_PIDFD is an enum value in glibc >= 2.36 and absent before: use the number.
constexpr idtype_t kPPidfd = static_cast<idtype_t>(3);

// struct pidfd_info as of PIDFD_INFO_SIZE_VER0 (linux/pidfd.h, 6.13+). Older
// uapi headers lack it; the kernel reads the size from the ioctl number and
// fills only what fits, so this first version is valid on every kernel that
// knows the ioctl.
struct PidfdInfo {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exit_code;  // a wait(2) status, valid when mask has PIDFD_INFO_EXIT
};
static_assert(sizeof(PidfdInfo) == 64, "PIDFD_INFO_SIZE_VER0 is 64 bytes");
constexpr unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfo);
constexpr uint64_t kPidfdInfoPid = 1u << 0;
constexpr uint64_t kPidfdInfoExit = 1u << 3;

// Tells our Externals from any other value passed back in.
constexpr napi_type_tag kPidfdTag = {0x5a1b7f0e4c2d4e11ULL, 0x9d3c0a6b8e7f2d01ULL};

// One fd owned on an env's loop: tracked for the env's teardown and closed
// in exactly one place, so no path closes it twice or closes a number that
// has meanwhile been reused.
class TrackedFd : public LoopResource {
 public:
  TrackedFd(LoopResources* resources, int fd) : resources_(resources), fd_(fd) { resources_->Track(this); }
  ~TrackedFd() override {
    CloseFd();
    resources_->Untrack(this);
  }
  TrackedFd(const TrackedFd&) = delete;
  TrackedFd& operator=(const TrackedFd&) = delete;

  void Shutdown() override { CloseFd(); }

  int fd() const { return fd_; }

  // close(2) -> 0 | -errno; -EBADF when already closed. The fd is forgotten
  // before close() runs: Linux releases it even when close fails (EINTR
  // included), so it is never retried and never closed twice.
  int CloseFd() {
    if (fd_ < 0) return -EBADF;
    int fd = fd_;
    fd_ = -1;
    return close(fd) == 0 ? 0 : -errno;
  }

 protected:
  LoopResources* resources_;

 private:
  int fd_;
};

class Pidfd;
using PollBox = HandleBox<uv_poll_t, Pidfd>;

// Owns one pidfd and, while someone waits for the exit, one uv_poll_t.
class Pidfd final : public TrackedFd {
 public:
  Pidfd(LoopResources* resources, int fd) : TrackedFd(resources, fd) {}
  // The poll goes before the fd (TrackedFd's destructor closes it), as libuv requires.
  ~Pidfd() override { StopWatch(); }

  void Shutdown() override {
    StopWatch();
    CloseFd();
  }

  // Polls the pidfd for readability on this env's loop and calls `cb` once
  // with the poll events (or a negative libuv error) -> 0 | -errno.
  int Watch(Napi::Function cb, bool ref) {
    if (fd() < 0) return -EBADF;
    if (box_ != nullptr) return -EBUSY;
    if (resources_->closing()) return -ECANCELED;
    auto* box = new PollBox{};
    box->resources = resources_;
    box->owner = this;
    int r = uv_poll_init(resources_->loop(), &box->handle, fd());
    if (r < 0) {
      delete box;  // not registered with the loop on failure
      return r;    // libuv errors are -errno on Unix
    }
    box->handle.data = box;
    resources_->HandleOpened();
    r = uv_poll_start(&box->handle, UV_READABLE, OnPoll);
    if (r < 0) {
      CloseBox(box);
      return r;
    }
    if (!ref) uv_unref(reinterpret_cast<uv_handle_t*>(&box->handle));
    box_ = box;
    cb_ = Napi::Persistent(cb);
    return 0;
  }

  // Stops a watch without calling back. Closes the poll before the fd may
  // be closed, as libuv requires.
  void StopWatch() {
    if (box_ != nullptr) {
      CloseBox(box_);
      box_ = nullptr;
    }
    cb_.Reset();
  }

 private:
  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* box = static_cast<PollBox*>(handle->data);
    Pidfd* self = box->owner;
    if (self == nullptr) return;
    // One shot: the process exits once. Detach first, so that the callback
    // may close the pidfd or watch again.
    Napi::FunctionReference cb = std::move(self->cb_);
    self->box_ = nullptr;
    CloseBox(box);
    CallFromLoop(cb.Env(), cb, status < 0 ? status : events);
  }

  PollBox* box_ = nullptr;
  Napi::FunctionReference cb_;
};

// The Pidfd behind argument `i`, or nullptr with a pending TypeError.
Pidfd* ArgPidfd(const Napi::CallbackInfo& info, size_t i) { return ArgTagged<Pidfd>(info, i, &kPidfdTag, "a pidfd"); }

LoopResources* Resources(const Napi::CallbackInfo& info) { return static_cast<LoopResources*>(info.Data()); }

// pidfdOpen(pid) -> External | -errno. pidfd_open(pid, 0): the pidfd is
// close-on-exec; libuv makes it non-blocking when it polls it. pid <= 0 is
// refused with -EINVAL without the call (defense in depth: the TypeScript
// layer refuses it first).
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  int32_t pid;
  if (!ArgInt32(info, 0, &pid)) return Napi::Value();
  if (pid <= 0) return Napi::Number::New(info.Env(), -EINVAL);
  LoopResources* resources = Resources(info);
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return Napi::Number::New(info.Env(), -errno);
  auto* pidfd = new Pidfd(resources, fd);
  Napi::External<Pidfd> ext = Napi::External<Pidfd>::New(info.Env(), pidfd, [](Napi::Env, Pidfd* p) { delete p; });
  napi_type_tag_object(info.Env(), ext, &kPidfdTag);
  return ext;
}

// pidfdSendSignal(pidfd, sig) -> 0 | -errno (ESRCH once the process is
// reaped; 0 for a zombie, which ignores it).
Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  Pidfd* p = ArgPidfd(info, 0);
  int32_t sig;
  if (p == nullptr || !ArgInt32(info, 1, &sig)) return Napi::Value();
  if (p->fd() < 0) return Napi::Number::New(info.Env(), -EBADF);
  return Napi::Number::New(info.Env(), ResultOrErrno(syscall(SYS_pidfd_send_signal, p->fd(), sig, nullptr, 0)));
}

// pidfdPoll(pidfd) -> revents | -errno, without waiting: POLLIN once the
// process has exited, POLLIN|POLLHUP once it has also been reaped.
Napi::Value PidfdPoll(const Napi::CallbackInfo& info) {
  Pidfd* p = ArgPidfd(info, 0);
  if (p == nullptr) return Napi::Value();
  if (p->fd() < 0) return Napi::Number::New(info.Env(), -EBADF);
  struct pollfd pfd = {p->fd(), POLLIN, 0};
  long r = RetryEintr([&] { return static_cast<long>(poll(&pfd, 1, 0)); });
  if (r < 0) return Napi::Number::New(info.Env(), -errno);
  return Napi::Number::New(info.Env(), r == 0 ? 0 : pfd.revents);
}

// pidfdWaitid(pidfd, noWait) -> exit object | 0 (still running) | -errno.
// waitid(P_PIDFD, fd, WEXITED | WNOHANG [| WNOWAIT]): only for our own
// children (ECHILD otherwise, or once someone reaped it). With noWait the
// child stays a zombie, so whoever owns it (libuv) still reaps it.
Napi::Value PidfdWaitid(const Napi::CallbackInfo& info) {
  Pidfd* p = ArgPidfd(info, 0);
  if (p == nullptr) return Napi::Value();
  if (p->fd() < 0) return Napi::Number::New(info.Env(), -EBADF);
  bool no_wait = info[1].ToBoolean().Value();
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int flags = WEXITED | WNOHANG | (no_wait ? WNOWAIT : 0);
  long r = RetryEintr([&] { return static_cast<long>(waitid(kPPidfd, static_cast<id_t>(p->fd()), &si, flags)); });
  if (r < 0) return Napi::Number::New(info.Env(), -errno);
  if (si.si_pid == 0) return Napi::Number::New(info.Env(), 0);  // WNOHANG: not yet
  return ExitObjectFromSiginfo(info.Env(), si);
}

// pidfdGetInfo(pidfd) -> { mask, pid, ppid, exit: exit object | null } |
// -errno. ioctl(PIDFD_GET_INFO) asking for PID and EXIT. The kernel clears
// the mask bits it could not fill: EXIT appears only once the process has
// been reaped (6.15+), for children and non-children alike. ENOTTY before
// 6.13; ESRCH after reap before 6.15.
Napi::Value PidfdGetInfo(const Napi::CallbackInfo& info) {
  Pidfd* p = ArgPidfd(info, 0);
  if (p == nullptr) return Napi::Value();
  Napi::Env env = info.Env();
  if (p->fd() < 0) return Napi::Number::New(env, -EBADF);
  PidfdInfo pi;
  memset(&pi, 0, sizeof pi);
  pi.mask = kPidfdInfoPid | kPidfdInfoExit;
  long r = RetryEintr([&] { return static_cast<long>(ioctl(p->fd(), kPidfdGetInfo, &pi)); });
  if (r < 0) return Napi::Number::New(env, -errno);
  Napi::Object o = Napi::Object::New(env);
  o.Set("mask", Napi::Number::New(env, static_cast<double>(pi.mask)));
  o.Set("pid", (pi.mask & kPidfdInfoPid) ? Napi::Number::New(env, pi.pid) : env.Null());
  o.Set("ppid", (pi.mask & kPidfdInfoPid) ? Napi::Number::New(env, pi.ppid) : env.Null());
  o.Set("exit", (pi.mask & kPidfdInfoExit) ? Napi::Value(ExitObjectFromStatus(env, 0, pi.exit_code)) : env.Null());
  return o;
}

// waitidPid(pid) -> exit object | 0 (still running) | -errno.
// waitid(P_PID, pid, WEXITED | WNOHANG | WNOWAIT): the exit of a child of
// this process (any thread's) without reaping it, for where P_PIDFD is
// refused. WNOWAIT always: the zombie stays for whoever owns it (libuv).
// The caller checks that the pid still names its process (start time).
Napi::Value WaitidPid(const Napi::CallbackInfo& info) {
  int32_t pid;
  if (!ArgInt32(info, 0, &pid)) return Napi::Value();
  Napi::Env env = info.Env();
  if (pid <= 0) return Napi::Number::New(env, -EINVAL);  // P_PID only: never a wildcard
  siginfo_t si;
  memset(&si, 0, sizeof si);
  long r = RetryEintr([&] { return static_cast<long>(waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT)); });
  if (r < 0) return Napi::Number::New(env, -errno);
  if (si.si_pid == 0) return Napi::Number::New(env, 0);
  return ExitObjectFromSiginfo(env, si);
}

// A child that exits at once. vfork: no page tables are copied and the
// parent resumes only once the child is gone, so it is already a zombie on
// return. Kept apart so no local of the caller lives across vfork.
__attribute__((noinline)) pid_t ForkExitingChild() {
  pid_t child = vfork();
  if (child == 0) _exit(0);
  return child;
}

// pidfdInfoExitProbe() -> 1 (PIDFD_INFO_EXIT works) | 0 (it does not) |
// -errno (the probe itself failed: ENOSYS/EPERM from pidfd_open, EAGAIN
// from vfork). Runs a throwaway child: opens a pidfd on it, reaps it by pid
// (our child, nobody else's: libuv only waits for its own pids), then asks
// the pidfd for its exit. Every signal is blocked around vfork so that no
// handler runs in the child, which shares our memory until it exits.
Napi::Value PidfdInfoExitProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t child = ForkExitingChild();
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (child < 0) return Napi::Number::New(env, -fork_errno);
  int fd = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
  int open_errno = errno;
  int status = 0;
  RetryEintr([&] { return static_cast<long>(waitpid(child, &status, 0)); });  // always reaped
  if (fd < 0) return Napi::Number::New(env, -open_errno);
  PidfdInfo pi;
  memset(&pi, 0, sizeof pi);
  pi.mask = kPidfdInfoExit;
  long r = RetryEintr([&] { return static_cast<long>(ioctl(fd, kPidfdGetInfo, &pi)); });
  int ioctl_errno = errno;
  close(fd);
  if (r < 0) {
    // ENOTTY: no PIDFD_GET_INFO (< 6.13); ESRCH: it knows no exit (6.13, 6.14).
    if (ioctl_errno == ENOTTY || ioctl_errno == ESRCH || ioctl_errno == EINVAL) return Napi::Number::New(env, 0);
    return Napi::Number::New(env, -ioctl_errno);
  }
  return Napi::Number::New(env, (pi.mask & kPidfdInfoExit) ? 1 : 0);
}

// pidfdWatch(pidfd, callback) -> 0 | -errno. Calls callback(events) once
// when the process exits (or callback(-errno) if polling fails). The poll is
// ref'd (a pending wait keeps the loop alive, like a timer) unless a third
// argument is false (exitOf: the child's own handle decides).
Napi::Value PidfdWatch(const Napi::CallbackInfo& info) {
  Pidfd* p = ArgPidfd(info, 0);
  if (p == nullptr) return Napi::Value();
  if (!info[1].IsFunction()) {
    Napi::TypeError::New(info.Env(), "sigkit native: expected a function").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  bool ref = info.Length() < 3 || info[2].ToBoolean().Value();
  return Napi::Number::New(info.Env(), p->Watch(info[1].As<Napi::Function>(), ref));
}

// pidfdUnwatch(pidfd) -> 0. Stops a pending watch; its callback never runs.
Napi::Value PidfdUnwatch(const Napi::CallbackInfo& info) {
  Pidfd* p = ArgPidfd(info, 0);
  if (p == nullptr) return Napi::Value();
  p->StopWatch();
  return Napi::Number::New(info.Env(), 0);
}

// Tells a /proc/<pid> directory handle from a pidfd.
constexpr napi_type_tag kProcDirTag = {0x3c6e2b9a71d04f52ULL, 0xa84f19e0c27b5d33ULL};

// Owns one fd of a /proc/<pid> directory: the identity of a process where
// pidfds are refused. The directory's inode holds the kernel's struct pid,
// not the number: once that process is reaped, every lookup through the fd
// (openat "stat") fails with ENOENT/ESRCH, even after the number went to a
// new process. Linux has kept this since long before pidfds (proc_pid_lookup
// takes the task from the inode's pid).
class ProcDir final : public TrackedFd {
 public:
  using TrackedFd::TrackedFd;
};

ProcDir* ArgProcDir(const Napi::CallbackInfo& info, size_t i) { return ArgTagged<ProcDir>(info, i, &kProcDirTag, "a /proc directory handle"); }

// procDirOpen(pid) -> External | -errno: open("/proc/<pid>", O_DIRECTORY).
// pid <= 0 is -EINVAL without the call.
Napi::Value ProcDirOpen(const Napi::CallbackInfo& info) {
  int32_t pid;
  if (!ArgInt32(info, 0, &pid)) return Napi::Value();
  if (pid <= 0) return Napi::Number::New(info.Env(), -EINVAL);
  char path[32];
  snprintf(path, sizeof path, "/proc/%d", pid);
  int fd = static_cast<int>(RetryEintr([&] { return static_cast<long>(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)); }));
  if (fd < 0) return Napi::Number::New(info.Env(), -errno);
  auto* dir = new ProcDir(Resources(info), fd);
  Napi::External<ProcDir> ext = Napi::External<ProcDir>::New(info.Env(), dir, [](Napi::Env, ProcDir* d) { delete d; });
  napi_type_tag_object(info.Env(), ext, &kProcDirTag);
  return ext;
}

// procDirStat(dir) -> [stateCharCode, startTime, ppid] | -errno: the stat of
// the process the directory was opened on, read through it. -ENOENT or
// -ESRCH once that process has been reaped (whoever has its pid now).
Napi::Value ProcDirStat(const Napi::CallbackInfo& info) {
  ProcDir* d = ArgProcDir(info, 0);
  if (d == nullptr) return Napi::Value();
  Napi::Env env = info.Env();
  if (d->fd() < 0) return Napi::Number::New(env, -EBADF);
  int fd = static_cast<int>(RetryEintr([&] { return static_cast<long>(openat(d->fd(), "stat", O_RDONLY | O_CLOEXEC)); }));
  if (fd < 0) return Napi::Number::New(env, -errno);
  char buf[4096];
  ssize_t len = RetryEintr([&] { return static_cast<long>(pread(fd, buf, sizeof buf - 1, 0)); });
  int err = len < 0 ? errno : 0;
  close(fd);
  if (len < 0) return Napi::Number::New(env, -err);
  if (len == 0) return Napi::Number::New(env, -ESRCH);
  StatRecord rec;
  if (!ParseStat(buf, static_cast<size_t>(len), &rec)) return Napi::Number::New(env, -EIO);
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::Number::New(env, rec.field[kState]));
  out.Set(1u, Napi::Number::New(env, rec.field[kStartTime]));
  out.Set(2u, Napi::Number::New(env, rec.field[kPpid]));
  return out;
}

// procDirClose(dir) -> 0 | -errno (EBADF when already closed).
Napi::Value ProcDirClose(const Napi::CallbackInfo& info) {
  ProcDir* d = ArgProcDir(info, 0);
  if (d == nullptr) return Napi::Value();
  return Napi::Number::New(info.Env(), d->CloseFd());
}

// pidfdClose(pidfd) -> 0 | -errno (EBADF when already closed). Stops a
// pending watch first.
Napi::Value PidfdClose(const Napi::CallbackInfo& info) {
  Pidfd* p = ArgPidfd(info, 0);
  if (p == nullptr) return Napi::Value();
  p->StopWatch();
  return Napi::Number::New(info.Env(), p->CloseFd());
}

}  // namespace

void InitPidfd(Napi::Env env, Napi::Object exports) {
  LoopResources* resources = LoopResources::Create(env);
  if (resources == nullptr) return;
  auto fn = [&](const char* name, Napi::Function::Callback cb) {
    exports.Set(name, Napi::Function::New(env, cb, name, resources));
  };
  fn("pidfdOpen", PidfdOpen);
  fn("pidfdSendSignal", PidfdSendSignal);
  fn("pidfdPoll", PidfdPoll);
  fn("pidfdWaitid", PidfdWaitid);
  fn("pidfdGetInfo", PidfdGetInfo);
  fn("pidfdWatch", PidfdWatch);
  fn("pidfdUnwatch", PidfdUnwatch);
  fn("pidfdClose", PidfdClose);
  fn("waitidPid", WaitidPid);
  fn("pidfdInfoExitProbe", PidfdInfoExitProbe);
  fn("procDirOpen", ProcDirOpen);
  fn("procDirStat", ProcDirStat);
  fn("procDirClose", ProcDirClose);
}

}  // namespace sigkit
