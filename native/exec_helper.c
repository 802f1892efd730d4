/*
 * exec_helper.c: sigkit-exec, the tiny program spawnProcess() runs between
 * fork and exec, because Node cannot run code there (NODE-LINUX-FACTS 27).
 *
 * System calls: setsid(2), setpgid(2), prctl(2) PR_SET_PDEATHSIG, getppid(2),
 * sigaction(2), sigprocmask(2), execvp(3), and a write to a cgroup v2
 * cgroup.procs file (cgroups(7)). In guard mode also pidfd_open(2),
 * pidfd_send_signal(2), poll(2), kill(2), killpg(3), rmdir(2), and reads of
 * /proc/<pid>/stat and /proc/<pid>/task/<tid>/children (proc(5)).
 *
 * Exec mode:
 *   sigkit-exec [-r FD] [-s | -g] [-c CGROUP_DIR] [-d SIG:PPID] -- FILE ARGV0 [ARG...]
 * in this order: signal dispositions and mask reset to default (a child
 * starts clean, realtime signals too: libuv resets only 1..31); a new session
 * (-s) or process group (-g); join the cgroup (-c, before exec, so every
 * descendant is born inside it); PR_SET_PDEATHSIG (-d) and then the check
 * that the parent is still PPID (it may have died before the prctl, and the
 * death signal would never come); "ok\n" on the status fd (-r, close-on-exec,
 * so the parent sees EOF once exec succeeded); execvp. A failure writes
 * "E <step> <errno>\n" there and exits 125 (setup), 126 (cannot execute) or
 * 127 (not found), as env(1) and timeout(1) do.
 *
 * Guard mode:
 *   sigkit-exec --guard
 * reads registrations on stdin, one per line, and when stdin reaches EOF
 * (the process that holds the other end exited or died, even by SIGKILL)
 * SIGKILLs everything registered and exits:
 *   T <pid> <starttime>          a tree: the process and its descendants
 *   G <pgid> <starttime>         a process group; its leader pgid had <starttime>
 *   C <dir> <remove 0|1>         a cgroup v2 directory (cgroup.kill; rmdir if remove)
 *   - <T|G|C> <id>               forget a registration
 * Pids are pinned with pidfds at registration (after checking the start
 * time), so a recycled pid is never hit. A group is signalled only while its
 * leader is unreaped (alive or a zombie) or the group still has members: a
 * pgid cannot be reused while either holds the number. A group whose leader died is re-checked every
 * second and forgotten once empty.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static int status_fd = -1;

/* Writes all of buf (retrying EINTR and short writes). */
static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    buf += n;
    len -= (size_t)n;
  }
}

/* Reports a failed step on the status fd and exits with `code`. */
static void fail(const char *step, int err, int code) {
  if (status_fd >= 0) {
    char line[128];
    int n = snprintf(line, sizeof line, "E %s %d\n", step, err);
    if (n > 0) write_all(status_fd, line, (size_t)n);
  } else {
    fprintf(stderr, "sigkit-exec: %s: %s\n", step, strerror(err));
  }
  _exit(code);
}

/* Every catchable signal back to SIG_DFL, none blocked: what tini and
   dumb-init give their child. Errors (libc's reserved 32/33) are ignored. */
static void reset_signals(void) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    (void)sigaction(sig, &dfl, NULL);
  }
  sigset_t none;
  sigemptyset(&none);
  (void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Joins the cgroup `dir` (writes "0": the writer itself). */
static void join_cgroup(const char *dir) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= (int)sizeof path) fail("cgroup", ENAMETOOLONG, 125);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("cgroup", errno, 125);
  ssize_t n;
  do n = write(fd, "0\n", 2);
  while (n < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (n < 0) fail("cgroup", err, 125);
}

static int parse_int(const char *s, long min, long max, long *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max) return -1;
  *out = v;
  return 0;
}

static int exec_mode(int argc, char **argv) {
  int session = 0, group = 0;
  const char *cgroup = NULL;
  long death_sig = 0, expected_ppid = 0;
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (strcmp(a, "-s") == 0) {
      session = 1;
    } else if (strcmp(a, "-g") == 0) {
      group = 1;
    } else if (strcmp(a, "-r") == 0 && i + 1 < argc) {
      long fd;
      if (parse_int(argv[++i], 0, INT_MAX, &fd) != 0) fail("usage", EINVAL, 125);
      status_fd = (int)fd;
      /* Close-on-exec: the parent reads EOF exactly when exec succeeded. */
      if (fcntl(status_fd, F_SETFD, FD_CLOEXEC) != 0) {
        status_fd = -1;
        fail("status-fd", errno, 125);
      }
    } else if (strcmp(a, "-c") == 0 && i + 1 < argc) {
      cgroup = argv[++i];
    } else if (strcmp(a, "-d") == 0 && i + 1 < argc) {
      const char *spec = argv[++i];
      const char *colon = strchr(spec, ':');
      char sig[16];
      if (colon == NULL || (size_t)(colon - spec) >= sizeof sig) fail("usage", EINVAL, 125);
      memcpy(sig, spec, (size_t)(colon - spec));
      sig[colon - spec] = '\0';
      if (parse_int(sig, 1, NSIG - 1, &death_sig) != 0 || parse_int(colon + 1, 1, INT_MAX, &expected_ppid) != 0) fail("usage", EINVAL, 125);
    } else {
      fail("usage", EINVAL, 125);
    }
  }
  /* FILE and ARGV0 at least. */
  if (argc - i < 2) fail("usage", EINVAL, 125);
  const char *file = argv[i];
  char **child_argv = argv + i + 1;

  reset_signals();
  if (session) {
    if (setsid() < 0 && getpgrp() != getpid()) fail("setsid", errno, 125);
  } else if (group) {
    /* Already a group leader (e.g. detached): nothing to do. */
    if (getpgrp() != getpid() && setpgid(0, 0) != 0) fail("setpgid", errno, 125);
  }
  if (cgroup != NULL) join_cgroup(cgroup);
  if (death_sig != 0) {
    if (prctl(PR_SET_PDEATHSIG, (unsigned long)death_sig, 0, 0, 0) != 0) fail("prctl", errno, 125);
    /* The parent may have died before the prctl: then no death signal will
       ever come, and we are an orphan already. Deliver it ourselves. */
    if (getppid() != (pid_t)expected_ppid) {
      raise((int)death_sig);
      fail("parent-gone", ESRCH, 125); /* a signal that does not kill */
    }
  }
  if (status_fd >= 0) write_all(status_fd, "ok\n", 3);
  execvp(file, child_argv);
  int err = errno;
  fail("exec", err, err == ENOENT || err == ENOTDIR ? 127 : 126);
  return 125;
}

/* ------------------------------------------------------------------ guard */

enum kind { TREE = 'T', GROUP = 'G', CGROUP = 'C' };

struct target {
  char kind;
  int id;             /* pid or pgid */
  int pidfd;          /* the pinned root or leader; -1 when gone */
  int leaderless;     /* GROUP: the leader exited while members remain */
  int remove;         /* CGROUP: rmdir after the kill */
  char *dir;          /* CGROUP */
};

static struct target *targets = NULL;
static size_t ntargets = 0, cap = 0;

static int pidfd_open_(int pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
static int pidfd_signal(int pidfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }

/* Field 22 (starttime), field 5 (pgrp) and field 4 (ppid) of
   /proc/<pid>/stat, parsed after the last ')' (comm may hold anything); any
   out pointer may be NULL. 0 ok, -1 gone (or a zombie). */
static int read_stat(int pid, unsigned long long *starttime, int *pgrp, int *ppid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  if (p == NULL) return -1;
  p += 2; /* state */
  char state = *p;
  if (state == 'Z' || state == 'X') return -1;
  int field = 3;
  unsigned long long st = 0;
  int pg = 0, pp = 0;
  for (char *tok = strtok(p, " "); tok != NULL; tok = strtok(NULL, " "), field++) {
    if (field == 4) pp = atoi(tok);
    if (field == 5) pg = atoi(tok);
    if (field == 22) {
      st = strtoull(tok, NULL, 10);
      break;
    }
  }
  if (starttime) *starttime = st;
  if (pgrp) *pgrp = pg;
  if (ppid) *ppid = pp;
  return 0;
}


/* Opens a pidfd for pid and checks it is the process that started at `st`. */
static int pin(int pid, unsigned long long st) {
  int fd = pidfd_open_(pid);
  if (fd < 0) return -1;
  unsigned long long now;
  if (read_stat(pid, &now, NULL, NULL) != 0 || now != st) {
    close(fd);
    return -1;
  }
  return fd;
}

static int pidfd_alive(int pidfd) {
  if (pidfd < 0) return 0;
  struct pollfd p = {pidfd, POLLIN, 0};
  return poll(&p, 1, 0) == 0;
}

/* True while the pidfd's process is not yet reaped (running or a zombie):
   its pid, and so its group id, cannot be reused (POLLHUP comes at reap). */
static int pidfd_unreaped(int pidfd) {
  if (pidfd < 0) return 0;
  struct pollfd p = {pidfd, POLLIN, 0};
  if (poll(&p, 1, 0) < 0) return 0;
  return !(p.revents & POLLHUP);
}

/* True when some live process has process group `pgid`. */
static int group_has_members(int pgid) {
  DIR *d = opendir("/proc");
  if (d == NULL) return 1; /* cannot tell: assume yes, never forget early */
  struct dirent *e;
  int found = 0;
  while (!found && (e = readdir(d)) != NULL) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    int pg;
    if (read_stat(atoi(e->d_name), NULL, &pg, NULL) == 0 && pg == pgid) found = 1;
  }
  closedir(d);
  return found;
}

static void add_target(struct target t) {
  if (ntargets == cap) {
    size_t ncap = cap ? cap * 2 : 16;
    struct target *n = realloc(targets, ncap * sizeof *n);
    if (n == NULL) return; /* out of memory: this one is not guarded */
    targets = n;
    cap = ncap;
  }
  targets[ntargets++] = t;
}

static void drop_target(size_t i) {
  if (targets[i].pidfd >= 0) close(targets[i].pidfd);
  free(targets[i].dir);
  targets[i] = targets[--ntargets];
}

static void handle_line(char *line) {
  char kind = line[0];
  if (kind == '-') {
    char k;
    char rest[PATH_MAX];
    if (sscanf(line, "- %c %4095s", &k, rest) != 2) return;
    for (size_t i = 0; i < ntargets; i++) {
      int match = targets[i].kind == k && (k == CGROUP ? strcmp(targets[i].dir, rest) == 0 : targets[i].id == atoi(rest));
      if (match) {
        drop_target(i);
        return;
      }
    }
    return;
  }
  struct target t = {kind, 0, -1, 0, 0, NULL};
  if (kind == TREE || kind == GROUP) {
    int id;
    unsigned long long st;
    if (sscanf(line + 1, " %d %llu", &id, &st) != 2 || id <= 1) return;
    if (kind == GROUP && id == getpgrp()) return; /* never our own group */
    t.id = id;
    t.pidfd = pin(id, st);
    /* Already gone. A group is taken only with its leader unreaped (that is
       what keeps the id from naming a stranger's group); once the leader is
       reaped, the members left are registered as trees of their own. */
    if (t.pidfd < 0) return;
    add_target(t);
  } else if (kind == CGROUP) {
    char dir[PATH_MAX];
    int remove;
    if (sscanf(line + 1, " %4095s %d", dir, &remove) != 2 || strncmp(dir, "/", 1) != 0) return;
    t.dir = strdup(dir);
    t.remove = remove;
    if (t.dir != NULL) add_target(t);
  }
}

/* Pids of the children of every thread of pid, appended to *list. */
static void append_children(int pid, int **list, size_t *n, size_t *ncap) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR *d = opendir(path);
  if (d == NULL) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    char cpath[320];
    snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", pid, e->d_name);
    FILE *f = fopen(cpath, "re");
    if (f == NULL) continue;
    int kid;
    while (fscanf(f, "%d", &kid) == 1) {
      int seen = 0;
      for (size_t i = 0; i < *n; i++) seen |= (*list)[i] == kid;
      if (seen || kid <= 1) continue;
      if (*n == *ncap) {
        size_t c = *ncap ? *ncap * 2 : 64;
        int *nl = realloc(*list, c * sizeof **list);
        if (nl == NULL) break;
        *list = nl;
        *ncap = c;
      }
      (*list)[(*n)++] = kid;
    }
    fclose(f);
  }
  closedir(d);
}

/* Freezes the tree under a pinned root (SIGSTOP: a stopped process neither
   forks nor reaps, so its children's pids stay theirs), then SIGKILLs it. */
/* Stops the tree under the pinned root, member by member, each pinned by a
   pidfd and kept only if, once pinned, it is still the child of the member it
   was listed under (a pid reaped and reused in between is someone else's),
   then SIGKILLs every pinned member. Signals go through pidfds only. */
static void kill_tree(int pidfd, int root) {
  if (!pidfd_alive(pidfd)) return;
  pidfd_signal(pidfd, SIGSTOP);
  int *list = NULL;
  int *fds = NULL;
  size_t n = 0, ncap = 0, fcap = 0;
  size_t done = 0;
  int parent = root;
  for (;;) {
    size_t from = n;
    append_children(parent, &list, &n, &ncap);
    if (n > fcap) {
      int *nf = realloc(fds, ncap * sizeof *fds);
      if (nf == NULL) {
        n = from;
      } else {
        fds = nf;
        fcap = ncap;
      }
    }
    for (size_t i = from; i < n; i++) {
      int fd = pidfd_open_(list[i]);
      int ppid = -1;
      if (fd >= 0 && (read_stat(list[i], NULL, NULL, &ppid) != 0 || ppid != parent)) {
        close(fd);
        fd = -1;
      }
      fds[i] = fd;
      if (fd >= 0) pidfd_signal(fd, SIGSTOP);
    }
    /* Next: the children of the next pinned member, breadth first. */
    while (done < n && fds[done] < 0) done++;
    if (done >= n) break;
    parent = list[done++];
  }
  pidfd_signal(pidfd, SIGKILL);
  for (size_t i = 0; i < n; i++) {
    if (fds[i] < 0) continue;
    pidfd_signal(fds[i], SIGKILL);
    close(fds[i]);
  }
  free(fds);
  free(list);
}

static int write_file(const char *dir, const char *name, const char *text) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t r = write(fd, text, strlen(text));
  close(fd);
  return r < 0 ? -1 : 0;
}

/* 1 while the cgroup (or a descendant) has a live process. */
static int cgroup_populated(const char *dir) {
  char path[PATH_MAX], buf[512];
  snprintf(path, sizeof path, "%s/cgroup.events", dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  return strstr(buf, "populated 1") != NULL;
}

static void kill_cgroup(const char *dir) {
  if (write_file(dir, "cgroup.kill", "1") == 0) return;
  /* Before Linux 5.14: SIGKILL passes over cgroup.procs until it is empty. */
  for (int pass = 0; pass < 100 && cgroup_populated(dir); pass++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    FILE *f = fopen(path, "re");
    if (f == NULL) return;
    int pid;
    while (fscanf(f, "%d", &pid) == 1)
      if (pid > 1 && pid != getpid()) kill(pid, SIGKILL);
    fclose(f);
  }
}

/* Waits (poll POLLPRI on cgroup.events, up to 2 s) until it is empty, then rmdir. */
static void remove_cgroup(const char *dir) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/cgroup.events", dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  for (int i = 0; i < 20 && cgroup_populated(dir); i++) {
    if (fd < 0) break;
    struct pollfd p = {fd, POLLPRI, 0};
    poll(&p, 1, 100);
    char buf[256];
    (void)pread(fd, buf, sizeof buf, 0);
  }
  if (fd >= 0) close(fd);
  rmdir(dir);
}

static void kill_all(void) {
  for (size_t i = 0; i < ntargets; i++) {
    struct target *t = &targets[i];
    if (t->kind == CGROUP) kill_cgroup(t->dir);
  }
  for (size_t i = 0; i < ntargets; i++) {
    struct target *t = &targets[i];
    /* The tree first, while the root still holds its children (members
       that left the group with setsid are found this way), then the group
       (members whose parent died before and were re-parented away). */
    int members = t->kind == GROUP && (pidfd_unreaped(t->pidfd) || group_has_members(t->id));
    if (t->kind == TREE || t->kind == GROUP) kill_tree(t->pidfd, t->id);
    if (members) killpg(t->id, SIGKILL);
  }
  for (size_t i = 0; i < ntargets; i++)
    if (targets[i].kind == CGROUP && targets[i].remove) remove_cgroup(targets[i].dir);
}

static int guard_mode(void) {
  /* Our own group: a Ctrl-C or killpg aimed at our parent's group must not
     take the guard with it before it has done its job. */
  if (getpgrp() != getpid()) (void)setpgid(0, 0);
  reset_signals();
  char buf[8192];
  size_t have = 0;
  for (;;) {
    size_t np = 1 + ntargets;
    struct pollfd *fds = calloc(np, sizeof *fds);
    if (fds == NULL) {
      kill_all();
      return 1;
    }
    fds[0].fd = 0;
    fds[0].events = POLLIN;
    int leaderless = 0;
    for (size_t i = 0; i < ntargets; i++) {
      fds[i + 1].fd = targets[i].kind == GROUP && !targets[i].leaderless ? targets[i].pidfd : -1;
      fds[i + 1].events = POLLIN;
      leaderless |= targets[i].kind == GROUP && targets[i].leaderless;
    }
    int r = poll(fds, np, leaderless ? 1000 : -1);
    int input = r > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR));
    for (size_t i = 0; r > 0 && i < ntargets && i + 1 < np; i++)
      if (fds[i + 1].fd >= 0 && (fds[i + 1].revents & POLLIN)) targets[i].leaderless = 1;
    free(fds);
    if (r < 0 && errno != EINTR) {
      kill_all();
      return 1;
    }
    /* Forget groups that emptied after their leader died: their number may
       be reused by someone else from now on. */
    for (size_t i = ntargets; i-- > 0;)
      if (targets[i].kind == GROUP && targets[i].leaderless && !group_has_members(targets[i].id)) drop_target(i);
    if (!input) continue;
    ssize_t n = read(0, buf + have, sizeof buf - 1 - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      kill_all();
      return 0;
    }
    have += (size_t)n;
    buf[have] = '\0';
    char *start = buf, *nl;
    while ((nl = strchr(start, '\n')) != NULL) {
      *nl = '\0';
      handle_line(start);
      start = nl + 1;
    }
    have = (size_t)(buf + have - start);
    memmove(buf, start, have);
    if (have == sizeof buf - 1) have = 0; /* a line too long: dropped */
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--guard") == 0) return guard_mode();
  return exec_mode(argc, argv);
}
