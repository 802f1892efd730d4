/**
 * Graceful shutdown for the receiving side: what a Java shutdown hook does,
 * with the exit status supervisors expect.
 *
 * On the first of the shutdown signals (default SIGTERM, SIGINT, SIGHUP) the
 * registered hooks run, last registered first, each awaited, all under one
 * deadline. Then the process ends the way an unhandled signal would have
 * ended it: the signal is re-raised with its default action, so the parent
 * (a shell, systemd, the kubelet) sees "killed by SIGTERM" (143 in a shell),
 * unless a hook set `process.exitCode` or the registration gave `exitCode`.
 * A second signal while the hooks run ends the process at once.
 *
 * Good neighbour: `process.on` listeners for the same signals keep firing
 * (sigkit's handler chains to Node's), and signal-exit stays quiet while the
 * hooks run (a listener of ours tells it someone handles the signal); the
 * process's `exit` listeners (signal-exit's onExit callbacks, killOnExit)
 * run just before the signal is re-raised.
 */
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { catalogue } from './catalogue.js';
import { invalidArgType, invalidArgValue, type CodedError } from './errors.js';
import { native } from './native.js';
import { checkOptions } from './options.js';
import { getDisposition, onSignal, type SignalEvent } from './sigaction.js';
import type { SignalLike } from './signals.js';
import { runKillOnExit } from './spawn.js';
import { validateWaitOptions } from './waiting.js';

/** What a shutdown hook is given. */
export interface ShutdownEvent {
  /** The signal that started the shutdown, with its sender (`pid`, `uid`, `code`); null for `shutdown()`. */
  signal: SignalEvent | null;
  /** The signal's name, or the reason given to `shutdown(reason)`. */
  reason: string;
}

/** Options of {@link onShutdown}. */
export interface OnShutdownOptions {
  /** The signals that start the shutdown (default SIGTERM, SIGINT, SIGHUP; a signal ignored at registration, as under nohup, is left alone). */
  signals?: SignalLike[];
  /** The one deadline for all hooks, ms (default 5000; with several registrations, the longest any of them asked for). */
  timeoutMs?: number;
  /** Exit with this code instead of re-raising the signal. */
  exitCode?: number;
}

export type ShutdownHook = (event: ShutdownEvent) => unknown;

interface Registration {
  hook: ShutdownHook;
  signals: number[];
  /** What this registration asked for; undefined when it did not say. */
  timeoutMs: number | undefined;
  exitCode: number | undefined;
}

const DEFAULT_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'];
const DEFAULT_TIMEOUT_MS = 5000;

const registrations: Registration[] = [];
/** Per signal: our onSignal unsubscribe, and the process.on listener that tells signal-exit "handled". */
const subscribed = new Map<number, { off: () => void; name: string | null; listener: () => void }>();
let running: Promise<never> | undefined;

function say(text: string): void {
  try {
    fs.writeSync(2, `sigkit shutdown: ${text}\n`);
  } catch {
    // stderr closed: nothing to tell
  }
}

/** Ends the process by `sig` with its default action (exit listeners first); never returns. */
function dieBy(sig: number, emitExit: boolean): never {
  if (emitExit) {
    try {
      process.emit('exit', 128 + sig);
    } catch (e) {
      say(`an exit listener threw: ${(e as Error).message}`);
    }
  } else {
    runKillOnExit();
  }
  native.raiseDefault(sig);
  // A signal whose default action does not end a process (SIGWINCH, SIGCONT...).
  process.exit(128 + sig);
}

function onShutdownSignal(e: SignalEvent): void {
  if (running) {
    say(`${e.signal} again (from pid ${e.pid}) while the hooks run: exiting now`);
    dieBy(e.number, false);
  }
  void start(e, e.signal);
}

function subscribe(sig: number): void {
  if (subscribed.has(sig)) return;
  const name = catalogue.name(sig);
  const off = onSignal(sig, onShutdownSignal);
  // signal-exit re-kills the process when it sees itself as the only
  // process.on listener of a signal: one more listener keeps it quiet.
  const listener = (): void => {};
  const known = Object.prototype.hasOwnProperty.call(osConstants.signals, name);
  if (known) process.on(name as NodeJS.Signals, listener);
  subscribed.set(sig, { off, name: known ? name : null, listener });
}

function unsubscribeUnused(): void {
  const needed = new Set(registrations.flatMap((r) => r.signals));
  for (const [sig, s] of subscribed) {
    if (needed.has(sig)) continue;
    s.off();
    if (s.name) process.removeListener(s.name as NodeJS.Signals, s.listener);
    subscribed.delete(sig);
  }
}

function start(event: SignalEvent | null, reason: string): Promise<never> {
  if (running) return running;
  running = (async (): Promise<never> => {
    const hooks = [...registrations].reverse();
    // One deadline for every hook: the longest any registration asked for
    // (a hook that needs 20 s gets them), 5000 ms when none said.
    const asked = registrations.map((r) => r.timeoutMs).filter((t): t is number => t !== undefined);
    const timeoutMs = asked.length > 0 ? Math.max(...asked) : DEFAULT_TIMEOUT_MS;
    const exitCode = [...registrations].reverse().find((r) => r.exitCode !== undefined)?.exitCode;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      // Ref'd: while hooks wait on nothing else, the deadline keeps the
      // process alive so that it ends as documented, not with exit 0.
      if (timeoutMs !== Infinity) timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const all = (async () => {
      for (const r of hooks) {
        try {
          await r.hook({ signal: event, reason });
        } catch (e) {
          say(`a shutdown hook failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
        }
      }
      return 'done' as const;
    })();
    const how = await Promise.race([all, deadline]);
    if (timer !== undefined) clearTimeout(timer);
    if (how === 'timeout') say(`the shutdown hooks did not finish within ${timeoutMs} ms: exiting anyway`);
    const chosen = process.exitCode !== undefined && process.exitCode !== null ? Number(process.exitCode) : exitCode;
    if (chosen !== undefined) process.exit(chosen);
    if (event) dieBy(event.number, true);
    process.exit(0);
  })();
  return running;
}

/**
 * Registers a shutdown hook. On the first of `signals` (or `shutdown()`),
 * every hook runs, last registered first, each awaited, under one deadline
 * (`timeoutMs`: the longest any registration asked for, 5000 ms when none did); a hook that throws is
 * reported on stderr and the next one runs. At the end the signal is
 * re-raised with its default action (exit status "killed by SIGTERM"),
 * unless `exitCode` was given or a hook set `process.exitCode`. A second
 * signal during the hooks ends the process at once. Main thread only
 * (signals are process-wide).
 *
 * @returns an unregister function (the signals are released when no hook needs them)
 * @throws TypeError ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE (bad hook or options), ERR_UNKNOWN_SIGNAL
 * @throws Error ERR_WORKER_UNSUPPORTED_OPERATION (called in a worker thread)
 * @example
 * onShutdown(async () => { await cache.flush(); });          // runs second
 * onShutdown(() => new Promise((r) => server.close(r)));     // runs first: stop taking requests
 * // kill -TERM <pid>: the listener closes, the cache is flushed, exit status 143.
 */
export function onShutdown(hook: ShutdownHook, opts?: OnShutdownOptions): () => void {
  if (!isMainThread) {
    const e = new Error('onShutdown() is for the main thread: signals belong to the process') as Error & CodedError;
    e.code = 'ERR_WORKER_UNSUPPORTED_OPERATION';
    throw e;
  }
  if (typeof hook !== 'function') throw invalidArgType('hook', 'a function', hook);
  const o = checkOptions<OnShutdownOptions>(opts, 'options', ['signals', 'timeoutMs', 'exitCode']);
  const names = o.signals ?? DEFAULT_SIGNALS;
  if (!Array.isArray(names)) throw invalidArgType('options.signals', 'an array', names);
  const signals = [...new Set(names.map((s) => catalogue.number(s)))];
  for (const sig of signals) {
    if (sig === 0) throw invalidArgValue('options.signals', names, 'must not contain signal 0');
  }
  const timeoutMs = o.timeoutMs === undefined ? undefined : validateWaitOptions({ timeoutMs: o.timeoutMs }, 'options').timeoutMs;
  if (o.exitCode !== undefined && (!Number.isInteger(o.exitCode) || o.exitCode < 0 || o.exitCode > 255)) {
    throw invalidArgValue('options.exitCode', o.exitCode, 'must be an integer from 0 to 255');
  }
  // Under nohup (SIGHUP ignored) the user asked not to be hung up on.
  const wanted = signals.filter((sig) => o.signals !== undefined || getDisposition(sig) !== 'ignore');
  const reg: Registration = { hook, signals: wanted, timeoutMs, exitCode: o.exitCode };
  // Subscribing may throw (SIGKILL, SIGSEGV...): before anything is registered.
  const fresh = wanted.filter((sig) => !subscribed.has(sig));
  try {
    for (const sig of fresh) subscribe(sig);
  } catch (e) {
    unsubscribeUnused(); // releases what this call subscribed
    throw e;
  }
  registrations.push(reg);
  let done = false;
  return () => {
    if (done || running) return;
    done = true;
    const i = registrations.indexOf(reg);
    if (i >= 0) registrations.splice(i, 1);
    unsubscribeUnused();
  };
}

/**
 * Starts the shutdown sequence by hand, as a signal would (hooks get
 * `{ signal: null, reason }`); at the end the process exits with the code a
 * hook or registration chose, else 0. Calling it again returns the same
 * promise; it never resolves (the process exits).
 *
 * @throws never (hook errors are reported on stderr)
 * @example
 * process.on('uncaughtException', (e) => { console.error(e); process.exitCode = 1; void shutdown('uncaught exception'); });
 */
export function shutdown(reason = 'shutdown()'): Promise<never> {
  return start(null, String(reason));
}
