/**
 * pkill with safety rails: the processes a pgrep-style query matches, minus
 * this process, its ancestors, PID 1 (the protected set, listed as skipped)
 * and kernel threads, each pinned by a pidfd and checked against the start
 * time it was matched with, so a pid recycled between the scan and the
 * signal is never hit. A pattern that matches every process (`/./`, `''`)
 * is refused: "signal everything" is never what a pattern means.
 */
import { invalidArgValue, isSyscallError } from './errors.js';
import { checkOptions } from './options.js';
import { ProcessHandle, openProcess } from './pidfd.js';
import { protectedProcesses, type ProtectedReason } from './protected.js';
import { findProcesses, type ProcessInfo, type ProcessQuery } from './proc.js';
import type { SignalLike } from './signals.js';
import { TERMINATE_OPTION_KEYS, checkTerminateOptions, terminate, type TerminateOptions, type TerminateResult } from './terminate.js';
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
  /** Matched but protected (this process, an ancestor, PID 1): never signalled. */
  skipped?: ProtectedReason;
}

/** This process, its ancestors up to PID 1, and PID 1: never signalled by matching. */
export function protectedPids(): Set<number> {
  return new Set(protectedProcesses().keys());
}

/**
 * True when `pattern` matches every name: it matches the empty string, or
 * each of a set of unrelated one-character strings and a fresh random one
 * (`/./`, `/\w|\W/`). A pattern that names something fails some of them.
 */
function matchesEverything(pattern: string | RegExp): boolean {
  if (typeof pattern === 'string') return pattern === '';
  const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  if (re.test('')) return true;
  const random = Array.from({ length: 12 }, () => String.fromCharCode(0x21 + Math.floor(Math.random() * 94))).join('');
  return ['a', 'Z', '0', '-', ' ', '~', '(', random].every((s) => re.test(s));
}

/**
 * Refuses a query whose pattern matches every process: `name: ''`,
 * `cmdline: ''`, patterns that match the empty string (`/.*\/`, `/(?:)/`,
 * `/^/`) or any character (`/./`). An empty query is refused by findProcesses.
 */
function refuseCatchAll(query: ProcessQuery): void {
  if (query === null || typeof query !== 'object') return; // findProcesses says why
  for (const key of ['name', 'cmdline'] as const) {
    const pattern = query[key];
    if ((typeof pattern === 'string' || pattern instanceof RegExp) && matchesEverything(pattern)) {
      throw invalidArgValue(`query.${key}`, pattern, 'matches every process (it matches any name); name what to signal');
    }
  }
}

function candidates(query: ProcessQuery): { targets: ProcessInfo[]; skipped: MatchResult[] } {
  refuseCatchAll(query);
  const keep = protectedProcesses();
  const targets: ProcessInfo[] = [];
  const skipped: MatchResult[] = [];
  for (const p of findProcesses(query)) {
    if (p.kernelThread) continue;
    const reason = keep.get(p.pid);
    if (reason) skipped.push({ pid: p.pid, comm: p.comm, cmdline: p.cmdline, signalled: false, skipped: reason });
    else targets.push(p);
  }
  return { targets, skipped };
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
 * threads (the protected ones that match are listed with `skipped` and
 * `signalled: false`). `{ dryRun: true }` signals nothing and lists what it would.
 *
 * @throws TypeError ERR_INVALID_ARG_VALUE for an empty query, an unknown field, a pattern that matches every process, an unknown option; ERR_UNKNOWN_SIGNAL
 * @example
 * killMatching({ name: 'my-worker', ppid: supervisor.pid }, 'SIGHUP');
 * killMatching({ cmdline: /--port=8080/ }, 'SIGTERM', { dryRun: true });
 */
export function killMatching(query: ProcessQuery, signal: SignalLike = 'SIGTERM', opts: { dryRun?: boolean } = {}): MatchResult[] {
  const sig = validateSendSignal(signal);
  checkOptions(opts, 'options', ['dryRun']);
  const { targets, skipped } = candidates(query);
  const out: MatchResult[] = [...skipped];
  for (const p of targets) {
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
  return out.sort((a, b) => a.pid - b.pid);
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
 * @throws TypeError ERR_INVALID_ARG_VALUE for an empty query, an unknown field or option, a pattern that matches every process
 * @example
 * const ended = await terminateMatching({ name: 'stale-worker' }, { graceMs: 2000 });
 */
export async function terminateMatching(query: ProcessQuery, opts: TerminateOptions & { dryRun?: boolean } = {}): Promise<TerminateMatchResult[]> {
  checkOptions(opts, 'options', [...TERMINATE_OPTION_KEYS, 'dryRun']);
  const { dryRun, ...terminateOpts } = opts;
  // Checked here, before anything is sent: a typo must not fail per process.
  checkTerminateOptions(terminateOpts);
  const { targets: found, skipped } = candidates(query);
  if (dryRun) return [...skipped, ...found.map((p) => ({ pid: p.pid, comm: p.comm, cmdline: p.cmdline, signalled: false }))].sort((a, b) => a.pid - b.pid);
  const done = await Promise.all(found.map(async (p): Promise<TerminateMatchResult> => {
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
  return [...skipped, ...done].sort((a, b) => a.pid - b.pid);
}

