// proc.cc: reads from /proc.
//
// Files: /proc/<pid>/stat, /proc/<pid>/status, /proc/<pid>/cmdline,
// /proc/<pid>/task/<tid>/children (proc(5)). Calls: openat(2), pread(2),
// fstat(2), getdents64 via readdir(3), getrlimit(2),
// sysinfo(2), clock_gettime(2) CLOCK_BOOTTIME.
//
// Every read of many processes (procScan, procTree) goes through one reader
// that keeps stat files open between calls (an fd cache per env): re-reading
// an open /proc/<pid>/stat is one pread instead of open+read+close, and an
// open fd stays bound to the process it was opened for, so a recycled pid can
// never be read through a stale entry (the read fails with ESRCH and the
// entry is reopened). The fds are the host's, so the cache is a guest:
// - all envs together cache at most Capacity() fds: min(1024, soft
//   RLIMIT_NOFILE / 8) minus the two a call opens for itself, read from
//   getrlimit at each call (the host may change its limit at any time);
// - EMFILE or ENFILE during a call drops this env's cache and runs the call
//   again without caching (open/read/close per process); if that fails too the
//   call returns -EMFILE: a listing is complete or an error, and EMFILE is
//   never taken for "the process vanished";
// - the owner (uid/gid) of a cached entry is read fresh from an O_PATH fd of
//   /proc/<pid> (fstat; pid_getattr computes it from the task's current
//   creds), never from the stat fd, whose inode keeps the owner it had when
//   it was opened.
// The TypeScript layer empties the cache when calls stop (procCacheClear).
#include "common.h"
#include "proc_parse.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sigkit {
namespace {

// The fd budget: at most this many, and at most 1/8 of the soft limit.
constexpr size_t kMaxBudget = 1024;
constexpr size_t kBudgetShare = 8;
// fds a call opens for itself beside the cache: the /proc directory and one
// stat file (a scan), or a task directory and one children file (a walk).
constexpr size_t kTransientFds = 2;
// A stat line is ~300 bytes; kernel threads with long names stay < 1 KiB.
constexpr size_t kStatBuf = 4096;
// Relative cost of finding one process by walking children files (a stat
// read plus a children read) and of one entry of a full scan (a stat read
// plus a directory entry): 1.6 here, with 10,000 processes in the table
// (2,000-child tree: 83 ms walked, 263 ms scanned; 7,000-child tree: 266 ms
// walked, 238 ms scanned). The walk is taken while the tree found so far is
// under 5/8 of the table.
constexpr size_t kWalkCost = 8;
constexpr size_t kScanCost = 5;
// A call result that asks the caller to take the full-scan strategy.
constexpr int kUseScan = 1;

const char* const kFieldNames[kStatFieldCount] = {
    "pid", "ppid", "pgid", "sid", "ttyNr", "tpgid", "flags", "state",
    "threads", "startTime", "utime", "stime", "rssPages", "uid", "gid", "exitSignal"};

// fds held by the caches of every env (main thread and workers): one budget.
std::atomic<size_t> g_cached{0};

size_t FdBudget() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur == RLIM_INFINITY) return kMaxBudget;
  return std::min<size_t>(kMaxBudget, static_cast<size_t>(rl.rlim_cur / kBudgetShare));
}

// How many stat fds the caches may hold now.
size_t Capacity() {
  size_t budget = FdBudget();
  return budget > kTransientFds ? budget - kTransientFds : 0;
}

// One process's open files, all opened through dir_fd and so bound to the
// one process (never to a later holder of its pid): /proc/<pid> itself
// (O_PATH: fstat of it computes the owner from the task's current creds, in
// pid_getattr), its stat, and (once a walk has read it) the children file of
// its only thread, task/<pid>/children.
struct Cached {
  int dir_fd;
  int stat_fd;
  int children_fd;  // -1 until a walk caches it
  uint64_t seen;    // scan generation that last saw this pid

  size_t Fds() const { return children_fd >= 0 ? 3 : 2; }
  void Close() {
    close(dir_fd);
    close(stat_fd);
    if (children_fd >= 0) close(children_fd);
  }
};

// Takes n fds of the budget, or none when they would not fit.
bool ClaimFds(size_t n, size_t capacity) {
  if (g_cached.fetch_add(n) + n <= capacity) return true;
  g_cached.fetch_sub(n);
  return false;
}

// Per-env state (each worker thread loads the addon into its own env).
struct ProcState {
  std::unordered_map<int, Cached> cache;
  uint64_t generation = 0;
  size_t last_count = 0;  // processes the last full scan saw

  void Drop(std::unordered_map<int, Cached>::iterator it) {
    g_cached.fetch_sub(it->second.Fds());
    it->second.Close();
    cache.erase(it);
  }
  size_t Clear() {
    size_t n = 0;
    for (auto& entry : cache) {
      n += entry.second.Fds();
      entry.second.Close();
    }
    g_cached.fetch_sub(n);
    cache.clear();
    return n;
  }
  // Gives fds back until every cache together fits `capacity`.
  void Trim(size_t capacity) {
    while (!cache.empty() && g_cached.load() > capacity) Drop(cache.begin());
  }
};

// Records and names gathered by a scan or a walk, in the layout handed to JS.
struct Records {
  std::vector<double> fields;
  std::string comms;
  size_t count = 0;

  void Clear() {
    fields.clear();
    comms.clear();
    count = 0;
  }
  void Add(const StatRecord& rec) {
    fields.insert(fields.end(), rec.field, rec.field + kStatFieldCount);
    if (count > 0) comms.push_back('\0');
    comms.append(rec.comm, rec.comm_len);
    count++;
  }
};

bool OutOfFds(int err) { return err == -EMFILE || err == -ENFILE; }

// An open or read of /proc/<pid>/... that says the process is not there:
// exited (ENOENT, ESRCH), or hidden from us by hidepid= (EACCES, EPERM).
bool Absent(int err) { return err == -ENOENT || err == -ESRCH || err == -EACCES || err == -EPERM; }

int OpenAt(int dirfd, const char* path, int flags = 0) {
  return static_cast<int>(RetryEintr([&] { return static_cast<long>(openat(dirfd, path, O_RDONLY | O_CLOEXEC | flags)); }));
}

// Reads a stat file from offset 0. Returns bytes or -errno. The file is one
// seq_file record that the kernel formats whole before copying any of it
// (single_open), so a read shorter than asked is all of it: one pread, not a
// second one to see EOF.
ssize_t PreadAll(int fd, char* buf, size_t cap) {
  size_t len = 0;
  while (len < cap) {
    ssize_t n = RetryEintr([&] { return static_cast<long>(pread(fd, buf + len, cap - len, static_cast<off_t>(len))); });
    if (n < 0) return -errno;
    if (n == 0) break;
    len += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < cap - (len - static_cast<size_t>(n))) break;
  }
  return static_cast<ssize_t>(len);
}

// A children file is a seq_file of one record per pid (at most 11 bytes):
// the kernel stops a read short of what was asked only at the end, or when
// its page-sized buffer cannot take the next record. So a read that leaves
// more than kSeqSlack bytes of a page-sized chunk unused is the end.
constexpr size_t kSeqChunk = 4096;
constexpr size_t kSeqSlack = 64;

// Reads a children file from offset 0 through `fd` into `text`. 0 | -errno.
int ReadChildrenFd(int fd, std::string* text) {
  char chunk[kSeqChunk];
  text->clear();
  for (;;) {
    ssize_t n = RetryEintr([&] { return static_cast<long>(pread(fd, chunk, sizeof chunk, static_cast<off_t>(text->size()))); });
    if (n < 0) return -errno;
    text->append(chunk, static_cast<size_t>(n));
    if (static_cast<size_t>(n) + kSeqSlack < sizeof chunk) return 0;
  }
}

// Opens and reads a children file. 0 | -errno.
int ReadChildrenAt(int dirfd, const char* path, std::string* text) {
  int fd = OpenAt(dirfd, path);
  if (fd < 0) return -errno;
  int r = ReadChildrenFd(fd, text);
  close(fd);
  return r;
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

// Reads and parses one stat fd; fills uid/gid from the fd's owner, which is
// current for an fd just opened (the open's lookup refreshed it).
// Returns 0, or -errno (-ESRCH for a process gone, -EIO for text that does not parse).
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

// The one reader of a process's record for scans and walks: through the
// cached fd when there is one, else opened (and cached while `cache` and the
// budget allow). Returns 0 (with *entry: the cache entry, or null when not
// cached); -ESRCH when the process is not there (see Absent); or -errno for a
// failure that the caller must not hide (EMFILE, ENFILE, ENOMEM, EIO...).
int ReadRecord(ProcState* state, int pid, bool cache, size_t capacity, uint64_t gen, char* buf, StatRecord* rec,
               Cached** entry = nullptr) {
  char path[48];
  if (entry != nullptr) *entry = nullptr;
  auto it = state->cache.find(pid);
  if (it != state->cache.end()) {
    // The owner first, then the stat: if that read succeeds the process was
    // alive at the fstat, so the owner read was its own (for a reaped
    // process pid_getattr says root).
    struct stat st;
    if (fstat(it->second.dir_fd, &st) == 0) {
      ssize_t len = PreadAll(it->second.stat_fd, buf, kStatBuf - 1);
      if (len > 0 && ParseStat(buf, static_cast<size_t>(len), rec)) {
        rec->field[kUid] = st.st_uid;
        rec->field[kGid] = st.st_gid;
        it->second.seen = gen;
        if (entry != nullptr) *entry = &it->second;
        return 0;
      }
    }
    // Exited (the pid may name another process now): open afresh below.
    state->Drop(it);
  }
  int dir_fd = -1;
  int fd;
  if (cache && ClaimFds(2, capacity)) {
    snprintf(path, sizeof path, "/proc/%d", pid);
    dir_fd = OpenAt(AT_FDCWD, path, O_PATH | O_DIRECTORY);
    fd = dir_fd < 0 ? -1 : OpenAt(dir_fd, "stat");
    if (fd < 0) {
      int err = -errno;
      if (dir_fd >= 0) close(dir_fd);
      g_cached.fetch_sub(2);
      return Absent(err) ? -ESRCH : err;
    }
  } else {
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    fd = OpenAt(AT_FDCWD, path);
    if (fd < 0) {
      int err = -errno;
      return Absent(err) ? -ESRCH : err;
    }
  }
  int r = ReadStatFd(fd, buf, rec);
  if (r == 0 && dir_fd >= 0) {
    auto added = state->cache.emplace(pid, Cached{dir_fd, fd, -1, gen});
    if (added.second) {
      if (entry != nullptr) *entry = &added.first->second;
      return 0;
    }
  }
  if (dir_fd >= 0) {
    close(dir_fd);
    g_cached.fetch_sub(2);
  }
  close(fd);
  return Absent(r) ? -ESRCH : r;
}

// One pass over /proc: every process into `out`. 0 | -errno.
int ScanOnce(ProcState* state, bool cache, size_t capacity, Records* out) {
  out->Clear();
  out->fields.reserve((state->last_count + 64) * kStatFieldCount);
  out->comms.reserve((state->last_count + 64) * 16);
  const uint64_t gen = ++state->generation;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return -errno;
  char buf[kStatBuf];
  int result = 0;
  for (;;) {
    errno = 0;
    struct dirent* de = readdir(dir);
    if (de == nullptr) {
      if (errno != 0) result = -errno;
      break;
    }
    int pid;
    if (!IsPidName(de->d_name, &pid)) continue;
    StatRecord rec;
    int r = ReadRecord(state, pid, cache, capacity, gen, buf, &rec);
    if (r == -ESRCH) continue;  // exited since readdir
    if (r < 0) {
      result = r;
      break;
    }
    out->Add(rec);
  }
  closedir(dir);
  if (result < 0) return result;
  // Drop fds of processes this scan did not see.
  for (auto it = state->cache.begin(); it != state->cache.end();) {
    auto here = it++;
    if (here->second.seen != gen) state->Drop(here);
  }
  state->last_count = out->count;
  return 0;
}

// Runs `pass(cache, capacity)` within the fd budget: trims the caches to the
// budget first; on EMFILE/ENFILE drops this env's cache and runs the pass once
// more without caching. Returns what the last pass returned.
template <typename Pass>
int WithinBudget(ProcState* state, Pass pass) {
  size_t capacity = Capacity();
  state->Trim(capacity);
  int r = pass(capacity > 0, capacity);
  if (OutOfFds(r)) {
    state->Clear();
    r = pass(false, 0);
  }
  return r;
}

int Scan(ProcState* state, Records* out) {
  return WithinBudget(state, [&](bool cache, size_t capacity) { return ScanOnce(state, cache, capacity, out); });
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

// The children of every thread of pid (task/<tid>/children), appended to
// `kids`. A single-threaded process has one task, its own pid: its file is
// read without listing the task directory. 0 | -errno (ENOENT: no such
// process, or a kernel without CONFIG_PROC_CHILDREN).
int ReadChildren(int32_t pid, double threads, std::string* text, std::vector<int32_t>* kids,
                 Cached* entry = nullptr, size_t capacity = 0) {
  char path[64];
  if (threads == 1 && entry != nullptr) {
    // Through the cached fd: its stat was read just now, so the process was
    // alive; had it died since, the file would read empty, and so would its
    // list of children be.
    if (entry->children_fd < 0 && ClaimFds(1, capacity)) {
      snprintf(path, sizeof path, "task/%d/children", pid);
      entry->children_fd = OpenAt(entry->dir_fd, path);
      if (entry->children_fd < 0) {
        int err = -errno;
        g_cached.fetch_sub(1);
        return err;
      }
    }
    if (entry->children_fd >= 0) {
      int r = ReadChildrenFd(entry->children_fd, text);
      if (r == 0) AppendPids(*text, kids);
      return r;
    }
  }
  if (threads == 1) {
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, pid);
    int r = ReadChildrenAt(AT_FDCWD, path, text);
    if (r == 0) AppendPids(*text, kids);
    return r;
  }
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  int fd = OpenAt(AT_FDCWD, path, O_DIRECTORY);
  if (fd < 0) return -errno;
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    close(fd);
    return -err;
  }
  bool any = false;
  int first_error = 0;
  for (struct dirent* de; (de = readdir(dir)) != nullptr;) {
    int tid;
    if (!IsPidName(de->d_name, &tid)) continue;
    char rel[48];
    snprintf(rel, sizeof rel, "%d/children", tid);
    int r = ReadChildrenAt(dirfd(dir), rel, text);
    if (r < 0) {
      if (!Absent(r)) {
        first_error = r;
        break;
      }
      if (first_error == 0) first_error = r;
      continue;  // a thread that exited meanwhile
    }
    any = true;
    AppendPids(*text, kids);
  }
  closedir(dir);
  // No thread's file could be read: report why (ENOENT without CONFIG_PROC_CHILDREN).
  if (!any || !Absent(first_error)) return first_error;
  return 0;
}

// The table-size guess for choosing a strategy: the last full scan's count,
// else the kernel's task count (threads included: an upper bound).
size_t TableEstimate(const ProcState* state) {
  if (state->last_count > 0) return state->last_count;
  struct sysinfo si;
  return sysinfo(&si) == 0 ? si.procs : 0;
}

// Descendants of `root` by walking children files, breadth first, up to
// `max_depth` levels (0: all). Each process found is checked to have the
// parent it was listed under (a pid reused meanwhile is not one of them).
// Returns 0, -ESRCH when root is not there, kUseScan when a full scan is the
// cheaper (or only: no children files) way, or -errno.
int WalkOnce(ProcState* state, int32_t root, int32_t max_depth, bool walk_only, bool cache, size_t capacity, Records* out) {
  out->Clear();
  const uint64_t gen = state->generation;
  char buf[kStatBuf];
  StatRecord rec;
  Cached* entry;
  int r = ReadRecord(state, root, cache, capacity, gen, buf, &rec, &entry);
  if (r < 0) return r;
  const size_t table = TableEstimate(state);
  // What the next level's children are read from: pid, thread count, cache entry.
  struct Parent {
    int32_t pid;
    double threads;
    Cached* entry;
  };
  std::vector<Parent> level{{root, rec.field[kThreads], entry}};
  std::vector<std::pair<int32_t, int32_t>> found;  // (pid, listed under)
  std::unordered_set<int32_t> seen{root};
  std::vector<int32_t> kids;
  std::string text;
  for (int32_t depth = 0; !level.empty() && (max_depth == 0 || depth < max_depth); depth++) {
    found.clear();
    for (const Parent& parent : level) {
      const int32_t pid = parent.pid;
      kids.clear();
      r = ReadChildren(pid, parent.threads, &text, &kids, parent.entry, capacity);
      if (r == -ENOENT && pid == root) {
        // No children files at all, or root just exited: the scan tells which.
        return kUseScan;
      }
      if (r < 0 && !Absent(r)) return r;
      for (int32_t kid : kids) {
        if (seen.insert(kid).second) found.emplace_back(kid, pid);
      }
    }
    if (!walk_only && (out->count + found.size()) * kWalkCost > table * kScanCost) return kUseScan;
    level.clear();
    for (const auto& [pid, parent] : found) {
      r = ReadRecord(state, pid, cache, capacity, gen, buf, &rec, &entry);
      if (r == -ESRCH) continue;  // exited since listed
      if (r < 0) return r;
      if (rec.field[kPpid] != parent) continue;
      out->Add(rec);
      level.push_back(Parent{pid, rec.field[kThreads], entry});
    }
  }
  return 0;
}

// The same from one full scan, for trees that are a large part of the table.
int TreeFromScan(ProcState* state, int32_t root, int32_t max_depth, Records* out) {
  Records all;
  int r = Scan(state, &all);
  if (r < 0) return r;
  out->Clear();
  std::unordered_multimap<int32_t, size_t> by_parent;
  by_parent.reserve(all.count);
  bool root_seen = false;
  // Offsets of each record's comm in all.comms.
  std::vector<size_t> comm_at(all.count + 1);
  for (size_t i = 0, at = 0; i < all.count; i++) {
    const double* f = &all.fields[i * kStatFieldCount];
    by_parent.emplace(static_cast<int32_t>(f[kPpid]), i);
    if (f[kPid] == root) root_seen = true;
    comm_at[i] = at;
    size_t end = all.comms.find('\0', at);
    at = end == std::string::npos ? all.comms.size() + 1 : end + 1;
  }
  comm_at[all.count] = all.comms.size() + 1;
  if (!root_seen) return -ESRCH;
  std::vector<int32_t> level{root};
  std::unordered_set<int32_t> seen{root};
  for (int32_t depth = 0; !level.empty() && (max_depth == 0 || depth < max_depth); depth++) {
    std::vector<int32_t> next;
    for (int32_t pid : level) {
      auto range = by_parent.equal_range(pid);
      std::vector<size_t> idx;
      for (auto it = range.first; it != range.second; ++it) idx.push_back(it->second);
      std::sort(idx.begin(), idx.end());  // pid order within a parent
      for (size_t i : idx) {
        StatRecord rec;
        memcpy(rec.field, &all.fields[i * kStatFieldCount], sizeof rec.field);
        int32_t kid = static_cast<int32_t>(rec.field[kPid]);
        if (!seen.insert(kid).second) continue;
        rec.comm = all.comms.data() + comm_at[i];
        rec.comm_len = comm_at[i + 1] - comm_at[i] - 1;
        out->Add(rec);
        next.push_back(kid);
      }
    }
    level.swap(next);
  }
  return 0;
}

// How procTree finds a tree: by size (the default), or one way (tests, bench).
enum Strategy : int32_t { kAuto = 0, kWalk = 1, kScan = 2 };

int Tree(ProcState* state, int32_t root, int32_t max_depth, int32_t strategy, Records* out) {
  int r = kUseScan;
  if (strategy != kScan) {
    r = WithinBudget(state, [&](bool cache, size_t capacity) {
      return WalkOnce(state, root, max_depth, strategy == kWalk, cache, capacity, out);
    });
  }
  if (r == kUseScan) r = TreeFromScan(state, root, max_depth, out);
  return r;
}

Napi::Value RecordsValue(Napi::Env env, const Records& records) {
  Napi::Float64Array array = Napi::Float64Array::New(env, records.fields.size());
  if (!records.fields.empty()) memcpy(array.Data(), records.fields.data(), records.fields.size() * sizeof(double));
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, array);
  result.Set(1u, Napi::String::New(env, records.comms.data(), records.comms.size()));
  return result;
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
// Complete or an error: processes that exit during the scan are left out,
// but EMFILE (after the retry without cache) is -EMFILE, never a short list.
Napi::Value ProcScan(const Napi::CallbackInfo& info) {
  Records records;
  int r = Scan(StateOf(info), &records);
  return r < 0 ? Errno(info.Env(), r) : RecordsValue(info.Env(), records);
}

// procTree(pid, maxDepth, strategy) -> the descendants of pid, breadth
// first, as procScan lays them out, up to maxDepth levels (0: all) | -errno
// (ESRCH: no such process). Strategy 0 walks children files for a tree that
// is small beside the table and scans the table for one that is not (or
// without children files); 1 always walks (where it can), 2 always scans.
Napi::Value ProcTree(const Napi::CallbackInfo& info) {
  int32_t pid, max_depth, strategy;
  if (!ArgInt32(info, 0, &pid) || !ArgInt32(info, 1, &max_depth) || !ArgInt32(info, 2, &strategy)) return Napi::Value();
  Records records;
  int r = Tree(StateOf(info), pid, max_depth, strategy, &records);
  return r < 0 ? Errno(info.Env(), r) : RecordsValue(info.Env(), records);
}

// procCacheClear() -> number of fds closed. Releases the scan's fd cache.
Napi::Value ProcCacheClear(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(StateOf(info)->Clear()));
}

// procFdBudget() -> [budget, cached]: the fds the caches may hold now
// (min(1024, soft RLIMIT_NOFILE / 8), two of them kept for each call's own
// use) and how many every env's cache holds together.
Napi::Value ProcFdBudget(const Napi::CallbackInfo& info) {
  Napi::Array result = Napi::Array::New(info.Env(), 2);
  result.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(FdBudget())));
  result.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(g_cached.load())));
  return result;
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
  std::vector<int32_t> kids;
  std::string text;
  int r = ReadChildren(pid, 0, &text, &kids);
  return r < 0 ? Errno(info.Env(), r) : PidArray(info.Env(), kids);
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
  exports.Set("procTree", Napi::Function::New(env, ProcTree, "procTree", state));
  exports.Set("procCacheClear", Napi::Function::New(env, ProcCacheClear, "procCacheClear", state));
  exports.Set("procFdBudget", Napi::Function::New(env, ProcFdBudget, "procFdBudget"));
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
