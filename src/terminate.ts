/**
 * Escalation done right: SIGTERM, wait, then SIGKILL, for one process, a
 * process group or a whole tree.
 *
 * - Race-free: every target is pinned by a pidfd before it is signalled, so a
 *   recycled pid is never hit (groups are signalled with killpg, whose pgid
 *   cannot be reused while a member lives).
 * - Event-driven: the waits are pidfd polls on the event loop, no polling loop.
 * - Zombie-aware: a zombie has exited; the result says so and names the
 *   parent that must reap it.
 * - Every polite step is followed by SIGCONT, so a stopped process can act on
 *   it (systemd and s6 do the same).
 * - Cancellable: `signal` (AbortSignal) cancels the waiting, not what was sent.
 * - Safe: a target that is or contains this process, an ancestor or PID 1
 *   (for groups: our own group) is refused before anything is sent
 *   (ERR_SIGKIT_PROTECTED, see protected.ts). One member's failure (EPERM)
 *   is recorded on that member and the ladder goes on for the rest; every
 *   SIGSTOP sent is followed by SIGCONT on every path.
 * - One shape for "not found": `{ notFound: true, exited: true }` and no
 *   members, for a pid, a group or a tree root (a thread id is not a process).
 */
import { setMaxListeners } from 'node:events';
import { catalogue } from './catalogue.js';
import { SyscallError, invalidArgType, invalidArgValue, isSyscallError } from './errors.js';
import { checkOptions } from './options.js';
import { runPreStop, validatePreStop, type PreStopContext, type PreStopHook, type PreStopResult } from './prestop.js';
import { assertGroupNotProtected, assertNotProtected, protectedProcesses } from './protected.js';
import type { ExitInfo } from './exit-info.js';
import { native } from './native.js';
import { ProcessHandle, openProcess } from './pidfd.js';
import { childPidsOf, scanGroup } from './proc.js';
import type { SignalLike } from './signals.js';
import { validatePgid, validatePid, validateSendSignal } from './validate.js';
import { abortError, validateWaitOptions } from './waiting.js';

const SIGKILL = 9;
const SIGCONT = 18;
const SIGSTOP = 19;
const EPERM = 1;
const ESRCH = 3;

/** One rung of the ladder: send `signal`, then wait up to `waitMs` for the exit. */
export interface TerminateStep {
  signal: SignalLike;
  waitMs: number;
}

/** A step as it happened. */
export interface SentStep {
  /** Canonical name of the signal sent. */
  signal: string;
  /** Milliseconds after the call when it was sent. */
  sentAtMs: number;
}

/** Options of every terminate function. */
export interface TerminateOptions {
  /** The ladder (default: SIGTERM, wait 5000 ms; SIGKILL, wait 2000 ms). */
  steps?: TerminateStep[];
  /** Shorthand for `steps: [{ signal: 'SIGTERM', waitMs: graceMs }, { signal: 'SIGKILL', waitMs: 2000 }]`. */
  graceMs?: number;
  /** Cancels the waiting (rejects with AbortError); what was sent stays sent. */
  signal?: AbortSignal;
  /** Called as each step is sent. */
  onStep?: (step: SentStep & { pids: number[] }) => void;
  /** Called as each process (or group/tree member) is seen to exit. */
  onExit?: (event: { pid: number; exitedAfterMs: number }) => void;
  /** Awaited before the first signal (Kubernetes' preStop); a throw or a timeout does not stop the ladder. */
  preStop?: (ctx: PreStopContext) => unknown;
  /** How long `preStop` may run, ms (default 5000). */
  preStopTimeoutMs?: number;
}

/** Options of terminateTree: `mode: 'mixed'` is systemd's KillMode=mixed. */
export interface TerminateTreeOptions extends TerminateOptions {
  /** `'all'` (default): every step to every member. `'mixed'`: polite steps to the root alone, SIGKILL to all that remain. */
  mode?: 'all' | 'mixed';
}

/** What `terminate` did and saw. */
export interface TerminateResult {
  pid: number;
  /** No longer running (a zombie counts: see `zombie`). */
  exited: boolean;
  /** SIGKILL had to be sent. */
  forced: boolean;
  steps: SentStep[];
  /** When the exit was seen, ms after the call (null if it never exited). */
  exitedAfterMs: number | null;
  /** How it ended, when the kernel can tell (our own child, or Linux 6.15+). */
  exit?: ExitInfo;
  /** Exited but not yet reaped: its parent (`ppid`) must wait() for it. */
  zombie?: boolean;
  /** The parent of a zombie. */
  ppid?: number;
  /** There was no such process when the call was made. */
  notFound?: boolean;
  /** How the preStop hook went, when there was one. */
  preStop?: PreStopResult;
}

/** One member of a group or tree, as it ended up. */
export interface MemberResult {
  pid: number;
  comm: string;
  exited: boolean;
  /** When its exit was seen, ms after the call (absent if it was gone before it was watched). */
  exitedAfterMs?: number;
  zombie?: boolean;
  exit?: ExitInfo;
  /** A signal to this member failed (EPERM: not ours); the others went on. */
  error?: MemberError;
}

/** Why one member could not be signalled. */
export interface MemberError {
  code: string;
  errno: number;
  syscall: string;
}

/** What `terminateGroup` / `terminateTree` did and saw. */
export interface TerminateManyResult {
  /** The group id, or the tree's root pid. */
  id: number;
  /** Every member exited. */
  exited: boolean;
  forced: boolean;
  steps: SentStep[];
  exitedAfterMs: number | null;
  members: MemberResult[];
  /** There was no such group or tree root when the call was made (`exited` is then true). */
  notFound?: boolean;
  /** How the preStop hook went, when there was one. */
  preStop?: PreStopResult;
}

/** The option keys every terminate function knows. */
export const TERMINATE_OPTION_KEYS: readonly string[] = ['steps', 'graceMs', 'signal', 'onStep', 'onExit', 'preStop', 'preStopTimeoutMs'];

/** A step after validation: the signal's number and canonical name. */
export interface Step {
  sig: number;
  name: string;
  waitMs: number;
}

const DEFAULT_STEPS: readonly TerminateStep[] = Object.freeze([
  { signal: 'SIGTERM', waitMs: 5000 },
  { signal: 'SIGKILL', waitMs: 2000 },
]);

/** The options of a terminate function after validation (see {@link parseTerminateOptions}). */
export interface ValidOptions {
  steps: Step[];
  signal: AbortSignal | undefined;
  onStep: TerminateOptions['onStep'];
  onExit: TerminateOptions['onExit'];
  preStop: PreStopHook | undefined;
  preStopTimeoutMs: number;
  mode: 'all' | 'mixed';
}

/**
 * Checks the options of a terminate function (also for callers that pass
 * them on later, such as terminateMatching).
 * @throws TypeError/RangeError ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE
 * @example
 * checkTerminateOptions({ graceMs: 1000 });
 * @internal
 */
export function checkTerminateOptions(opts: unknown): void {
  validateOptions(opts);
}

/**
 * The one parser of terminate options, for every terminate function
 * (terminateCgroup, terminatePort included): unknown keys refused, the
 * ladder checked, preStop validated. `extraKeys` are the caller's own.
 * @throws TypeError/RangeError ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE
 * @example
 * const { steps, signal } = parseTerminateOptions(opts, ['remove']);
 * @internal
 */
export function parseTerminateOptions(opts: unknown, extraKeys: readonly string[] = []): ValidOptions {
  return validateOptions(opts, extraKeys);
}

function validateOptions(opts: unknown, extraKeys: readonly string[] = []): ValidOptions {
  const o = checkOptions<TerminateTreeOptions>(opts, 'options', [...TERMINATE_OPTION_KEYS, ...extraKeys]);
  let raw: readonly TerminateStep[] = DEFAULT_STEPS;
  if (o.steps !== undefined && o.graceMs !== undefined) throw invalidArgValue('options', opts, 'takes steps or graceMs, not both');
  if (o.graceMs !== undefined) raw = [{ signal: 'SIGTERM', waitMs: o.graceMs }, { signal: 'SIGKILL', waitMs: 2000 }];
  if (o.steps !== undefined) {
    if (!Array.isArray(o.steps)) throw invalidArgType('options.steps', 'an array', o.steps);
    if (o.steps.length === 0) throw invalidArgValue('options.steps', o.steps, 'must have at least one step');
    raw = o.steps;
  }
  const steps = raw.map((s, i) => {
    if (s === null || typeof s !== 'object') throw invalidArgType(`options.steps[${i}]`, 'of type object', s);
    checkOptions(s, `options.steps[${i}]`, ['signal', 'waitMs']);
    const sig = validateSendSignal(s.signal, `options.steps[${i}].signal`);
    if (sig <= 0 || sig > catalogue.rtmax || sig === SIGSTOP) {
      throw invalidArgValue(`options.steps[${i}].signal`, s.signal, 'must be a signal that can end a process (not 0 or SIGSTOP)');
    }
    const waitMs = validateWaitOptions({ timeoutMs: s.waitMs }, `options.steps[${i}]`).timeoutMs;
    if (typeof s.waitMs !== 'number' || !Number.isFinite(waitMs)) throw invalidArgValue(`options.steps[${i}].waitMs`, s.waitMs, 'must be a finite number of ms >= 0');
    return { sig, name: catalogue.name(sig), waitMs };
  });
  const { signal } = validateWaitOptions({ signal: o.signal });
  if (o.onStep !== undefined && typeof o.onStep !== 'function') throw invalidArgType('options.onStep', 'a function', o.onStep);
  if (o.onExit !== undefined && typeof o.onExit !== 'function') throw invalidArgType('options.onExit', 'a function', o.onExit);
  if (o.mode !== undefined && o.mode !== 'all' && o.mode !== 'mixed') throw invalidArgValue('options.mode', o.mode, "must be 'all' or 'mixed'");
  return { steps, signal, onStep: o.onStep, onExit: o.onExit, ...validatePreStop(o), mode: o.mode ?? 'all' };
}

const polite = (sig: number) => sig !== SIGKILL && sig !== SIGCONT;

function now(): number {
  return performance.now();
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

function memberError(e: SyscallError): MemberError {
  return { code: e.code, errno: e.errno, syscall: e.syscall };
}

/**
 * Sends through the pidfd: true when sent, false when the process is already
 * reaped (ESRCH), else the error (EPERM...), which the caller records.
 */
function send(handle: ProcessHandle, sig: number): true | false | SyscallError {
  try {
    handle.kill(sig);
    return true;
  } catch (e) {
    if (isSyscallError(e, 'ESRCH')) return false;
    if (isSyscallError(e)) return e;
    throw e;
  }
}

/**
 * Resolves true when every handle has exited, false when `ms` ran out;
 * rejects on abort (also one signalled before the call: an `onStep` that
 * aborts is noticed here, before any wait). `seen(h)` is called as each one
 * is seen to have exited.
 */
async function allExited(handles: ProcessHandle[], ms: number, signal: AbortSignal | undefined, seen?: (h: ProcessHandle) => void): Promise<boolean> {
  throwIfAborted(signal);
  const alive = handles.filter((h) => {
    if (h.isAlive()) return true;
    seen?.(h);
    return false;
  });
  if (alive.length === 0) return true;
  if (ms <= 0) return false;
  const controller = new AbortController();
  // One internal signal serves every member's wait (a tree may have hundreds).
  setMaxListeners(0, controller.signal);
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all(alive.map((h) => h.exited({ timeoutMs: ms, signal: controller.signal }).then(() => seen?.(h))));
    return true;
  } catch (e) {
    if (signal?.aborted) throw abortError(signal);
    if ((e as { code?: string }).code === 'ERR_SIGKIT_TIMEOUT') return false;
    throw e;
  } finally {
    controller.abort(); // releases the other waits
    signal?.removeEventListener('abort', onAbort);
  }
}

const statFields = (): Float64Array => new Float64Array(native.procFieldNames.length);

function stateOf(pid: number): string | undefined {
  const s = native.procState(pid);
  return s >= 0 ? String.fromCharCode(s) : undefined;
}

/** ppid, pgid and start time from /proc/<pid>/stat, or undefined once gone. */
function statOf(pid: number): { ppid: number; pgid: number; startTime: number; comm: string } | undefined {
  const out = statFields();
  const r = native.procStat(pid, out);
  if (typeof r === 'number') return undefined;
  const names = native.procFieldNames;
  return { ppid: out[names.indexOf('ppid')]!, pgid: out[names.indexOf('pgid')]!, startTime: out[names.indexOf('startTime')]!, comm: r };
}

/** Facts about a handle's process once it stopped running. */
function ending(handle: ProcessHandle): { zombie?: boolean; ppid?: number; exit?: ExitInfo } {
  const out: { zombie?: boolean; ppid?: number; exit?: ExitInfo } = {};
  if (!handle.closed) {
    const exit = handle.exitInfo();
    if (exit) out.exit = exit;
  }
  if (stateOf(handle.pid) === 'Z') {
    out.zombie = true;
    const ppid = statOf(handle.pid)?.ppid;
    if (ppid !== undefined) out.ppid = ppid;
  }
  return out;
}

/** A handle, or null when there is no such process (a thread id is not one). */
function openOrNull(pid: number): ProcessHandle | null {
  try {
    return openProcess(pid);
  } catch (e) {
    if (isSyscallError(e, 'ESRCH')) return null;
    throw e;
  }
}

/**
 * Pins `kid`, listed as a child of `parent`, and keeps it only if, once
 * pinned, it is still that parent's child and started no earlier: a pid
 * reaped and reused between the listing and the pidfd_open is a stranger's.
 * Returns the handle and its name, or null (gone, or a stranger: closed).
 * @throws SyscallError EMFILE and other open errors (never "no such process")
 * @example
 * const kid = pinChildOf(parent, pid); if (kid) kid.handle.kill('SIGSTOP');
 * @internal
 */
export function pinChildOf(parent: ProcessHandle, kid: number): { handle: ProcessHandle; comm: string } | null {
  const h = openOrNull(kid);
  if (!h) return null;
  const st = statOf(kid);
  if (!st || st.ppid !== parent.pid || h.startTime < parent.startTime) {
    h.close();
    return null;
  }
  return { handle: h, comm: st.comm };
}

/**
 * True while one of `handles` is alive and still in process group `pgid`:
 * a number in use as a group id is never given to a new process, so the id
 * still names that group, and whatever a scan finds in it is a member.
 * @throws never for a gone process; EBADF for a closed handle is skipped
 * @example
 * if (groupHeldBy(pinned, pgid)) native.killpg(pgid, SIGKILL);
 * @internal
 */
export function groupHeldBy(handles: Iterable<ProcessHandle>, pgid: number): boolean {
  for (const h of handles) if (!h.closed && h.isAlive() && statOf(h.pid)?.pgid === pgid) return true;
  return false;
}

const notFoundOne = (pid: number): TerminateResult => ({ pid, exited: true, forced: false, steps: [], exitedAfterMs: 0, notFound: true });
const notFoundMany = (id: number): TerminateManyResult => ({ id, exited: true, forced: false, steps: [], exitedAfterMs: 0, members: [], notFound: true });

/**
 * Ends one process: each step's signal (SIGCONT after each polite one), then
 * waits up to its `waitMs` for the exit, until it has exited or the steps run
 * out. A zombie target resolves at once (`exited: true, zombie: true, ppid`);
 * a pid with no process (or a thread id) resolves `{ exited: true, notFound: true }`.
 *
 * @throws TypeError/RangeError ERR_INVALID_ARG_* (bad pid or options, unknown option keys: the promise rejects)
 * @throws Error ERR_SIGKIT_PROTECTED when the target is this process, an ancestor or PID 1 (nothing is sent)
 * @throws AbortError ABORT_ERR when `signal` aborts (what was sent stays sent)
 * @throws SyscallError EPERM (not ours to signal)
 * @example
 * const r = await terminate(child.pid, { graceMs: 3000 });
 * if (r.forced) console.warn(`${r.pid} ignored SIGTERM; killed after ${r.exitedAfterMs} ms`);
 */
export async function terminate(target: number | ProcessHandle, opts?: TerminateOptions): Promise<TerminateResult> {
  const t0 = now();
  const { steps, signal, onStep, onExit, preStop, preStopTimeoutMs } = validateOptions(opts);
  let handle: ProcessHandle | null;
  let owned = false;
  if (target instanceof ProcessHandle) {
    handle = target;
    assertNotProtected(handle.pid);
  } else {
    const pid = validatePid(target, 'target');
    assertNotProtected(pid);
    throwIfAborted(signal);
    handle = openOrNull(pid);
    owned = true;
    if (handle === null) return notFoundOne(pid);
  }
  try {
    throwIfAborted(signal);
    const result: TerminateResult = { pid: handle.pid, exited: false, forced: false, steps: [], exitedAfterMs: null };
    if (handle.closed) throw new SyscallError('pidfd_send_signal', 9, { pid: handle.pid });
    if (!handle.isAlive()) return { ...result, exited: true, exitedAfterMs: now() - t0, ...ending(handle) };
    if (preStop) result.preStop = await runPreStop(preStop, preStopTimeoutMs, { target: handle.pid, kind: 'process' }, signal);
    for (const step of steps) {
      throwIfAborted(signal);
      const sentAtMs = now() - t0;
      const reached = send(handle, step.sig);
      if (reached instanceof SyscallError) throw reached;
      if (reached && polite(step.sig)) send(handle, SIGCONT);
      if (reached) {
        result.steps.push({ signal: step.name, sentAtMs });
        if (step.sig === SIGKILL) result.forced = true;
        onStep?.({ signal: step.name, sentAtMs, pids: [handle.pid] });
      }
      if (await allExited([handle], step.waitMs, signal)) {
        result.exited = true;
        result.exitedAfterMs = now() - t0;
        onExit?.({ pid: handle.pid, exitedAfterMs: result.exitedAfterMs });
        Object.assign(result, ending(handle));
        return result;
      }
    }
    return result;
  } finally {
    if (owned) handle.close();
  }
}

/**
 * The members of a group or tree, each pinned by a pidfd, with what was seen
 * of them: name when pinned, exit time, errors, and which ones sigkit
 * stopped (each of those gets SIGCONT before the handles close, whatever
 * happened in between).
 */
class Pinned {
  readonly handles = new Map<number, ProcessHandle>();
  readonly comms = new Map<number, string>();
  readonly exitedAt = new Map<number, number>();
  readonly errors = new Map<number, MemberError>();
  readonly #stopped = new Set<ProcessHandle>();
  /** Never pinned, whatever a scan says: this process, its ancestors, PID 1. */
  readonly #protected = protectedProcesses();

  constructor(private readonly t0: number, private readonly onExit: TerminateOptions['onExit']) {}

  /** Records (once) that a member was seen to exit; reports it. */
  readonly seen = (h: ProcessHandle): void => {
    if (this.exitedAt.has(h.pid)) return;
    const exitedAfterMs = now() - this.t0;
    this.exitedAt.set(h.pid, exitedAfterMs);
    this.onExit?.({ pid: h.pid, exitedAfterMs });
  };

  has(pid: number): boolean {
    return this.handles.has(pid);
  }

  isProtected(pid: number): boolean {
    return this.#protected.has(pid);
  }

  add(h: ProcessHandle, comm: string): void {
    this.handles.set(h.pid, h);
    this.comms.set(h.pid, comm);
  }

  all(): ProcessHandle[] {
    return [...this.handles.values()];
  }

  alive(): ProcessHandle[] {
    return this.all().filter((h) => h.isAlive());
  }

  noneAlive(): boolean {
    return this.all().every((h) => !h.isAlive());
  }

  /** Sends `sig` to one member; an error is recorded on it (first one wins). */
  signal(h: ProcessHandle, sig: number): boolean {
    const r = send(h, sig);
    if (r instanceof SyscallError) {
      if (!this.errors.has(h.pid)) this.errors.set(h.pid, memberError(r));
      return false;
    }
    if (r && sig === SIGSTOP) this.#stopped.add(h);
    return r;
  }

  /** The polite/forced signal of a step, then SIGCONT (always after a polite one, and to everyone sigkit stopped). */
  signalStep(h: ProcessHandle, sig: number): boolean {
    const reached = this.signal(h, sig);
    if (polite(sig) || this.#stopped.has(h)) this.cont(h);
    return reached;
  }

  cont(h: ProcessHandle): void {
    if (!h.closed) send(h, SIGCONT);
    this.#stopped.delete(h);
  }

  results(): MemberResult[] {
    return this.all().sort((a, b) => a.pid - b.pid).map((h) => {
      const exited = !h.isAlive();
      const at = this.exitedAt.get(h.pid);
      const error = this.errors.get(h.pid);
      return {
        pid: h.pid,
        comm: this.comms.get(h.pid) ?? '',
        exited,
        ...(at !== undefined ? { exitedAfterMs: at } : {}),
        ...(exited ? ending(h) : {}),
        ...(error ? { error } : {}),
      };
    });
  }

  /** SIGCONT to every member sigkit stopped and has not continued, then closes every pidfd. */
  close(): void {
    for (const h of [...this.#stopped]) this.cont(h);
    for (const h of this.all()) h.close();
  }
}

/**
 * The ladder for a whole process group (killpg), waiting for every member,
 * also those whose parent died first (they keep their group). Members that
 * join during a wait get the current step's signal too. A member that may
 * not be signalled (EPERM) is reported with `error`; the others go on.
 *
 * @throws TypeError/RangeError ERR_INVALID_ARG_* (pgid 0, 1 or negative; bad options)
 * @throws Error ERR_SIGKIT_PROTECTED for this process's own group, or a group holding an ancestor (nothing is sent)
 * @throws AbortError ABORT_ERR when `signal` aborts
 * @example
 * const server = spawn('sh', ['-c', 'worker & worker & wait'], { detached: true });
 * await terminateGroup(server.pid, { graceMs: 2000 });
 */
export async function terminateGroup(pgid: number, opts?: TerminateOptions): Promise<TerminateManyResult> {
  const t0 = now();
  const { steps, signal, onStep, onExit, preStop, preStopTimeoutMs } = validateOptions(opts);
  const g = validatePgid(pgid);
  assertGroupNotProtected(g);
  throwIfAborted(signal);
  const pinned = new Pinned(t0, onExit);
  const result: TerminateManyResult = { id: g, exited: false, forced: false, steps: [], exitedAfterMs: null, members: [] };
  // True while a pinned member is alive and still in the group: the group id
  // is then held, and every process a scan finds with it is a real member.
  const held = (): boolean => groupHeldBy(pinned.all(), g);
  // Pins the live members not pinned yet; returns the new ones. Once every
  // pinned member has left or exited, the id may be reused: nobody is pinned.
  const pinNew = (): ProcessHandle[] => {
    const fresh: ProcessHandle[] = [];
    if (pinned.handles.size > 0 && !held()) return fresh;
    const { alive } = scanGroup(g);
    for (const pid of alive) {
      if (pinned.has(pid) || pinned.isProtected(pid)) continue;
      const h = openOrNull(pid);
      if (h) {
        pinned.add(h, statOf(pid)?.comm ?? '');
        fresh.push(h);
      }
    }
    return fresh;
  };
  try {
    const first = scanGroup(g);
    if (!first.any) return notFoundMany(g);
    // Pinned before preStop: if the whole group ends during the hook, its id
    // may go to a stranger's group; pinNew then takes no one (see below).
    pinNew();
    if (preStop) result.preStop = await runPreStop(preStop, preStopTimeoutMs, { target: g, kind: 'group' }, signal);
    for (const step of steps) {
      throwIfAborted(signal);
      if (pinned.noneAlive()) break;
      const sentAtMs = now() - t0;
      // killpg reaches members forked after the scan too; the per-member
      // probe finds the ones it could not reach (EPERM), to report them.
      const r = native.killpg(g, step.sig);
      if (r !== 0 && r !== -ESRCH && r !== -EPERM) throw new SyscallError('killpg', r, { pgid: g, signal: step.name });
      if (polite(step.sig)) native.killpg(g, SIGCONT);
      for (const h of pinned.alive()) pinned.signal(h, 0);
      result.steps.push({ signal: step.name, sentAtMs });
      if (step.sig === SIGKILL) result.forced = true;
      onStep?.({ signal: step.name, sentAtMs, pids: [...pinned.handles.keys()] });
      // Newcomers (forked during the wait) get this step's signal as well.
      await waitStep(pinned, step, signal, pinNew);
      if (pinned.noneAlive()) break;
    }
    return finish(result, pinned, t0);
  } finally {
    pinned.close();
  }
}

/**
 * Waits up to the step's `waitMs` for every pinned member; members that
 * `discover` finds meanwhile get the step's signal (and SIGCONT) and are
 * waited for too. The deadline is monotonic (performance.now).
 */
async function waitStep(pinned: Pinned, step: Step, signal: AbortSignal | undefined, discover: () => ProcessHandle[] | Promise<ProcessHandle[]>): Promise<void> {
  const deadline = now() + step.waitMs;
  for (;;) {
    // Members that cannot be signalled (EPERM) are not waited for: they
    // would only hold the ladder up for everyone else.
    const waitable = pinned.all().filter((h) => !pinned.errors.has(h.pid));
    const done = await allExited(waitable, Math.max(0, deadline - now()), signal, pinned.seen);
    const fresh = await discover();
    for (const h of fresh) pinned.signalStep(h, step.sig);
    if (fresh.length === 0 && (done || now() >= deadline)) return;
  }
}

/** Fills in the outcome of a group or tree. */
function finish(result: TerminateManyResult, pinned: Pinned, t0: number): TerminateManyResult {
  if (pinned.noneAlive()) {
    result.exited = true;
    result.exitedAfterMs = now() - t0;
  }
  result.members = pinned.results();
  return result;
}

const STOP_SETTLE_MS = 200;

/**
 * Waits until every process is stopped or gone, or STOP_SETTLE_MS pass. The
 * kernel has no event for "stopped" of a process that is not our child, so
 * this is a timer poll with backoff (1, 2, 4 ... 32 ms), never a busy loop;
 * a stop normally lands within the first tick.
 */
async function settledStopped(pids: number[], signal: AbortSignal | undefined): Promise<void> {
  const deadline = now() + STOP_SETTLE_MS;
  for (let delay = 1; ; delay = Math.min(delay * 2, 32)) {
    const moving = pids.filter((p) => {
      const s = stateOf(p);
      return s !== undefined && s !== 'T' && s !== 't' && s !== 'Z' && s !== 'X';
    });
    if (moving.length === 0 || now() > deadline) return;
    throwIfAborted(signal);
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * The ladder for a process and all its descendants, immune to forks during
 * the kill and to pid reuse: the tree is first frozen (SIGSTOP, member by
 * member, each pinned by a pidfd, rescanning each stopped member's children
 * until a pass finds nothing new: a stopped process cannot fork, and its
 * children cannot be reaped and recycled), then every member gets each step's
 * signal (and SIGCONT), and the call waits for all of them. Members that fork
 * after they were continued are picked up between waits.
 *
 * A child is kept only if, once pinned, it is still its parent's child and
 * started no earlier than its parent: a pid reaped and reused between the
 * children read and the pidfd_open is a stranger, and is let go. A member
 * that may not be signalled (EPERM) is reported with `error`; the rest of
 * the tree goes on. Every member sigkit stopped is continued on every path
 * (success, error, abort, timeout).
 *
 * @throws TypeError/RangeError ERR_INVALID_ARG_* (bad pid or options)
 * @throws Error ERR_SIGKIT_PROTECTED when the root is this process, an ancestor or PID 1 (nothing is sent)
 * @throws AbortError ABORT_ERR when `signal` aborts (frozen members are continued first)
 * @example
 * const r = await terminateTree(supervisor.pid, { graceMs: 1000 });
 * r.members.length; // every process that was in the tree
 */
export async function terminateTree(pid: number, opts?: TerminateTreeOptions): Promise<TerminateManyResult> {
  const t0 = now();
  const { steps, signal, onStep, onExit, preStop, preStopTimeoutMs, mode } = validateOptions(opts, ['mode']);
  const root = validatePid(pid);
  assertNotProtected(root);
  throwIfAborted(signal);
  const result: TerminateManyResult = { id: root, exited: false, forced: false, steps: [], exitedAfterMs: null, members: [] };
  const pinned = new Pinned(t0, onExit);
  const rootHandle = openOrNull(root);
  if (!rootHandle) return notFoundMany(root);
  pinned.add(rootHandle, statOf(root)?.comm ?? '');
  // Pins (and stops, when asked) the children of every pinned live process
  // not pinned yet, until a pass finds nothing new. Returns the new handles.
  const collect = async (stop: boolean): Promise<ProcessHandle[]> => {
    const fresh: ProcessHandle[] = [];
    let frontier = pinned.all();
    while (frontier.length > 0) {
      if (stop) await settledStopped(frontier.map((h) => h.pid), signal);
      const next: ProcessHandle[] = [];
      for (const parent of frontier) {
        if (!parent.isAlive()) continue;
        // EMFILE is thrown, never taken for "no children" (a tree is complete or the call fails).
        const kids = childPidsOf(parent.pid);
        if (kids === null) continue;
        for (const kid of kids) {
          if (pinned.has(kid) || pinned.isProtected(kid)) continue;
          const child = pinChildOf(parent, kid);
          if (!child) continue;
          const h = child.handle;
          pinned.add(h, child.comm);
          if (stop) pinned.signal(h, SIGSTOP);
          next.push(h);
          fresh.push(h);
        }
      }
      frontier = next;
    }
    return fresh;
  };
  try {
    if (preStop) result.preStop = await runPreStop(preStop, preStopTimeoutMs, { target: root, kind: 'tree' }, signal);
    // Freeze the whole tree first (only when the ladder starts politely:
    // SIGKILL needs no freeze, the kernel kills at once).
    const freeze = polite(steps[0]!.sig);
    if (freeze && rootHandle.isAlive()) pinned.signal(rootHandle, SIGSTOP);
    await collect(freeze);
    for (const step of steps) {
      // An abort during the freeze (or an onStep) is noticed before the next signal.
      throwIfAborted(signal);
      const alive = pinned.alive();
      if (alive.length === 0) break;
      // mode 'mixed' (systemd KillMode=mixed): a polite step goes to the root
      // alone, which then stops its own children; SIGKILL goes to everyone left.
      const rootOnly = mode === 'mixed' && polite(step.sig);
      const to = rootOnly ? alive.filter((h) => h === rootHandle) : alive;
      if (to.length === 0) continue; // the root is gone: on to the SIGKILL step
      const sentAtMs = now() - t0;
      for (const h of to) pinned.signal(h, step.sig);
      for (const h of alive) if (polite(step.sig)) pinned.cont(h);
      result.steps.push({ signal: step.name, sentAtMs });
      if (step.sig === SIGKILL) result.forced = true;
      onStep?.({ signal: step.name, sentAtMs, pids: to.map((h) => h.pid) });
      if (rootOnly) {
        // Wait for the root; its newcomers are pinned (for the SIGKILL), not signalled.
        await allExited([rootHandle], step.waitMs, signal, pinned.seen);
        await collect(false);
        continue;
      }
      // Children forked after the members were continued get it too.
      await waitStep(pinned, step, signal, () => collect(false));
      if (pinned.noneAlive()) break;
    }
    return finish(result, pinned, t0);
  } finally {
    // Never leave a stopped member behind (an abort or error during the freeze).
    pinned.close();
  }
}
