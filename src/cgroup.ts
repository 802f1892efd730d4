/**
 * cgroup v2: the one container a process tree cannot leave. A process that
 * forks, setsid()s, double-forks or re-parents stays in its cgroup, so a
 * cgroup is the exact answer to "this service and everything it started".
 *
 * - `terminateCgroup(path, opts)`: the terminate ladder for every member:
 *   each polite step is sent with the cgroup frozen (cgroup.freeze: nobody
 *   forks while the members are listed and signalled), then thawed (the
 *   SIGCONT of a cgroup); the wait is on `cgroup.events` (`populated 0`,
 *   inotify, no polling); SIGKILL is `cgroup.kill` (Linux 5.14+), atomic for
 *   the whole subtree, with a SIGKILL pass over `cgroup.procs` before that.
 * - helpers used by spawnProcess({ cgroup }): where cgroup v2 is mounted,
 *   which cgroup a process is in, making a child cgroup.
 *
 * The protected set applies: a cgroup that holds this process, an ancestor or
 * PID 1 (directly or in a descendant cgroup) is refused before anything is
 * sent (ERR_SIGKIT_PROTECTED).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { catalogue } from './catalogue.js';
import { SyscallError, invalidArgType, invalidArgValue, isSyscallError, type CodedError } from './errors.js';
import { native } from './native.js';
import { checkOptions } from './options.js';
import { openProcess } from './pidfd.js';
import { runPreStop, validatePreStop } from './prestop.js';
import { protectedError, protectedProcesses } from './protected.js';
import type { SignalLike } from './signals.js';
import { TERMINATE_OPTION_KEYS, type MemberResult, type SentStep, type TerminateManyResult, type TerminateOptions } from './terminate.js';
import { validateSendSignal } from './validate.js';
import { abortError, validateWaitOptions } from './waiting.js';

const SIGKILL = 9;
const SIGCONT = 18;
const SIGSTOP = 19;

/** The errno of a failed fs call, as a negative number (Node's `err.errno`). */
function errnoOf(e: unknown): number {
  const n = (e as { errno?: number }).errno;
  return typeof n === 'number' && n < 0 ? n : -5; // EIO when Node did not say
}

/**
 * `Error [ERR_SIGKIT_CGROUP_UNAVAILABLE]`: no cgroup v2 hierarchy here, or not one we may write.
 * @throws never
 * @example
 * throw cgroupUnavailable('no cgroup2 file system is mounted');
 */
export function cgroupUnavailable(reason: string): Error & CodedError {
  const e = new Error(`cgroup v2 is not available: ${reason}`) as Error & CodedError;
  e.code = 'ERR_SIGKIT_CGROUP_UNAVAILABLE';
  Error.captureStackTrace?.(e, cgroupUnavailable);
  return e;
}

/** Unescapes a mountinfo field (`\040` is a space). */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

interface Mount {
  /** Where it is mounted. */
  point: string;
  /** Which cgroup of the hierarchy is at the mount point ("/" unless bind-mounted). */
  root: string;
}

let mountCache: Mount | null | undefined;

/** The first cgroup2 mount of this mount namespace (read once). */
function cgroup2Mount(): Mount | null {
  if (mountCache !== undefined) return mountCache;
  mountCache = null;
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [fstype] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup2') continue;
    const f = line.slice(0, sep).split(' ');
    mountCache = { point: unescapeMount(f[4]!), root: unescapeMount(f[3]!) };
    break;
  }
  return mountCache;
}

/**
 * Where the cgroup v2 hierarchy is mounted (`/sys/fs/cgroup`, or
 * `/sys/fs/cgroup/unified` on hybrid systems), or null.
 * @throws never
 * @example
 * cgroupRoot(); // '/sys/fs/cgroup/unified'
 */
export function cgroupRoot(): string | null {
  return cgroup2Mount()?.point ?? null;
}

/**
 * The cgroup v2 directory of a process (from /proc/<pid>/cgroup, line `0::`),
 * or null when it has none we can see (gone, no cgroup2 mount, outside it).
 * @throws never
 * @example
 * cgroupOf(process.pid); // '/sys/fs/cgroup/unified/user.slice/...'
 */
export function cgroupOf(pid: number): string | null {
  const m = cgroup2Mount();
  if (!m) return null;
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return null;
  }
  const line = text.split('\n').find((l) => l.startsWith('0::'));
  if (line === undefined) return null;
  let rel = line.slice(3).replace(/ \(deleted\)$/, '');
  if (m.root !== '/') {
    if (rel !== m.root && !rel.startsWith(`${m.root}/`)) return null;
    rel = rel.slice(m.root.length) || '/';
  }
  return path.join(m.point, rel);
}

/** True when `dir` is `parent` or inside it. */
function within(dir: string, parent: string): boolean {
  return dir === parent || dir.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
}

/**
 * Checks a cgroup path: a string, absolute, under the cgroup v2 mount.
 * Returns it normalized (no trailing slash).
 * @throws TypeError ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE; Error ERR_SIGKIT_CGROUP_UNAVAILABLE
 * @example
 * validateCgroupPath('/sys/fs/cgroup/unified/app/'); // '/sys/fs/cgroup/unified/app'
 */
export function validateCgroupPath(value: unknown, name = 'path'): string {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value);
  if (value === '' || value.includes('\0')) throw invalidArgValue(name, value, 'must be a non-empty path');
  if (!path.isAbsolute(value)) throw invalidArgValue(name, value, 'must be an absolute path (a directory of the cgroup v2 hierarchy)');
  const root = cgroupRoot();
  if (root === null) throw cgroupUnavailable('no cgroup2 file system is mounted');
  const dir = path.resolve(value);
  if (!within(dir, root)) throw invalidArgValue(name, value, `must be inside the cgroup v2 hierarchy (${root})`);
  return dir;
}

/**
 * Creates a cgroup directory (and checks it is one: it has cgroup.procs).
 * Returns true when it made it, false when it existed.
 * @throws SyscallError (mkdir: EACCES, EROFS, ...), Error ERR_SIGKIT_CGROUP_UNAVAILABLE
 * @example
 * const created = makeCgroup('/sys/fs/cgroup/unified/app');
 */
export function makeCgroup(dir: string): boolean {
  let made = false;
  try {
    fs.mkdirSync(dir);
    made = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new SyscallError('mkdir', errnoOf(e), { path: dir });
  }
  if (!fs.existsSync(path.join(dir, 'cgroup.procs'))) {
    if (made) fs.rmdirSync(dir);
    throw cgroupUnavailable(`${dir} is not a cgroup v2 directory`);
  }
  return made;
}

/**
 * Removes a cgroup directory and its (empty) child cgroups; false when it still has members (EBUSY).
 * @throws never
 * @example
 * if (!removeCgroup(dir)) console.warn(`${dir} still has processes`);
 */
export function removeCgroup(dir: string): boolean {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
  for (const e of entries) if (e.isDirectory()) removeCgroup(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** The cgroup dir and every descendant cgroup dir. */
function cgroupDirs(dir: string): string[] {
  const out = [dir];
  for (let i = 0; i < out.length; i++) {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(out[i]!, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) if (e.isDirectory()) out.push(path.join(out[i]!, e.name));
  }
  return out;
}

/**
 * Every process in the cgroup and its descendant cgroups (cgroup.procs).
 * @throws SyscallError ENOENT (no such cgroup)
 * @example
 * cgroupMembers('/sys/fs/cgroup/unified/my-service'); // [4242, 4243]
 */
export function cgroupMembers(dir: string): number[] {
  const pids: number[] = [];
  for (const d of cgroupDirs(dir)) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8');
    } catch (e) {
      if (d === dir) throw new SyscallError('open', errnoOf(e), { path: path.join(d, 'cgroup.procs') });
      continue;
    }
    for (const t of text.split('\n')) if (t !== '') pids.push(Number(t));
  }
  return pids;
}

/**
 * `populated` of cgroup.events: true while any process lives in the subtree.
 * @throws never
 * @example
 * cgroupPopulated('/sys/fs/cgroup/unified/app'); // false once it is empty
 */
export function cgroupPopulated(dir: string): boolean {
  try {
    return /^populated 1$/m.test(fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Throws ERR_SIGKIT_PROTECTED when this process, an ancestor or PID 1 is in
 * the cgroup or one of its descendants.
 * @throws Error ERR_SIGKIT_PROTECTED
 * @example
 * assertCgroupNotProtected(dir); // before the first signal
 */
export function assertCgroupNotProtected(dir: string): void {
  for (const [pid, reason] of protectedProcesses()) {
    const cg = cgroupOf(pid);
    if (cg !== null && within(cg, dir)) throw protectedError(`cgroup ${dir}`, pid, reason);
  }
}

function writeControl(dir: string, file: string, text: string): boolean {
  try {
    fs.writeFileSync(path.join(dir, file), text);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGKILLs everything in the cgroup at once (cgroup.kill; a SIGKILL pass over
 * cgroup.procs before Linux 5.14). Synchronous, for exit handlers.
 * Refuses (returns false) when the cgroup holds a protected process.
 * @throws never
 * @example
 * process.on('exit', () => killCgroupNow(dir));
 */
export function killCgroupNow(dir: string): boolean {
  try {
    assertCgroupNotProtected(dir);
  } catch {
    return false;
  }
  if (writeControl(dir, 'cgroup.kill', '1')) return true;
  for (let pass = 0; pass < 50 && cgroupPopulated(dir); pass++) {
    let pids: number[];
    try {
      pids = cgroupMembers(dir);
    } catch {
      return true;
    }
    for (const pid of pids) if (pid > 1 && pid !== process.pid) native.kill(pid, SIGKILL);
  }
  return true;
}

/** Options of {@link terminateCgroup}: every terminate option, plus `remove`. */
export interface TerminateCgroupOptions extends TerminateOptions {
  /** rmdir the cgroup (and its empty child cgroups) once it is empty. Default false. */
  remove?: boolean;
}

/** What terminateCgroup did and saw. `id` is the cgroup's id (the inode of its directory). */
export interface CgroupTerminateResult extends TerminateManyResult {
  path: string;
  /** The cgroup directory was removed (`remove: true`). */
  removed?: boolean;
}

const CGROUP_KEYS = [...TERMINATE_OPTION_KEYS, 'remove'];

interface Step {
  sig: number;
  name: string;
  waitMs: number;
}

/** The ladder from `steps`/`graceMs`, checked as the other terminate functions do. */
function parseSteps(o: TerminateOptions, opts: unknown): Step[] {
  let raw: ReadonlyArray<{ signal: SignalLike; waitMs: number }> = [{ signal: 'SIGTERM', waitMs: 5000 }, { signal: 'SIGKILL', waitMs: 2000 }];
  if (o.steps !== undefined && o.graceMs !== undefined) throw invalidArgValue('options', opts, 'takes steps or graceMs, not both');
  if (o.graceMs !== undefined) raw = [{ signal: 'SIGTERM', waitMs: validateWaitOptions({ timeoutMs: o.graceMs }, 'options.graceMs').timeoutMs }, { signal: 'SIGKILL', waitMs: 2000 }];
  if (o.steps !== undefined) {
    if (!Array.isArray(o.steps)) throw invalidArgType('options.steps', 'an array', o.steps);
    if (o.steps.length === 0) throw invalidArgValue('options.steps', o.steps, 'must have at least one step');
    raw = o.steps;
  }
  return raw.map((s, i) => {
    if (s === null || typeof s !== 'object') throw invalidArgType(`options.steps[${i}]`, 'of type object', s);
    const sig = validateSendSignal(s.signal, `options.steps[${i}].signal`);
    if (sig <= 0 || sig === SIGSTOP) throw invalidArgValue(`options.steps[${i}].signal`, s.signal, 'must be a signal that can end a process (not 0 or SIGSTOP)');
    if (typeof s.waitMs !== 'number' || !Number.isFinite(s.waitMs)) throw invalidArgValue(`options.steps[${i}].waitMs`, s.waitMs, 'must be a finite number of ms >= 0');
    const waitMs = validateWaitOptions({ timeoutMs: s.waitMs }, `options.steps[${i}]`).timeoutMs;
    return { sig, name: catalogue.name(sig), waitMs };
  });
}

/** Resolves true once cgroup.events says `populated 0`, false at the deadline; rejects on abort. */
function emptied(dir: string, ms: number, signal: AbortSignal | undefined, tick: () => void): Promise<boolean> {
  if (!cgroupPopulated(dir)) return Promise.resolve(true);
  if (ms <= 0) return Promise.resolve(false);
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (r: boolean | Error) => {
      if (done) return;
      done = true;
      watcher?.close();
      clearTimeout(timer);
      clearInterval(rescan);
      signal?.removeEventListener('abort', onAbort);
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    const onAbort = () => finish(abortError(signal!));
    let watcher: fs.FSWatcher | undefined;
    try {
      // The kernel notifies (inotify IN_MODIFY) when `populated` changes.
      watcher = fs.watch(path.join(dir, 'cgroup.events'), () => {
        if (!cgroupPopulated(dir)) finish(true);
      });
      watcher.on('error', () => finish(!cgroupPopulated(dir)));
    } catch {
      // Removed under us: empty, or gone.
      finish(!cgroupPopulated(dir));
      return;
    }
    const timer = setTimeout(() => finish(!cgroupPopulated(dir)), ms);
    // Newcomers (forked after the pass) get the step's signal too: this is
    // for them, not for the exit, which the watch reports.
    const rescan = setInterval(tick, 50);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (!cgroupPopulated(dir)) finish(true); // emptied before the watch was set
  });
}

/**
 * The terminate ladder for every process of a cgroup v2 (and of its
 * descendant cgroups). Each polite step freezes the cgroup, signals every
 * member (pinned by a pidfd and re-checked to be in the cgroup), thaws it and
 * sends SIGCONT; a SIGKILL step writes `cgroup.kill`. Each wait ends when
 * `cgroup.events` says `populated 0` (inotify, no polling); members forked
 * during a wait are signalled too. With `remove: true` the directory is
 * removed once empty.
 *
 * A path that names no cgroup resolves `{ notFound: true, exited: true }`.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE (bad path or options: the promise rejects)
 * @throws Error ERR_SIGKIT_PROTECTED (the cgroup holds this process, an ancestor or PID 1)
 * @throws Error ERR_SIGKIT_CGROUP_UNAVAILABLE (no cgroup v2 here)
 * @throws AbortError ABORT_ERR when `signal` aborts (the cgroup is thawed first)
 * @example
 * const r = await terminateCgroup('/sys/fs/cgroup/unified/my-service', { graceMs: 3000, remove: true });
 * r.exited; // true: populated 0
 */
export async function terminateCgroup(cgroupPath: string, opts?: TerminateCgroupOptions): Promise<CgroupTerminateResult> {
  const t0 = performance.now();
  const o = checkOptions<TerminateCgroupOptions>(opts, 'options', CGROUP_KEYS);
  const dir = validateCgroupPath(cgroupPath);
  const steps = parseSteps(o, opts);
  const { signal } = validateWaitOptions({ signal: o.signal });
  const { preStop, preStopTimeoutMs } = validatePreStop(o);
  if (o.onStep !== undefined && typeof o.onStep !== 'function') throw invalidArgType('options.onStep', 'a function', o.onStep);
  if (o.onExit !== undefined && typeof o.onExit !== 'function') throw invalidArgType('options.onExit', 'a function', o.onExit);
  if (o.remove !== undefined && typeof o.remove !== 'boolean') throw invalidArgType('options.remove', 'of type boolean', o.remove);
  if (signal?.aborted) throw abortError(signal);
  const result: CgroupTerminateResult = { id: 0, path: dir, exited: false, forced: false, steps: [], exitedAfterMs: null, members: [] };
  try {
    result.id = fs.statSync(dir).ino;
  } catch {
    return { ...result, exited: true, exitedAfterMs: 0, notFound: true };
  }
  if (!fs.existsSync(path.join(dir, 'cgroup.procs'))) throw invalidArgValue('path', cgroupPath, 'is not a cgroup v2 directory (no cgroup.procs)');
  assertCgroupNotProtected(dir);
  if (preStop) result.preStop = await runPreStop(preStop, preStopTimeoutMs, { target: dir, kind: 'cgroup' }, signal);

  const seen = new Map<number, { comm: string; exitedAfterMs?: number }>();
  let current = new Set<number>();
  const now = () => performance.now() - t0;
  // Lists the members; those gone since the last look are reported as exited.
  const look = (): number[] => {
    let pids: number[];
    try {
      pids = cgroupMembers(dir);
    } catch {
      pids = [];
    }
    const next = new Set(pids);
    for (const pid of current) {
      if (next.has(pid)) continue;
      const m = seen.get(pid);
      if (m && m.exitedAfterMs === undefined) {
        m.exitedAfterMs = now();
        o.onExit?.({ pid, exitedAfterMs: m.exitedAfterMs });
      }
    }
    for (const pid of pids) {
      if (!seen.has(pid)) {
        const comm = native.procStat(pid, new Float64Array(native.procFieldNames.length));
        seen.set(pid, { comm: typeof comm === 'string' ? comm : '' });
      }
    }
    current = next;
    return pids;
  };
  // Signals each member, pinned first so that a pid recycled outside the
  // cgroup is never hit. Returns the pids reached.
  const signalled = new Map<number, number>(); // pid -> last signal sent to it
  const pass = (sig: number, onlyNew: boolean): number[] => {
    const reached: number[] = [];
    for (const pid of look()) {
      if (onlyNew && signalled.get(pid) === sig) continue;
      let h;
      try {
        h = openProcess(pid);
      } catch (e) {
        if (isSyscallError(e)) continue; // gone
        throw e;
      }
      try {
        const cg = cgroupOf(pid);
        if (cg === null || !within(cg, dir)) continue;
        h.kill(sig);
        if (sig !== SIGKILL && sig !== SIGCONT) h.kill(SIGCONT);
        signalled.set(pid, sig);
        reached.push(pid);
      } catch (e) {
        if (!isSyscallError(e)) throw e;
      } finally {
        h.close();
      }
    }
    return reached;
  };
  const canFreeze = fs.existsSync(path.join(dir, 'cgroup.freeze'));
  const frozen = async (): Promise<void> => {
    // Freezing is asynchronous: cgroup.events says `frozen 1` when done.
    const deadline = performance.now() + 200;
    while (performance.now() < deadline && !/^frozen 1$/m.test(fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8'))) {
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  let thawNeeded = false;
  try {
    for (const step of steps) {
      if (!cgroupPopulated(dir)) break;
      if (signal?.aborted) throw abortError(signal);
      assertCgroupNotProtected(dir); // a protected process may have joined since
      const sentAtMs = now();
      let pids: number[];
      if (step.sig === SIGKILL && writeControl(dir, 'cgroup.kill', '1')) {
        pids = look();
      } else if (step.sig !== SIGKILL && canFreeze && writeControl(dir, 'cgroup.freeze', '1')) {
        thawNeeded = true;
        await frozen();
        pids = pass(step.sig, false);
        writeControl(dir, 'cgroup.freeze', '0');
        thawNeeded = false;
      } else {
        pids = pass(step.sig, false);
      }
      result.steps.push({ signal: step.name, sentAtMs } satisfies SentStep);
      if (step.sig === SIGKILL) result.forced = true;
      o.onStep?.({ signal: step.name, sentAtMs, pids });
      const done = await emptied(dir, step.waitMs, signal, () => {
        if (step.sig === SIGKILL) writeControl(dir, 'cgroup.kill', '1');
        pass(step.sig, true);
      });
      if (done) break;
    }
  } finally {
    if (thawNeeded) writeControl(dir, 'cgroup.freeze', '0');
  }
  look();
  if (!cgroupPopulated(dir)) {
    result.exited = true;
    result.exitedAfterMs = now();
    for (const [pid, m] of seen) {
      if (m.exitedAfterMs === undefined) {
        m.exitedAfterMs = result.exitedAfterMs;
        o.onExit?.({ pid, exitedAfterMs: m.exitedAfterMs });
      }
    }
    if (o.remove) result.removed = removeCgroup(dir);
  }
  result.members = [...seen].sort((a, b) => a[0] - b[0]).map(([pid, m]): MemberResult => ({
    pid,
    comm: m.comm,
    exited: !current.has(pid),
    ...(m.exitedAfterMs !== undefined ? { exitedAfterMs: m.exitedAfterMs } : {}),
  }));
  return result;
}
