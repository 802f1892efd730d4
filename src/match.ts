/**
 * pkill with safety rails: the processes a pgrep-style query matches, minus
 * this process, its ancestors, PID 1 and kernel threads, each pinned by a
 * pidfd and checked against the start time it was matched with, so a pid
 * recycled between the scan and the signal is never hit.
 */
import { invalidArgType, isSyscallError } from './errors.js';
import { native } from './native.js';
import { ProcessHandle, openProcess } from './pidfd.js';
import { findProcesses, type ProcessInfo, type ProcessQuery } from './proc.js';
import type { SignalLike } from './signals.js';
import { terminate, type TerminateOptions, type TerminateResult } from './terminate.js';
import { validateSendSignal } from './validate.js';

/** What happened to one matched process. */
export interface MatchResult {
  pid: number;
  comm: string;
  cmdline: string[];
  /** The signal went out (false in a dry run, or when it failed: see `error`). */
  signalled: boolean;
  /** Why it could not be signalled: 'ESRCH' (gone), 'EPERM', 'RECYCLED' (the pid now names another process). */
  error?: string;
}

/** This process, its ancestors up to PID 1, and PID 1: never matched. */
export function protectedPids(): Set<number> {
  const out = new Set<number>([1, process.pid]);
  const fields = new Float64Array(native.procFieldNames.length);
  const iPpid = native.procFieldNames.indexOf('ppid');
  let pid = process.pid;
  for (let depth = 0; depth < 4096 && pid > 1; depth++) {
    const r = native.procStat(pid, fields);
    if (typeof r === 'number') break;
    pid = fields[iPpid]!;
    if (pid > 0) out.add(pid);
  }
  return out;
}

function candidates(query: ProcessQuery): ProcessInfo[] {
  const keep = protectedPids();
  return findProcesses(query).filter((p) => !keep.has(p.pid) && !p.kernelThread);
}

/** Opens a pidfd and checks it is the process that was matched (same start time). */
function pin(p: ProcessInfo): ProcessHandle | string {
  let h: ProcessHandle;
  try {
    h = openProcess(p.pid);
  } catch (e) {
    if (isSyscallError(e)) return e.code;
    throw e;
  }
  if (h.startTime !== p.startTime) {
    h.close();
    return 'RECYCLED';
  }
  return h;
}

/**
 * pkill: sends `signal` to every process matching `query` (see
 * `findProcesses`), never to this process, its ancestors, PID 1 or kernel
 * threads. `{ dryRun: true }` signals nothing and lists what it would.
 *
 * @throws TypeError ERR_INVALID_ARG_VALUE for an empty query or an unknown field, ERR_UNKNOWN_SIGNAL
 * @example
 * killMatching({ name: 'my-worker', ppid: supervisor.pid }, 'SIGHUP');
 * killMatching({ cmdline: /--port=8080/ }, 'SIGTERM', { dryRun: true });
 */
export function killMatching(query: ProcessQuery, signal: SignalLike = 'SIGTERM', opts: { dryRun?: boolean } = {}): MatchResult[] {
  const sig = validateSendSignal(signal);
  if (opts === null || typeof opts !== 'object') throw invalidArgType('options', 'of type object', opts);
  const out: MatchResult[] = [];
  for (const p of candidates(query)) {
    const base = { pid: p.pid, comm: p.comm, cmdline: p.cmdline };
    if (opts.dryRun) {
      out.push({ ...base, signalled: false });
      continue;
    }
    const h = pin(p);
    if (typeof h === 'string') {
      out.push({ ...base, signalled: false, error: h });
      continue;
    }
    try {
      h.kill(sig);
      out.push({ ...base, signalled: true });
    } catch (e) {
      if (!isSyscallError(e)) throw e;
      out.push({ ...base, signalled: false, error: e.code });
    } finally {
      h.close();
    }
  }
  return out;
}

/** What `terminateMatching` did for each matched process. */
export interface TerminateMatchResult extends MatchResult {
  result?: TerminateResult;
}

/**
 * pkill with escalation: `terminate` (SIGTERM, wait, SIGKILL) every process
 * matching `query`, all at once, with the same safety rails as
 * `killMatching`. `{ dryRun: true }` lists them without signalling.
 *
 * @throws TypeError ERR_INVALID_ARG_VALUE for an empty query or an unknown field
 * @example
 * const ended = await terminateMatching({ name: 'stale-worker' }, { graceMs: 2000 });
 */
export async function terminateMatching(query: ProcessQuery, opts: TerminateOptions & { dryRun?: boolean } = {}): Promise<TerminateMatchResult[]> {
  if (opts === null || typeof opts !== 'object') throw invalidArgType('options', 'of type object', opts);
  const { dryRun, ...terminateOpts } = opts;
  const found = candidates(query);
  if (dryRun) return found.map((p) => ({ pid: p.pid, comm: p.comm, cmdline: p.cmdline, signalled: false }));
  return Promise.all(found.map(async (p): Promise<TerminateMatchResult> => {
    const base = { pid: p.pid, comm: p.comm, cmdline: p.cmdline };
    const h = pin(p);
    if (typeof h === 'string') return { ...base, signalled: false, error: h };
    try {
      const result = await terminate(h, terminateOpts);
      return { ...base, signalled: result.steps.length > 0, result };
    } catch (e) {
      if (!isSyscallError(e)) throw e;
      return { ...base, signalled: false, error: e.code };
    } finally {
      h.close();
    }
  }));
}

