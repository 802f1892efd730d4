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
 */
import { setMaxListeners } from 'node:events';
import { catalogue } from './catalogue.js';
import { SyscallError, invalidArgType, invalidArgValue, isSyscallError } from './errors.js';
import type { ExitInfo } from './exit-info.js';
import { native } from './native.js';
import { ProcessHandle, openProcess } from './pidfd.js';
import type { SignalLike } from './signals.js';
import { validatePgid, validatePid, validateSendSignal } from './validate.js';
import { abortError, validateWaitOptions } from './waiting.js';

const SIGKILL = 9;
const SIGCONT = 18;
const SIGSTOP = 19;
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
}

interface Step {
  sig: number;
  name: string;
  waitMs: number;
}

const DEFAULT_STEPS: readonly TerminateStep[] = Object.freeze([
  { signal: 'SIGTERM', waitMs: 5000 },
  { signal: 'SIGKILL', waitMs: 2000 },
]);

interface ValidOptions {
  steps: Step[];
  signal: AbortSignal | undefined;
  onStep: TerminateOptions['onStep'];
  onExit: TerminateOptions['onExit'];
}

function validateOptions(opts: unknown): ValidOptions {
  if (opts === undefined) opts = {};
  if (opts === null || typeof opts !== 'object') throw invalidArgType('options', 'of type object', opts);
  const o = opts as TerminateOptions;
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
  return { steps, signal, onStep: o.onStep, onExit: o.onExit };
}

const polite = (sig: number) => sig !== SIGKILL && sig !== SIGCONT;

function now(): number {
  return performance.now();
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** Sends through the pidfd; false when the process is already reaped. */
function send(handle: ProcessHandle, sig: number): boolean {
  try {
    handle.kill(sig);
    return true;
  } catch (e) {
    if (isSyscallError(e, 'ESRCH')) return false;
    throw e;
  }
}

/**
 * Resolves true when every handle has exited, false when `ms` ran out;
 * rejects on abort. `seen(h)` is called as each one is seen to have exited.
 */
async function allExited(handles: ProcessHandle[], ms: number, signal: AbortSignal | undefined, seen?: (h: ProcessHandle) => void): Promise<boolean> {
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

function stateOf(pid: number): string | undefined {
  const s = native.procState(pid);
  return s >= 0 ? String.fromCharCode(s) : undefined;
}

function ppidOf(pid: number): number | undefined {
  const out = new Float64Array(native.procFieldNames.length);
  const r = native.procStat(pid, out);
  return typeof r === 'number' ? undefined : out[native.procFieldNames.indexOf('ppid')];
}

function commOf(pid: number): string {
  const out = new Float64Array(native.procFieldNames.length);
  const r = native.procStat(pid, out);
  return typeof r === 'number' ? '' : r;
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
    const ppid = ppidOf(handle.pid);
    if (ppid !== undefined) out.ppid = ppid;
  }
  return out;
}

function openOrNull(pid: number): ProcessHandle | null {
  try {
    return openProcess(pid);
  } catch (e) {
    if (isSyscallError(e, 'ESRCH')) return null;
    throw e;
  }
}

/**
 * Ends one process: each step's signal (SIGCONT after each polite one), then
 * waits up to its `waitMs` for the exit, until it has exited or the steps run
 * out. A zombie target resolves at once (`exited: true, zombie: true, ppid`);
 * a pid with no process resolves `{ exited: true, notFound: true }`.
 *
 * @throws TypeError/RangeError ERR_INVALID_ARG_* (bad pid or options: the promise rejects)
 * @throws AbortError ABORT_ERR when `signal` aborts (what was sent stays sent)
 * @throws SyscallError EPERM (not ours to signal)
 * @example
 * const r = await terminate(child.pid, { graceMs: 3000 });
 * if (r.forced) console.warn(`${r.pid} ignored SIGTERM; killed after ${r.exitedAfterMs} ms`);
 */
export async function terminate(target: number | ProcessHandle, opts?: TerminateOptions): Promise<TerminateResult> {
  const t0 = now();
  const { steps, signal, onStep, onExit } = validateOptions(opts);
  let handle: ProcessHandle | null;
  let owned = false;
  if (target instanceof ProcessHandle) {
    handle = target;
  } else {
    const pid = validatePid(target, 'target');
    throwIfAborted(signal);
    handle = openOrNull(pid);
    owned = true;
    if (handle === null) return { pid, exited: true, forced: false, steps: [], exitedAfterMs: 0, notFound: true };
  }
  try {
    throwIfAborted(signal);
    const result: TerminateResult = { pid: handle.pid, exited: false, forced: false, steps: [], exitedAfterMs: null };
    if (handle.closed) throw new SyscallError('pidfd_send_signal', 9, { pid: handle.pid });
    if (!handle.isAlive()) return { ...result, exited: true, exitedAfterMs: now() - t0, ...ending(handle) };
    for (const step of steps) {
      const sentAtMs = now() - t0;
      const reached = send(handle, step.sig);
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

/** The pids of the live (not zombie) members of a process group, from one /proc scan. */
function groupMembers(pgid: number): { alive: number[]; any: boolean } {
  const scan = native.procScan();
  if (typeof scan === 'number') throw new SyscallError('open', scan, { path: '/proc' });
  const [fields] = scan;
  const names = native.procFieldNames;
  const n = names.length;
  const iPid = names.indexOf('pid');
  const iPgid = names.indexOf('pgid');
  const iState = names.indexOf('state');
  const alive: number[] = [];
  let any = false;
  for (let at = 0; at < fields.length; at += n) {
    if (fields[at + iPgid] !== pgid) continue;
    any = true;
    if (fields[at + iState] !== 0x5a) alive.push(fields[at + iPid]!); // not 'Z'
  }
  return { alive, any };
}

/** Pinned members and the names they had when pinned. */
class Pinned {
  readonly handles = new Map<number, ProcessHandle>();
  readonly comms = new Map<number, string>();
  readonly exitedAt = new Map<number, number>();

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

  add(h: ProcessHandle): void {
    this.handles.set(h.pid, h);
    this.comms.set(h.pid, commOf(h.pid));
  }

  all(): ProcessHandle[] {
    return [...this.handles.values()];
  }

  noneAlive(): boolean {
    return this.all().every((h) => !h.isAlive());
  }

  results(): MemberResult[] {
    return this.all().sort((a, b) => a.pid - b.pid).map((h) => {
      const exited = !h.isAlive();
      const at = this.exitedAt.get(h.pid);
      return { pid: h.pid, comm: this.comms.get(h.pid) ?? '', exited, ...(at !== undefined ? { exitedAfterMs: at } : {}), ...(exited ? ending(h) : {}) };
    });
  }

  close(continueFirst: boolean): void {
    for (const h of this.all()) {
      if (continueFirst && !h.closed) send(h, SIGCONT);
      h.close();
    }
  }
}

/**
 * The ladder for a whole process group (killpg), waiting for every member,
 * also those whose parent died first (they keep their group). Members that
 * join during a wait get the current step's signal too.
 *
 * @throws SyscallError ESRCH when no process has that group id
 * @throws AbortError ABORT_ERR when `signal` aborts
 * @example
 * const server = spawn('sh', ['-c', 'worker & worker & wait'], { detached: true });
 * await terminateGroup(server.pid, { graceMs: 2000 });
 */
export async function terminateGroup(pgid: number, opts?: TerminateOptions): Promise<TerminateManyResult> {
  const t0 = now();
  const { steps, signal, onStep, onExit } = validateOptions(opts);
  const g = validatePgid(pgid);
  throwIfAborted(signal);
  const pinned = new Pinned(t0, onExit);
  const result: TerminateManyResult = { id: g, exited: false, forced: false, steps: [], exitedAfterMs: null, members: [] };
  // Pins the live members not pinned yet; returns the new ones.
  const pinNew = (): ProcessHandle[] => {
    const fresh: ProcessHandle[] = [];
    const { alive } = groupMembers(g);
    for (const pid of alive) {
      if (pinned.has(pid)) continue;
      const h = openOrNull(pid);
      if (h) {
        pinned.add(h);
        fresh.push(h);
      }
    }
    return fresh;
  };
  try {
    const first = groupMembers(g);
    if (!first.any) throw new SyscallError('killpg', ESRCH, { pgid: g });
    pinNew();
    for (const step of steps) {
      if (pinned.noneAlive()) break;
      const sentAtMs = now() - t0;
      const r = native.killpg(g, step.sig);
      if (r !== 0 && r !== -ESRCH) throw new SyscallError('killpg', r, { pgid: g, signal: step.name });
      if (polite(step.sig)) native.killpg(g, SIGCONT);
      result.steps.push({ signal: step.name, sentAtMs });
      if (step.sig === SIGKILL) result.forced = true;
      onStep?.({ signal: step.name, sentAtMs, pids: [...pinned.handles.keys()] });
      // Newcomers (forked during the wait) get this step's signal as well.
      await waitStep(pinned, step, signal, pinNew);
      if (pinned.noneAlive()) break;
    }
    return finish(result, pinned, t0);
  } finally {
    pinned.close(false);
  }
}

/**
 * Waits up to the step's `waitMs` for every pinned member; members that
 * `discover` finds meanwhile get the step's signal (and SIGCONT) and are
 * waited for too.
 */
async function waitStep(pinned: Pinned, step: Step, signal: AbortSignal | undefined, discover: () => ProcessHandle[] | Promise<ProcessHandle[]>): Promise<void> {
  const deadline = now() + step.waitMs;
  for (;;) {
    const done = await allExited(pinned.all(), Math.max(0, deadline - now()), signal, pinned.seen);
    const fresh = await discover();
    for (const h of fresh) if (send(h, step.sig) && polite(step.sig)) send(h, SIGCONT);
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

/** Waits (briefly, yielding to the loop) until every process is stopped or gone. */
async function settledStopped(pids: number[]): Promise<void> {
  const deadline = now() + 200;
  for (;;) {
    const moving = pids.filter((p) => {
      const s = stateOf(p);
      return s !== undefined && s !== 'T' && s !== 't' && s !== 'Z' && s !== 'X';
    });
    if (moving.length === 0 || now() > deadline) return;
    await new Promise((r) => setImmediate(r));
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
 * @throws AbortError ABORT_ERR when `signal` aborts (frozen members are continued first)
 * @example
 * const r = await terminateTree(supervisor.pid, { graceMs: 1000 });
 * r.members.length; // every process that was in the tree
 */
export async function terminateTree(pid: number, opts?: TerminateOptions): Promise<TerminateManyResult> {
  const t0 = now();
  const { steps, signal, onStep, onExit } = validateOptions(opts);
  const root = validatePid(pid);
  throwIfAborted(signal);
  const result: TerminateManyResult = { id: root, exited: false, forced: false, steps: [], exitedAfterMs: null, members: [] };
  const pinned = new Pinned(t0, onExit);
  const rootHandle = openOrNull(root);
  if (!rootHandle) return { ...result, exited: true, exitedAfterMs: 0 };
  pinned.add(rootHandle);
  let frozen = false;
  // Pins and stops the children of every pinned live process not pinned yet,
  // until a pass finds nothing new. Returns the new handles.
  const collect = async (stop: boolean): Promise<ProcessHandle[]> => {
    const fresh: ProcessHandle[] = [];
    let frontier = pinned.all();
    while (frontier.length > 0) {
      if (stop) await settledStopped(frontier.map((h) => h.pid));
      const next: ProcessHandle[] = [];
      for (const parent of frontier) {
        if (!parent.isAlive()) continue;
        const kids = native.procChildren(parent.pid);
        if (typeof kids === 'number') continue;
        for (const kid of kids) {
          if (pinned.has(kid)) continue;
          const h = openOrNull(kid);
          if (!h) continue;
          if (stop) send(h, SIGSTOP);
          pinned.add(h);
          next.push(h);
          fresh.push(h);
        }
      }
      frontier = next;
    }
    return fresh;
  };
  try {
    // Freeze the whole tree first (only when the ladder starts politely:
    // SIGKILL needs no freeze, the kernel kills at once).
    const freeze = polite(steps[0]!.sig);
    if (freeze && rootHandle.isAlive()) {
      frozen = true;
      send(rootHandle, SIGSTOP);
    }
    await collect(freeze);
    for (const step of steps) {
      const alive = pinned.all().filter((h) => h.isAlive());
      if (alive.length === 0) break;
      const sentAtMs = now() - t0;
      for (const h of alive) send(h, step.sig);
      if (polite(step.sig) || frozen) for (const h of alive) send(h, SIGCONT);
      frozen = false;
      result.steps.push({ signal: step.name, sentAtMs });
      if (step.sig === SIGKILL) result.forced = true;
      onStep?.({ signal: step.name, sentAtMs, pids: alive.map((h) => h.pid) });
      // Children forked after the members were continued get it too.
      await waitStep(pinned, step, signal, () => collect(false));
      if (pinned.noneAlive()) break;
    }
    return finish(result, pinned, t0);
  } finally {
    // Never leave a frozen tree behind (an abort or error during the freeze).
    pinned.close(frozen);
  }
}
