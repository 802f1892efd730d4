/**
 * Process handles over pidfds (pidfd_open(2), Linux 5.3+).
 *
 * A pidfd names one process, not a pid number: after that process is reaped,
 * signalling through the pidfd fails with ESRCH even when the number already
 * belongs to someone else. It polls readable when the process exits (a zombie
 * counts), child or not, without reaping it; so waits here are event-driven on
 * the event loop, never a polling loop.
 */
import { SyscallError } from './errors.js';
import { toExitInfo, type ExitInfo } from './exit-info.js';
import { native, type NativePidfd } from './native.js';
import type { SignalLike } from './signals.js';
import { signalForContext, validatePid, validateSendSignal } from './validate.js';
import { raceEvent, timeoutError, validateWaitOptions, type WaitOptions } from './waiting.js';

const EPERM = 1;
const ENOENT = 2;
const ESRCH = 3;
const EBADF = 9;
const EINVAL = 22;
const POLLIN = 0x1;

/**
 * Opens a pidfd for `pid`. Returns `null` when no such process exists (it
 * exited and was reaped, or never was).
 *
 * pidfd_open fails with EINVAL (ENOENT on 6.18) both for a thread id that
 * is not a process and, briefly, for a process in the middle of being reaped
 * (NODE-LINUX-FACTS.md item 18): /proc tells the two apart.
 * @throws SyscallError EINVAL/ENOENT for a thread id, EMFILE, ENFILE, ENOMEM, ENOSYS
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

interface Waiter {
  fire(): void;
  fail(error: Error): void;
}

const kCreate: unique symbol = Symbol('ProcessHandle');

/**
 * A handle on one process that can never reach a recycled pid. Get one from
 * {@link openProcess}; close it with {@link ProcessHandle.close} or `using`.
 * A handle that is dropped without `close()` has its pidfd closed when it is
 * garbage-collected, and a worker's handles are closed when the worker ends.
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
   * not know pidfds.
   */
  readonly startTime: number;
  #pidfd: NativePidfd | undefined;
  #exited = false;
  #watching = false;
  readonly #waiters = new Set<Waiter>();

  /** @internal Use {@link openProcess}. */
  constructor(key: typeof kCreate, pid: number, pidfd: NativePidfd, startTime: number) {
    if (key !== kCreate) throw new TypeError('Illegal constructor: use openProcess(pid)');
    this.pid = pid;
    this.#pidfd = pidfd;
    this.startTime = startTime;
  }

  /**
   * True once {@link ProcessHandle.close} ran.
   * @throws never
   * @example
   * if (!proc.closed) proc.kill();
   */
  get closed(): boolean {
    return this.#pidfd === undefined;
  }

  /**
   * Sends a signal through the pidfd: pidfd_send_signal(2). Once the process
   * has been reaped this throws ESRCH, even if its pid now names another
   * process. A zombie (exited, not yet reaped) accepts and ignores signals,
   * as with kill(2). Signal `0` only checks.
   *
   * @throws TypeError ERR_INVALID_ARG_TYPE, ERR_UNKNOWN_SIGNAL
   * @throws SyscallError ESRCH (the process is gone), EPERM, EINVAL (no such signal), EBADF (handle closed)
   * @example
   * proc.kill('SIGRTMIN+2');
   */
  kill(signal: SignalLike = 'SIGTERM'): void {
    const sig = validateSendSignal(signal);
    const pidfd = this.#open('pidfd_send_signal', sig);
    const r = native.pidfdSendSignal(pidfd, sig);
    if (r !== 0) throw new SyscallError('pidfd_send_signal', r, { pid: this.pid, signal: signalForContext(sig) });
  }

  /**
   * True until the process exits. A zombie is not alive. Never throws for a
   * process that is gone; it is simply not alive.
   *
   * @throws SyscallError EBADF (handle closed)
   * @example
   * if (!proc.isAlive()) console.log('exited');
   */
  isAlive(): boolean {
    const pidfd = this.#open('poll');
    if (!this.#exited && pidfdExited(pidfd, this.pid)) this.#exited = true;
    return !this.#exited;
  }

  /**
   * Resolves when the process exits (a zombie counts), at once if it already
   * has. Event-driven: the pidfd is polled on this thread's event loop, which
   * it keeps alive while someone waits.
   *
   * @throws TypeError ERR_INVALID_ARG_TYPE, RangeError ERR_OUT_OF_RANGE (bad options: the promise rejects)
   * @throws TimeoutError ERR_SIGKIT_TIMEOUT after `timeoutMs`
   * @throws AbortError ABORT_ERR when `signal` aborts
   * @throws SyscallError EBADF (handle closed, also when closed while waiting)
   * @example
   * proc.kill('SIGTERM');
   * await proc.exited({ timeoutMs: 2000 });
   */
  exited(options?: WaitOptions): Promise<void> {
    try {
      const opts = validateWaitOptions(options);
      if (!this.isAlive()) return Promise.resolve();
      if (opts.timeoutMs === 0) return Promise.reject(timeoutError(`exit of pid ${this.pid}`, 0));
      return raceEvent((fire, fail) => {
        this.#watch(); // first: if it throws, nothing is left registered
        const waiter = { fire, fail };
        this.#waiters.add(waiter);
        return () => {
          this.#waiters.delete(waiter);
          if (this.#waiters.size === 0) this.#unwatch();
        };
      }, opts).then((how) => {
        if (how === 'timeout') throw timeoutError(`exit of pid ${this.pid}`, opts.timeoutMs);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * How the process ended, when the kernel can tell through the pidfd: for
   * this thread's own child before it is reaped (waitid with WNOWAIT: the
   * zombie is left for its reaper), and for any process after it was reaped
   * (PIDFD_INFO_EXIT, Linux 6.15+, when the handle was opened before the
   * exit). `null` while it runs, or when the kernel cannot say.
   *
   * @throws SyscallError EBADF (handle closed)
   * @example
   * await proc.exited();
   * proc.exitInfo()?.signal; // 'SIGTERM'
   */
  exitInfo(): ExitInfo | null {
    const pidfd = this.#open('waitid');
    const w = native.pidfdWaitid(pidfd, true);
    if (typeof w === 'object') return toExitInfo(w, this.pid);
    const info = native.pidfdGetInfo(pidfd);
    if (typeof info === 'object' && info.exit) return toExitInfo(info.exit, this.pid);
    return null;
  }

  /**
   * Closes the pidfd. Idempotent. Pending {@link ProcessHandle.exited} calls
   * reject with EBADF.
   * @throws never
   * @example
   * proc.close();
   */
  close(): void {
    const pidfd = this.#pidfd;
    if (pidfd === undefined) return;
    this.#pidfd = undefined;
    this.#watching = false;
    native.pidfdClose(pidfd); // also stops a pending poll
    for (const waiter of [...this.#waiters]) waiter.fail(new SyscallError('poll', EBADF, { pid: this.pid }));
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

  #open(syscall: string, signal?: number): NativePidfd {
    if (this.#pidfd === undefined) {
      throw new SyscallError(syscall, EBADF, signal === undefined ? { pid: this.pid } : { pid: this.pid, signal: signalForContext(signal) });
    }
    return this.#pidfd;
  }

  #watch(): void {
    if (this.#watching) return;
    const pidfd = this.#open('poll');
    const r = native.pidfdWatch(pidfd, (events) => this.#onEvent(events));
    if (r < 0) throw new SyscallError('epoll_ctl', r, { pid: this.pid });
    this.#watching = true;
  }

  #unwatch(): void {
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
 * Opens a pidfd-backed {@link ProcessHandle} on a running (or zombie)
 * process, child or not. `startTime` is read right after the pidfd is opened
 * and then verified: the pidfd's process must still be unreaped, so the pid
 * could not have been recycled in between.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE
 * @throws RangeError ERR_OUT_OF_RANGE
 * @throws SyscallError ESRCH (no such process), EINVAL/ENOENT (a thread id, not a process), EMFILE, ENOSYS (kernel < 5.3)
 * @example
 * const proc = openProcess(pid);
 * try { proc.kill('SIGTERM'); await proc.exited({ timeoutMs: 5000 }); } finally { proc.close(); }
 */
export function openProcess(pid: number): ProcessHandle {
  const p = validatePid(pid);
  const pidfd = openPidfd(p);
  if (pidfd === null) throw new SyscallError('pidfd_open', ESRCH, { pid: p });
  const startTime = native.procStartTime(p);
  // Still unreaped after the read (a zombie still answers 0) means /proc/<pid>
  // was this process when we read it.
  const check = native.pidfdSendSignal(pidfd, 0);
  if (startTime < 0 || (check !== 0 && check !== -EPERM)) {
    native.pidfdClose(pidfd);
    if (check === -ESRCH || startTime === -ENOENT) throw new SyscallError('pidfd_open', ESRCH, { pid: p });
    if (startTime < 0) throw new SyscallError('open', startTime, { pid: p, path: `/proc/${p}/stat` });
    throw new SyscallError('pidfd_send_signal', check, { pid: p, signal: 0 });
  }
  return new ProcessHandle(kCreate, p, pidfd, startTime);
}
