// proc.cc: reads from /proc.
//
// Files: /proc/<pid>/stat, /proc/<pid>/status, /proc/<pid>/cmdline,
// /proc/<pid>/task/<tid>/children (proc(5)). Calls: openat(2), pread(2),
// fstat(2), getdents64 via readdir(3), clock_gettime(2) CLOCK_BOOTTIME.
//
// The scan keeps each process's stat file open between calls (an fd cache
// per env): re-reading an open /proc/<pid>/stat is one pread instead of
// open+read+close, and an open fd stays bound to the process it was opened
// for, so a recycled pid can never be read through a stale entry (the read
// fails with ESRCH and the entry is reopened). The TypeScript layer empties
// the cache when scans stop (procCacheClear).
#include "common.h"
#include "proc_parse.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

namespace sigkit {
namespace {

// Upper bound of cached stat fds per env, far below any sane RLIMIT_NOFILE.
constexpr size_t kMaxCachedFds = 8192;
// A stat line is ~300 bytes; kernel threads with long names stay < 1 KiB.
constexpr size_t kStatBuf = 4096;

const char* const kFieldNames[kStatFieldCount] = {
    "pid", "ppid", "pgid", "sid", "ttyNr", "tpgid", "flags", "state",
    "threads", "startTime", "utime", "stime", "rssPages", "uid", "gid", "exitSignal"};

struct CachedFd {
  int fd;
  uint64_t seen;  // scan generation that last saw this pid
};

// Per-env state (each worker thread loads the addon into its own env).
struct ProcState {
  DIR* dir = nullptr;  // /proc, rewound for each scan; its fd anchors openat
  std::unordered_map<int, CachedFd> stat_fds;
  uint64_t generation = 0;

  void Clear() {
    for (auto& entry : stat_fds) close(entry.second.fd);
    stat_fds.clear();
    if (dir != nullptr) closedir(dir);
    dir = nullptr;
  }
};

int OpenAt(int dirfd, const char* path) {
  return static_cast<int>(RetryEintr([&] { return static_cast<long>(openat(dirfd, path, O_RDONLY | O_CLOEXEC)); }));
}

// Reads from offset 0 until EOF or the buffer is full. Returns bytes or -errno.
ssize_t PreadAll(int fd, char* buf, size_t cap) {
  size_t len = 0;
  while (len < cap) {
    ssize_t n = RetryEintr([&] { return static_cast<long>(pread(fd, buf + len, cap - len, static_cast<off_t>(len))); });
    if (n < 0) return -errno;
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(len);
}

// Reads a whole /proc file of any size into `out`. Returns 0 or -errno.
int ReadWhole(int dirfd, const char* path, std::string* out) {
  int fd = OpenAt(dirfd, path);
  if (fd < 0) return -errno;
  out->clear();
  char chunk[4096];
  for (;;) {
    ssize_t n = RetryEintr([&] { return static_cast<long>(read(fd, chunk, sizeof chunk)); });
    if (n < 0) {
      int err = errno;
      close(fd);
      return -err;
    }
    if (n == 0) break;
    out->append(chunk, static_cast<size_t>(n));
  }
  close(fd);
  return 0;
}

// Reads and parses one stat fd; fills uid/gid from the fd's owner.
// Returns 0, or -errno (-EIO for a file that does not parse).
int ReadStatFd(int fd, char* buf, StatRecord* rec) {
  ssize_t len = PreadAll(fd, buf, kStatBuf - 1);
  if (len < 0) return static_cast<int>(len);
  if (len == 0) return -ESRCH;  // the process is gone
  if (!ParseStat(buf, static_cast<size_t>(len), rec)) return -EIO;
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  rec->field[kUid] = st.st_uid;
  rec->field[kGid] = st.st_gid;
  return 0;
}

bool IsPidName(const char* name, int* pid) {
  int v = 0;
  if (*name == '\0') return false;
  for (const char* p = name; *p; p++) {
    if (*p < '0' || *p > '9' || v > 214748364) return false;
    v = v * 10 + (*p - '0');
  }
  *pid = v;
  return v > 0;
}

// Opens, reads and parses /proc/<pid>/stat (without the owner) -> 0 | -errno
// (-EIO for text that does not parse).
int ReadStatOf(int32_t pid, char* buf, StatRecord* rec) {
  char path[48];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = OpenAt(AT_FDCWD, path);
  if (fd < 0) return -errno;
  ssize_t len = PreadAll(fd, buf, kStatBuf - 1);
  close(fd);
  if (len < 0) return static_cast<int>(len);
  return ParseStat(buf, static_cast<size_t>(len), rec) ? 0 : -EIO;
}

// Appends the decimal numbers of a children file ("12 345 ") to `out`.
void AppendPids(const std::string& text, std::vector<int32_t>* out) {
  int32_t v = 0;
  bool in_number = false;
  for (char ch : text) {
    if (ch >= '0' && ch <= '9') {
      v = v * 10 + (ch - '0');
      in_number = true;
    } else if (in_number) {
      out->push_back(v);
      v = 0;
      in_number = false;
    }
  }
  if (in_number) out->push_back(v);
}

Napi::Array PidArray(Napi::Env env, const std::vector<int32_t>& pids) {
  Napi::Array result = Napi::Array::New(env, pids.size());
  for (size_t i = 0; i < pids.size(); i++) result.Set(static_cast<uint32_t>(i), Napi::Number::New(env, pids[i]));
  return result;
}

ProcState* StateOf(const Napi::CallbackInfo& info) { return static_cast<ProcState*>(info.Data()); }

Napi::Value Errno(Napi::Env env, int err) { return Napi::Number::New(env, err); }

// procState(pid) -> the state letter of /proc/<pid>/stat as a char code, or
// -errno (ENOENT once the process is reaped; ESRCH for a thread id that is
// not a thread-group leader: /proc answers for it, but it is not a process).
Napi::Value ProcStateLetter(const Napi::CallbackInfo& info) {
  int32_t pid;
  if (!ArgInt32(info, 0, &pid)) return Napi::Value();
  char buf[kStatBuf];
  StatRecord rec;
  int r = ReadStatOf(pid, buf, &rec);
  if (r == 0 && rec.field[kExitSignal] == -1) r = -ESRCH;
  return r < 0 ? Errno(info.Env(), r) : Napi::Number::New(info.Env(), rec.field[kState]);
}

// procStartTime(pid) -> starttime (stat field 22, clock ticks after boot) |
// -errno (ENOENT once reaped; EIO if unparsable). Used to stamp pidfd handles.
Napi::Value ProcStartTime(const Napi::CallbackInfo& info) {
  int32_t pid;
  if (!ArgInt32(info, 0, &pid)) return Napi::Value();
  char buf[kStatBuf];
  StatRecord rec;
  int r = ReadStatOf(pid, buf, &rec);
  return r < 0 ? Errno(info.Env(), r) : Napi::Number::New(info.Env(), rec.field[kStartTime]);
}

// procStat(pid, out: Float64Array[kStatFieldCount]) -> comm string | -errno.
Napi::Value ProcStat(const Napi::CallbackInfo& info) {
  int32_t pid;
  if (!ArgInt32(info, 0, &pid)) return Napi::Value();
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[1].As<Napi::Float64Array>().ElementLength() < kStatFieldCount) {
    Napi::TypeError::New(info.Env(), "sigkit native: expected a Float64Array").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  Napi::Float64Array out = info[1].As<Napi::Float64Array>();
  char path[48];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = OpenAt(AT_FDCWD, path);
  if (fd < 0) return Errno(info.Env(), -errno);
  char buf[kStatBuf];
  StatRecord rec;
  int r = ReadStatFd(fd, buf, &rec);
  close(fd);
  if (r < 0) return Errno(info.Env(), r);
  for (int i = 0; i < kStatFieldCount; i++) out[i] = rec.field[i];
  return Napi::String::New(info.Env(), rec.comm, rec.comm_len);
}

// procScan() -> [Float64Array(count * kStatFieldCount), comms joined by '\0'] | -errno.
// Processes that vanish during the scan are skipped, never an error.
Napi::Value ProcScan(const Napi::CallbackInfo& info) {
  ProcState* state = StateOf(info);
  Napi::Env env = info.Env();
  if (state->dir == nullptr) {
    int fd = static_cast<int>(RetryEintr([] { return static_cast<long>(open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)); }));
    if (fd < 0) return Errno(env, -errno);
    state->dir = fdopendir(fd);
    if (state->dir == nullptr) {
      int err = errno;
      close(fd);
      return Errno(env, -err);
    }
  } else {
    rewinddir(state->dir);
  }
  const uint64_t gen = ++state->generation;
  std::vector<double> fields;
  fields.reserve(512 * kStatFieldCount);
  std::string comms;
  comms.reserve(512 * 16);
  char buf[kStatBuf];
  char path[32];
  size_t count = 0;
  errno = 0;
  for (struct dirent* de; (de = readdir(state->dir)) != nullptr;) {
    int pid;
    if (!IsPidName(de->d_name, &pid)) continue;
    StatRecord rec;
    int r = -ESRCH;
    auto it = state->stat_fds.find(pid);
    if (it != state->stat_fds.end()) {
      r = ReadStatFd(it->second.fd, buf, &rec);
      if (r == 0) {
        it->second.seen = gen;
      } else {
        // Exited, or the pid now names another process: reopen below.
        close(it->second.fd);
        state->stat_fds.erase(it);
      }
    }
    if (r != 0) {
      snprintf(path, sizeof path, "%d/stat", pid);
      int fd = OpenAt(dirfd(state->dir), path);
      if (fd < 0) continue;  // vanished since readdir
      r = ReadStatFd(fd, buf, &rec);
      if (r == 0 && state->stat_fds.size() < kMaxCachedFds) {
        state->stat_fds.emplace(pid, CachedFd{fd, gen});
      } else {
        close(fd);
      }
      if (r != 0) continue;
    }
    fields.insert(fields.end(), rec.field, rec.field + kStatFieldCount);
    if (count > 0) comms.push_back('\0');
    comms.append(rec.comm, rec.comm_len);
    count++;
  }
  // Drop fds of processes this scan did not see.
  for (auto it = state->stat_fds.begin(); it != state->stat_fds.end();) {
    if (it->second.seen != gen) {
      close(it->second.fd);
      it = state->stat_fds.erase(it);
    } else {
      ++it;
    }
  }
  Napi::Float64Array array = Napi::Float64Array::New(env, fields.size());
  if (!fields.empty()) memcpy(array.Data(), fields.data(), fields.size() * sizeof(double));
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, array);
  result.Set(1u, Napi::String::New(env, comms.data(), comms.size()));
  return result;
}

// procCacheClear() -> number of fds closed. Releases the scan's fd cache.
Napi::Value ProcCacheClear(const Napi::CallbackInfo& info) {
  ProcState* state = StateOf(info);
  size_t n = state->stat_fds.size() + (state->dir ? 1 : 0);
  state->Clear();
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// procReadFile(pid, name) -> the whole text of /proc/<pid>/<name> | -errno.
// `name` is one of the files the TypeScript layer reads (status, cmdline).
Napi::Value ProcReadFile(const Napi::CallbackInfo& info) {
  int32_t pid;
  if (!ArgInt32(info, 0, &pid)) return Napi::Value();
  if (!info[1].IsString()) {
    Napi::TypeError::New(info.Env(), "sigkit native: expected a file name").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  std::string name = info[1].As<Napi::String>().Utf8Value();
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') return Errno(info.Env(), -EINVAL);
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  std::string text;
  int r = ReadWhole(AT_FDCWD, path.c_str(), &text);
  if (r < 0) return Errno(info.Env(), r);
  return Napi::String::New(info.Env(), text.data(), text.size());
}

// procChildren(pid) -> number[] of the children of every thread of pid, from
// /proc/<pid>/task/<tid>/children | -errno (ENOENT: no such process, or a
// kernel built without CONFIG_PROC_CHILDREN).
Napi::Value ProcChildren(const Napi::CallbackInfo& info) {
  int32_t pid;
  if (!ArgInt32(info, 0, &pid)) return Napi::Value();
  Napi::Env env = info.Env();
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  int fd = static_cast<int>(RetryEintr([&] { return static_cast<long>(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)); }));
  if (fd < 0) return Errno(env, -errno);
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    close(fd);
    return Errno(env, -err);
  }
  std::vector<int32_t> kids;
  std::string text;
  int first_error = 0;
  for (struct dirent* de; (de = readdir(dir)) != nullptr;) {
    int tid;
    if (!IsPidName(de->d_name, &tid)) continue;
    char rel[48];
    snprintf(rel, sizeof rel, "%d/children", tid);
    int r = ReadWhole(dirfd(dir), rel, &text);
    if (r < 0) {
      if (first_error == 0) first_error = r;
      continue;  // a thread that exited meanwhile
    }
    AppendPids(text, &kids);
  }
  closedir(dir);
  // No thread's file could be read: report why (ENOENT without CONFIG_PROC_CHILDREN).
  if (kids.empty() && first_error != 0) return Errno(env, first_error);
  return PidArray(env, kids);
}

// threadChildren() -> pids | -errno: /proc/self/task/<gettid()>/children, the
// children of the calling thread only (zombies included; ENOENT without
// CONFIG_PROC_CHILDREN). Reaping with __WNOTHREAD needs exactly this set.
Napi::Value ThreadChildren(const Napi::CallbackInfo& info) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%ld/children", static_cast<long>(syscall(SYS_gettid)));
  std::string text;
  int r = ReadWhole(AT_FDCWD, path, &text);
  if (r < 0) return Errno(info.Env(), r);
  std::vector<int32_t> kids;
  AppendPids(text, &kids);
  return PidArray(info.Env(), kids);
}

// clockBoottimeMs() -> CLOCK_BOOTTIME in milliseconds (the clock of starttime).
Napi::Value ClockBoottimeMs(const Napi::CallbackInfo& info) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return Napi::Number::New(info.Env(), static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6);
}

void FreeState(void* data) {
  ProcState* state = static_cast<ProcState*>(data);
  state->Clear();
  delete state;
}

}  // namespace

void InitProc(Napi::Env env, Napi::Object exports) {
  ProcState* state = new ProcState();
  // Closes the cached fds when this env (main thread or worker) goes away.
  napi_add_env_cleanup_hook(env, FreeState, state);
  exports.Set("procState", Napi::Function::New(env, ProcStateLetter, "procState"));
  exports.Set("procStat", Napi::Function::New(env, ProcStat, "procStat"));
  exports.Set("procStartTime", Napi::Function::New(env, ProcStartTime, "procStartTime"));
  exports.Set("procScan", Napi::Function::New(env, ProcScan, "procScan", state));
  exports.Set("procCacheClear", Napi::Function::New(env, ProcCacheClear, "procCacheClear", state));
  exports.Set("procReadFile", Napi::Function::New(env, ProcReadFile, "procReadFile"));
  exports.Set("procChildren", Napi::Function::New(env, ProcChildren, "procChildren"));
  exports.Set("threadChildren", Napi::Function::New(env, ThreadChildren, "threadChildren"));
  exports.Set("clockBoottimeMs", Napi::Function::New(env, ClockBoottimeMs, "clockBoottimeMs"));
  Napi::Array names = Napi::Array::New(env, kStatFieldCount);
  for (uint32_t i = 0; i < kStatFieldCount; i++) names.Set(i, Napi::String::New(env, kFieldNames[i]));
  exports.Set("procFieldNames", names);
  exports.Set("clockTicks", Napi::Number::New(env, static_cast<double>(sysconf(_SC_CLK_TCK))));
  exports.Set("pageSize", Napi::Number::New(env, static_cast<double>(sysconf(_SC_PAGESIZE))));
}

}  // namespace sigkit
