/**
 * spawnProcess: `child_process.spawn` plus the guarantees a supervisor needs
 * and Node cannot give, because Node cannot run code between fork and exec
 * (NODE-LINUX-FACTS 27). The child is started through `sigkit-exec`, a tiny
 * helper built beside the addon, which in the child, before exec:
 *
 * - resets every signal disposition and the signal mask (realtime signals
 *   too: libuv resets only 1..31);
 * - puts it in its own process group (`group`, default) or session;
 * - joins a fresh cgroup v2 (`cgroup`), so that no descendant can escape;
 * - sets PR_SET_PDEATHSIG (`dieWithParent`) and then checks getppid(), so a
 *   parent that died before the prctl is not missed.
 *
 * `killOnExit` ends the child's whole tree (its cgroup, else its process
 * group, else its descendants) when this thread's JS environment ends: at
 * `process.exit`, at a fatal signal, even at SIGKILL. That last case needs a
 * process that outlives us: a guard (the same helper, `--guard`), one per
 * thread, holding the read end of a pipe whose write end only we have. When
 * we die, the kernel closes it; the guard reads EOF and SIGKILLs what was
 * registered. Pids reach the guard with their start time and are pinned by
 * pidfds there, so a recycled pid is never hit.
 *
 * Threads: PR_SET_PDEATHSIG fires when the *thread* that forked exits, and
 * the guard's pipe belongs to the thread's event loop. So a child spawned
 * from a worker thread with `dieWithParent` or `killOnExit` is ended when
 * that worker ends (or the process dies), the same as a child of the main
 * thread is ended when the process ends: a child belongs to the JS thread
 * that spawned it.
 */
import { spawn, type ChildProcess, type SpawnOptions, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import type { Socket } from 'node:net';
import * as path from 'node:path';
import { assertCgroupNotProtected, cgroupOf, cgroupRoot, cgroupUnavailable, killCgroupNow, makeCgroup, removeCgroup, terminateCgroup, validateCgroupPath } from './cgroup.js';
import { SyscallError, errnoName, invalidArgType, invalidArgValue, type CodedError } from './errors.js';
import type { ExitInfo } from './exit-info.js';
import { native } from './native.js';
import { checkOptions } from './options.js';
import { openProcess, type ProcessHandle } from './pidfd.js';
import { scanGroup } from './proc.js';
import { assertGroupNotProtected } from './protected.js';
import type { SignalLike } from './signals.js';
import { groupHeldBy, pinChildOf, terminateGroup, terminateTree, type TerminateManyResult, type TerminateOptions } from './terminate.js';
import { validateSendSignal } from './validate.js';
import { exitOf } from './wait.js';

const SIGKILL = 9;
const SIGSTOP = 19;

/** Options of {@link spawnProcess}: every `child_process.spawn` option, plus these. */
export interface SpawnProcessOptions extends SpawnOptions {
  /**
   * Signal the child gets when its parent dies (PR_SET_PDEATHSIG): `true` is
   * SIGKILL. "Parent" is the thread that spawned it (see the module notes).
   * One generation only: use `killOnExit` or `cgroup` for the tree.
   */
  dieWithParent?: SignalLike | boolean;
  /** Its own process group (setpgid), pgid = pid. Default true. */
  group?: boolean;
  /** Its own session (setsid; implies its own group, no controlling terminal). Default false. `detached: true` means the same. */
  session?: boolean;
  /**
   * A new cgroup v2, joined before exec: `true` for a child of this
   * process's cgroup, or the absolute path of one to create (or reuse).
   */
  cgroup?: string | boolean;
  /** End the child's tree when this thread's JS environment ends, however it ends (even SIGKILL). Default false. */
  killOnExit?: boolean;
}

/** What {@link spawnProcess} returns. */
export interface SpawnedProcess {
  /** Node's own ChildProcess (streams, events, `kill`). */
  readonly child: ChildProcess;
  readonly pid: number;
  /** Its process group: its own pid with `group` or `session`, else ours. */
  readonly pgid: number;
  /** A pidfd handle on it, opened at once (race-free for our own child). Closed once it has exited. */
  readonly handle: ProcessHandle;
  /** Its cgroup directory (`cgroup` option), or null. */
  readonly cgroup: string | null;
  /** Its exit, exactly (realtime signals named: Node says `code 0`). */
  readonly exit: Promise<ExitInfo>;
  /**
   * Resolves once the command is running (exec succeeded, with its group,
   * cgroup and death signal in place); rejects with the spawn error
   * (ENOENT for a missing command, like `child_process`, which also emits it
   * as the child's `error` event).
   */
  readonly ready: Promise<void>;
  /** The terminate ladder for its cgroup, else its group, else its tree. */
  terminate(opts?: TerminateOptions): Promise<TerminateManyResult>;
}

const OWN_KEYS = ['dieWithParent', 'group', 'session', 'cgroup', 'killOnExit'] as const;
const NODE_KEYS = [
  'cwd', 'env', 'argv0', 'stdio', 'detached', 'uid', 'gid', 'serialization', 'shell',
  'windowsVerbatimArguments', 'windowsHide', 'signal', 'timeout', 'killSignal',
] as const;

function coded(message: string, code: string, fields: Record<string, unknown> = {}): Error & CodedError {
  const e = Object.assign(new Error(message), { code }, fields) as Error & CodedError;
  Error.captureStackTrace?.(e, coded);
  return e;
}

// ---------------------------------------------------------------------------
// Finding the helper

/** node-gyp-build's libc tag: musl on Alpine (or LIBC=musl), else glibc. */
function libcTag(): 'musl' | 'glibc' {
  if (process.env.LIBC === 'musl' || process.env.LIBC === 'glibc') return process.env.LIBC;
  return fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
}

/**
 * Where the helper may be, in the order they are tried: `$SIGKIT_EXEC` alone
 * when set; else build/Release/sigkit-exec, then
 * prebuilds/<platform>-<arch>/sigkit-exec.<glibc|musl>, then sigkit-exec there.
 * @throws never
 * @example
 * helperCandidates()[0]; // '/app/node_modules/sigkit/build/Release/sigkit-exec'
 */
export function helperCandidates(): string[] {
  const root = path.join(__dirname, '..');
  const prebuilds = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  const out: string[] = [];
  // An explicit choice is the only one: a wrong one is an error, not a fallback.
  if (process.env.SIGKIT_EXEC) return [path.resolve(process.env.SIGKIT_EXEC)];
  out.push(
    path.join(root, 'build', 'Release', 'sigkit-exec'),
    path.join(prebuilds, `sigkit-exec.${libcTag()}`),
    path.join(prebuilds, 'sigkit-exec'),
  );
  return out;
}

let helperCache: string | undefined;

/**
 * The path of the `sigkit-exec` helper.
 * @throws Error ERR_SIGKIT_HELPER_MISSING (with `paths`, the places looked at)
 * @example
 * helperPath(); // '/app/node_modules/sigkit/prebuilds/linux-x64/sigkit-exec.glibc'
 */
export function helperPath(): string {
  if (helperCache !== undefined && fs.existsSync(helperCache)) return helperCache;
  const paths = helperCandidates();
  for (const p of paths) {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      helperCache = p;
      return p;
    } catch {
      // next
    }
  }
  throw coded(
    `sigkit's exec helper (sigkit-exec) is missing: spawnProcess cannot give its guarantees without it. ` +
      `Looked in ${paths.join(', ')}. Rebuild with "npm rebuild sigkit" (needs a C compiler) or set SIGKIT_EXEC to its path.`,
    'ERR_SIGKIT_HELPER_MISSING',
    { paths },
  );
}

// ---------------------------------------------------------------------------
// The guard (killOnExit) and the exit handler

type Target =
  | { kind: 'cgroup'; dir: string; created: boolean }
  /** While its leader (`handle`) is unreaped, which keeps the group id from being reused. */
  | { kind: 'group'; pgid: number; handle: ProcessHandle }
  | { kind: 'tree'; pid: number; handle: ProcessHandle };

function guardLine(t: Target): string {
  switch (t.kind) {
    case 'cgroup':
      return `C ${t.dir} ${t.created ? 1 : 0}`;
    case 'group':
      return `G ${t.pgid} ${t.handle.startTime}`;
    case 'tree':
      return `T ${t.pid} ${t.handle.startTime}`;
  }
}

function forgetLine(t: Target): string {
  return t.kind === 'cgroup' ? `- C ${t.dir}` : t.kind === 'group' ? `- G ${t.pgid}` : `- T ${t.pid}`;
}

const targets = new Set<Target>();
let guard: { child: ChildProcess; stdin: Socket } | undefined;
let exitHookInstalled = false;

function startGuard(): void {
  const child = spawn(helperPath(), ['--guard'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const stdin = child.stdin as Socket;
  stdin.on('error', () => {}); // EPIPE when the guard died: handled by 'exit' below
  child.on('error', () => {});
  child.unref();
  stdin.unref();
  guard = { child, stdin };
  child.once('exit', () => {
    if (guard?.child !== child) return;
    guard = undefined;
    if (targets.size === 0) return;
    // Someone ended our guard: start another and tell it everything again.
    process.emitWarning('sigkit: the killOnExit guard process exited; starting a new one', { code: 'SIGKIT_GUARD_RESTARTED' });
    try {
      startGuard();
      for (const t of targets) guard!.stdin.write(`${guardLine(t)}\n`);
    } catch (e) {
      process.emitWarning(`sigkit: killOnExit is not guarded against SIGKILL any more: ${(e as Error).message}`, { code: 'SIGKIT_GUARD_LOST' });
    }
  });
}

function guardWrite(line: string): void {
  if (!guard) startGuard();
  guard!.stdin.write(`${line}\n`);
}

/** SIGKILLs one target now, synchronously (exit handler, fatal signal). */
function killNow(t: Target): void {
  if (t.kind === 'cgroup') {
    killCgroupNow(t.dir);
    return;
  }
  const h = t.handle;
  if (h.closed) return;
  // A group target lives only while its leader is unreaped (a zombie
  // included): the leader holds the group id, so killpg cannot reach a
  // stranger's group. Once the leader is reaped, spawnProcess has turned the
  // members left into tree targets of their own (see memberTargets).
  const group = () => {
    if (t.kind === 'group' && !h.closed && leaderUnreaped(h)) native.killpg(t.pgid, SIGKILL);
  };
  // The tree under the root first (members that left the group with setsid
  // are found this way): stop it (no forks, no reaping), collect, kill.
  if (!h.isAlive()) return group();
  try {
    h.kill(SIGSTOP);
  } catch {
    return group();
  }
  // Each member pinned by a pidfd and kept only if, once pinned, it is
  // still the child of the member it was listed under: a pid reaped and
  // reused in between is a stranger's. Signals go through the pidfds.
  const pinned: ProcessHandle[] = [];
  const walk = (parent: ProcessHandle): void => {
    const kids = native.procChildren(parent.pid);
    if (typeof kids === 'number') return;
    for (const k of kids) {
      if (k <= 1 || pinned.some((p) => p.pid === k)) continue;
      let child: ReturnType<typeof pinChildOf>;
      try {
        child = pinChildOf(parent, k);
      } catch {
        continue; // an exit handler never throws
      }
      if (!child) continue;
      try {
        child.handle.kill(SIGSTOP);
      } catch {
        // exited meanwhile
      }
      pinned.push(child.handle);
      walk(child.handle);
    }
  };
  walk(h);
  try {
    h.kill(SIGKILL);
  } catch {
    // gone
  }
  for (const p of pinned) {
    try {
      p.kill(SIGKILL);
    } catch {
      // gone
    }
    p.close();
  }
  group();
}

/**
 * Ends every killOnExit tree of this thread now. Called at `exit` and by
 * onShutdown before it re-raises a signal (a death by signal runs no `exit`
 * listeners). The guard would do it a moment later; doing it here makes the
 * tree gone before our parent sees us exit.
 * @throws never
 * @example
 * runKillOnExit(); // just before raising a fatal signal
 * @internal
 */
export function runKillOnExit(): void {
  for (const t of targets) {
    try {
      killNow(t);
    } catch {
      // an exit handler never throws
    }
  }
}

function track(t: Target): void {
  targets.add(t);
  guardWrite(guardLine(t));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', runKillOnExit);
  }
}

function untrack(t: Target): void {
  if (!targets.delete(t)) return;
  if (guard) guard.stdin.write(`${forgetLine(t)}\n`);
}

/** The leader has not been reaped: its pidfd still answers (a zombie does). */
function leaderUnreaped(h: ProcessHandle): boolean {
  try {
    h.kill(0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The live members of group `pgid`, each pinned by a pidfd and checked to
 * be in the group once pinned. Called when the leader has just been reaped,
 * in the same turn: the group id is then held by these members (a number in
 * use as a group id is never handed to a new process), so none is a stranger.
 */
function pinGroupMembers(pgid: number): ProcessHandle[] {
  const out: ProcessHandle[] = [];
  let alive: number[];
  try {
    alive = scanGroup(pgid).alive;
  } catch {
    return out;
  }
  const f = new Float64Array(native.procFieldNames.length);
  const iPgid = native.procFieldNames.indexOf('pgid');
  for (const pid of alive) {
    let h: ProcessHandle;
    try {
      h = openProcess(pid);
    } catch {
      continue;
    }
    if (typeof native.procStat(pid, f) === 'string' && f[iPgid] === pgid && h.isAlive()) out.push(h);
    else h.close();
  }
  return out;
}


// ---------------------------------------------------------------------------
// spawnProcess

let cgroupSeq = 0;

function normalizeStdio(stdio: StdioOptions | undefined): unknown[] {
  if (stdio === undefined) return ['pipe', 'pipe', 'pipe'];
  if (typeof stdio === 'string') return [stdio, stdio, stdio];
  if (!Array.isArray(stdio)) throw invalidArgType('options.stdio', 'a string or an array', stdio);
  const out: unknown[] = [...stdio];
  while (out.length < 3) out.push(undefined);
  return out;
}

/** Turns the helper's "E <step> <errno>" into the error a caller expects. */
function setupError(step: string, errno: number, file: string, args: string[], cgroup: string | null): Error {
  if (step === 'exec') {
    // The shape of child_process's own spawn errors.
    const code = errnoName(-errno);
    return Object.assign(new Error(`spawn ${file} ${code}`), { code, errno: -errno, syscall: `spawn ${file}`, path: file, spawnargs: args });
  }
  if (step === 'parent-gone') return coded('the parent exited before the child could set its death signal', 'ERR_SIGKIT_PARENT_GONE');
  const syscall = step === 'cgroup' ? 'write' : step;
  return new SyscallError(syscall, -errno, step === 'cgroup' && cgroup ? { path: path.join(cgroup, 'cgroup.procs') } : {});
}

/**
 * `child_process.spawn` with kernel guarantees: `dieWithParent`, `group`
 * (default true), `session`, `cgroup`, `killOnExit`. Every `spawn` option
 * works as in Node (`shell`, `stdio`, `env`, `cwd`, `signal`, ...). The child
 * is pinned by a pidfd from the start (`handle`), and its exact exit is
 * `exit`. The helper adds one pipe after the given stdio (its status), closed
 * before the command runs.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE (bad arguments, unknown option keys)
 * @throws Error ERR_SIGKIT_HELPER_MISSING (the sigkit-exec helper is not installed: never a silent loss of the guarantees)
 * @throws Error ERR_SIGKIT_CGROUP_UNAVAILABLE (`cgroup` without a writable cgroup v2)
 * @throws Error ERR_SIGKIT_SPAWN_FAILED (the helper could not be started, e.g. a bad `cwd`)
 * @throws SyscallError mkdir EACCES/EROFS (creating the cgroup)
 * @example
 * const sp = spawnProcess('node', ['server.js'], { dieWithParent: true, cgroup: true, killOnExit: true, stdio: 'inherit' });
 * await sp.ready;
 * // ... later: everything it started, however it forked, ends here.
 * await sp.terminate({ graceMs: 5000 });
 */
export function spawnProcess(file: string, args?: readonly string[] | SpawnProcessOptions, opts?: SpawnProcessOptions): SpawnedProcess {
  if (args !== undefined && !Array.isArray(args)) {
    if (opts !== undefined) throw invalidArgType('args', 'an array', args);
    opts = args as SpawnProcessOptions;
    args = [];
  }
  const argv = (args ?? []) as readonly unknown[];
  if (typeof file !== 'string') throw invalidArgType('file', 'of type string', file);
  if (file === '' || file.includes('\0')) throw invalidArgValue('file', file, 'must be a non-empty string without NUL');
  argv.forEach((a, i) => {
    if (typeof a !== 'string') throw invalidArgType(`args[${i}]`, 'of type string', a);
    if (a.includes('\0')) throw invalidArgValue(`args[${i}]`, a, 'must not contain NUL');
  });
  const o = checkOptions<SpawnProcessOptions>(opts, 'options', [...NODE_KEYS, ...OWN_KEYS]);
  for (const k of ['group', 'session', 'killOnExit'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw invalidArgType(`options.${k}`, 'of type boolean', o[k]);
  }
  const session = o.session === true || o.detached === true;
  const group = session || o.group !== false;
  let deathSig = 0;
  if (o.dieWithParent !== undefined && o.dieWithParent !== false) {
    deathSig = o.dieWithParent === true ? SIGKILL : validateSendSignal(o.dieWithParent, 'options.dieWithParent');
    if (deathSig <= 0 || deathSig >= native.nsig) throw invalidArgValue('options.dieWithParent', o.dieWithParent, 'must be a signal (not 0)');
  }
  if (o.cgroup !== undefined && typeof o.cgroup !== 'boolean' && typeof o.cgroup !== 'string') {
    throw invalidArgType('options.cgroup', 'of type boolean or string', o.cgroup);
  }
  if (o.cwd !== undefined) {
    const cwd = String(o.cwd instanceof URL ? o.cwd.pathname : o.cwd);
    if (!fs.existsSync(cwd)) throw new SyscallError('chdir', -2, { path: cwd });
  }
  const helper = helperPath();

  // Node's `shell` option, applied here since the helper is what Node runs.
  let command = file;
  let commandArgs = argv as string[];
  if (o.shell) {
    command = typeof o.shell === 'string' ? o.shell : '/bin/sh';
    commandArgs = ['-c', [file, ...commandArgs].join(' ')];
  }
  const argv0 = o.argv0 ?? command;

  let dir: string | null = null;
  let created = false;
  if (o.cgroup !== undefined && o.cgroup !== false) {
    if (o.cgroup === true) {
      const own = cgroupOf(process.pid);
      if (own === null) throw cgroupUnavailable(cgroupRoot() === null ? 'no cgroup2 file system is mounted' : 'this process is not in the cgroup v2 hierarchy');
      dir = path.join(own, `sigkit-${process.pid}-${native.gettid()}-${++cgroupSeq}`);
    } else {
      dir = validateCgroupPath(o.cgroup, 'options.cgroup');
      // An existing cgroup is ended whole by killOnExit and terminate(): never
      // one that holds this process, an ancestor or PID 1.
      assertCgroupNotProtected(dir);
    }
    created = makeCgroup(dir);
  }

  const stdio = normalizeStdio(o.stdio);
  const statusFd = stdio.length;
  stdio.push('pipe');
  const helperArgs = ['-r', String(statusFd)];
  if (session) helperArgs.push('-s');
  else if (group) helperArgs.push('-g');
  if (dir !== null) helperArgs.push('-c', dir);
  if (deathSig !== 0) helperArgs.push('-d', `${deathSig}:${process.pid}`);
  helperArgs.push('--', command, argv0, ...commandArgs);

  const nodeOpts: Record<string, unknown> = {};
  for (const k of NODE_KEYS) if (k !== 'detached' && k !== 'shell' && k !== 'argv0' && k !== 'stdio' && o[k] !== undefined) nodeOpts[k] = o[k];
  const child = spawn(helper, helperArgs, { ...nodeOpts, stdio: stdio as StdioOptions });
  if (child.pid === undefined) {
    child.once('error', () => {}); // reported here, synchronously, instead
    if (created && dir) removeCgroup(dir);
    throw coded(`could not start ${helper} for ${file}`, 'ERR_SIGKIT_SPAWN_FAILED', { path: helper });
  }
  const pid = child.pid;
  const handle = openProcess(pid);
  const exit = exitOf(child);
  exit.catch(() => {});

  // The status pipe: "ok" just before exec, then EOF when exec succeeded
  // (close-on-exec), or "E <step> <errno>".
  const status = child.stdio[statusFd] as Socket | null;
  const ready = new Promise<void>((resolve, reject) => {
    if (!status) {
      resolve();
      return;
    }
    let text = '';
    status.setEncoding('utf8');
    status.on('data', (d: string) => (text += d));
    status.on('error', () => {});
    status.once('close', () => {
      const m = /^E (\S+) (\d+)$/m.exec(text);
      if (m) {
        const err = setupError(m[1]!, Number(m[2]), file, argv as string[], dir);
        reject(err);
        if (m[1] === 'exec' || child.listenerCount('error') > 0) child.emit('error', err);
      } else if (/^ok$/m.test(text)) {
        resolve();
      } else {
        reject(coded(`${file}: the child ended before it was set up`, 'ERR_SIGKIT_SPAWN_FAILED', { pid }));
      }
    });
  });
  ready.catch(() => {});

  let target: Target | undefined;
  if (o.killOnExit) {
    target = dir !== null ? { kind: 'cgroup', dir, created } : group ? { kind: 'group', pgid: pid, handle } : { kind: 'tree', pid, handle };
    track(target);
  }
  const ownPgid = (() => {
    const f = new Float64Array(native.procFieldNames.length);
    return typeof native.procStat(process.pid, f) === 'string' ? f[native.procFieldNames.indexOf('pgid')]! : 0;
  })();
  // After the leader's exit (group mode): the members it left, pinned in the
  // same turn as the reap, while they still hold the group id.
  let members: ProcessHandle[] = [];
  let memberTargets: Target[] = [];
  child.once('exit', () => {
    if (group && dir === null) members = pinGroupMembers(pid);
    if (target && target.kind === 'group') {
      // The group id is only ours while someone holds it: killOnExit goes on
      // as one tree target per member left (pinned: never a recycled pid).
      untrack(target);
      memberTargets = members.map((h) => ({ kind: 'tree', pid: h.pid, handle: h }) as Target);
      for (const t of memberTargets) track(t);
    } else if (target && target.kind === 'tree') {
      // The root is gone and its children were re-parented away: nothing
      // left to follow. Untracked, so no pidfd is held for nothing.
      untrack(target);
    }
    if (!target || target.kind !== 'cgroup') setImmediate(() => handle.close());
    if (created && dir && !o.killOnExit) removeCgroup(dir); // EBUSY while members live: then it stays
  });
  const reaped = () => child.exitCode !== null || child.signalCode !== null;
  // Exited (a zombie included, whose pid is still ours) or reaped.
  const rootGone = () => reaped() || handle.closed || !handle.isAlive();
  const notFound = (): TerminateManyResult => ({ id: pid, exited: true, forced: false, steps: [], exitedAfterMs: 0, members: [], notFound: true });

  const spawned: SpawnedProcess = {
    child,
    pid,
    pgid: group ? pid : ownPgid,
    handle,
    cgroup: dir,
    exit,
    ready,
    async terminate(topts?: TerminateOptions): Promise<TerminateManyResult> {
      await ready.catch(() => {});
      let r: TerminateManyResult;
      // Never by a number that may name someone else now: a reaped child's
      // pid (tree) is nobody's business of ours, and its group id only while
      // a member we pinned still holds it.
      if (dir !== null) r = await terminateCgroup(dir, { ...topts, remove: created });
      else if (group) {
        assertGroupNotProtected(pid);
        r = !reaped() || groupHeldBy(members, pid) ? await terminateGroup(pid, topts) : notFound();
      } else r = rootGone() ? notFound() : await terminateTree(pid, topts);
      if (r.exited) {
        for (const t of [target, ...memberTargets]) {
          if (!t) continue;
          untrack(t);
          if (t.kind !== 'cgroup') t.handle.close();
        }
        for (const h of members) h.close();
      }
      return r;
    },
  };
  return spawned;
}
