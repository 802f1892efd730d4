/**
 * The preStop hook of every terminate function (Kubernetes' preStop): an
 * async function awaited before the first signal, under its own timeout.
 * A hook that throws or runs out of time does not stop the termination (the
 * kubelet, too, goes on to SIGTERM): the result says what happened.
 * Pure: never loads the native addon.
 */
import { invalidArgType } from './errors.js';
import { validateWaitOptions } from './waiting.js';

/** Default time a preStop hook may take. */
export const DEFAULT_PRE_STOP_TIMEOUT_MS = 5000;

/** What a preStop hook is given. */
export interface PreStopContext {
  /** What is about to be terminated: a pid, a process group id, or a cgroup path. */
  target: number | string;
  /** `'process' | 'group' | 'tree' | 'cgroup'` */
  kind: 'process' | 'group' | 'tree' | 'cgroup';
  /** Aborted when `preStopTimeoutMs` runs out (or the call's own signal aborts). */
  signal: AbortSignal;
}

/** How the preStop hook went. */
export interface PreStopResult {
  /** How long it ran, ms. */
  durationMs: number;
  /** It was still running at `preStopTimeoutMs`: the ladder started anyway. */
  timedOut: boolean;
  /** What it threw or rejected with, if it did. */
  error?: unknown;
}

export type PreStopHook = (ctx: PreStopContext) => unknown;

/**
 * Checks `preStop` and `preStopTimeoutMs`.
 * @throws TypeError ERR_INVALID_ARG_TYPE, RangeError ERR_OUT_OF_RANGE
 * @example
 * const { preStop, preStopTimeoutMs } = validatePreStop(opts);
 */
export function validatePreStop(o: { preStop?: unknown; preStopTimeoutMs?: unknown }): { preStop: PreStopHook | undefined; preStopTimeoutMs: number } {
  if (o.preStop !== undefined && typeof o.preStop !== 'function') throw invalidArgType('options.preStop', 'a function', o.preStop);
  const preStopTimeoutMs = o.preStopTimeoutMs === undefined
    ? DEFAULT_PRE_STOP_TIMEOUT_MS
    : validateWaitOptions({ timeoutMs: o.preStopTimeoutMs }, 'options.preStopTimeoutMs').timeoutMs;
  return { preStop: o.preStop as PreStopHook | undefined, preStopTimeoutMs };
}

/**
 * Awaits `hook(ctx)` for at most `timeoutMs`. Never rejects.
 * @throws never
 * @example
 * const r = await runPreStop(opts.preStop, 2000, { target: pid, kind: 'process' });
 */
export async function runPreStop(hook: PreStopHook, timeoutMs: number, ctx: Omit<PreStopContext, 'signal'>, outer?: AbortSignal): Promise<PreStopResult> {
  const t0 = performance.now();
  const controller = new AbortController();
  const onOuter = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuter, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const ran = Promise.resolve().then(() => hook({ ...ctx, signal: controller.signal })).then(
      () => ({ timedOut: false }),
      (error: unknown) => ({ timedOut: false, error }),
    );
    const timeout = new Promise<{ timedOut: true }>((resolve) => {
      if (timeoutMs !== Infinity) timer = setTimeout(() => resolve({ timedOut: true }), timeoutMs);
    });
    const aborted = new Promise<{ timedOut: false; error: unknown }>((resolve) => {
      controller.signal.addEventListener('abort', () => resolve({ timedOut: false, error: controller.signal.reason }), { once: true });
    });
    const r = await Promise.race([ran, timeout, aborted]);
    if (r.timedOut) controller.abort(new Error(`preStop still running after ${timeoutMs} ms`));
    return { durationMs: performance.now() - t0, ...r };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}
