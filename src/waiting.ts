/**
 * What every waiting call shares: its `{ timeoutMs, signal }` options, the
 * errors it rejects with, and one primitive that races an event source
 * against a deadline and an AbortSignal and always disarms what it armed.
 * Pure: never loads the native addon.
 */
import { invalidArgType, outOfRange, type CodedError } from './errors.js';
import { checkOptions } from './options.js';

/**
 * Options of every call that waits.
 * @example
 * await waitForExit(pid, { timeoutMs: 5000, signal: AbortSignal.timeout(10_000) });
 */
export interface WaitOptions {
  /** Give up after this many milliseconds (default: wait forever). `0` checks once. */
  timeoutMs?: number;
  /** Rejects the wait with an `AbortError` when aborted. */
  signal?: AbortSignal;
}

/** {@link WaitOptions} after validation. */
export interface ValidWaitOptions {
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

/** Node's setTimeout clamps anything longer to 1 ms: longer waits re-arm. */
const TIMER_MAX = 0x7fffffff;

/**
 * Checks a `{ timeoutMs?, signal? }` argument.
 * @throws TypeError ERR_INVALID_ARG_TYPE (not an object, timeoutMs not a number, signal not an AbortSignal), ERR_INVALID_ARG_VALUE (an unknown key)
 * @throws RangeError ERR_OUT_OF_RANGE (timeoutMs negative or NaN)
 * @example
 * const { timeoutMs, signal } = validateWaitOptions(options); // timeoutMs: Infinity when absent
 */
export function validateWaitOptions(options: unknown, name = 'options'): ValidWaitOptions {
  if (options === undefined) return { timeoutMs: Infinity, signal: undefined };
  const { timeoutMs, signal } = checkOptions<WaitOptions>(options, name, ['timeoutMs', 'signal']);
  let ms = Infinity;
  if (timeoutMs !== undefined) {
    if (typeof timeoutMs !== 'number') throw invalidArgType(`${name}.timeoutMs`, 'of type number', timeoutMs);
    if (!(timeoutMs >= 0)) throw outOfRange(`${name}.timeoutMs`, '>= 0', timeoutMs);
    ms = timeoutMs;
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidArgType(`${name}.signal`, 'an instance of AbortSignal', signal);
  }
  return { timeoutMs: ms, signal };
}

/**
 * The error a wait rejects with when its AbortSignal fires: Node's `AbortError` shape.
 * @throws never
 * @example
 * if (signal.aborted) return Promise.reject(abortError(signal));
 */
export function abortError(signal: AbortSignal): Error & CodedError {
  const e = new Error('The operation was aborted', { cause: signal.reason }) as Error & CodedError;
  e.name = 'AbortError';
  e.code = 'ABORT_ERR';
  return e;
}

/**
 * `TimeoutError [ERR_SIGKIT_TIMEOUT]`: a wait that has no `false` to return ran out of time.
 * @throws never
 * @example
 * throw timeoutError(`exit of pid ${pid}`, 5000);
 */
export function timeoutError(what: string, timeoutMs: number): Error & CodedError & { timeoutMs: number } {
  const e = new Error(`${what} did not happen within ${timeoutMs} ms`) as Error & CodedError & { timeoutMs: number };
  e.name = 'TimeoutError';
  e.code = 'ERR_SIGKIT_TIMEOUT';
  e.timeoutMs = timeoutMs;
  return e;
}

/**
 * Arms an event source and waits for it, a deadline or an abort, whichever
 * comes first. `arm(fire, fail)` starts the source and returns its disarm
 * function, which runs exactly once however the wait ends.
 * Resolves `'event'` or `'timeout'`; rejects with `fail`'s error or an AbortError.
 * @throws AbortError (as a rejection), whatever `arm` throws or passes to `fail` (as a rejection)
 * @example
 * const how = await raceEvent((fire) => { emitter.once('done', fire); return () => emitter.off('done', fire); }, opts);
 */
export function raceEvent(
  arm: (fire: () => void, fail: (error: Error) => void) => () => void,
  { timeoutMs, signal }: ValidWaitOptions,
): Promise<'event' | 'timeout'> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let disarm: (() => void) | undefined;
    const finish = (end: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      disarm?.();
      end();
    };
    const onAbort = (): void => finish(() => reject(abortError(signal!)));
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== Infinity) {
      const deadline = Date.now() + timeoutMs;
      const tick = (): void => {
        const left = deadline - Date.now();
        if (left <= 0) finish(() => resolve('timeout'));
        else timer = setTimeout(tick, Math.min(left, TIMER_MAX));
      };
      timer = setTimeout(tick, Math.min(timeoutMs, TIMER_MAX));
    }
    try {
      const off = arm(() => finish(() => resolve('event')), (error) => finish(() => reject(error)));
      if (settled) off();
      else disarm = off;
    } catch (error) {
      finish(() => reject(error));
    }
  });
}
