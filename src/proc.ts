/**
 * /proc introspection: one process, every process, children, trees, zombies
 * and pgrep-style matching. The native layer reads and parses `stat` (fast,
 * with the fds kept open between scans, within the fd budget); this module
 * shapes the records and parses `status` and `cmdline` (proc-parse.ts).
 *
 * Every read of many processes goes through `readTable` or `readTree`, which
 * arm the one timer that gives the cached fds back.
 */
import { checkOptions } from './options.js';
import { SyscallError, invalidArgType, invalidArgValue } from './errors.js';
import { catalogue } from './catalogue.js';
import { native } from './native.js';
import { STATE_NAMES, maskToNumbers, parseCmdline, parseStatus, ttyName } from './proc-parse.js';
import { validatePid } from './validate.js';

const ENOENT = 2;
const ESRCH = 3;
const PF_KTHREAD = 0x00200000;
// How long the scan's open stat fds outlive the last scan.
const CACHE_IDLE_MS = 2000;

/** A state letter of /proc/<pid>/stat. */
export type ProcessState = 'R' | 'S' | 'D' | 'Z' | 'T' | 't' | 'X' | 'x' | 'I' | 'K' | 'W' | 'P';

/** Signal masks of a process, as signal names (`'SIGTERM'`, `'SIGRTMIN+3'`). */
export interface SignalMasks {
  /** Pending for the main thread. */
  pending: string[];
  /** Pending for the whole process. */
  shared: string[];
  /** Blocked by the main thread. */
  blocked: string[];
  /** Set to SIG_IGN. */
  ignored: string[];
  /** With a handler installed. */
  caught: string[];
}

/** What one read of /proc/<pid>/stat tells (the cheap fields of `listProcesses`). */
export interface ProcessSummary {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  /** Controlling terminal as ps names it (`'pts/3'`), or null. */
  tty: string | null;
  state: ProcessState;
  /** `'running'`, `'sleeping'`, `'zombie'`, `'stopped'`... */
  stateName: string;
  /** The process name (comm): up to 15 bytes, chosen by the process, any bytes. */
  comm: string;
  /** Effective uid. From the owner of /proc/<pid> here (root for a non-dumpable process); exact in ProcessInfo. */
  uid: number;
  gid: number;
  threads: number;
  /** Start time in clock ticks since boot: with `pid`, identifies the process. */
  startTime: number;
  startedAt: Date;
  /** User + system CPU time, ms. */
  cpuTimeMs: number;
  /**
   * Resident memory, bytes. In `readProcess` (and every `ProcessInfo`) this is
   * `VmRSS` of /proc/<pid>/status, exact. In a `ProcessSummary` from
   * `listProcesses()`, `children` or `descendants` it is stat's rss, which the
   * kernel sums from per-CPU counters without folding them in: off by less
   * than 3 counters x CPUs x max(32, 2 x CPUs) pages (768 KiB with 2 CPUs and
   * 4 KiB pages), exact for kernel threads and zombies (0). Reading `statm`
   * too would double the cost of a scan.
   */
  rssBytes: number;
  /** A kernel thread (PF_KTHREAD): no command line, cannot be signalled usefully. */
  kernelThread: boolean;
}

/** Everything `readProcess` tells: the summary, the command line and the signal masks. */
export interface ProcessInfo extends ProcessSummary {
  /** The arguments, argv[0] first; empty for kernel threads and zombies. */
  cmdline: string[];
  signals: SignalMasks;
}

/** A process tree node. */
export interface ProcessTree extends ProcessSummary {
  children: ProcessTree[];
}

/** A zombie and the two facts needed to get rid of it. */
export interface ZombieInfo {
  pid: number;
  ppid: number;
  comm: string;
  startTime: number;
  /** The parent that must wait() for it (null if it vanished meanwhile). */
  parent: ProcessSummary | null;
  /**
   * The parent has a SIGCHLD handler: `kill -CHLD <ppid>` may make it reap.
   * If false, only the parent's code (or its death, handing the zombie to
   * init) can reap it.
   */
  parentCatchesSIGCHLD: boolean;
}

/** Options of `listProcesses`. */
export interface ListOptions {
  /** Also read `status` and `cmdline` of each process (slower): gives `ProcessInfo`. */
  details?: boolean;
}

/** pgrep-style query: every given field must match. */
export interface ProcessQuery {
  /** comm: exact string, or a RegExp. */
  name?: string | RegExp;
  /** The command line joined by spaces (like `pkill -f`): RegExp, or a string it must contain. */
  cmdline?: RegExp | string;
  /** Effective uid. */
  uid?: number;
  ppid?: number;
  pgid?: number;
  sid?: number;
  /** One state letter or several. */
  state?: ProcessState | ProcessState[];
  /** Started more than this many ms ago. */
  olderThanMs?: number;
  /** Started less than this many ms ago. */
  newerThanMs?: number;
  /** Resident memory (exact VmRSS) of at least this many bytes. */
  minRssBytes?: number;
}

// Indices of the native stat fields, resolved on first use (so that merely
// importing this module needs nothing from the binding).
let F: Record<string, number> | undefined;
let FIELD_COUNT = 0;
let statOut = new Float64Array(0);
function fieldIndex(): Record<string, number> {
  if (F) return F;
  const names = native.procFieldNames;
  const index = Object.fromEntries(names.map((name, i) => [name, i])) as Record<string, number>;
  for (const name of ['pid', 'ppid', 'pgid', 'sid', 'ttyNr', 'flags', 'state', 'threads', 'startTime', 'utime', 'stime', 'rssPages', 'uid', 'gid']) {
    if (index[name] === undefined) throw new Error(`sigkit: native layer lacks the stat field ${name}`);
  }
  FIELD_COUNT = names.length;
  statOut = new Float64Array(FIELD_COUNT);
  return (F = index);
}

let cacheTimer: NodeJS.Timeout | undefined;
// Called after every native call that may have cached fds, failed or not.
function scheduleCacheRelease(): void {
  if (cacheTimer) {
    cacheTimer.refresh();
    return;
  }
  cacheTimer = setTimeout(() => {
    cacheTimer = undefined;
    native.procCacheClear();
  }, CACHE_IDLE_MS);
  cacheTimer.unref();
}

/** Milliseconds since the epoch at boot, for turning start ticks into dates. */
function bootEpochMs(): number {
  return Date.now() - native.clockBoottimeMs();
}

function summary(fields: Float64Array, at: number, comm: string, bootMs: number): ProcessSummary {
  const F = fieldIndex();
  const tick = 1000 / native.clockTicks;
  const startTime = fields[at + F.startTime!]!;
  const state = String.fromCharCode(fields[at + F.state!]!) as ProcessState;
  return {
    pid: fields[at + F.pid!]!,
    ppid: fields[at + F.ppid!]!,
    pgid: fields[at + F.pgid!]!,
    sid: fields[at + F.sid!]!,
    tty: ttyName(fields[at + F.ttyNr!]!),
    state,
    stateName: STATE_NAMES[state] ?? 'unknown',
    comm,
    uid: fields[at + F.uid!]!,
    gid: fields[at + F.gid!]!,
    threads: fields[at + F.threads!]!,
    startTime,
    startedAt: new Date(bootMs + startTime * tick),
    cpuTimeMs: (fields[at + F.utime!]! + fields[at + F.stime!]!) * tick,
    rssBytes: fields[at + F.rssPages!]! * native.pageSize,
    kernelThread: (fields[at + F.flags!]! & PF_KTHREAD) !== 0,
  };
}

function goneError(pid: number, errno: number, file: string): SyscallError {
  // /proc says ENOENT for a pid that is not there: that is "no such process".
  return new SyscallError('open', errno === -ENOENT ? -ESRCH : errno, { pid, path: `/proc/${pid}/${file}` });
}

function statOf(pid: number, bootMs = bootEpochMs()): ProcessSummary {
  fieldIndex();
  const comm = native.procStat(pid, statOut);
  if (typeof comm === 'number') throw goneError(pid, comm, 'stat');
  // A thread id that is not its group's leader: /proc answers for it, but
  // it is not a process (exit_signal -1 marks CLONE_THREAD).
  if (F!.exitSignal !== undefined && statOut[F!.exitSignal] === -1) throw goneError(pid, -ESRCH, 'stat');
  return summary(statOut, 0, comm, bootMs);
}

function masks(fields: ReturnType<typeof parseStatus>['masks']): SignalMasks {
  const names = (hex: string | undefined) => maskToNumbers(hex).filter((n) => n <= catalogue.rtmax).map((n) => catalogue.name(n));
  return {
    pending: names(fields.SigPnd),
    shared: names(fields.ShdPnd),
    blocked: names(fields.SigBlk),
    ignored: names(fields.SigIgn),
    caught: names(fields.SigCgt),
  };
}

function readText(pid: number, file: 'status' | 'cmdline'): string {
  const text = native.procReadFile(pid, file);
  if (typeof text === 'number') throw goneError(pid, text, file);
  return text;
}

function details(base: ProcessSummary): ProcessInfo {
  const status = parseStatus(readText(base.pid, 'status'));
  const cmdline = parseCmdline(readText(base.pid, 'cmdline'));
  return {
    ...base,
    uid: status.uids?.[1] ?? base.uid,
    gid: status.gids?.[1] ?? base.gid,
    threads: status.threads ?? base.threads,
    // Exact; kernel threads and zombies have no VmRSS (and no memory).
    rssBytes: status.vmRssKiB === null ? base.rssBytes : status.vmRssKiB * 1024,
    cmdline,
    signals: masks(status.masks),
  };
}

/**
 * Everything /proc says about one process: ids, state, name, command line,
 * owner, threads, start time, resident memory (VmRSS, exact) and signal
 * masks. Exact for hostile names: a process called `a) Z 1 (b` still reads
 * as what it is.
 *
 * @throws SyscallError ESRCH when there is no such process
 * @throws TypeError/RangeError ERR_INVALID_ARG_* for a bad pid
 * @example
 * const p = readProcess(child.pid);
 * p.state;            // 'S'
 * p.signals.caught;   // ['SIGTERM']
 */
export function readProcess(pid: number): ProcessInfo {
  const p = validatePid(pid);
  const base = statOf(p);
  // A pid reused between the reads would show another start time.
  const info = details(base);
  const again = native.procStat(p, statOut);
  if (typeof again === 'number' || statOut[fieldIndex().startTime!] !== base.startTime) throw goneError(p, -ESRCH, 'stat');
  return info;
}

/**
 * Every process visible in /proc, sorted by pid. By default only what one
 * read of `stat` gives (fast: the fds stay open between calls, closed
 * automatically 2 s after the last call); `{ details: true }` adds the
 * command line, signal masks and exact `rssBytes`. Processes that exit during
 * the scan are left out, never an error (as are those that `hidepid=` hides).
 *
 * A guest in the host's fd table: the cached fds never exceed
 * min(1024, soft RLIMIT_NOFILE / 8) (read at each call), and when the host
 * runs out of fds the cache is given back and the scan runs once more with
 * one fd at a time. The list is complete or the call throws.
 *
 * @throws SyscallError EMFILE/ENFILE when not even one fd is left to read /proc with
 * @throws TypeError ERR_INVALID_ARG_TYPE/ERR_INVALID_ARG_VALUE for bad options
 * @example
 * listProcesses().filter((p) => p.state === 'Z');
 * listProcesses({ details: true }).find((p) => p.cmdline.includes('--serve'));
 */
export function listProcesses(opts?: { details?: false }): ProcessSummary[];
export function listProcesses(opts: { details: true }): ProcessInfo[];
export function listProcesses(opts: ListOptions = {}): ProcessSummary[] | ProcessInfo[] {
  const { details: withDetails } = checkOptions<ListOptions>(opts, 'options', ['details']);
  const all = scan();
  if (!withDetails) return all;
  const out: ProcessInfo[] = [];
  for (const p of all) {
    try {
      out.push(details(p));
    } catch {
      // exited since the scan
    }
  }
  return out;
}

/** One scan of the whole table through the budgeted native reader: [fields, comms]. */
function readTable(): [Float64Array, string] {
  const result = native.procScan();
  scheduleCacheRelease();
  if (typeof result === 'number') throw new SyscallError('open', result, { path: '/proc' });
  return result;
}

function summaries([fields, comms]: [Float64Array, string]): ProcessSummary[] {
  fieldIndex();
  const names = comms.split('\0');
  const bootMs = bootEpochMs();
  const out: ProcessSummary[] = [];
  for (let i = 0, at = 0; at < fields.length; i++, at += FIELD_COUNT) out.push(summary(fields, at, names[i]!, bootMs));
  return out;
}

function scan(): ProcessSummary[] {
  // readdir lists /proc in pid order already; sorting keeps that a promise.
  return summaries(readTable()).sort((a, b) => a.pid - b.pid);
}

/**
 * The live (not zombie) members of a process group, and whether it has any
 * member at all (zombies included), from one budgeted scan: what
 * `terminateGroup` needs, without building a summary per process.
 *
 * @throws SyscallError EMFILE/ENFILE when no fd is left to read /proc with
 * @example
 * const { alive, any } = scanGroup(child.pid);
 */
export function scanGroup(pgid: number): { alive: number[]; any: boolean } {
  const [fields] = readTable();
  const F = fieldIndex();
  const alive: number[] = [];
  let any = false;
  for (let at = 0; at < fields.length; at += FIELD_COUNT) {
    if (fields[at + F.pgid!] !== pgid) continue;
    any = true;
    if (fields[at + F.state!] !== 0x5a) alive.push(fields[at + F.pid!]!); // not 'Z'
  }
  return { alive, any };
}

/**
 * The pids whose parent is `ppid`, from a scan of /proc: the fallback where
 * the kernel has no task/<tid>/children files (CONFIG_PROC_CHILDREN off).
 * @internal
 */
export function pidsWithParent(ppid: number): number[] {
  const [fields] = readTable();
  const F = fieldIndex();
  const out: number[] = [];
  for (let at = 0; at < fields.length; at += FIELD_COUNT) if (fields[at + F.ppid!] === ppid) out.push(fields[at + F.pid!]!);
  return out;
}

/**
 * The pids of the children of every thread of `pid` (task/<tid>/children; a
 * scan where the kernel has no such files), or null when the process is not
 * there. For callers that pin each child themselves (terminateTree): an error
 * such as EMFILE is thrown, never taken for "no children".
 *
 * @throws SyscallError EMFILE/ENFILE (no fd left), or another unexpected errno
 * @example
 * for (const kid of childPidsOf(pid) ?? []) pin(kid);
 */
export function childPidsOf(pid: number): number[] | null {
  const kids = native.procChildren(pid);
  if (Array.isArray(kids)) return kids;
  if (kids === -ENOENT || kids === -ESRCH) {
    // Gone, or a kernel without CONFIG_PROC_CHILDREN: the stat tells which.
    return native.procState(pid) >= 0 ? pidsWithParent(pid) : null;
  }
  throw new SyscallError('open', kids, { pid, path: `/proc/${pid}/task` });
}

/**
 * The descendants of pid up to `depth` levels (0: all), breadth first.
 * `strategy` (tests and bench only): 0 by size, 1 children files, 2 one scan.
 *
 * @throws SyscallError ESRCH when there is no such process; EMFILE/ENFILE when no fd is left
 * @example
 * readTree(pid, 1, 0); // children(pid)
 * @internal
 */
export function readTree(pid: number, depth: number, strategy: 0 | 1 | 2 = 0): ProcessSummary[] {
  const result = native.procTree(pid, depth, strategy);
  scheduleCacheRelease();
  if (typeof result === 'number') {
    if (result === -ENOENT || result === -ESRCH) throw goneError(pid, result, 'stat');
    throw new SyscallError('open', result, { pid, path: `/proc/${pid}/task` });
  }
  return summaries(result);
}

/**
 * The direct children of a process (from /proc/<pid>/task/<tid>/children,
 * without scanning all of /proc; a scan where the kernel has no such files).
 *
 * @throws SyscallError ESRCH when there is no such process; EMFILE/ENFILE when no fd is left
 * @example
 * children(process.pid).map((c) => c.comm);
 */
export function children(pid: number): ProcessSummary[] {
  return readTree(validatePid(pid), 1, 0);
}

/**
 * Every descendant of a process, breadth first (children, grandchildren...).
 * The tree may change while it is read: a process that exits is left out.
 * A tree that is small beside the table is found through children files
 * (cost per descendant); one that is most of the table through one scan
 * (cost per process), whichever is cheaper.
 *
 * @throws SyscallError ESRCH when there is no such process; EMFILE/ENFILE when no fd is left
 * @example
 * descendants(supervisorPid).length;
 */
export function descendants(pid: number): ProcessSummary[] {
  return readTree(validatePid(pid), 0, 0);
}

/**
 * A process and its descendants as a nested tree.
 *
 * @throws SyscallError ESRCH when there is no such process
 * @example
 * const tree = processTree(pid);
 * tree.children[0]?.children.length;
 */
export function processTree(pid: number): ProcessTree {
  const p = validatePid(pid);
  const root: ProcessTree = { ...statOf(p), children: [] };
  const nodes = new Map<number, ProcessTree>([[p, root]]);
  for (const d of descendants(p)) nodes.set(d.pid, { ...d, children: [] });
  for (const node of nodes.values()) {
    if (node !== root) nodes.get(node.ppid)?.children.push(node);
  }
  return root;
}

/**
 * True when the process has exited and its parent has not reaped it (state
 * Z). False for a pid with no process (reaped, never was, or a thread id), as
 * `isAlive` is: "not found" has one shape.
 *
 * @throws SyscallError for an unexpected /proc error (EACCES, EMFILE...), never for a missing process
 * @example
 * if (isZombie(pid)) console.log(`its parent ${readProcess(pid).ppid} must wait() for it`);
 */
export function isZombie(pid: number): boolean {
  const p = validatePid(pid);
  const state = native.procState(p);
  if (state === -ENOENT || state === -ESRCH) return false;
  if (state < 0) throw goneError(p, state, 'stat');
  return state === 0x5a; // 'Z'
}

/**
 * Every zombie, with its parent and whether the parent catches SIGCHLD:
 * the parent must wait() for it; a parent that handles SIGCHLD may do so
 * when nudged with `kill(ppid, 'SIGCHLD')`.
 *
 * @example
 * for (const z of findZombies()) console.log(z.pid, 'waits for', z.ppid, z.parent?.comm);
 */
export function findZombies(): ZombieInfo[] {
  const all = scan();
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const catches = new Map<number, boolean>();
  const out: ZombieInfo[] = [];
  for (const z of all) {
    if (z.state !== 'Z') continue;
    let parentCatches = catches.get(z.ppid);
    if (parentCatches === undefined) {
      const text = z.ppid > 0 ? native.procReadFile(z.ppid, 'status') : -ENOENT;
      parentCatches = typeof text === 'string' && maskToNumbers(parseStatus(text).masks.SigCgt).includes(17);
      catches.set(z.ppid, parentCatches);
    }
    out.push({ pid: z.pid, ppid: z.ppid, comm: z.comm, startTime: z.startTime, parent: byPid.get(z.ppid) ?? null, parentCatchesSIGCHLD: parentCatches });
  }
  return out;
}

const QUERY_KEYS = new Set(['name', 'cmdline', 'uid', 'ppid', 'pgid', 'sid', 'state', 'olderThanMs', 'newerThanMs', 'minRssBytes']);
const STATE_LETTERS = new Set(Object.keys(STATE_NAMES));

// A RegExp without the g/y flags, whose lastIndex would make test() stateful.
function stateless(re: RegExp): RegExp {
  return re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : re;
}

function checkId(q: ProcessQuery, key: 'uid' | 'ppid' | 'pgid' | 'sid'): void {
  const v = q[key];
  if (v === undefined) return;
  if (typeof v !== 'number') throw invalidArgType(`query.${key}`, 'of type number', v);
  if (!Number.isInteger(v) || v < 0) throw invalidArgValue(`query.${key}`, v, 'must be a non-negative integer');
}

/** Validates a query and turns it into a predicate over summaries (details read on demand). */
export function compileQuery(query: ProcessQuery): (p: ProcessSummary, now: number) => boolean {
  if (query === null || typeof query !== 'object' || Array.isArray(query)) throw invalidArgType('query', 'of type object', query);
  const keys = Object.keys(query).filter((k) => (query as Record<string, unknown>)[k] !== undefined);
  if (keys.length === 0) throw invalidArgValue('query', query, 'must name at least one criterion (an empty query would match every process)');
  checkOptions(query, 'query', [...QUERY_KEYS]);
  const { name, cmdline } = query;
  if (name !== undefined && typeof name !== 'string' && !(name instanceof RegExp)) throw invalidArgType('query.name', 'a string or RegExp', name);
  if (cmdline !== undefined && typeof cmdline !== 'string' && !(cmdline instanceof RegExp)) throw invalidArgType('query.cmdline', 'a RegExp or string', cmdline);
  for (const key of ['uid', 'ppid', 'pgid', 'sid'] as const) checkId(query, key);
  const states = query.state === undefined ? undefined : new Set(Array.isArray(query.state) ? query.state : [query.state]);
  if (states) for (const s of states) if (!STATE_LETTERS.has(s)) throw invalidArgValue('query.state', query.state, 'must be state letters (R, S, D, Z, T, t, X, I...)');
  for (const key of ['olderThanMs', 'newerThanMs', 'minRssBytes'] as const) {
    const v = query[key];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0) || v === Infinity)) throw invalidArgValue(`query.${key}`, v, 'must be a finite number >= 0');
  }
  const nameRe = name instanceof RegExp ? stateless(name) : undefined;
  const cmdRe = cmdline instanceof RegExp ? stateless(cmdline) : undefined;
  return (p, now) => {
    if (name !== undefined && (nameRe ? !nameRe.test(p.comm) : p.comm !== name)) return false;
    if (query.ppid !== undefined && p.ppid !== query.ppid) return false;
    if (query.pgid !== undefined && p.pgid !== query.pgid) return false;
    if (query.sid !== undefined && p.sid !== query.sid) return false;
    if (states && !states.has(p.state)) return false;
    const age = now - p.startedAt.getTime();
    if (query.olderThanMs !== undefined && !(age > query.olderThanMs)) return false;
    if (query.newerThanMs !== undefined && !(age < query.newerThanMs)) return false;
    if (query.uid !== undefined) {
      const text = native.procReadFile(p.pid, 'status');
      if (typeof text !== 'string' || parseStatus(text).uids?.[1] !== query.uid) return false;
    }
    if (query.minRssBytes !== undefined) {
      const text = native.procReadFile(p.pid, 'status');
      const kb = typeof text === 'string' ? /\nVmRSS:\s*(\d+)/.exec(text)?.[1] : undefined;
      if (kb === undefined || Number(kb) * 1024 < query.minRssBytes) return false;
    }
    if (cmdline !== undefined) {
      const raw = native.procReadFile(p.pid, 'cmdline');
      if (typeof raw !== 'string') return false;
      const args = parseCmdline(raw);
      // As pgrep -f: a process without a command line is matched by its name.
      const joined = args.length > 0 ? args.join(' ') : p.comm;
      if (cmdRe ? !cmdRe.test(joined) : !joined.includes(cmdline as string)) return false;
    }
    return true;
  };
}

/**
 * pgrep: the processes that match every field of `query`, this process
 * excluded, with full details. An empty query throws (it would match
 * everything).
 *
 * @throws TypeError ERR_INVALID_ARG_VALUE for an empty query or an unknown field; ERR_INVALID_ARG_TYPE for wrong types
 * @example
 * findProcesses({ name: 'node', uid: 1000 });
 * findProcesses({ cmdline: /worker\.js --port=80\d\d/ });
 */
export function findProcesses(query: ProcessQuery): ProcessInfo[] {
  const matches = compileQuery(query);
  const now = Date.now();
  const out: ProcessInfo[] = [];
  for (const p of scan()) {
    if (p.pid === process.pid || !matches(p, now)) continue;
    try {
      out.push(details(p));
    } catch {
      // exited since the scan
    }
  }
  return out;
}
