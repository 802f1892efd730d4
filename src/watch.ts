/**
 * Watching the signals another process receives, as `strace -e signal -p`
 * shows them, through ptrace(PTRACE_SEIZE) on a native tracer thread
 * (native/ptrace.cc). The tracee keeps running: every signal is re-injected
 * unchanged, group-stops are passed through, and `close()` detaches and
 * leaves it as it was.
 */
import { assertNotProtected } from './protected.js';
import { readFileSync } from 'node:fs';
import { catalogue } from './catalogue.js';
import { SyscallError, invalidArgType, invalidArgValue } from './errors.js';
import { toExitInfo, type ExitInfo } from './exit-info.js';
import { native, type NativePtraceWatch } from './native.js';
import { checkOptions } from './options.js';
import { decodeSignalEvent, type SignalEvent } from './siginfo.js';
import { validatePid } from './validate.js';

const EPERM = 1;
const ESRCH = 3;
const ENOENT = 2;
// Events kept for a consumer that does not read; past it they are counted in `dropped`.
const HIGH_WATER_MARK = 65_536;

/**
 * One signal delivered to the watched process: the same fields as a
 * {@link SignalEvent} (signal, number, code, sender pid and uid, value,
 * status, attested), tagged `type: 'signal'`.
 */
export interface WatchedSignal extends SignalEvent {
  readonly type: 'signal';
}

/** How the watched process ended. */
export interface WatchedExit {
  type: 'exit';
  exit: ExitInfo;
}

/** What a {@link SignalWatch} yields. */
export type WatchEvent = WatchedSignal | WatchedExit;

/** Options of {@link watchSignals}. */
export interface WatchOptions {
  /** Aborting it closes the watch (detaches); the iteration then ends. */
  signal?: AbortSignal;
}

/** Why ptrace refused: the SyscallError of watchSignals carries it. */
export type WatchRefusal = 'traced' | 'yama' | 'not-permitted';

/** The SyscallError thrown when ptrace refuses, with the reason found. */
export interface WatchError extends SyscallError {
  /** 'traced': already traced (by strace, gdb: see tracerPid); 'yama': kernel.yama.ptrace_scope; 'not-permitted': another uid, no CAP_SYS_PTRACE, not dumpable. */
  reason?: WatchRefusal;
  tracerPid?: number;
  ptraceScope?: number;
}

function readTracerPid(pid: number): number {
  const text = native.procReadFile(pid, 'status');
  if (typeof text !== 'string') return 0;
  const m = /^TracerPid:\s*(\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

function ptraceScope(): number | undefined {
  try {
    return Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim());
  } catch {
    return undefined; // no Yama
  }
}

function refusal(pid: number, errno: number): WatchError {
  const e = new SyscallError('ptrace', errno, { pid }) as WatchError;
  if (-Math.abs(errno) !== -EPERM) return e;
  const tracer = readTracerPid(pid);
  const scope = ptraceScope();
  if (scope !== undefined) e.ptraceScope = scope;
  if (tracer > 0) {
    e.reason = 'traced';
    e.tracerPid = tracer;
  } else if (scope !== undefined && scope > 0) {
    e.reason = 'yama';
  } else {
    e.reason = 'not-permitted';
  }
  return e;
}

/**
 * A live ptrace watch of one process: an async iterable of {@link WatchEvent}
 * that ends after the process exits or once the watch is closed. While open
 * it keeps the event loop alive (like a server); `close()` or `using` ends it.
 *
 * @throws never from its methods; background failures are kept in `errors`
 * @example
 * using w = watchSignals(pid);
 * const first = await w.next(); // { value: { type: 'signal', signal: 'SIGUSR1', ... }, done: false }
 */
export class SignalWatch implements AsyncIterableIterator<WatchEvent>, Disposable {
  /** The watched process. */
  readonly pid: number;
  #handle: NativePtraceWatch | undefined;
  #queue: WatchEvent[] = [];
  #waiters: Array<(r: IteratorResult<WatchEvent>) => void> = [];
  #ended = false;
  #dropped = 0;
  #abort: AbortSignal | undefined;
  #onAbort = (): void => this.close();
  #errors: SyscallError[] = [];

  /** @internal use {@link watchSignals} */
  constructor(pid: number, abort: AbortSignal | undefined) {
    this.pid = pid;
    this.#abort = abort;
    if (abort?.aborted) {
      this.#ended = true;
      return;
    }
    const handle = native.ptraceWatch(pid, (kind, data) => this.#onNative(kind, data));
    if (typeof handle === 'number') {
      throw handle === -ESRCH || handle === -ENOENT ? new SyscallError('ptrace', -ESRCH, { pid }) : refusal(pid, handle);
    }
    this.#handle = handle;
    abort?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Events dropped because nobody read them (more than 65,536 waiting). */
  get dropped(): number {
    return this.#dropped;
  }

  /** True once the watch has ended (closed, or the process exited). */
  get closed(): boolean {
    return this.#ended;
  }

  /** Unexpected ptrace failures met while watching (never thrown from background work). */
  get errors(): readonly SyscallError[] {
    return this.#errors;
  }

  #push(event: WatchEvent): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter({ value: event, done: false });
    else if (this.#queue.length < HIGH_WATER_MARK) this.#queue.push(event);
    else this.#dropped++;
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#abort?.removeEventListener('abort', this.#onAbort);
    for (const w of this.#waiters.splice(0)) w({ value: undefined, done: true });
  }

  #onNative(kind: number, data: number[]): void {
    if (kind === 1) {
      if (this.#ended) return;
      this.#push({ type: 'signal', ...decodeSignalEvent(data, 0, (n) => catalogue.name(n)) });
    } else if (kind === 2) {
      if (this.#ended) return;
      const [code, signal, core] = data as [number, number, number];
      this.#push({ type: 'exit', exit: toExitInfo({ pid: this.pid, code: code < 0 ? null : code, signal: signal > 0 ? signal : null, core: core === 1 }, this.pid) });
    } else if (kind === 3) {
      this.#errors.push(new SyscallError(data[1] === 0 ? 'wait4' : 'ptrace', data[0]!, { pid: this.pid }));
    } else if (kind === 4) {
      this.#release();
      this.#end();
    }
  }

  #release(): void {
    const handle = this.#handle;
    this.#handle = undefined;
    // After the thread ended on its own this only joins a finished thread.
    if (handle) native.ptraceWatchClose(handle);
  }

  /**
   * Detaches from the process (it runs on exactly as before: a stopped
   * process stays stopped) and ends the iteration. Returns once the tracer
   * thread has ended; events not yet read are dropped. Idempotent.
   * @throws never
   * @example
   * const w = watchSignals(pid); setTimeout(() => w.close(), 5000);
   */
  close(): void {
    this.#release();
    this.#queue.length = 0;
    this.#end();
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    const event = this.#queue.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  return(): Promise<IteratorResult<WatchEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Every signal delivered to another process, and how it ended, through
 * ptrace(PTRACE_SEIZE): what `strace -e signal -p PID` shows, as objects.
 * The process keeps running; every signal is re-injected unchanged; stops
 * and continues behave as untraced; `close()` detaches. Signals are seen on
 * the thread-group leader (the pid): a process-directed signal the kernel
 * hands to another thread, because the leader blocks it, is not seen.
 *
 * A child of this process is refused: ptrace stops of a child traced by its
 * own parent's thread group are reported to the parent's waits as well
 * (libuv's included), which would end Node's view of it. Watch it from
 * another process (`sigkit watch PID`).
 *
 * @throws SyscallError `ptrace` EPERM (already traced: `reason: 'traced'`,
 *   `tracerPid`; Yama `ptrace_scope`: `reason: 'yama'`; another uid or no
 *   CAP_SYS_PTRACE: `reason: 'not-permitted'`), ESRCH (no such process, or a
 *   thread id)
 * @throws TypeError ERR_INVALID_ARG_VALUE for this process or one of its children; ERR_INVALID_ARG_TYPE
 * @throws Error ERR_SIGKIT_PROTECTED for an ancestor of this process or PID 1
 * @example
 * for await (const e of watchSignals(pid)) {
 *   if (e.type === 'signal') console.log(e.signal, e.code, 'from', e.pid);
 *   else console.log('exited', e.exit);
 * }
 */
export function watchSignals(pid: number, opts?: WatchOptions): SignalWatch {
  const p = validatePid(pid);
  const o = checkOptions<WatchOptions>(opts, 'options', ['signal']);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalidArgType('options.signal', 'an instance of AbortSignal', o.signal);
  if (p === process.pid) throw invalidArgValue('pid', p, 'is this process (a process cannot trace itself)');
  // An ancestor or PID 1 is refused too: if this process is ever stopped
  // (Ctrl-Z) while tracing its own shell, the shell's signal-delivery-stop
  // for that SIGCHLD would have no one to continue it, and the shell (or a
  // container's init) would freeze.
  assertNotProtected(p);
  const text = native.procReadFile(p, 'status');
  if (typeof text === 'string') {
    const tgid = /^Tgid:\s*(\d+)/m.exec(text);
    // A thread id is not a process (API.md "Safety").
    if (tgid && Number(tgid[1]) !== p) throw new SyscallError('ptrace', -ESRCH, { pid: p });
    const ppid = Number(/^PPid:\s*(\d+)/m.exec(text)?.[1]);
    if (ppid === process.pid) {
      throw invalidArgValue('pid', p, 'is a child of this process: its ptrace stops would reach this process\'s own waits (libuv\'s too); watch it from another process (sigkit watch PID)');
    }
  }
  return new SignalWatch(p, o.signal);
}
