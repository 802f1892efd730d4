/**
 * Process handles over pidfds (pidfd_open(2), Linux 5.3+), and their
 * fallback where the kernel or a seccomp filter refuses pidfds.
 *
 * A pidfd names one process, not a pid number: after that process is reaped,
 * signalling through the pidfd fails with ESRCH even when the number already
 * belongs to someone else. It polls readable when the process exits (a zombie
 * counts), child or not, without reaping it; so waits here are event-driven on
 * the event loop, never a polling loop.
 *
 * Without pidfds (ENOSYS: kernels before 5.3, gVisor; EPERM: seccomp
 * profiles) a handle names its process by (pid, start time) instead: the
 * start time is re-read from /proc right before each signal, and a process
 * whose pid is gone or carries another start time is ESRCH, as a pidfd would
 * say. Exit waits then follow SIGCHLD for this process's own children and
 * poll /proc adaptively (1 ms, doubling to 50 ms) for others. Each part
 * falls back on its own: a kernel or filter that has pidfd_open but refuses
 * pidfd_send_signal or waitid(P_PIDFD) keeps the pidfd for waits.
 */
import { SyscallError, isSyscallError } from './errors.js';
import { toExitInfo, type ExitInfo } from './exit-info.js';
import { pidfdSendSignalWorks } from './capabilities.js';
import { native, type NativeProcDir, type NativePidfd, type NativeSigchldWatch } from './native.js';
import type { SignalLike } from './signals.js';
import { signalForContext, validatePid, validateSendSignal } from './validate.js';
import { abortError, raceEvent, timeoutError, validateWaitOptions, type ValidWaitOptions, type WaitOptions } from './waiting.js';

const EPERM = 1;
const ENOENT = 2;
const ESRCH = 3;
const EINTR = 4;
const EBADF = 9;
const EAGAIN = 11;
const ENOMEM = 12;
const ENFILE = 23;
const EMFILE = 24;
const EINVAL = 22;
const ENOSYS = 38;
const POLLIN = 0x1;
const POLLHUP = 0x10;

/** The first poll of a non-child's /proc entry, in ms; each later one waits twice as long... */
export const POLL_FIRST_MS = 1;
/** ...up to this. */
export const POLL_MAX_MS = 50;
/** When only own children are waited for, SIGCHLD wakes the wait; /proc is then checked this often as a safety net. */
const CHILD_SAFETY_MS = 1000;

/**
 * Opens a pidfd for `pid`. Returns `null` when no such process exists (it
 * exited and was reaped, or never was).
 *
 * pidfd_open fails with EINVAL (ENOENT on 6.18) both for a thread id that
 * is not a process and, briefly, for a process in the middle of being reaped
 * (NODE-LINUX-FACTS.md item 18): /proc tells the two apart.
 * @throws SyscallError EINVAL/ENOENT for a thread id, EMFILE, ENFILE, ENOMEM, ENOSYS or EPERM (no pidfds here: see {@link pidfdRefused})
 * @example
 * const pidfd = openPidfd(pid);
 * if (pidfd === null) return true; // already gone
 * @internal
 */
export function openPidfd(pid: number): NativePidfd | null {
  for (let attempt = 0; ; attempt++) {
    const r = native.pidfdOpen(pid);
    if (typeof r !== 'number') return r;
    if (r === -ESRCH) return null;
    if ((r === -EINVAL || r === -ENOENT) && attempt < 3) {
      const state = native.procState(pid);
      // Reaped meanwhile, or a thread id (ESRCH: not a thread-group leader,
      // so not a process): no such process either way.
      if (state === -ENOENT || state === -ESRCH) return null;
      continue; // still there: a dying process settles at once, a thread id never does
    }
    throw new SyscallError('pidfd_open', r, { pid });
  }
}

/**
 * True when `error` is pidfd_open's refusal to work at all here: ENOSYS (a
 * kernel before 5.3, gVisor) or EPERM (a seccomp filter; pidfd_open has no
 * permission check of its own). Callers then take the fallback.
 * @throws never
 * @example
 * try { fd = openPidfd(pid); } catch (e) { if (pidfdRefused(e)) return fallback(pid); throw e; }
 * @internal
 */
export function pidfdRefused(error: unknown): boolean {
  return isSyscallError(error) && error.syscall === 'pidfd_open' && (error.errno === -ENOSYS || error.errno === -EPERM);
}

/**
 * True once the pidfd polls readable: the process exited (zombie or reaped).
 * @throws SyscallError from poll(2) (not expected for a pidfd)
 * @example
 * if (pidfdExited(pidfd, pid)) native.pidfdClose(pidfd);
 * @internal
 */
export function pidfdExited(pidfd: NativePidfd, pid: number): boolean {
  const r = native.pidfdPoll(pidfd);
  if (r < 0) throw new SyscallError('poll', r, { pid });
  return (r & POLLIN) !== 0;
}

// ---------------------------------------------------------------------------
// (pid, start time): what identifies a process without a pidfd

let statBuf: Float64Array | undefined;
let statIndex: { state: number; ppid: number; startTime: number; exitSignal: number } | undefined;

interface StatNow {
  /** The state letter: 'Z' (zombie) and 'X' (dead) have exited. */
  state: string;
  ppid: number;
  startTime: number;
  /** -1 for a thread that is not its group's leader: /proc answers for its tid, but it is no process. */
  exitSignal: number;
}

/** One read of /proc/<pid>/stat -> its state, parent and start time, or -errno. */
function statOf(pid: number): StatNow | number {
  if (statBuf === undefined || statIndex === undefined) {
    const names = native.procFieldNames;
    statBuf = new Float64Array(names.length);
    const at = (name: string): number => names.indexOf(name);
    statIndex = { state: at('state'), ppid: at('ppid'), startTime: at('startTime'), exitSignal: at('exitSignal') };
  }
  const r = native.procStat(pid, statBuf);
  if (typeof r === 'number') return r;
  const b = statBuf;
  const i = statIndex;
  return { state: String.fromCharCode(b[i.state]!), ppid: b[i.ppid]!, startTime: b[i.startTime]!, exitSignal: i.exitSignal < 0 ? 0 : b[i.exitSignal]! };
}

const gone = (r: number): boolean => r === -ENOENT || r === -ESRCH;
// Errnos of a /proc read that say nothing about the process: try again later.
const transient = (r: number): boolean => r === -EMFILE || r === -ENFILE || r === -ENOMEM || r === -EAGAIN || r === -EINTR;
const statPath = (pid: number): string => `/proc/${pid}/stat`;

/**
 * The (pid, start time) identity of a running or zombie process, for a
 * handle or wait without a pidfd; `null` when no such process exists. A
 * thread id that is not a process is none either (as openPidfd says): its
 * /proc entry exists, hidden from listings, with exit_signal -1.
 */
function identify(pid: number): StatNow | null {
  const s = statOf(pid);
  if (typeof s === 'number') {
    if (gone(s)) return null;
    throw new SyscallError('open', s, { pid, path: statPath(pid) });
  }
  return s.exitSignal === -1 ? null : s;
}

/**
 * Has the process (pid, startTime) exited? A zombie has; so has a pid that
 * is gone or now names another process. A negative errno when /proc could
 * not say (EMFILE...): never read as "gone".
 */
function exitStateOf(pid: number, startTime: number, dir?: NativeProcDir): 'running' | 'exited' | number {
  if (dir !== undefined) {
    // Through the held /proc/<pid> directory: exact, whatever the pid now names.
    const d = native.procDirStat(dir);
    if (typeof d === 'number') return gone(d) ? 'exited' : d;
    const state = String.fromCharCode(d[0]);
    return d[1] !== startTime || state === 'Z' || state === 'X' ? 'exited' : 'running';
  }
  const s = statOf(pid);
  if (typeof s === 'number') return gone(s) ? 'exited' : s;
  return s.startTime !== startTime || s.state === 'Z' || s.state === 'X' ? 'exited' : 'running';
}

// ---------------------------------------------------------------------------
// The exit monitor: one per thread, for every wait without a pidfd

interface ExitWatch {
  readonly pid: number;
  readonly startTime: number;
  /** The handle's /proc/<pid> directory, when it holds one: the exact identity. */
  readonly dir?: NativeProcDir;
  /** Set by the monitor: the process is a child of this process, so SIGCHLD announces its exit. */
  child?: boolean;
  exited(): void;
  failed(error: Error): void;
}

/**
 * Watches processes for their exit without pidfds. Children of this process
 * are checked on each SIGCHLD (a libuv signal watcher on this thread's loop,
 * shared with child_process rather than fighting it) and, as a safety net
 * for a SIGCHLD someone else swallowed, every second. Any other process is
 * polled through /proc: 1 ms after the wait starts, then twice as long each
 * time up to 50 ms. One timer and one SIGCHLD watcher serve every wait of
 * the thread; both exist only while something is waited for. The timer is
 * ref'd, as a pidfd wait is: a pending wait keeps the loop alive.
 */
class ExitMonitor {
  readonly #watches = new Set<ExitWatch>();
  #children = 0;
  #sigchld: NativeSigchldWatch | undefined;
  #timer: NodeJS.Timeout | undefined;
  #delay = POLL_FIRST_MS;

  /** Starts watching; calls `exited` or `failed` at once if that is already the answer. */
  add(watch: ExitWatch): void {
    const s = statOf(watch.pid);
    watch.child = typeof s === 'object' && s.ppid === process.pid && s.startTime === watch.startTime;
    this.#watches.add(watch);
    if (watch.child) {
      if (this.#children++ === 0) this.#startSigchld();
    } else {
      this.#delay = POLL_FIRST_MS;
    }
    this.#arm();
    // The exit may have come between the caller's check and the watcher.
    this.#check(watch);
  }

  /** Stops watching. Idempotent. */
  remove(watch: ExitWatch): void {
    if (!this.#watches.delete(watch)) return;
    if (watch.child && --this.#children === 0) this.#stopSigchld();
    if (this.#watches.size === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #startSigchld(): void {
    const w = native.sigchldWatch(() => this.#checkAll(true));
    // Without a watcher the safety net is all there is: poll children as others.
    if (typeof w === 'number') {
      for (const watch of this.#watches) watch.child = false;
      this.#children = 0;
      this.#delay = POLL_FIRST_MS;
      return;
    }
    this.#sigchld = w;
  }

  #stopSigchld(): void {
    if (this.#sigchld !== undefined) native.sigchldClose(this.#sigchld);
    this.#sigchld = undefined;
  }

  #arm(): void {
    if (this.#watches.size === 0) return;
    clearTimeout(this.#timer);
    const delay = this.#watches.size > this.#children ? this.#delay : CHILD_SAFETY_MS;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#checkAll(false);
      this.#delay = Math.min(this.#delay * 2, POLL_MAX_MS);
      this.#arm();
    }, delay);
  }

  #checkAll(childrenOnly: boolean): void {
    for (const watch of [...this.#watches]) {
      if (!childrenOnly || watch.child) this.#check(watch);
    }
  }

  #check(watch: ExitWatch): void {
    if (!this.#watches.has(watch)) return;
    const state = exitStateOf(watch.pid, watch.startTime, watch.dir);
    // A transient errno (fd or memory pressure) is retried on the next pass.
    if (state === 'running' || (typeof state === 'number' && transient(state))) return;
    this.remove(watch);
    if (state === 'exited') watch.exited();
    else watch.failed(new SyscallError('open', state, { pid: watch.pid, path: statPath(watch.pid) }));
  }
}

let monitor: ExitMonitor | undefined;
const exitMonitor = (): ExitMonitor => (monitor ??= new ExitMonitor());

/**
 * waitForExit for a system without pidfds: true once `pid` has exited (a
 * zombie counts, so does a pid with no process), false on timeout.
 * @throws SyscallError EINVAL (a thread id), other /proc read errors; AbortError; as rejections
 * @example
 * return waitForExitByPid(pid, validateWaitOptions(options));
 * @internal
 */
export function waitForExitByPid(pid: number, opts: ValidWaitOptions): Promise<boolean> {
  try {
    if (opts.signal?.aborted) return Promise.reject(abortError(opts.signal));
    const id = identify(pid);
    if (id === null || id.state === 'Z' || id.state === 'X') return Promise.resolve(true);
    if (opts.timeoutMs === 0) return Promise.resolve(false);
    return raceEvent((fire, fail) => {
      const watch: ExitWatch = { pid, startTime: id.startTime, exited: fire, failed: fail };
      exitMonitor().add(watch);
      return () => exitMonitor().remove(watch);
    }, opts).then((how) => how === 'event');
  } catch (error) {
    return Promise.reject(error);
  }
}

// ---------------------------------------------------------------------------
// ProcessHandle

interface Waiter {
  fire(): void;
  fail(error: Error): void;
}

const kCreate: unique symbol = Symbol('ProcessHandle');

/**
 * How a {@link ProcessHandle} names its process: `'pidfd'` (a pidfd, immune
 * to pid reuse) or `'pid+starttime'` (where pidfds are refused: the pid and
 * its start time, re-checked right before each signal).
 */
export type ProcessHandleKind = 'pidfd' | 'pid+starttime';

/**
 * A handle on one process that never reaches a recycled pid. Get one from
 * {@link openProcess}; close it with {@link ProcessHandle.close} or `using`.
 * A handle that is dropped without `close()` has its pidfd closed when it is
 * garbage-collected, and a worker's handles are closed when the worker ends.
 *
 * Where the kernel or a seccomp filter refuses pidfds, the handle is of kind
 * `'pid+starttime'` and holds the process's /proc directory instead: see {@link ProcessHandle.kind} for what
 * changes.
 *
 * @throws TypeError when constructed directly; each method lists its own errors
 * @example
 * using proc = openProcess(pid);
 * proc.kill('SIGTERM');
 * await proc.exited({ timeoutMs: 5000 });
 */
export class ProcessHandle implements Disposable {
  /** The pid the handle was opened on. */
  readonly pid: number;
  /**
   * When the process started, in clock ticks after boot (field 22 of
   * /proc/<pid>/stat). With `pid` it identifies the process in tools that do
   * not know pidfds, and in sigkit itself where pidfds are refused.
   */
  readonly startTime: number;
  /**
   * `'pidfd'`: the handle holds a pidfd. Signals go through it and can never
   * reach another process; exit waits are pidfd events.
   *
   * `'pid+starttime'`: pidfd_open is refused here (ENOSYS: Linux < 5.3,
   * gVisor; EPERM: seccomp). The handle holds the process's /proc/<pid>
   * directory open instead (one fd, as a pidfd would): the directory names
   * the process, not the number, so once that process is reaped every read
   * through it fails. Before each signal it reads the stat through it: a
   * process that is gone is ESRCH, as through a pidfd, even if its pid went
   * to a new process within the same clock tick; else kill(2) follows. The
   * window that remains is the microseconds between that read and kill(2):
   * the process would have to exit, be reaped and its pid be handed to a new
   * process within them (the kernel hands out pids in increasing order, so
   * the pid space must also wrap around in that time). For a child of this
   * thread's event loop even that cannot happen, as libuv reaps it only on
   * this same thread, which is busy sending. Where the directory cannot be
   * opened (hidepid, EACCES) the handle keeps the start time alone, which has
   * clock-tick resolution (10 ms): a pid reused within the tick its first
   * owner started in would then pass the check. Exit waits follow SIGCHLD for children of this
   * process and poll /proc for others (first after 1 ms, then doubling up to
   * every 50 ms): a non-child's exit is seen up to 50 ms late. A zombie has
   * exited, as with a pidfd.
   *
   * The same re-check is used (with the pidfd's own poll as the liveness
   * test) by a `'pidfd'` handle where pidfd_send_signal alone is refused.
   */
  readonly kind: ProcessHandleKind;
  #pidfd: NativePidfd | undefined;
  /** Without a pidfd: the process's /proc/<pid> directory, which names it exactly (see `kind`). */
  #dir: NativeProcDir | undefined;
  #closed = false;
  #exited = false;
  #watching = false;
  #watch: ExitWatch | undefined;
  readonly #waiters = new Set<Waiter>();

  /** @internal Use {@link openProcess}. */
  constructor(key: typeof kCreate, pid: number, pidfd: NativePidfd | null, startTime: number, dir?: NativeProcDir) {
    if (key !== kCreate) throw new TypeError('Illegal constructor: use openProcess(pid)');
    this.pid = pid;
    this.#pidfd = pidfd ?? undefined;
    this.#dir = dir;
    this.kind = pidfd ? 'pidfd' : 'pid+starttime';
    this.startTime = startTime;
  }

  /**
   * True once {@link ProcessHandle.close} ran.
   * @throws never
   * @example
   * if (!proc.closed) proc.kill();
   */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a signal: pidfd_send_signal(2) through the pidfd. Once the process
   * has been reaped this throws ESRCH, even if its pid now names another
   * process. A zombie (exited, not yet reaped) accepts and ignores signals,
   * as with kill(2). Signal `0` only checks.
   *
   * Without pidfd_send_signal (a `'pid+starttime'` handle, or a filter that
   * refuses only that call) the identity is re-checked first and the signal
   * goes through kill(2); errors then name `syscall: 'kill'`. See
   * {@link ProcessHandle.kind} for the window that leaves.
   *
   * @throws TypeError ERR_INVALID_ARG_TYPE, ERR_UNKNOWN_SIGNAL
   * @throws SyscallError ESRCH (the process is gone), EPERM, EINVAL (no such signal), EBADF (handle closed)
   * @example
   * proc.kill('SIGRTMIN+2');
   */
  kill(signal: SignalLike = 'SIGTERM'): void {
    const sig = validateSendSignal(signal);
    const pidfd = this.#pidfd;
    if (this.#closed) throw this.#closedError(this.kind === 'pidfd' ? 'pidfd_send_signal' : 'kill', sig);
    if (pidfd !== undefined) {
      const r = native.pidfdSendSignal(pidfd, sig);
      if (r === 0) return;
      // EPERM is a real answer unless the call itself is refused here.
      if (r !== -ENOSYS && (r !== -EPERM || pidfdSendSignalWorks())) {
        throw new SyscallError('pidfd_send_signal', r, { pid: this.pid, signal: signalForContext(sig) });
      }
      this.#killByPid(sig, pidfd);
      return;
    }
    this.#killByPid(sig, undefined);
  }

  /**
   * True until the process exits. A zombie is not alive. Never throws for a
   * process that is gone; it is simply not alive.
   *
   * @throws SyscallError EBADF (handle closed); for a `'pid+starttime'` handle, a /proc read error other than "gone" (EMFILE, EACCES)
   * @example
   * if (!proc.isAlive()) console.log('exited');
   */
  isAlive(): boolean {
    if (this.#closed) throw this.#closedError(this.kind === 'pidfd' ? 'poll' : 'open');
    if (this.#exited) return false;
    if (this.#pidfd !== undefined) {
      if (pidfdExited(this.#pidfd, this.pid)) this.#exited = true;
    } else {
      const state = exitStateOf(this.pid, this.startTime, this.#dir);
      if (typeof state === 'number') throw new SyscallError('open', state, { pid: this.pid, path: statPath(this.pid) });
      if (state === 'exited') this.#exited = true;
    }
    return !this.#exited;
  }

  /**
   * Resolves when the process exits (a zombie counts), at once if it already
   * has. Event-driven: the pidfd is polled on this thread's event loop, which
   * it keeps alive while someone waits. For a `'pid+starttime'` handle:
   * SIGCHLD for a child of this process, else a /proc poll (1 ms, doubling to
   * 50 ms); the loop is kept alive the same way.
   *
   * @throws TypeError ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, RangeError ERR_OUT_OF_RANGE (bad options: the promise rejects)
   * @throws TimeoutError ERR_SIGKIT_TIMEOUT after `timeoutMs`
   * @throws AbortError ABORT_ERR when `signal` aborts, at once, also when it already had
   * @throws SyscallError EBADF (handle closed, also when closed while waiting)
   * @example
   * proc.kill('SIGTERM');
   * await proc.exited({ timeoutMs: 2000 });
   */
  exited(options?: WaitOptions): Promise<void> {
    try {
      const opts = validateWaitOptions(options);
      if (opts.signal?.aborted) return Promise.reject(abortError(opts.signal));
      if (!this.isAlive()) return Promise.resolve();
      if (opts.timeoutMs === 0) return Promise.reject(timeoutError(`exit of pid ${this.pid}`, 0));
      return raceEvent((fire, fail) => {
        const waiter = { fire, fail };
        this.#waiters.add(waiter);
        try {
          this.#startWatch(); // may find the exit at once and fire
        } catch (error) {
          this.#waiters.delete(waiter);
          throw error;
        }
        return () => {
          this.#waiters.delete(waiter);
          if (this.#waiters.size === 0) this.#stopWatch();
        };
      }, opts).then((how) => {
        if (how === 'timeout') throw timeoutError(`exit of pid ${this.pid}`, opts.timeoutMs);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * How the process ended, when the kernel can tell: for a child of this
   * process before it is reaped (waitid with WNOWAIT: the zombie is left for
   * its reaper), and for any process after it was reaped (PIDFD_INFO_EXIT,
   * Linux 6.15+, when the handle holds a pidfd opened before the exit).
   * `null` while it runs, or when the kernel cannot say.
   *
   * Without waitid(P_PIDFD) (a `'pid+starttime'` handle, or a filter that
   * refuses it) a child's status is read with waitid(P_PID, WNOWAIT) and kept
   * only if the pid still carries the handle's start time. Without a pidfd
   * nothing keeps the status of a reaped process: a `child_process` child,
   * which libuv reaps as soon as SIGCHLD arrives, then reads `null`.
   *
   * @throws SyscallError EBADF (handle closed)
   * @example
   * await proc.exited();
   * proc.exitInfo()?.signal; // 'SIGTERM'
   */
  exitInfo(): ExitInfo | null {
    if (this.#closed) throw this.#closedError('waitid');
    const pidfd = this.#pidfd;
    if (pidfd === undefined) return this.#waitidByPid();
    const w = native.pidfdWaitid(pidfd, true);
    if (typeof w === 'object') return toExitInfo(w, this.pid);
    // EINVAL: a kernel without P_PIDFD (5.3); ENOSYS/EPERM: a filter refusing it.
    if (w === -EINVAL || w === -ENOSYS || w === -EPERM) {
      const byPid = this.#waitidByPid();
      if (byPid !== null) return byPid;
    }
    const info = native.pidfdGetInfo(pidfd);
    if (typeof info === 'object' && info.exit) return toExitInfo(info.exit, this.pid);
    return null;
  }

  /**
   * Closes the pidfd (or, for a `'pid+starttime'` handle, its /proc directory). Idempotent.
   * Pending {@link ProcessHandle.exited} calls reject with EBADF.
   * @throws never
   * @example
   * proc.close();
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const pidfd = this.#pidfd;
    this.#pidfd = undefined;
    this.#watching = false;
    if (pidfd !== undefined) native.pidfdClose(pidfd); // also stops a pending poll
    if (this.#watch !== undefined) exitMonitor().remove(this.#watch);
    if (this.#dir !== undefined) native.procDirClose(this.#dir);
    this.#dir = undefined;
    this.#watch = undefined;
    const syscall = this.kind === 'pidfd' ? 'poll' : 'open';
    for (const waiter of [...this.#waiters]) waiter.fail(this.#closedError(syscall));
  }

  /**
   * Same as {@link ProcessHandle.close}, for `using`.
   * @throws never
   * @example
   * { using proc = openProcess(pid); proc.kill(); } // closed here
   */
  [Symbol.dispose](): void {
    this.close();
  }

  #closedError(syscall: string, signal?: number): SyscallError {
    return new SyscallError(syscall, EBADF, signal === undefined ? { pid: this.pid } : { pid: this.pid, signal: signalForContext(signal) });
  }

  /**
   * kill(2) after checking that the pid still names this handle's process:
   * through the pidfd's poll when there is one (not exited: its pid cannot
   * have been reused), else by its start time.
   */
  #killByPid(sig: number, pidfd: NativePidfd | undefined): void {
    const context = { pid: this.pid, signal: signalForContext(sig) };
    if (pidfd !== undefined) {
      const events = native.pidfdPoll(pidfd);
      if (events < 0) throw new SyscallError('poll', events, context);
      if ((events & POLLIN) !== 0) {
        // Exited. Reaped (HUP on 6.9+, or the pid gone or reused) is ESRCH;
        // a zombie accepts and ignores the signal, so nothing is sent.
        const st = native.procStartTime(this.pid);
        if ((events & POLLHUP) !== 0 || st !== this.startTime) throw new SyscallError('kill', ESRCH, context);
        return;
      }
    } else if (this.#dir !== undefined) {
      // The held /proc/<pid> directory answers only while its own process
      // is unreaped: a reaped one is ESRCH even if its pid was reused within
      // the same clock tick (which a start-time comparison cannot see).
      const d = native.procDirStat(this.#dir);
      if (typeof d === 'number') {
        if (gone(d)) throw new SyscallError('kill', ESRCH, context);
        throw new SyscallError('open', d, { pid: this.pid, path: statPath(this.pid) });
      }
      if (d[1] !== this.startTime) throw new SyscallError('kill', ESRCH, context);
    } else {
      const st = native.procStartTime(this.pid);
      if (st < 0 && !gone(st)) throw new SyscallError('open', st, { pid: this.pid, path: statPath(this.pid) });
      if (st !== this.startTime) throw new SyscallError('kill', ESRCH, context);
    }
    const r = native.kill(this.pid, sig);
    if (r !== 0) throw new SyscallError('kill', r, context);
  }

  /** waitid(P_PID, WNOWAIT), kept only while the pid still carries our start time. */
  #waitidByPid(): ExitInfo | null {
    const w = native.waitidPid(this.pid);
    if (typeof w !== 'object') return null; // running, not our child, or reaped
    // A status read by pid is ours only if the zombie behind it is our
    // process: read after waitid, a matching start time proves it.
    return native.procStartTime(this.pid) === this.startTime ? toExitInfo(w, this.pid) : null;
  }

  #startWatch(): void {
    if (this.#pidfd !== undefined) {
      if (this.#watching) return;
      const r = native.pidfdWatch(this.#pidfd, (events) => this.#onEvent(events));
      if (r < 0) throw new SyscallError('epoll_ctl', r, { pid: this.pid });
      this.#watching = true;
      return;
    }
    if (this.#watch !== undefined) return;
    const watch: ExitWatch = {
      pid: this.pid,
      startTime: this.startTime,
      ...(this.#dir !== undefined ? { dir: this.#dir } : {}),
      exited: () => {
        if (this.#watch === watch) this.#watch = undefined;
        this.#onEvent(POLLIN);
      },
      failed: (error) => {
        if (this.#watch === watch) this.#watch = undefined;
        for (const w of [...this.#waiters]) w.fail(error);
      },
    };
    this.#watch = watch;
    exitMonitor().add(watch);
  }

  #stopWatch(): void {
    if (this.#watch !== undefined) {
      exitMonitor().remove(this.#watch);
      this.#watch = undefined;
    }
    if (!this.#watching) return;
    this.#watching = false;
    if (this.#pidfd !== undefined) native.pidfdUnwatch(this.#pidfd);
  }

  #onEvent(events: number): void {
    this.#watching = false;
    const waiters = [...this.#waiters];
    if (events < 0) {
      for (const w of waiters) w.fail(new SyscallError('poll', events, { pid: this.pid }));
      return;
    }
    this.#exited = true;
    for (const w of waiters) w.fire();
  }
}

/**
 * Opens a {@link ProcessHandle} on a running (or zombie) process, child or
 * not. With pidfds, `startTime` is read right after the pidfd is opened and
 * then verified: the pidfd's process must still be unreaped, so the pid
 * could not have been recycled in between. Where pidfd_open is refused
 * (ENOSYS, EPERM) the handle is `'pid+starttime'` and its errors name
 * `syscall: 'open'` (the /proc read that replaced pidfd_open).
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE
 * @throws RangeError ERR_OUT_OF_RANGE
 * @throws SyscallError ESRCH (no such process), EINVAL/ENOENT (a thread id, not a process), EMFILE
 * @example
 * const proc = openProcess(pid);
 * try { proc.kill('SIGTERM'); await proc.exited({ timeoutMs: 5000 }); } finally { proc.close(); }
 */
export function openProcess(pid: number): ProcessHandle {
  const p = validatePid(pid);
  let pidfd: NativePidfd | null;
  try {
    pidfd = openPidfd(p);
  } catch (error) {
    if (!pidfdRefused(error)) throw error;
    const id = identify(p);
    if (id === null) throw new SyscallError('open', ESRCH, { pid: p, path: statPath(p) });
    // Pin the identity with the process's /proc directory; verified through
    // it, so it was opened on the process `identify` read. Where it cannot be
    // opened (hidepid, EACCES) the handle keeps the start time alone.
    const dir = native.procDirOpen(p);
    if (typeof dir === 'number') {
      if (gone(dir)) throw new SyscallError('open', ESRCH, { pid: p, path: statPath(p) });
      return new ProcessHandle(kCreate, p, null, id.startTime);
    }
    const d = native.procDirStat(dir);
    if (typeof d === 'number' || d[1] !== id.startTime) {
      native.procDirClose(dir);
      if (typeof d === 'number' && !gone(d)) throw new SyscallError('open', d, { pid: p, path: statPath(p) });
      throw new SyscallError('open', ESRCH, { pid: p, path: statPath(p) });
    }
    return new ProcessHandle(kCreate, p, null, id.startTime, dir);
  }
  if (pidfd === null) throw new SyscallError('pidfd_open', ESRCH, { pid: p });
  const startTime = native.procStartTime(p);
  // Still unreaped after the read (a zombie still answers 0) means /proc/<pid>
  // was this process when we read it.
  let check = native.pidfdSendSignal(pidfd, 0);
  if ((check === -EPERM || check === -ENOSYS) && startTime >= 0) {
    // EPERM: not ours to signal, so unreaped; or a filter refusing the call,
    // which says nothing: then not exited yet (the poll) proves the same.
    // An exited process keeps the read (the window of ProcessHandle.kind).
    const events = native.pidfdPoll(pidfd);
    check = events >= 0 && (events & POLLHUP) === 0 ? 0 : -ESRCH;
  }
  if (startTime < 0 || check !== 0) {
    native.pidfdClose(pidfd);
    if (check === -ESRCH || startTime === -ENOENT) throw new SyscallError('pidfd_open', ESRCH, { pid: p });
    if (startTime < 0) throw new SyscallError('open', startTime, { pid: p, path: statPath(p) });
    throw new SyscallError('pidfd_send_signal', check, { pid: p, signal: 0 });
  }
  return new ProcessHandle(kCreate, p, pidfd, startTime);
}
