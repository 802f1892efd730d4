/**
 * Resource usage of a process or a tree: CPU over an interval, exact memory
 * (RSS from `status`, PSS/USS from `smaps_rollup`), swap, storage I/O, fds
 * and threads. Read from /proc without spawning `ps`; each sample is a few
 * small file reads per process.
 */
import { readdirSync, statSync } from 'node:fs';
import { SyscallError, invalidArgType, outOfRange } from './errors.js';
import { native } from './native.js';
import { checkOptions } from './options.js';
import { descendants, type ProcessSummary } from './proc.js';
import { validatePid } from './validate.js';

const ENOENT = 2;
const ESRCH = 3;

/** What {@link processUsage} tells about one process. */
export interface ProcessUsage {
  pid: number;
  /** CPU over the interval, 100 = one CPU busy (a process with 4 busy threads shows 400); null when `intervalMs` is 0. */
  cpuPercent: number | null;
  /** User + system CPU time since the process started, ms. */
  cpuTimeMs: number;
  /** Resident set size, exact (`VmRSS` of /proc/<pid>/status; the stat field is approximate). */
  rssBytes: number;
  /** Proportional set size: shared pages divided among their users (`smaps_rollup`); null when not readable. */
  pssBytes: number | null;
  /** Unique set size: private pages, what exiting would free (`smaps_rollup`); null when not readable. */
  ussBytes: number | null;
  /** Swapped out (`VmSwap`). */
  swapBytes: number;
  /** Bytes read from storage (`read_bytes` of /proc/<pid>/io); null when not readable (another user's process). */
  readBytes: number | null;
  /** Bytes written to storage (`write_bytes`); null when not readable. */
  writeBytes: number | null;
  /** Open file descriptors; null when not readable. */
  fds: number | null;
  threads: number;
}

/** {@link ProcessUsage} summed over a process and its descendants. */
export interface TreeUsage extends Omit<ProcessUsage, 'pid'> {
  /** The root of the tree. */
  pid: number;
  /** How many processes were summed. */
  processes: number;
}

/** Options of {@link processUsage} and {@link treeUsage}. */
export interface UsageOptions {
  /** Over how long to measure CPU, ms (default 100). 0 takes one sample at once and gives `cpuPercent: null`. */
  intervalMs?: number;
  /**
   * Read `smaps_rollup` for PSS and USS (default true). It walks the page
   * tables and costs ~10x all the other reads together; `false` leaves
   * `pssBytes` and `ussBytes` null.
   */
  smaps?: boolean;
}

interface Sample {
  usage: ProcessUsage;
  startTime: number;
  /** CPU time in ns from schedstat (exact), or from stat ticks. */
  cpuNs: number;
  at: number;
}

let fieldBuf: Float64Array | undefined;
let iStart = 0;
let iUtime = 0;
let iStime = 0;
let iThreads = 0;
function stat(pid: number): string | number {
  if (!fieldBuf) {
    const names = native.procFieldNames;
    fieldBuf = new Float64Array(names.length);
    iStart = names.indexOf('startTime');
    iUtime = names.indexOf('utime');
    iStime = names.indexOf('stime');
    iThreads = names.indexOf('threads');
  }
  return native.procStat(pid, fieldBuf);
}

/** The number after `key` (e.g. 'VmRSS:') in a /proc key-value text, or undefined. */
function valueAfter(text: string, key: string): number | undefined {
  const at = text.indexOf(key);
  if (at < 0) return undefined;
  let i = at + key.length;
  while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
  let v = 0;
  let digits = 0;
  for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) {
    v = v * 10 + (c - 48);
    digits++;
  }
  return digits > 0 ? v : undefined;
}

function fdCount(pid: number): number | null {
  // Linux 6.2+ reports the number of open fds as the size of /proc/<pid>/fd:
  // one stat instead of reading the directory.
  try {
    const size = statSync(`/proc/${pid}/fd`).size;
    if (size > 0) return size;
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** One sample of a process, or null when it is gone. Throws for other errors. */
/** The stat fields a sample needs, when a scan just read them. */
type StatFields = Pick<ProcessSummary, 'startTime' | 'cpuTimeMs' | 'threads'>;

function sample(pid: number, exactCpu: boolean, smaps: boolean, known?: StatFields): Sample | null {
  let startTime: number;
  let cpuTimeMs: number;
  let threads: number;
  if (known) {
    ({ startTime, cpuTimeMs, threads } = known);
  } else {
    const comm = stat(pid);
    if (typeof comm === 'number') {
      if (comm === -ENOENT || comm === -ESRCH) return null;
      throw new SyscallError('open', comm, { pid, path: `/proc/${pid}/stat` });
    }
    const f = fieldBuf!;
    startTime = f[iStart]!;
    cpuTimeMs = (f[iUtime]! + f[iStime]!) * (1000 / native.clockTicks);
    threads = f[iThreads]!;
  }
  const at = performance.now();
  // schedstat's run time is in ns (stat's is in 10 ms ticks): read it when an interval is measured.
  const sched = exactCpu ? native.procReadFile(pid, 'schedstat') : -ENOENT;
  const runNs = typeof sched === 'string' ? Number(sched.slice(0, sched.indexOf(' '))) : NaN;
  const cpuNs = Number.isFinite(runNs) ? runNs : cpuTimeMs * 1e6;
  const status = native.procReadFile(pid, 'status');
  if (typeof status === 'number') {
    if (status === -ENOENT || status === -ESRCH) return null;
    throw new SyscallError('open', status, { pid, path: `/proc/${pid}/status` });
  }
  // Kernel threads and zombies have no VmRSS: they hold no user memory.
  const rssBytes = (valueAfter(status, '\nVmRSS:') ?? 0) * 1024;
  const swapBytes = (valueAfter(status, '\nVmSwap:') ?? 0) * 1024;
  let pssBytes: number | null = null;
  let ussBytes: number | null = null;
  // smaps_rollup walks the page tables: by far the dearest read (~0.9 ms for a Node process).
  const rollup = smaps ? native.procReadFile(pid, 'smaps_rollup') : -ENOENT;
  if (typeof rollup === 'string') {
    pssBytes = (valueAfter(rollup, '\nPss:') ?? 0) * 1024;
    ussBytes = ((valueAfter(rollup, '\nPrivate_Clean:') ?? 0) + (valueAfter(rollup, '\nPrivate_Dirty:') ?? 0)) * 1024;
  } else if (smaps && rollup === -ESRCH && rssBytes === 0) {
    // smaps_rollup of a kernel thread or zombie: no mappings at all.
    pssBytes = 0;
    ussBytes = 0;
  }
  let readBytes: number | null = null;
  let writeBytes: number | null = null;
  const io = native.procReadFile(pid, 'io');
  if (typeof io === 'string') {
    readBytes = valueAfter(io, 'read_bytes:') ?? null;
    writeBytes = valueAfter(io, 'write_bytes:') ?? null;
  }
  const usage: ProcessUsage = { pid, cpuPercent: null, cpuTimeMs, rssBytes, pssBytes, ussBytes, swapBytes, readBytes, writeBytes, fds: fdCount(pid), threads };
  return { usage, startTime, cpuNs, at };
}

function validateUsageOptions(opts: unknown): { intervalMs: number; smaps: boolean } {
  const o = checkOptions<UsageOptions>(opts, 'options', ['intervalMs', 'smaps']);
  const ms = o.intervalMs ?? 100;
  if (typeof ms !== 'number') throw invalidArgType('options.intervalMs', 'of type number', ms);
  if (!(ms >= 0) || ms > 0x7fffffff) throw outOfRange('options.intervalMs', '>= 0 and <= 2147483647', ms);
  const smaps = o.smaps ?? true;
  if (typeof smaps !== 'boolean') throw invalidArgType('options.smaps', 'of type boolean', smaps);
  return { intervalMs: ms, smaps };
}

/** Two sampling rounds over `pids` with one wait between: the usages of those present in both. */
async function measure(pids: number[], { intervalMs, smaps }: { intervalMs: number; smaps: boolean }, known?: Map<number, StatFields>): Promise<Map<number, ProcessUsage>> {
  const first = new Map<number, Sample>();
  for (const pid of pids) {
    // The memory of the first sample is not returned when a second follows.
    const s = sample(pid, intervalMs > 0, smaps && intervalMs === 0, known?.get(pid));
    if (s) first.set(pid, s);
  }
  const out = new Map<number, ProcessUsage>();
  if (intervalMs === 0) {
    for (const [pid, s] of first) out.set(pid, s.usage);
    return out;
  }
  await new Promise((r) => setTimeout(r, intervalMs));
  for (const [pid, a] of first) {
    const b = sample(pid, true, smaps);
    // Gone, or the pid now names another process: not measurable.
    if (!b || b.startTime !== a.startTime) continue;
    const elapsedNs = (b.at - a.at) * 1e6;
    b.usage.cpuPercent = elapsedNs > 0 ? Math.max(0, ((b.cpuNs - a.cpuNs) / elapsedNs) * 100) : 0;
    out.set(pid, b.usage);
  }
  return out;
}

/**
 * Resource usage of a process (or of several, measured over one shared
 * interval): CPU percent over `intervalMs` (from the kernel's nanosecond run
 * time, `schedstat`), exact RSS, PSS and USS, swap, storage read/write bytes,
 * open fds, threads. With an array, processes that are gone (or whose pid
 * was recycled during the interval) are left out of the result.
 *
 * @throws SyscallError ESRCH (a single pid that does not exist or exits during the interval)
 * @throws TypeError/RangeError ERR_INVALID_ARG_* (bad pid or options)
 * @example
 * const u = await processUsage(server.pid);
 * console.log(`${u.cpuPercent?.toFixed(1)}% CPU, ${(u.ussBytes ?? 0) / 2 ** 20} MiB private`);
 * const all = await processUsage([a.pid, b.pid], { intervalMs: 0 }); // one sample, cpuPercent null
 */
export function processUsage(pid: number, opts?: UsageOptions): Promise<ProcessUsage>;
export function processUsage(pids: number[], opts?: UsageOptions): Promise<ProcessUsage[]>;
export async function processUsage(pid: number | number[], opts?: UsageOptions): Promise<ProcessUsage | ProcessUsage[]> {
  const o = validateUsageOptions(opts);
  if (Array.isArray(pid)) {
    const pids = [...new Set(pid.map((p, i) => validatePid(p, `pids[${i}]`)))];
    const got = await measure(pids, o);
    return pids.map((p) => got.get(p)).filter((u): u is ProcessUsage => u !== undefined);
  }
  const p = validatePid(pid);
  const got = (await measure([p], o)).get(p);
  if (!got) throw new SyscallError('open', -ESRCH, { pid: p, path: `/proc/${p}/stat` });
  return got;
}

const add = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a + b);

/**
 * {@link processUsage} summed over a process and all its descendants (the
 * tree as it is at the first sample), plus how many processes that is.
 * Nullable fields are null when any member's is.
 *
 * @throws SyscallError ESRCH (no such root process, or it exits during the interval)
 * @throws TypeError/RangeError ERR_INVALID_ARG_* (bad pid or options)
 * @example
 * const t = await treeUsage(supervisor.pid);
 * console.log(`${t.processes} processes, ${t.cpuPercent?.toFixed(0)}% CPU, ${t.rssBytes} bytes resident`);
 */
export async function treeUsage(pid: number, opts?: UsageOptions): Promise<TreeUsage> {
  const p = validatePid(pid);
  const o = validateUsageOptions(opts);
  const tree = descendants(p);
  const pids = [p, ...tree.map((d) => d.pid)];
  // descendants() has just read each member's stat: the first sample reuses it.
  const got = await measure(pids, o, new Map(tree.map((d) => [d.pid, d])));
  const root = got.get(p);
  if (!root) throw new SyscallError('open', -ESRCH, { pid: p, path: `/proc/${p}/stat` });
  const sum: TreeUsage = { ...root, processes: 0, cpuPercent: o.intervalMs === 0 ? null : 0, cpuTimeMs: 0, rssBytes: 0, pssBytes: 0, ussBytes: 0, swapBytes: 0, readBytes: 0, writeBytes: 0, fds: 0, threads: 0 };
  for (const u of got.values()) {
    sum.processes++;
    if (sum.cpuPercent !== null) sum.cpuPercent += u.cpuPercent ?? 0;
    sum.cpuTimeMs += u.cpuTimeMs;
    sum.rssBytes += u.rssBytes;
    sum.pssBytes = add(sum.pssBytes, u.pssBytes);
    sum.ussBytes = add(sum.ussBytes, u.ussBytes);
    sum.swapBytes += u.swapBytes;
    sum.readBytes = add(sum.readBytes, u.readBytes);
    sum.writeBytes = add(sum.writeBytes, u.writeBytes);
    sum.fds = add(sum.fds, u.fds);
    sum.threads += u.threads;
  }
  return sum;
}
