// ports.cc: which process holds which socket.
//
// Files: /proc, /proc/<pid>/fd (proc(5)). Calls: open(2)/openat(2),
// getdents64(2), readlinkat(2), close(2).
//
// The kernel lists a network namespace's sockets in /proc/<pid>/net/tcp etc.
// (read and parsed in src/ports.ts) with their inode but not their owner; the
// owner is whichever process has a `socket:[INODE]` link in its fd table.
// Finding it means reading every fd link of every process, exactly what
// `ss -p`, `lsof -i` and `netstat -p` do. This is the hot loop that had to
// be native: with 300 processes it is ~1,500 readlinks, 1.5x (loaded host) to
// 3x (idle) faster than the same loop through node:fs (bench/ports.mjs). It holds at most two fds
// at any time (the /proc directory and one fd directory).
#include "common.h"

#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace sigkit {
namespace {

// The layout getdents64(2) writes (glibc has no public struct for it).
struct Dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];
};

constexpr size_t kDirBuf = 16384;
// An fd directory entry ("12345", reclen 32) always fits in this much space.
constexpr long kEntrySlack = 512;

int OpenDirAt(int dirfd, const char* path) {
  return static_cast<int>(RetryEintr([&] { return static_cast<long>(openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)); }));
}

bool ParseDecimal(const char* s, uint64_t* out) {
  uint64_t v = 0;
  if (*s == '\0') return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > 0x0fffffffffffffffULL) return false;
    v = v * 10 + static_cast<uint64_t>(*s - '0');
  }
  *out = v;
  return true;
}

// The inode of a "socket:[12345]" link target, or 0 for anything else.
uint64_t SocketInode(const char* link, ssize_t len) {
  static const char kPrefix[] = "socket:[";
  constexpr ssize_t kPrefixLen = sizeof kPrefix - 1;
  if (len <= kPrefixLen + 1 || memcmp(link, kPrefix, kPrefixLen) != 0 || link[len - 1] != ']') return 0;
  uint64_t v = 0;
  for (ssize_t i = kPrefixLen; i < len - 1; i++) {
    if (link[i] < '0' || link[i] > '9') return 0;
    v = v * 10 + static_cast<uint64_t>(link[i] - '0');
  }
  return v;
}

// Calls `each(inode)` for every socket link in the fd directory `fddir`.
// Returns 0 or -errno of getdents64.
template <typename F>
int ForEachSocket(int fddir, F each) {
  alignas(8) char buf[kDirBuf];
  char link[64];
  for (;;) {
    long n = RetryEintr([&] { return syscall(SYS_getdents64, fddir, buf, sizeof buf); });
    if (n < 0) return -errno;
    if (n == 0) return 0;
    for (long off = 0; off < n;) {
      const Dirent64* d = reinterpret_cast<const Dirent64*>(buf + off);
      off += d->d_reclen;
      if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
      ssize_t len = readlinkat(fddir, d->d_name, link, sizeof link);
      if (len <= 0) continue;  // closed since getdents
      uint64_t inode = SocketInode(link, len);
      if (inode != 0) each(inode);
    }
    // procfs fills the buffer until it runs out of fds or of room, so a read
    // that left room for many more entries was the last: this skips the
    // getdents64 call that would return 0 (one syscall per process).
    if (n < static_cast<long>(sizeof buf) - kEntrySlack) return 0;
  }
}

bool ArgInodes(const Napi::CallbackInfo& info, size_t i, std::vector<uint64_t>* out) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    Napi::TypeError::New(info.Env(), "sigkit native: expected a Float64Array of inodes").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Float64Array a = info[i].As<Napi::Float64Array>();
  out->reserve(a.ElementLength());
  for (size_t k = 0; k < a.ElementLength(); k++) {
    if (a[k] > 0) out->push_back(static_cast<uint64_t>(a[k]));
  }
  std::sort(out->begin(), out->end());
  return true;
}

Napi::Float64Array ToArray(Napi::Env env, const std::vector<double>& v) {
  Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
  if (!v.empty()) memcpy(a.Data(), v.data(), v.size() * sizeof(double));
  return a;
}

// socketOwners(inodes: Float64Array) -> [Float64Array of (pid, inode) pairs,
// processes whose fds could not be read (EACCES: another user's, without
// CAP_SYS_PTRACE)] | -errno (of opening /proc). Every process is read, in
// every namespace: one socket may be held by several processes. A pid appears
// once per inode even when it holds the socket in several fds.
Napi::Value SocketOwners(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<uint64_t> wanted;
  if (!ArgInodes(info, 0, &wanted)) return Napi::Value();
  std::vector<double> pairs;
  double denied = 0;
  if (!wanted.empty()) {
    int proc = OpenDirAt(AT_FDCWD, "/proc");
    if (proc < 0) return Napi::Number::New(env, -errno);
    alignas(8) char buf[kDirBuf];
    char path[40];
    std::vector<uint64_t> mine;
    for (;;) {
      long n = RetryEintr([&] { return syscall(SYS_getdents64, proc, buf, sizeof buf); });
      if (n < 0) {
        int err = errno;
        close(proc);
        return Napi::Number::New(env, -err);
      }
      if (n == 0) break;
      for (long off = 0; off < n;) {
        const Dirent64* d = reinterpret_cast<const Dirent64*>(buf + off);
        off += d->d_reclen;
        uint64_t pid;
        if (!ParseDecimal(d->d_name, &pid) || pid == 0 || pid > 0x7fffffff) continue;
        snprintf(path, sizeof path, "%s/fd", d->d_name);
        int fddir = OpenDirAt(proc, path);
        if (fddir < 0) {
          if (errno == EACCES || errno == EPERM) denied++;
          continue;  // ENOENT: exited since getdents
        }
        mine.clear();
        ForEachSocket(fddir, [&](uint64_t inode) {
          if (std::binary_search(wanted.begin(), wanted.end(), inode)) mine.push_back(inode);
        });
        close(fddir);
        std::sort(mine.begin(), mine.end());
        mine.erase(std::unique(mine.begin(), mine.end()), mine.end());
        for (uint64_t inode : mine) {
          pairs.push_back(static_cast<double>(pid));
          pairs.push_back(static_cast<double>(inode));
        }
      }
    }
    close(proc);
  }
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, ToArray(env, pairs));
  result.Set(1u, Napi::Number::New(env, denied));
  return result;
}

// procSocketInodes(pid) -> Float64Array of the distinct socket inodes in
// /proc/<pid>/fd | -errno (ENOENT: no such process; EACCES: not ours).
Napi::Value ProcSocketInodes(const Napi::CallbackInfo& info) {
  int32_t pid;
  if (!ArgInt32(info, 0, &pid)) return Napi::Value();
  Napi::Env env = info.Env();
  if (pid <= 0) return Napi::Number::New(env, -EINVAL);
  char path[40];
  snprintf(path, sizeof path, "/proc/%d/fd", pid);
  int fddir = OpenDirAt(AT_FDCWD, path);
  if (fddir < 0) return Napi::Number::New(env, -errno);
  std::vector<uint64_t> inodes;
  int r = ForEachSocket(fddir, [&](uint64_t inode) { inodes.push_back(inode); });
  close(fddir);
  if (r < 0) return Napi::Number::New(env, r);
  std::sort(inodes.begin(), inodes.end());
  inodes.erase(std::unique(inodes.begin(), inodes.end()), inodes.end());
  std::vector<double> out(inodes.begin(), inodes.end());
  return ToArray(env, out);
}

// Doubles per socket in sockDiag's result.
constexpr size_t kDiagFields = 13;

// sockDiag(family: AF_INET|AF_INET6, protocol: IPPROTO_TCP|IPPROTO_UDP,
// states: bitmask of 1 << TCP state) -> Float64Array of kDiagFields per
// socket [state, localPort, remotePort, uid, inode, local words x4, remote
// words x4 (network byte order, as read)] | -errno.
// NETLINK_SOCK_DIAG (sock_diag(7)) instead of /proc/net/tcp: asked for
// LISTEN only, the kernel walks the listening hash alone, where the /proc
// file walks every bucket of the established hash (18 ms for an empty table
// on a 24 GB machine, measured in bench/ports.mjs).
Napi::Value SockDiag(const Napi::CallbackInfo& info) {
  int32_t family, protocol, states;
  if (!ArgInt32(info, 0, &family) || !ArgInt32(info, 1, &protocol) || !ArgInt32(info, 2, &states)) return Napi::Value();
  Napi::Env env = info.Env();
  if ((family != AF_INET && family != AF_INET6) || (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP)) return Napi::Number::New(env, -EINVAL);
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return Napi::Number::New(env, -errno);
  struct {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 req;
  } msg;
  memset(&msg, 0, sizeof msg);
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.nlh.nlmsg_seq = 1;
  msg.req.sdiag_family = static_cast<uint8_t>(family);
  msg.req.sdiag_protocol = static_cast<uint8_t>(protocol);
  msg.req.idiag_states = static_cast<uint32_t>(states);
  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  if (RetryEintr([&] { return static_cast<long>(sendto(fd, &msg, sizeof msg, 0, reinterpret_cast<struct sockaddr*>(&kernel), sizeof kernel)); }) < 0) {
    int err = errno;
    close(fd);
    return Napi::Number::New(env, -err);
  }
  std::vector<double> out;
  alignas(struct nlmsghdr) char buf[32768];
  bool done = false;
  int result = 0;
  while (!done) {
    long n = RetryEintr([&] { return static_cast<long>(recv(fd, buf, sizeof buf, 0)); });
    if (n < 0) {
      result = -errno;
      break;
    }
    if (n == 0) break;
    int len = static_cast<int>(n);
    // NLMSG_OK compares the u32 nlmsg_len with an int length in some uapi
    // headers (zig's, clang warns); the length must stay signed so that
    // NLMSG_NEXT cannot wrap it past zero.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
    for (struct nlmsghdr* h = reinterpret_cast<struct nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
#pragma GCC diagnostic pop
      if (h->nlmsg_type == NLMSG_DONE) {
        done = true;
        break;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr* e = static_cast<const struct nlmsgerr*>(NLMSG_DATA(h));
        result = e->error < 0 ? e->error : -EIO;
        done = true;
        break;
      }
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) continue;
      const struct inet_diag_msg* d = static_cast<const struct inet_diag_msg*>(NLMSG_DATA(h));
      out.push_back(d->idiag_state);
      out.push_back(ntohs(d->id.idiag_sport));
      out.push_back(ntohs(d->id.idiag_dport));
      out.push_back(d->idiag_uid);
      out.push_back(d->idiag_inode);
      for (int i = 0; i < 4; i++) out.push_back(ntohl(d->id.idiag_src[i]));
      for (int i = 0; i < 4; i++) out.push_back(ntohl(d->id.idiag_dst[i]));
    }
  }
  close(fd);
  if (result < 0) return Napi::Number::New(env, result);
  return ToArray(env, out);
}

}  // namespace

void InitPorts(Napi::Env env, Napi::Object exports) {
  exports.Set("sockDiag", Napi::Function::New(env, SockDiag, "sockDiag"));
  exports.Set("sockDiagFields", Napi::Number::New(env, static_cast<double>(kDiagFields)));
  exports.Set("socketOwners", Napi::Function::New(env, SocketOwners, "socketOwners"));
  exports.Set("procSocketInodes", Napi::Function::New(env, ProcSocketInodes, "procSocketInodes"));
}

}  // namespace sigkit
