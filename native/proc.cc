// proc.cc: reads from /proc.
//
// Files: /proc/<pid>/stat (proc(5)). The second field, comm, is the process's
// own chosen name: it may hold spaces, ')' and newlines, so every parser here
// looks for the LAST ')' in the whole file and never reads line by line
// (NODE-LINUX-FACTS.md items 13 and 21).
#include "common.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <cstdio>

namespace sigkit {
namespace {

// Reads a whole small /proc file into buf (NUL-terminated). Returns the
// length or -errno.
ssize_t ReadSmallFile(const char* path, char* buf, size_t cap) {
  int fd = static_cast<int>(RetryEintr([&] { return static_cast<long>(open(path, O_RDONLY | O_CLOEXEC)); }));
  if (fd < 0) return -errno;
  size_t len = 0;
  while (len + 1 < cap) {
    ssize_t n = RetryEintr([&] { return static_cast<long>(read(fd, buf + len, cap - 1 - len)); });
    if (n < 0) {
      int err = errno;
      close(fd);
      return -err;
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  close(fd);
  buf[len] = '\0';
  return static_cast<ssize_t>(len);
}

// procState(pid) -> the state letter of /proc/<pid>/stat as a char code, or
// -errno (ENOENT once the process is reaped; ESRCH is not used by /proc).
Napi::Value ProcState(const Napi::CallbackInfo& info) {
  int32_t pid;
  if (!ArgInt32(info, 0, &pid)) return Napi::Value();
  char path[48];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  char buf[2048];
  ssize_t len = ReadSmallFile(path, buf, sizeof buf);
  if (len < 0) return Napi::Number::New(info.Env(), static_cast<double>(len));
  const char* close_paren = static_cast<const char*>(memrchr(buf, ')', static_cast<size_t>(len)));
  // "... (comm) S ..." : the state is two bytes after the last ')'.
  if (close_paren == nullptr || close_paren + 2 >= buf + len) {
    return Napi::Number::New(info.Env(), -EIO);
  }
  return Napi::Number::New(info.Env(), static_cast<unsigned char>(close_paren[2]));
}

}  // namespace

void InitProc(Napi::Env env, Napi::Object exports) {
  exports.Set("procState", Napi::Function::New(env, ProcState, "procState"));
}

}  // namespace sigkit
