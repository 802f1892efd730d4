/**
 * The protected set: the processes no high-level sigkit call may end.
 *
 * - `self`: this process.
 * - `ancestor`: its parent, the parent's parent, ... (the shell, the
 *   supervisor, the terminal that started it).
 * - `init`: PID 1 as this process sees it, the init of its pid namespace
 *   (in a container, the container's init).
 * - `own-group`: for group targets, this process's own process group
 *   (killpg of it signals this process).
 *
 * A target that is, or contains, one of them is refused before anything is
 * sent with `Error [ERR_SIGKIT_PROTECTED]` (`pid`, `reason`). Matching
 * (pkill) skips them instead, as pkill skips itself. The primitives `kill`,
 * `killpg` and `sigqueue` are primitives: they refuse only the kernel's
 * special values (pid <= 0, pgid <= 1).
 */
import type { CodedError } from './errors.js';
import { native } from './native.js';

/** Why a process is protected. */
export type ProtectedReason = 'self' | 'ancestor' | 'init' | 'own-group';

/** `Error [ERR_SIGKIT_PROTECTED]`: the target is or contains a protected process. */
export interface ProtectedError extends CodedError {
  code: 'ERR_SIGKIT_PROTECTED';
  /** The protected process (for `own-group`, this process). */
  pid: number;
  /** The group asked for, for group targets. */
  pgid?: number;
  reason: ProtectedReason;
}

const WHAT: Record<ProtectedReason, string> = {
  self: 'this process',
  ancestor: 'an ancestor of this process',
  init: 'PID 1, the init of this pid namespace',
  'own-group': "this process's own process group",
};

/** Builds the ERR_SIGKIT_PROTECTED error. */
export function protectedError(target: string, pid: number, reason: ProtectedReason, pgid?: number): ProtectedError {
  const why = reason === 'own-group' || pgid === undefined || pid === pgid
    ? `it is ${WHAT[reason]}`
    : `it holds pid ${pid}, ${WHAT[reason]}`;
  const e = new Error(`sigkit refuses to signal ${target}: ${why}`) as ProtectedError;
  e.code = 'ERR_SIGKIT_PROTECTED';
  e.pid = pid;
  if (pgid !== undefined) e.pgid = pgid;
  e.reason = reason;
  Error.captureStackTrace?.(e, protectedError);
  return e;
}

let fields: Float64Array | undefined;
let iPpid = -1;
let iPgid = -1;
function stat(pid: number): { ppid: number; pgid: number } | null {
  if (!fields) {
    const names = native.procFieldNames;
    fields = new Float64Array(names.length);
    iPpid = names.indexOf('ppid');
    iPgid = names.indexOf('pgid');
  }
  const r = native.procStat(pid, fields);
  if (typeof r === 'number') return null;
  return { ppid: fields[iPpid]!, pgid: fields[iPgid]! };
}

/**
 * This process, its ancestors and PID 1, each with its reason. Read afresh
 * on each call (a re-parented process has new ancestors).
 * @throws never
 * @example
 * protectedProcesses().get(process.ppid); // 'ancestor'
 */
export function protectedProcesses(): Map<number, ProtectedReason> {
  const out = new Map<number, ProtectedReason>([[process.pid, 'self'], [1, 'init']]);
  let pid = process.pid;
  for (let depth = 0; depth < 4096; depth++) {
    const s = stat(pid);
    // Our own ppid comes from the kernel even if /proc is odd.
    const ppid = s ? s.ppid : pid === process.pid ? process.ppid : 0;
    if (ppid <= 1) break;
    if (!out.has(ppid)) out.set(ppid, 'ancestor');
    pid = ppid;
  }
  return out;
}

/** Why `pid` is protected, or null. @throws never @example protectedReason(process.pid) // 'self' */
export function protectedReason(pid: number): ProtectedReason | null {
  return protectedProcesses().get(pid) ?? null;
}

/**
 * Throws ERR_SIGKIT_PROTECTED when `pid` is this process, an ancestor or PID 1.
 * @throws Error ERR_SIGKIT_PROTECTED
 * @example
 * assertNotProtected(target); // before the first signal
 */
export function assertNotProtected(pid: number, what = `pid ${pid}`): void {
  const reason = protectedReason(pid);
  if (reason) throw protectedError(what, pid, reason);
}

/**
 * Throws ERR_SIGKIT_PROTECTED when process group `pgid` is this process's
 * own group, or holds an ancestor or PID 1 (a group id is a leader's pid, so
 * PID 1's group is 1, refused long before: see validatePgid).
 * @throws Error ERR_SIGKIT_PROTECTED
 * @example
 * assertGroupNotProtected(child.pid);
 */
export function assertGroupNotProtected(pgid: number): void {
  const what = `process group ${pgid}`;
  const own = stat(process.pid)?.pgid;
  if (own === pgid) throw protectedError(what, process.pid, 'own-group', pgid);
  for (const [pid, reason] of protectedProcesses()) {
    if (pid === pgid) throw protectedError(what, pid, reason, pgid);
    if (stat(pid)?.pgid === pgid) throw protectedError(what, pid, reason, pgid);
  }
}
