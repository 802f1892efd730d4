/**
 * Waiting for processes and reaping children without stealing them from
 * Node's `child_process`.
 *
 * libuv reaps each child_process child itself with waitpid(pid, WNOHANG) on
 * the loop that spawned it; if anyone else reaps it first, Node never emits
 * `exit` (NODE-LINUX-FACTS.md item 4). So nothing here waits for -1, 0 or a
 * group. A reaping pass lists the children of the calling thread (a child's
 * parent is the thread that forked it, and adopted orphans go to the main
 * thread), drops the pids this env's loop still owns (its active
 * UV_PROCESS handles) and reaps each of the rest by pid with __WNOTHREAD, so
 * the kernel itself refuses another thread's child (a worker's). The listing
 * and the exclusion run synchronously on the one thread that could spawn or
 * reap those children, and a zombie's pid cannot be reused while it is
 * unreaped: the pass is race-free.
 */
import { checkOptions } from './options.js';
import { ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { SyscallError, invalidArgType, invalidArgValue, outOfRange, type CodedError } from './errors.js';
import { native, type NativePidfd, type NativeSigchldWatch } from './native.js';
import { toExitInfo, type ExitInfo } from './exit-info.js';
import { openPidfd, pidfdExited, pidfdRefused, waitForExitByPid } from './pidfd.js';
import { pidsWithParent } from './proc.js';
import { validatePid } from './validate.js';
import { abortError, raceEvent, validateWaitOptions, type WaitOptions } from './waiting.js';
import { onSignal, type SignalEvent } from './sigaction.js';

const EPERM = 1;
const ENOSYS = 38;
const EINTR = 4;
const ENOENT = 2;
const ECHILD = 10;
const EAGAIN = 11;
const ENOMEM = 12;
const ENFILE = 23;
const EMFILE = 24;
/** errnos that say "not now" rather than "never": a later pass may succeed. */
const TRANSIENT = new Set([EINTR, EAGAIN, ENOMEM, ENFILE, EMFILE]);

export type { ExitInfo } from './exit-info.js';

function coded(error: Error, code: string, fields: Record<string, unknown> = {}): Error & CodedError {
  return Object.assign(error, { code }, fields);
}

// ---------------------------------------------------------------------------
// waitForExit

/**
 * Waits for any process to exit, child or not, event-driven through a pidfd
 * (no polling). Resolves `true` once it has exited: a zombie counts, and so
 * does a pid that does not exist (it has already exited, or never was).
 * Resolves `false` when `timeoutMs` passes first (`timeoutMs: 0` checks once).
 * Keeps the event loop alive while it waits, like a timer.
 *
 * Where pidfds are refused (ENOSYS, EPERM: see `capabilities()`), it follows
 * SIGCHLD for a child of this process and polls /proc for any other (1 ms,
 * doubling to 50 ms: a non-child's exit is seen up to 50 ms late); a pid
 * that comes to name another process counts as exited. Errors then name
 * `syscall: 'open'`.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE; RangeError ERR_OUT_OF_RANGE (the promise rejects)
 * @throws AbortError ABORT_ERR when `signal` aborts
 * @throws SyscallError EINVAL/ENOENT (a thread id, not a process), EMFILE
 * @example
 * kill(pid, 'SIGTERM');
 * if (!(await waitForExit(pid, { timeoutMs: 5000 }))) kill(pid, 'SIGKILL');
 */
export function waitForExit(pid: number, options?: WaitOptions): Promise<boolean> {
  let pidfd: NativePidfd | null;
  let p: number;
  try {
    p = validatePid(pid);
    const opts = validateWaitOptions(options);
    if (opts.signal?.aborted) return Promise.reject(abortError(opts.signal));
    try {
      pidfd = openPidfd(p);
    } catch (error) {
      // No pidfds here (ENOSYS, EPERM): SIGCHLD for a child, a /proc poll for others.
      if (pidfdRefused(error)) return waitForExitByPid(p, opts);
      throw error;
    }
    if (pidfd === null) return Promise.resolve(true);
    const fd = pidfd;
    let done = false;
    try {
      done = pidfdExited(fd, p);
    } catch (error) {
      native.pidfdClose(fd);
      throw error;
    }
    if (done || opts.timeoutMs === 0) {
      native.pidfdClose(fd);
      return Promise.resolve(done);
    }
    return raceEvent((fire, fail) => {
      const r = native.pidfdWatch(fd, (events) => (events < 0 ? fail(new SyscallError('poll', events, { pid: p })) : fire()));
      if (r < 0) throw new SyscallError('epoll_ctl', r, { pid: p });
      return () => native.pidfdUnwatch(fd);
    }, opts).then(
      (how) => {
        native.pidfdClose(fd);
        return how === 'event';
      },
      (error: unknown) => {
        native.pidfdClose(fd);
        throw error;
      },
    );
  } catch (error) {
    return Promise.reject(error);
  }
}

// ---------------------------------------------------------------------------
// exitOf

const exits = new WeakMap<ChildProcess, Promise<ExitInfo>>();

function spawnFailed(child: ChildProcess): Error & CodedError {
  return coded(
    new Error(`exitOf: the child has no pid: spawning ${JSON.stringify(child.spawnfile)} failed (see its 'error' event)`),
    'ERR_SIGKIT_SPAWN_FAILED',
    { spawnfile: child.spawnfile },
  );
}

function exitUnavailable(child: ChildProcess): Error & CodedError {
  return coded(
    new Error(
      `exitOf: pid ${child.pid} was already reaped by child_process, so its true exit is unknown ` +
        `(Node reports a realtime signal as code 0); call exitOf(child) right after spawn()`,
    ),
    'ERR_SIGKIT_EXIT_UNAVAILABLE',
    { pid: child.pid },
  );
}

/** Node's view, when nothing better is left: names every signal Node names, but a realtime signal reads as code 0. */
function nodeView(child: ChildProcess): Promise<ExitInfo> {
  const build = (code: number | null, signal: NodeJS.Signals | null): ExitInfo => ({
    pid: child.pid!,
    code: signal ? null : code,
    signal: signal ?? null,
    signalNumber: signal ? (osConstants.signals[signal] ?? null) : null,
    coreDumped: false,
  });
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(build(child.exitCode, child.signalCode));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(build(code, signal))));
}

/** The exit a SIGCHLD's siginfo tells (CLD_EXITED/KILLED/DUMPED), or null (a stop, a continue). */
function fromSigchld(e: SignalEvent, pid: number): ExitInfo | null {
  if (e.status === undefined) return null;
  if (e.code === 'CLD_EXITED') return toExitInfo({ pid, code: e.status, signal: null, core: false }, pid);
  if (e.code === 'CLD_KILLED' || e.code === 'CLD_DUMPED') return toExitInfo({ pid, code: null, signal: e.status, core: e.code === 'CLD_DUMPED' }, pid);
  return null;
}

/**
 * exitOf where pidfds (or waitid on them) are refused: the siginfo of the
 * child's SIGCHLD, caught by sigkit's SA_SIGINFO handler before libuv's runs
 * (it chains to it), names the true exit, realtime signals included. The
 * weaker guarantee: SIGCHLD is a standard signal and coalesces, so when
 * several children exit at once only one siginfo arrives; a child whose
 * SIGCHLD was merged into another's is reported as Node saw it (a realtime
 * signal then reads as code 0, as in child_process).
 */
function watchChildBySigchld(child: ChildProcess, pid: number): Promise<ExitInfo> {
  return new Promise<ExitInfo>((resolve, reject) => {
    let done = false;
    let off: (() => void) | undefined;
    const finish = (info: ExitInfo | null): void => {
      if (done) return;
      done = true;
      off?.();
      child.removeListener('exit', onNodeExit);
      if (info) resolve(info);
      else nodeView(child).then(resolve, reject);
    };
    // Node's 'exit' and sigkit's dispatch of the same SIGCHLD are both ready
    // in the loop turn after the signal (sigkit's wake-up is sent first): one
    // more turn lets the siginfo win; after that, Node's view is all there is.
    const onNodeExit = (): void => {
      setImmediate(() => setImmediate(() => finish(null)));
    };
    try {
      // Not ref'd: the child's own handle decides whether the loop waits (child.unref()).
      off = onSignal('SIGCHLD', (e) => {
        if (e.pid !== pid) return;
        const info = fromSigchld(e, pid);
        if (info) finish(info);
      });
    } catch (error) {
      reject(error);
      return;
    }
    child.once('exit', onNodeExit);
    if (child.exitCode !== null || child.signalCode !== null) {
      onNodeExit();
      return;
    }
    // The child may have exited before the handler was in place (its
    // SIGCHLD then went to libuv's alone). libuv reaps only on this loop,
    // later: until then the zombie holds the status, read without reaping.
    const w = native.waitidPid(pid);
    if (typeof w === 'object') finish(toExitInfo(w, pid));
  });
}

function watchChild(child: ChildProcess): Promise<ExitInfo> {
  const pid = child.pid;
  if (pid === undefined) return Promise.reject(spawnFailed(child));
  if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(exitUnavailable(child));
  let pidfd: NativePidfd | null;
  try {
    pidfd = openPidfd(pid);
  } catch (error) {
    if (pidfdRefused(error)) return watchChildBySigchld(child, pid);
    throw error;
  }
  if (pidfd === null) return Promise.reject(exitUnavailable(child));
  // A filter that allows pidfd_open but refuses waitid(P_PIDFD): the siginfo way.
  const probe = native.pidfdWaitid(pidfd, true);
  if (probe === -ENOSYS || probe === -EPERM) {
    native.pidfdClose(pidfd);
    return watchChildBySigchld(child, pid);
  }
  // The pidfd names the child (not a process that reused its pid) as long as
  // libuv has not reaped it, i.e. its handle is still active on this loop.
  if (!native.loopChildPids().includes(pid)) {
    native.pidfdClose(pidfd);
    return Promise.reject(exitUnavailable(child));
  }
  // Called when the pidfd polls readable (or at once): the child exited.
  const settle = (): ExitInfo | 'running' | 'unknown' => {
    // WNOWAIT: read the status and leave the zombie for libuv to reap.
    const w = native.pidfdWaitid(pidfd, true);
    if (typeof w === 'object') return toExitInfo(w, pid);
    if (w === 0) return 'running';
    if (w !== -ECHILD) throw new SyscallError('waitid', w, { pid });
    // ECHILD: libuv reaped it in this same loop turn, before our poll
    // callback ran. Since 6.15 the kernel keeps the status for our pidfd.
    const info = native.pidfdGetInfo(pidfd);
    if (typeof info === 'object' && info.exit) return toExitInfo(info.exit, pid);
    return 'unknown'; // kernel < 6.15
  };
  return new Promise<ExitInfo>((resolve, reject) => {
    let done = false;
    const end = (): void => {
      done = true;
      child.removeListener('exit', onNodeExit);
      native.pidfdClose(pidfd);
    };
    const finish = (result: ExitInfo | 'unknown'): void => {
      end();
      if (result === 'unknown') nodeView(child).then(resolve, reject);
      else resolve(result);
    };
    const attempt = (): void => {
      try {
        const result = settle();
        if (result !== 'running') {
          finish(result);
          return;
        }
        // Unref'd: whether the loop waits for the child is the child's own
        // handle's business (child.unref() lets the process exit). While it
        // is ref'd, libuv's handle keeps the loop alive until it reaps the
        // child, and then Node's 'exit' (below) settles us in that same turn.
        const r = native.pidfdWatch(pidfd, (events) => {
          if (done) return;
          if (events < 0) {
            end();
            reject(new SyscallError('poll', events, { pid }));
          } else {
            attempt();
          }
        }, false);
        if (r < 0) throw new SyscallError('epoll_ctl', r, { pid });
      } catch (error) {
        end();
        reject(error);
      }
    };
    // libuv reaps every exited child in its SIGCHLD work, which can come in
    // the same loop turn as the exit, before our pidfd is polled (in the next
    // turn, which an unref'd poll alone would not wait for). Node emits
    // 'exit' right there: read what the kernel kept for the pidfd now.
    const onNodeExit = (): void => {
      if (done) return;
      native.pidfdUnwatch(pidfd);
      attempt();
    };
    child.once('exit', onNodeExit);
    attempt();
  });
}

/**
 * The true exit of a `child_process` child, read from the kernel without
 * reaping it (Node still gets its `exit` event). Unlike Node, it names
 * realtime signals: a child killed by `SIGRTMIN+6` resolves
 * `{ code: null, signal: 'SIGRTMIN+6' }` where Node says `code 0`.
 *
 * Call it right after `spawn()` (any time before the child is reaped): the
 * pidfd is opened at once on this thread, which is race-free. Calling it
 * again for the same child returns the same promise.
 *
 * It never keeps the event loop alive by itself: after `child.unref()` the
 * process may exit while the child runs (the promise then never settles),
 * as with Node's own `exit` event.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE (not a ChildProcess); like every error here, as a rejection
 * @throws Error ERR_SIGKIT_SPAWN_FAILED (the child has no pid: spawning failed), ERR_SIGKIT_EXIT_UNAVAILABLE (child_process already reaped it)
 * @example
 * const child = spawn('worker');
 * const { code, signal } = await exitOf(child);   // signal: 'SIGRTMIN+6'
 */
export function exitOf(child: ChildProcess): Promise<ExitInfo> {
  if (!(child instanceof ChildProcess)) return Promise.reject(invalidArgType('child', 'an instance of ChildProcess', child));
  let result = exits.get(child);
  if (result === undefined) {
    try {
      result = watchChild(child);
    } catch (error) {
      result = Promise.reject(error);
    }
    exits.set(child, result);
  }
  return result;
}

// ---------------------------------------------------------------------------
// waitpid, reapChildren

/**
 * Options of {@link waitpid}.
 * @example
 * waitpid(pid, { noHang: false }); // blocks this thread until it exits
 */
export interface WaitpidOptions {
  /** `true` (default): return `null` at once if the child is still running. `false` blocks this thread until it exits. */
  noHang?: boolean;
}

/**
 * waitpid(2) for one child of this thread that `child_process` does not own,
 * e.g. an orphan adopted as a subreaper (orphans go to the main thread).
 * Reaps it and returns how it ended, or `null` while it runs (`noHang`).
 * With `noHang: false` it blocks the whole thread until the child exits.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE; ERR_INVALID_ARG_VALUE (a child_process child: reaping it would take its exit from Node, use {@link exitOf})
 * @throws RangeError ERR_OUT_OF_RANGE
 * @throws SyscallError ECHILD (not a child of this thread, or already reaped)
 * @example
 * setChildSubreaper();
 * const info = waitpid(orphanPid);   // null while it runs
 */
export function waitpid(pid: number, options?: WaitpidOptions): ExitInfo | null {
  const p = validatePid(pid);
  let noHang = true;
  if (options !== undefined) {
    checkOptions(options, 'options', ['noHang']);
    if (options.noHang !== undefined) {
      if (typeof options.noHang !== 'boolean') throw invalidArgType('options.noHang', 'of type boolean', options.noHang);
      noHang = options.noHang;
    }
  }
  if (native.loopChildPids().includes(p)) {
    throw invalidArgValue('pid', p, 'is a child_process child: reaping it would take its exit from Node (use exitOf(child))');
  }
  const r = native.waitpid(p, noHang);
  if (typeof r === 'object') return toExitInfo(r, p);
  if (r === 0) return null;
  throw new SyscallError('waitpid', r, { pid: p });
}

/**
 * Options of {@link reapChildren}.
 * @example
 * reapChildren({ exclude: nativeChildren });
 */
export interface ReapOptions {
  /** Pids to leave alone as well, e.g. children that native code waits for. Read at every pass. */
  exclude?: Iterable<number>;
}

function validateExclude(exclude: unknown, name: string): Iterable<number> | undefined {
  if (exclude === undefined) return undefined;
  if (exclude === null || typeof (exclude as Iterable<number>)[Symbol.iterator] !== 'function' || typeof exclude === 'string') {
    throw invalidArgType(name, 'an iterable of pids', exclude);
  }
  return exclude as Iterable<number>;
}

/** What one reaping pass did: the exits it took, and what went wrong on the way. */
interface Pass {
  reaped: ExitInfo[];
  errors: Error[];
}

// One pass. Never throws: an error on one pid does not stop the others, and
// exits already reaped are never lost to a later error.
function reapPass(exclude: Iterable<number> | undefined): Pass {
  const pass: Pass = { reaped: [], errors: [] };
  let children: readonly number[];
  try {
    const listed = native.threadChildren();
    if (typeof listed === 'number' && listed !== -ENOENT) {
      pass.errors.push(new SyscallError('open', listed, { path: '/proc/self/task/<tid>/children' }));
      return pass;
    }
    // Without CONFIG_PROC_CHILDREN: every process whose parent is this process
    // (children of other threads come back too; __WNOTHREAD makes them ECHILD).
    children = typeof listed === 'number' ? pidsWithParent(process.pid) : listed;
  } catch (error) {
    pass.errors.push(error as Error);
    return pass;
  }
  if (children.length === 0) return pass;
  // libuv's own children on this loop; listed after the children, on the
  // same thread, with no way for libuv to spawn or reap in between.
  const owned = new Set(native.loopChildPids());
  let skip: Set<number> | undefined;
  try {
    skip = exclude === undefined ? undefined : new Set(exclude);
  } catch (error) {
    pass.errors.push(error as Error); // a throwing iterable of the caller's
    return pass;
  }
  for (const pid of children) {
    if (owned.has(pid) || skip?.has(pid)) continue;
    const r = native.waitpid(pid, true);
    if (typeof r === 'object') pass.reaped.push(toExitInfo(r, pid));
    else if (r !== 0 && r !== -ECHILD) pass.errors.push(new SyscallError('waitpid', r, { pid }));
  }
  return pass;
}

function isTransient(error: unknown): boolean {
  const errno = (error as { errno?: unknown }).errno;
  return typeof errno === 'number' && TRANSIENT.has(-errno);
}

/**
 * Reaps, without blocking, every exited child of this thread that Node's
 * `child_process` does not own, and returns how each ended. Never takes an
 * exit from `child_process` (including children of other threads, such as a
 * worker's). Orphans adopted as a subreaper are children of the main thread:
 * call it there.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE (options, exclude); ERR_INVALID_ARG_VALUE (an unknown option)
 * @throws SyscallError when /proc or waitpid fail unexpectedly (EMFILE, say). The
 *   other children are still reaped, and the error's `reaped` holds every exit
 *   this call took, so none is lost.
 * @example
 * setChildSubreaper();
 * // ... later, or on a timer:
 * for (const info of reapChildren()) console.log(info.pid, info.code ?? info.signal);
 */
export function reapChildren(options?: ReapOptions): ExitInfo[] {
  const o = checkOptions<ReapOptions>(options, 'options', ['exclude']);
  const { reaped, errors } = reapPass(validateExclude(o.exclude, 'options.exclude'));
  if (errors.length > 0) throw Object.assign(errors[0]!, { reaped });
  return reaped;
}

// ---------------------------------------------------------------------------
// subreaper

/**
 * PR_SET_CHILD_SUBREAPER: orphaned descendants are re-parented to this
 * process (its main thread) instead of to PID 1, and must then be reaped
 * here: use {@link startReaper} or {@link reapChildren}. Process-wide.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE
 * @throws SyscallError EINVAL, EPERM
 * @example
 * setChildSubreaper();
 * const reaper = startReaper({ onExit: (i) => console.log('reaped', i.pid) });
 */
export function setChildSubreaper(on = true): void {
  if (typeof on !== 'boolean') throw invalidArgType('on', 'of type boolean', on);
  const r = native.prctlSetChildSubreaper(on);
  if (r !== 0) throw new SyscallError('prctl', r);
}

/**
 * True when this process is a child subreaper (PR_GET_CHILD_SUBREAPER).
 * @throws SyscallError EINVAL
 * @example
 * if (!isChildSubreaper()) setChildSubreaper();
 */
export function isChildSubreaper(): boolean {
  const r = native.prctlGetChildSubreaper();
  if (r < 0) throw new SyscallError('prctl', r);
  return r === 1;
}

// ---------------------------------------------------------------------------
// startReaper

/**
 * Options of {@link startReaper}.
 * @example
 * startReaper({ onExit: (info) => log(info), intervalMs: 5000, ref: true });
 */
export interface ReaperOptions {
  /** Called with each reaped child, after the whole pass. An exception it throws goes to `onError`. */
  onExit?: (info: ExitInfo) => void;
  /**
   * Gets what goes wrong in the background (a SyscallError such as EMFILE
   * from /proc or waitpid, an exception from `onExit`); the reaper keeps
   * going, and retries a transient errno (EMFILE, ENFILE, ENOMEM, EAGAIN,
   * EINTR) on a backoff timer of 10 ms doubling to 1 s. In one run of failing
   * passes each kind of error (syscall and code) is reported once.
   * Default: `process.emitWarning`. Nothing the reaper does in the background
   * ever throws into the event loop.
   */
  onError?: (error: Error) => void;
  /** Pids to leave alone as well; read at every pass, so a Set you keep updating stays current. */
  exclude?: Iterable<number>;
  /**
   * A safety-net pass every `intervalMs` (default 1000; 0: none) besides
   * the SIGCHLD-driven ones: catches a SIGCHLD that someone else's signal
   * handler swallowed without chaining to libuv's.
   */
  intervalMs?: number;
  /** Keep the event loop alive while the reaper runs (default false, like a signal listener). */
  ref?: boolean;
}

const kCreateReaper: unique symbol = Symbol('Reaper');

/**
 * A running reaper from {@link startReaper}.
 * @throws TypeError when constructed directly; SyscallError from the constructor if the watcher cannot start
 * @example
 * const reaper = startReaper();
 * // ...
 * reaper.close();
 */
export class Reaper implements Disposable {
  #watch: NativeSigchldWatch | undefined;
  #timer: NodeJS.Timeout | undefined;
  #scheduled: NodeJS.Immediate | undefined;
  #retry: NodeJS.Timeout | undefined;
  #retryMs = 0;
  #reported = new Set<string>();
  #reaped = 0;
  readonly #onExit: ((info: ExitInfo) => void) | undefined;
  readonly #onError: (error: Error) => void;
  readonly #exclude: Iterable<number> | undefined;

  /** @internal Use {@link startReaper}. */
  constructor(key: typeof kCreateReaper, options: Required<Pick<ReaperOptions, 'intervalMs' | 'ref'>> & ReaperOptions) {
    if (key !== kCreateReaper) throw new TypeError('Illegal constructor: use startReaper()');
    this.#onExit = options.onExit;
    this.#onError = options.onError ?? defaultOnError;
    this.#exclude = options.exclude;
    const watch = native.sigchldWatch(() => this.#schedule());
    if (typeof watch === 'number') throw new SyscallError('sigaction', watch, { signal: 'SIGCHLD' });
    this.#watch = watch;
    if (options.ref) native.sigchldRef(watch, true);
    if (options.intervalMs > 0) this.#timer = setInterval(() => this.#schedule(), options.intervalMs).unref();
    this.#schedule(); // zombies that were there before we started
  }

  /**
   * How many children this reaper has reaped so far.
   * @throws never
   * @example
   * console.log(`${reaper.reaped} orphans reaped`);
   */
  get reaped(): number {
    return this.#reaped;
  }

  /**
   * True once {@link Reaper.close} ran.
   * @throws never
   * @example
   * if (!reaper.closed) reaper.close();
   */
  get closed(): boolean {
    return this.#watch === undefined;
  }

  /**
   * Stops reaping. Idempotent. Children that exit afterwards stay zombies
   * until someone reaps them.
   * @throws never
   * @example
   * process.once('SIGTERM', () => reaper.close());
   */
  close(): void {
    if (this.#watch === undefined) return;
    native.sigchldClose(this.#watch);
    this.#watch = undefined;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    this.#timer = this.#scheduled = this.#retry = undefined;
  }

  /**
   * Same as {@link Reaper.close}, for `using`.
   * @throws never
   * @example
   * { using reaper = startReaper(); await work(); } // stopped here
   */
  [Symbol.dispose](): void {
    this.close();
  }

  // Several SIGCHLDs in one loop turn make one pass, after them all.
  #schedule(): void {
    if (this.#scheduled !== undefined || this.#watch === undefined) return;
    this.#scheduled = setImmediate(() => {
      this.#scheduled = undefined;
      if (this.#watch !== undefined) this.#pass();
    });
  }

  // Runs in the background: nothing in here may throw.
  #pass(): void {
    const { reaped, errors } = reapPass(this.#exclude);
    this.#reaped += reaped.length;
    for (const info of reaped) {
      try {
        this.#onExit?.(info);
      } catch (error) {
        this.#report(error instanceof Error ? error : new Error(String(error)), 'onExit');
      }
    }
    if (errors.length === 0) {
      this.#retryMs = 0;
      this.#reported.clear();
      return;
    }
    for (const error of errors) {
      const e = error as Error & { syscall?: string; code?: string };
      this.#report(e, `${e.syscall ?? e.name} ${e.code ?? ''}`);
    }
    if (errors.some(isTransient)) this.#retryLater();
  }

  // A transient failure (EMFILE, ...): pass again soon, not only at the next
  // SIGCHLD (which may never come: the zombie is already there).
  #retryLater(): void {
    if (this.#retry !== undefined || this.#watch === undefined) return;
    this.#retryMs = Math.min(this.#retryMs === 0 ? 10 : this.#retryMs * 2, 1000);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#schedule();
    }, this.#retryMs);
    this.#retry.unref();
  }

  #report(error: Error, kind: string): void {
    if (kind !== 'onExit') {
      if (this.#reported.has(kind)) return;
      this.#reported.add(kind);
    }
    try {
      this.#onError(error);
    } catch (thrown) {
      // onError itself failed: say so, and still never throw from here.
      defaultOnError(thrown instanceof Error ? thrown : new Error(String(thrown)));
    }
  }
}

function defaultOnError(error: Error): void {
  try {
    process.emitWarning(error);
  } catch {
    // Nothing left to tell: a warning listener threw. Keep going.
  }
}

/**
 * Starts a long-running reaper for supervisors and PID 1: after every SIGCHLD
 * (and on a low-frequency safety timer) it reaps every exited child of this
 * thread that `child_process` does not own, like {@link reapChildren}.
 * Pair it with {@link setChildSubreaper} to collect orphaned descendants;
 * run it on the main thread, which is where orphans go.
 *
 * SIGCHLD arrives through a libuv signal watcher on this thread's loop, so
 * it shares libuv's handler instead of fighting it: while the reaper runs,
 * spawning or closing `child_process` children never resets SIGCHLD.
 *
 * Background work never throws: errors go to `onError` (default
 * `process.emitWarning`) and the reaper keeps going; a transient errno such
 * as EMFILE is retried on a backoff timer.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE; ERR_INVALID_ARG_VALUE (an unknown option); RangeError ERR_OUT_OF_RANGE (intervalMs)
 * @example
 * setChildSubreaper();
 * const reaper = startReaper({ onExit: ({ pid, code, signal }) => log(pid, code ?? signal), onError: (e) => log.warn(e) });
 * process.on('SIGTERM', () => reaper.close());
 */
export function startReaper(options?: ReaperOptions): Reaper {
  const o = checkOptions<ReaperOptions>(options, 'options', ['onExit', 'onError', 'exclude', 'intervalMs', 'ref']);
  const { onExit, onError, intervalMs = 1000, ref = false } = o;
  if (onExit !== undefined && typeof onExit !== 'function') throw invalidArgType('options.onExit', 'of type function', onExit);
  if (onError !== undefined && typeof onError !== 'function') throw invalidArgType('options.onError', 'of type function', onError);
  if (typeof intervalMs !== 'number') throw invalidArgType('options.intervalMs', 'of type number', intervalMs);
  if (!Number.isInteger(intervalMs) || intervalMs < 0 || intervalMs > 0x7fffffff) {
    throw outOfRange('options.intervalMs', 'an integer >= 0 and <= 2147483647', intervalMs);
  }
  if (typeof ref !== 'boolean') throw invalidArgType('options.ref', 'of type boolean', ref);
  const exclude = validateExclude(o.exclude, 'options.exclude');
  return new Reaper(kCreateReaper, { onExit, onError, exclude, intervalMs, ref });
}
