/**
 * Signal handlers that deliver siginfo to JavaScript: who sent the signal,
 * how (kill, sigqueue, the kernel) and its payload, realtime signals
 * included, with every drop counted.
 *
 * The mechanism is native (native/sigaction.cc): one process-wide SA_SIGINFO
 * handler copies each delivery into a ring per thread and wakes that
 * thread's loop. This module holds the policy: which signals may be caught,
 * the listener lists of this thread, ordering and errors, keeping the event
 * loop alive only when asked, and keeping Node's own `process.on` listeners
 * working beside ours.
 */
import { constants as osConstants } from 'node:os';
import { catalogue } from './catalogue.js';
import { type CodedError, SyscallError, invalidArgType, invalidArgValue, outOfRange } from './errors.js';
import { native } from './native.js';
import { checkOptions } from './options.js';
import { type SignalEvent, decodeSignalEvent } from './siginfo.js';
import type { SignalLike } from './signals.js';

export type { SignalCode, SignalEvent } from './siginfo.js';

/** Options of {@link onSignal}. */
export interface OnSignalOptions {
  /** Keep the event loop alive while this listener is subscribed. Default `false`, like `process.on`. */
  ref?: boolean;
  /** Unsubscribes the listener when aborted. */
  signal?: AbortSignal;
}

/** Options of {@link signalEvents}. */
export interface SignalEventsOptions {
  /** Keep the event loop alive while iterating. Default `false`. */
  ref?: boolean;
  /** Ends the iteration when aborted. */
  signal?: AbortSignal;
  /**
   * Events the iterator holds for a consumer that is behind (default
   * 65,536, like the native queue; 1 .. 2^31-1). Events past it are dropped,
   * not queued, and counted in {@link signalStats}' `dropped`.
   */
  highWaterMark?: number;
}

/** Options of {@link waitForSignal}. */
export interface WaitForSignalOptions {
  /** Reject with `ERR_SIGKIT_TIMEOUT` after this many milliseconds. The timer keeps the loop alive. */
  timeoutMs?: number;
  /** Reject with an `AbortError` when aborted. */
  signal?: AbortSignal;
  /** Keep the event loop alive while waiting (without `timeoutMs`). Default `false`. */
  ref?: boolean;
}

/** Counts of {@link signalStats}. */
export interface SignalStats {
  /** Deliveries queued for this thread's listeners. */
  delivered: number;
  /**
   * Deliveries lost because this thread's native queue was full, plus events
   * a {@link signalEvents} iterator discarded past its `highWaterMark`
   * (never silently: counted here).
   */
  dropped: number;
}

/** What the process does with a signal: {@link getDisposition}. */
export type Disposition = 'default' | 'ignore' | 'handler';

type Listener = (event: SignalEvent) => void;

interface Subscriber {
  readonly fn: Listener;
  readonly ref: boolean;
  active: boolean;
}

const EMFILE = 24;
const INT32_MAX = 0x7fffffff;
/** Default {@link SignalEventsOptions.highWaterMark}: the native ring's size. */
const DEFAULT_HIGH_WATER_MARK = 65_536;
// Events signalEvents iterators of this thread discarded, per signal.
const iteratorDrops = new Map<number, number>();
// Events handed to JavaScript per native call.
const BATCH_ROWS = 1024;
const INTS = native.sigactionEventInts;

// Listener lists of this thread, copied on write: a dispatch in progress
// keeps iterating the array it started with.
const bySignal = new Map<number, readonly Subscriber[]>();
let buffer: Int32Array | undefined;
let refs = 0;
let hooked = false;

/** `Error [ERR_SIGKIT_TOO_MANY_THREADS]`: every native slot is taken. */
function tooManyThreads(): Error & CodedError {
  const e = new Error('sigkit: too many threads listen to signals at once (64 at most)') as Error & CodedError;
  e.code = 'ERR_SIGKIT_TOO_MANY_THREADS';
  return e;
}

/** An `AbortError` as Node's own APIs reject with it. */
function abortError(signal: AbortSignal): Error & CodedError {
  const e = new Error('The operation was aborted', { cause: signal.reason }) as Error & CodedError;
  e.name = 'AbortError';
  e.code = 'ABORT_ERR';
  return e;
}

/** `TimeoutError [ERR_SIGKIT_TIMEOUT]` of {@link waitForSignal}. */
function timeoutError(signal: string, timeoutMs: number): Error & CodedError & { signal: string; timeoutMs: number } {
  const e = new Error(`no ${signal} within ${timeoutMs} ms`) as Error & CodedError & { signal: string; timeoutMs: number };
  e.name = 'TimeoutError';
  e.code = 'ERR_SIGKIT_TIMEOUT';
  e.signal = signal;
  e.timeoutMs = timeoutMs;
  return e;
}

/**
 * A signal sigkit may install a handler for. Refused: SIGKILL and SIGSTOP
 * (the kernel never lets them be caught), the realtime signals libc keeps
 * below SIGRTMIN for its threads (32, 33 with glibc), and the synchronous
 * fault signals V8 and Node handle (SIGSEGV, SIGBUS, SIGFPE, SIGILL).
 */
function validateCatchSignal(sig: unknown, name = 'signal'): number {
  if (typeof sig !== 'string' && typeof sig !== 'number') throw invalidArgType(name, 'of type string or number', sig);
  const info = catalogue.info(sig);
  if (!info.catchable) throw invalidArgValue(name, sig, `names ${info.name}, which cannot be caught`);
  if (info.reserved) {
    throw invalidArgValue(
      name,
      sig,
      info.realtime
        ? `names signal ${info.number}, which libc reserves for its threads (use SIGRTMIN..SIGRTMAX)`
        : `names ${info.name}, a fault signal that V8 and Node handle`,
    );
  }
  return info.number;
}

/** Any signal of this kernel, 1 .. SIGRTMAX (for read-only queries). */
function validateAnySignal(sig: unknown, name = 'signal'): number {
  if (typeof sig !== 'string' && typeof sig !== 'number') throw invalidArgType(name, 'of type string or number', sig);
  return catalogue.info(sig).number;
}

interface Options {
  ref: boolean;
  signal: AbortSignal | undefined;
  timeoutMs: number | undefined;
  highWaterMark: number;
}

function validateOptions(opts: unknown, known: readonly string[]): Options {
  const { ref, signal, timeoutMs, highWaterMark } = checkOptions(opts, 'options', known) as {
    ref?: unknown; signal?: unknown; timeoutMs?: unknown; highWaterMark?: unknown;
  };
  if (ref !== undefined && typeof ref !== 'boolean') throw invalidArgType('options.ref', 'of type boolean', ref);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
  }
  if (timeoutMs !== undefined) {
    if (typeof timeoutMs !== 'number') throw invalidArgType('options.timeoutMs', 'of type number', timeoutMs);
    if (!(timeoutMs >= 0 && timeoutMs <= INT32_MAX)) throw outOfRange('options.timeoutMs', `>= 0 and <= ${INT32_MAX}`, timeoutMs);
  }
  if (highWaterMark !== undefined) {
    if (typeof highWaterMark !== 'number') throw invalidArgType('options.highWaterMark', 'of type number', highWaterMark);
    if (!Number.isInteger(highWaterMark) || highWaterMark < 1 || highWaterMark > INT32_MAX) {
      throw outOfRange('options.highWaterMark', `an integer >= 1 and <= ${INT32_MAX}`, highWaterMark);
    }
  }
  return {
    ref: ref === true,
    signal: signal as AbortSignal | undefined,
    timeoutMs: timeoutMs as number | undefined,
    highWaterMark: (highWaterMark as number | undefined) ?? DEFAULT_HIGH_WATER_MARK,
  };
}

function rethrow(error: unknown): never {
  throw error;
}

// Called by the native layer on this thread's loop with `count` events in
// `buffer`, in the order their handlers ran. A throwing listener does not
// stop the others: its error is rethrown on the next tick, where it is an
// uncaught exception as it would be from an EventEmitter listener.
function dispatch(count: number): void {
  const buf = buffer!;
  for (let i = 0; i < count; i++) {
    const offset = i * INTS;
    const list = bySignal.get(buf[offset]!);
    if (list === undefined) continue; // unsubscribed while the event was queued
    const event = decodeSignalEvent(buf, offset, nameOf);
    for (const sub of list) {
      if (!sub.active) continue;
      try {
        sub.fn(event);
      } catch (error) {
        process.nextTick(rethrow, error);
      }
    }
  }
}

function nameOf(n: number): string {
  return catalogue.name(n);
}

const nodeSignalNumbers: Readonly<Record<string, number>> = osConstants.signals;

// process.on('SIGxxx') makes libuv install its handler and removing the last
// listener resets the signal to SIG_DFL. The native guard keeps libuv from
// doing either for a managed signal; this hook is the belt to those braces:
// it runs after Node's own (registered at bootstrap, so earlier) and checks
// with sigaction(2) that sigkit's handler is still the one installed.
function onProcessListenerChange(event: string | symbol): void {
  if (typeof event !== 'string') return;
  const n = nodeSignalNumbers[event];
  if (n !== undefined && bySignal.has(n)) native.sigactionReassert(n);
}

function setHooks(on: boolean): void {
  if (on === hooked) return;
  hooked = on;
  if (on) {
    process.on('newListener', onProcessListenerChange);
    process.on('removeListener', onProcessListenerChange);
  } else {
    process.removeListener('newListener', onProcessListenerChange);
    process.removeListener('removeListener', onProcessListenerChange);
  }
}

function ensureInit(): void {
  if (buffer !== undefined) return;
  const b = new Int32Array(BATCH_ROWS * INTS);
  const r = native.sigactionInit(dispatch, b);
  if (r === -EMFILE) throw tooManyThreads();
  if (r < 0) throw new SyscallError('sigaction', r);
  buffer = b;
}

function subscribe(n: number, fn: Listener, ref: boolean): Subscriber {
  ensureInit();
  const list = bySignal.get(n);
  if (list === undefined) {
    const r = native.sigactionSubscribe(n);
    if (r < 0) throw new SyscallError('sigaction', r, { signal: nameOf(n) });
    setHooks(true);
  }
  const sub: Subscriber = { fn, ref, active: true };
  bySignal.set(n, list === undefined ? [sub] : [...list, sub]);
  if (ref && refs++ === 0) native.sigactionRef(true);
  return sub;
}

function unsubscribe(n: number, sub: Subscriber): void {
  if (!sub.active) return;
  sub.active = false;
  if (sub.ref && --refs === 0) native.sigactionRef(false);
  const list = (bySignal.get(n) ?? []).filter((s) => s !== sub);
  if (list.length > 0) {
    bySignal.set(n, list);
    return;
  }
  bySignal.delete(n);
  if (bySignal.size === 0) setHooks(false);
  const r = native.sigactionUnsubscribe(n);
  if (r < 0) throw new SyscallError('sigaction', r, { signal: nameOf(n) });
}

// Unsubscribing from an abort listener, a timer or a signal listener: an
// error there would be thrown into the event loop (an uncaught exception in
// the host), so it becomes a process warning instead. Not expected: the
// native side only fails if sigaction(2) itself does.
function unsubscribeInBackground(n: number, sub: Subscriber): void {
  try {
    unsubscribe(n, sub);
  } catch (error) {
    try {
      process.emitWarning(error as Error);
    } catch {
      // a 'warning' listener threw: nothing left to tell
    }
  }
}

function validateListener(listener: unknown): Listener {
  if (typeof listener !== 'function') throw invalidArgType('listener', 'of type function', listener);
  return listener as Listener;
}

/**
 * Calls `listener` with a {@link SignalEvent} (sender pid/uid, si_code,
 * payload) each time this process receives `signal`: sigaction(2) with
 * SA_SIGINFO. Realtime signals (`'SIGRTMIN+n'`) work, which `process.on`
 * cannot receive; no delivery is lost up to a queue of
 * `65,536` events per thread, and any beyond are counted by
 * {@link signalStats}. Events arrive in the order their handlers ran.
 *
 * `process.on` listeners for the same signal keep firing, and adding or
 * removing them never silences sigkit or leaves the signal at a default
 * action that kills. After the last sigkit listener goes, the disposition
 * from before is back. Works in worker threads: each thread gets the events
 * of the signals it listens to.
 *
 * Does not keep the event loop alive unless `{ ref: true }`.
 *
 * @returns an unsubscribe function (idempotent).
 * @throws TypeError ERR_INVALID_ARG_TYPE (listener, options), ERR_INVALID_ARG_VALUE (an unknown option), ERR_UNKNOWN_SIGNAL,
 *   ERR_INVALID_ARG_VALUE (SIGKILL, SIGSTOP, signals 32/33, SIGSEGV, SIGBUS, SIGFPE, SIGILL)
 * @throws Error ERR_SIGKIT_TOO_MANY_THREADS (more than 64 threads listening at once)
 * @throws SyscallError from sigaction(2) (not expected for a valid signal)
 * @example
 * const off = onSignal('SIGRTMIN+1', (e) => {
 *   console.log(`${e.signal} from pid ${e.pid} (${e.code}) value=${e.value}`);
 * });
 * // later
 * off();
 */
export function onSignal(signal: SignalLike, listener: (event: SignalEvent) => void, opts?: OnSignalOptions): () => void {
  const n = validateCatchSignal(signal);
  const fn = validateListener(listener);
  const o = validateOptions(opts, ['ref', 'signal']);
  if (o.signal?.aborted) return () => {};
  const sub = subscribe(n, fn, o.ref);
  const abortSignal = o.signal;
  const onAbort = (): void => unsubscribeInBackground(n, sub);
  const off = (): void => {
    abortSignal?.removeEventListener('abort', onAbort);
    unsubscribe(n, sub);
  };
  abortSignal?.addEventListener('abort', onAbort, { once: true });
  return off;
}

/**
 * The deliveries of `signal` as an async iterator: `for await (const e of
 * signalEvents('SIGHUP'))`. Events are queued from the call on, so none is
 * missed between two iterations. Aborting `opts.signal` (or `break`/`return()`)
 * ends the iteration at once and unsubscribes; queued events not taken yet
 * are discarded.
 *
 * The queue is bounded: while the consumer is behind by `highWaterMark`
 * events (default 65,536), newer events are dropped and counted in
 * `signalStats(signal).dropped`, so a stalled consumer costs bounded memory.
 *
 * Does not keep the event loop alive unless `{ ref: true }`.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE, ERR_UNKNOWN_SIGNAL, ERR_INVALID_ARG_VALUE (as {@link onSignal}, and an unknown option)
 * @throws RangeError ERR_OUT_OF_RANGE (highWaterMark not an integer in 1 .. 2^31-1)
 * @throws Error ERR_SIGKIT_TOO_MANY_THREADS
 * @example
 * const ac = new AbortController();
 * for await (const e of signalEvents('SIGHUP', { signal: ac.signal, ref: true })) {
 *   reloadConfig();
 *   if (e.pid === adminPid) ac.abort();
 * }
 */
export function signalEvents(signal: SignalLike, opts?: SignalEventsOptions): AsyncIterableIterator<SignalEvent> {
  const n = validateCatchSignal(signal);
  const o = validateOptions(opts, ['ref', 'signal', 'highWaterMark']);
  const hwm = o.highWaterMark;
  const queue: SignalEvent[] = [];
  let head = 0;
  const waiters: Array<(r: IteratorResult<SignalEvent>) => void> = [];
  let done = false;
  let sub: Subscriber | undefined;
  const abortSignal = o.signal;

  const finish = (): void => {
    if (done) return;
    done = true;
    abortSignal?.removeEventListener('abort', finish);
    queue.length = 0;
    head = 0;
    for (const resolve of waiters.splice(0)) resolve({ value: undefined, done: true });
    // Called from return(), an abort listener or a signal listener: never throws.
    if (sub !== undefined) unsubscribeInBackground(n, sub);
  };

  if (abortSignal?.aborted) {
    done = true;
  } else {
    sub = subscribe(n, (event) => {
      const resolve = waiters.shift();
      if (resolve !== undefined) {
        resolve({ value: event, done: false });
      } else if (queue.length - head < hwm) {
        queue.push(event);
      } else {
        // A stalled consumer must not grow this process without bound.
        iteratorDrops.set(n, (iteratorDrops.get(n) ?? 0) + 1);
      }
    }, o.ref);
    abortSignal?.addEventListener('abort', finish, { once: true });
  }

  const iterator: AsyncIterableIterator<SignalEvent> = {
    next(): Promise<IteratorResult<SignalEvent>> {
      if (head < queue.length) {
        const value = queue[head++]!;
        if (head === queue.length) {
          queue.length = 0;
          head = 0;
        }
        return Promise.resolve({ value, done: false });
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiters.push(resolve));
    },
    return(): Promise<IteratorResult<SignalEvent>> {
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(error?: unknown): Promise<IteratorResult<SignalEvent>> {
      finish();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * Resolves with the next delivery of `signal`.
 *
 * Rejects with `TimeoutError` (`code: 'ERR_SIGKIT_TIMEOUT'`) after
 * `timeoutMs`, and with an `AbortError` (`code: 'ABORT_ERR'`) when
 * `opts.signal` aborts. Without `timeoutMs` the wait does not keep the event
 * loop alive unless `{ ref: true }`; a `timeoutMs` timer does, like `setTimeout`.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE, ERR_UNKNOWN_SIGNAL, ERR_INVALID_ARG_VALUE (as {@link onSignal}),
 *   synchronously, before anything is installed
 * @throws RangeError ERR_OUT_OF_RANGE (timeoutMs not in 0 .. 2^31-1)
 * @example
 * const e = await waitForSignal('SIGUSR2', { timeoutMs: 5000 });
 * console.log(`woken by pid ${e.pid}`);
 */
export function waitForSignal(signal: SignalLike, opts?: WaitForSignalOptions): Promise<SignalEvent> {
  const n = validateCatchSignal(signal);
  const o = validateOptions(opts, ['ref', 'signal', 'timeoutMs']);
  const abortSignal = o.signal;
  if (abortSignal?.aborted) return Promise.reject(abortError(abortSignal));
  let resolve!: (e: SignalEvent) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<SignalEvent>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  let timer: NodeJS.Timeout | undefined;
  const finish = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    abortSignal?.removeEventListener('abort', onAbort);
    unsubscribeInBackground(n, sub); // from a listener, a timer or an abort: never throws
  };
  const onAbort = (): void => {
    finish();
    reject(abortError(abortSignal!));
  };
  const sub = subscribe(n, (event) => {
    finish();
    resolve(event);
  }, o.ref);
  if (o.timeoutMs !== undefined) {
    const ms = o.timeoutMs;
    timer = setTimeout(() => {
      finish();
      reject(timeoutError(nameOf(n), ms));
    }, ms);
  }
  abortSignal?.addEventListener('abort', onAbort, { once: true });
  return promise;
}

/**
 * How many deliveries of `signal` this thread's listeners got
 * (`delivered`) and how many were lost because its queue of 65,536 events
 * was full while JavaScript was busy (`dropped`), counted since this thread
 * first subscribed to any signal. `delivered + dropped` is every delivery of
 * `signal` to the process while this thread listened to it.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE, ERR_UNKNOWN_SIGNAL
 * @example
 * const { delivered, dropped } = signalStats('SIGRTMIN+1');
 */
export function signalStats(signal: SignalLike): SignalStats {
  const n = validateAnySignal(signal);
  const r = native.sigactionStats(n);
  if (typeof r === 'number') throw new SyscallError('sigaction', r, { signal: nameOf(n) });
  return { delivered: r[0], dropped: r[1] + (iteratorDrops.get(n) ?? 0) };
}

/**
 * What this process does with `signal` now, read with sigaction(2):
 * `'default'` (SIG_DFL), `'ignore'` (SIG_IGN) or `'handler'` (sigkit's,
 * Node's/libuv's or anyone's function).
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE, ERR_UNKNOWN_SIGNAL
 * @throws SyscallError EINVAL from sigaction(2)
 * @example
 * getDisposition('SIGPIPE'); // 'ignore' in Node
 * getDisposition('SIGUSR2'); // 'default' until someone listens
 */
export function getDisposition(signal: SignalLike): Disposition {
  const n = validateAnySignal(signal);
  const r = native.sigactionQuery(n);
  if (r < 0) throw new SyscallError('sigaction', r, { signal: nameOf(n) });
  return r === 0 ? 'default' : r === 1 ? 'ignore' : 'handler';
}
