/**
 * The only module that loads the native addon. It types the whole binding:
 * every function returns a result >= 0 or a negative errno (STYLE.md), and
 * the policy modules decide what an errno means.
 */
import * as path from 'node:path';
import { assertSupportedPlatform } from './platform.js';

/** An open pidfd, owned by the native layer; JS never sees the fd number. */
export interface NativePidfd {
  readonly __brand: 'sigkit.pidfd';
}

/** An open /proc/<pid> directory: a process's identity without pidfds. */
export interface NativeProcDir {
  readonly __brand: 'sigkit.procdir';
}

/** A SIGCHLD watcher on this env's loop. */
export interface NativeSigchldWatch {
  readonly __brand: 'sigkit.sigchld';
}

/** A ptrace watch: its own tracer thread (ptrace.cc). */
export interface NativePtraceWatch {
  readonly __brand: 'sigkit.ptrace-watch';
}

/** How a process ended, decoded by the native layer (signal as a number). */
export interface NativeExit {
  /** 0 when the kernel did not say (PIDFD_INFO_EXIT). */
  pid: number;
  code: number | null;
  signal: number | null;
  core: boolean;
}

/** What ioctl(PIDFD_GET_INFO) returned; `exit` only once the process was reaped (6.15+). */
export interface NativePidfdInfo {
  mask: number;
  pid: number | null;
  ppid: number | null;
  exit: NativeExit | null;
}

/** The native binding's surface. */
export interface NativeBinding {
  readonly platformSupported: boolean;
  /** SIGRTMIN of this libc, read at load time. */
  readonly sigrtmin: number;
  /** SIGRTMAX of this libc. */
  readonly sigrtmax: number;
  /** NSIG: one more than the highest signal number. */
  readonly nsig: number;
  /** kill(2) -> 0 | -errno */
  kill(pid: number, sig: number): number;
  /** killpg(3) -> 0 | -errno */
  killpg(pgid: number, sig: number): number;
  /** sigqueue(3) with sival_int = value -> 0 | -errno */
  sigqueue(pid: number, sig: number, value: number): number;
  /** The state letter of /proc/<pid>/stat as a char code, or -errno. */
  procState(pid: number): number;
  /** Parses /proc/<pid>/stat into `out` (procFieldNames order); returns comm, or -errno. */
  procStat(pid: number, out: Float64Array): string | number;
  /**
   * Every process: [fields, comms joined by NUL], or -errno. Keeps stat fds open between calls,
   * within the fd budget; complete or -EMFILE/-ENFILE (after a retry without the cache).
   */
  procScan(): [Float64Array, string] | number;
  /**
   * Descendants of pid, breadth first, up to maxDepth levels (0: all), laid out as procScan's, or -errno.
   * strategy: 0 by size (children files for a small tree, one scan for a large one), 1 walk, 2 scan.
   */
  procTree(pid: number, maxDepth: number, strategy: 0 | 1 | 2): [Float64Array, string] | number;
  /** Closes the fds procScan and procTree keep; returns how many. */
  procCacheClear(): number;
  /** [fds the caches may hold (min(1024, soft RLIMIT_NOFILE / 8)), fds every env's cache holds now]. */
  procFdBudget(): [number, number];
  /** The whole text of /proc/<pid>/<name> (name: 'status', 'cmdline'), or -errno. */
  procReadFile(pid: number, name: string): string | number;
  /** Children of every thread of pid (task/<tid>/children), or -errno. */
  procChildren(pid: number): number[] | number;
  /** CLOCK_BOOTTIME in ms: the clock of stat's starttime. */
  clockBoottimeMs(): number;
  /** Names of the numeric stat fields, in the order procStat/procScan write them. */
  readonly procFieldNames: readonly string[];
  /** sysconf(_SC_CLK_TCK) */
  readonly clockTicks: number;
  /** sysconf(_SC_PAGESIZE) */
  readonly pageSize: number;

  // Signal handlers (native/sigaction.cc). One process-wide handler feeds a
  // ring per environment (thread); `dispatch(count)` is called on this
  // thread's loop with `count` events in `buffer`, `sigactionEventInts` each.
  /** Events a thread's ring holds before counting drops. */
  readonly sigactionRingCapacity: number;
  /** int32 fields per event in the buffer: signo, code, pid, uid, value, status. */
  readonly sigactionEventInts: number;
  /** Claims this thread's slot and wake-up handle: 0 | -errno (-EMFILE: no free slot). */
  sigactionInit(dispatch: (count: number) => void, buffer: Int32Array): number;
  /** This thread listens to sig; the first in the process installs the handler: 0 | -errno. */
  sigactionSubscribe(sig: number): number;
  /** This thread stops listening; the last one restores the disposition: 0 | -errno. */
  sigactionUnsubscribe(sig: number): number;
  /** Puts sigkit's handler back if someone replaced it: 1 repaired, 0 in place or unmanaged, -errno. */
  sigactionReassert(sig: number): number;
  /** Whether this thread's listeners keep its event loop alive. */
  sigactionRef(ref: boolean): void;
  /** [delivered, dropped] for this thread since its first subscription, or -errno. */
  sigactionStats(sig: number): [number, number] | number;
  /** sigaction(sig, NULL): 0 SIG_DFL, 1 SIG_IGN, 2 another handler, 3 sigkit's, or -errno. */
  sigactionQuery(sig: number): number;
  /** Threads holding a slot, process-wide. */
  sigactionSlotsInUse(): number;
  /** The kernel's action for sig: [handler address (hex), sa_flags, first 64 mask bits (hex)] | -errno. */
  sigactionRaw(sig: number): [string, number, string] | number;

  // pidfd.cc
  /** pidfd_open(2) -> pidfd | -errno */
  pidfdOpen(pid: number): NativePidfd | number;
  /** pidfd_send_signal(2) -> 0 | -errno */
  pidfdSendSignal(pidfd: NativePidfd, sig: number): number;
  /** poll(2) without waiting -> revents (POLLIN once exited) | -errno */
  pidfdPoll(pidfd: NativePidfd): number;
  /** waitid(P_PIDFD, WEXITED | WNOHANG [| WNOWAIT]) -> exit | 0 (running) | -errno */
  pidfdWaitid(pidfd: NativePidfd, noWait: boolean): NativeExit | number;
  /** ioctl(PIDFD_GET_INFO) -> info | -errno */
  pidfdGetInfo(pidfd: NativePidfd): NativePidfdInfo | number;
  /** Polls on this env's loop (ref'd unless `ref` is false); calls back once with the events or -errno -> 0 | -errno */
  pidfdWatch(pidfd: NativePidfd, callback: (events: number) => void, ref?: boolean): number;
  /** Stops a pending watch without calling back -> 0 */
  pidfdUnwatch(pidfd: NativePidfd): number;
  /** close(2) -> 0 | -errno (EBADF when already closed) */
  pidfdClose(pidfd: NativePidfd): number;
  /** open("/proc/<pid>", O_DIRECTORY): the identity of a process where pidfds are refused -> dir | -errno */
  procDirOpen(pid: number): NativeProcDir | number;
  /** [state char code, startTime, ppid] of the process the dir was opened on | -errno (ENOENT/ESRCH once it is reaped) */
  procDirStat(dir: NativeProcDir): [number, number, number] | number;
  /** close(2) -> 0 | -errno (EBADF when already closed) */
  procDirClose(dir: NativeProcDir): number;
  /** waitid(P_PID, pid, WEXITED | WNOHANG | WNOWAIT) -> exit | 0 (running) | -errno; never reaps (the fallback for P_PIDFD) */
  waitidPid(pid: number): NativeExit | number;
  /** A throwaway child, reaped by pid after a pidfd was opened on it: does PIDFD_INFO_EXIT report its exit? 1 | 0 | -errno */
  pidfdInfoExitProbe(): number;
  /** starttime (field 22) of /proc/<pid>/stat in clock ticks | -errno (proc.cc, the one stat parser) */
  procStartTime(pid: number): number;

  // wait.cc
  /** waitpid(pid, __WNOTHREAD [| WNOHANG]) -> exit | 0 (running) | -errno */
  waitpid(pid: number, noHang: boolean): NativeExit | number;
  /** prctl(PR_SET_CHILD_SUBREAPER) -> 0 | -errno */
  prctlSetChildSubreaper(on: boolean): number;
  /** prctl(PR_GET_CHILD_SUBREAPER) -> 0 | 1 | -errno */
  prctlGetChildSubreaper(): number;
  /** gettid(2) of the calling (loop) thread */
  gettid(): number;
  /** /proc/self/task/<gettid()>/children -> pids | -errno (proc.cc) */
  threadChildren(): number[] | number;
  /** pids of this env's loop's active UV_PROCESS handles (libuv's unreaped children) */
  loopChildPids(): number[];
  /** a libuv SIGCHLD watcher on this env's loop (unref'd) -> watcher | -errno */
  sigchldWatch(callback: (signo: number) => void): NativeSigchldWatch | number;
  /** uv_ref/uv_unref of the watcher -> 0 */
  sigchldRef(watch: NativeSigchldWatch, ref: boolean): number;
  /** stops the watcher -> 0 */
  sigchldClose(watch: NativeSigchldWatch): number;

  // ptrace.cc
  /**
   * PTRACE_SEIZE on a new tracer thread -> watch | -errno. callback(kind, data):
   * 1 signal [signo, code, pid, uid, value, status]; 2 exit [code | -1, signal | 0, core];
   * 3 error [-errno, request]; 4 end [1 detached | 0 tracee ended], always last.
   */
  ptraceWatch(pid: number, callback: (kind: number, data: number[]) => void): NativePtraceWatch | number;
  /** Detaches and ends the tracer thread before returning -> 0. Idempotent. */
  ptraceWatchClose(watch: NativePtraceWatch): number;
  // ports.cc
  /** Scans every /proc/<pid>/fd for the given socket inodes -> [(pid, inode) pairs, processes not readable] | -errno */
  socketOwners(inodes: Float64Array): [Float64Array, number] | number;
  /** NETLINK_SOCK_DIAG dump of this netns: sockDiagFields doubles per socket | -errno */
  sockDiag(family: number, protocol: number, states: number): Float64Array | number;
  /** [state, localPort, remotePort, uid, inode, local words x4, remote words x4] */
  readonly sockDiagFields: number;
  /** The distinct socket inodes in /proc/<pid>/fd | -errno */
  procSocketInodes(pid: number): Float64Array | number;
  // spawn.cc
  /** prctl(PR_SET_PDEATHSIG, sig) for this process (0 clears) -> 0 | -errno */
  prctlSetPdeathsig(sig: number): number;
  /** prctl(PR_GET_PDEATHSIG) -> signal number (0: none) | -errno */
  prctlGetPdeathsig(): number;
  /** SIG_DFL, unblock in this thread, raise(sig): returns only when that did not end the process -> 0 | -errno */
  raiseDefault(sig: number): number;
}

function load(): NativeBinding {
  assertSupportedPlatform();
  // node-gyp-build picks a matching prebuilds/<platform>-<arch>/*.node, else
  // build/Release; PREBUILDS_ONLY=1 makes it use prebuilds alone.
  // SIGKIT_ADDON names another build of the same addon: the sanitizer runs
  // (npm run test:asan) load an instrumented copy this way.
  const override = process.env.SIGKIT_ADDON;
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
  const binding = (override ? require(path.resolve(override)) : nodeGypBuild(path.join(__dirname, '..'))) as NativeBinding;
  if (!binding.platformSupported) assertSupportedPlatform('unsupported');
  return binding;
}

/** The loaded addon. Importing this module on a non-Linux OS throws. */
export const native: NativeBinding = load();
