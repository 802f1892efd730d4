import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { arch, release, version as osVersion } from 'node:os';
import { capabilities, readLimits, type Capabilities, type Limit } from '../../capabilities.js';
import { isChildSubreaper } from '../../wait.js';
import { EXIT, bold, dim, json, parse, usageError, type Command, type Io } from '../io.js';

/** A limit in JSON: numbers, `'unlimited'` for RLIM_INFINITY. */
interface LimitRecord {
  soft: number | 'unlimited';
  hard: number | 'unlimited';
}

/** What `sigkit doctor --json` prints. */
export interface DoctorRecord {
  capabilities: Capabilities;
  kernel: { release: string; version: string };
  libc: { family: 'glibc' | 'musl' | 'unknown'; version: string | null };
  node: { version: string; arch: string; napi: string | null };
  limits: { nofile: LimitRecord | null; sigpending: LimitRecord | null };
  /**
   * The pid namespace: its inode (/proc/self/ns/pid), how deep it is nested
   * below the namespace /proc was mounted in (1: the same one), and our pid
   * at each of those levels (NSpid, outermost first).
   */
  pidNamespace: { inode: number | null; depth: number | null; nspid: number[] };
  /** This process is PID 1 of its namespace (init: it must reap orphans and has no default signal actions). */
  pid1: boolean;
  /** This process is a child subreaper (PR_GET_CHILD_SUBREAPER). */
  subreaper: boolean | null;
  /** Our cgroup v2 path (the `0::` line of /proc/self/cgroup), or null. */
  cgroup: string | null;
}

function limitRecord(l: Limit | null): LimitRecord | null {
  if (l === null) return null;
  const v = (n: number) => (n === Infinity ? ('unlimited' as const) : n);
  return { soft: v(l.soft), hard: v(l.hard) };
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

/** glibc from Node's own report (gnu_get_libc_version); musl from the loader it maps, which prints its version. */
function libc(): DoctorRecord['libc'] {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string }; sharedObjects?: string[] } | undefined;
  const glibc = report?.header?.glibcVersionRuntime;
  if (glibc) return { family: 'glibc', version: glibc };
  const loader = report?.sharedObjects?.find((so) => /ld-musl-[^/]*\.so/.test(so));
  if (loader === undefined) return { family: 'unknown', version: null };
  const out = spawnSync(loader, [], { encoding: 'utf8', timeout: 2000 });
  return { family: 'musl', version: /Version\s+(\S+)/.exec(`${out.stderr ?? ''}`)?.[1] ?? null };
}

/**
 * Everything `sigkit doctor` reports, gathered without side effects (the
 * capability probes act on this process and one throwaway child).
 */
export function doctorRecord(): DoctorRecord {
  const limits = readLimits();
  const ns = (() => {
    try {
      return readlinkSync('/proc/self/ns/pid');
    } catch {
      return null;
    }
  })();
  const nspidLine = /^NSpid:\s*(.*)$/m.exec(read('/proc/self/status') ?? '')?.[1];
  const nspid = nspidLine ? nspidLine.trim().split(/\s+/).map(Number) : [];
  const cgroupLine = (read('/proc/self/cgroup') ?? '').split('\n').find((l) => l.startsWith('0::'));
  let subreaper: boolean | null;
  try {
    subreaper = isChildSubreaper();
  } catch {
    subreaper = null;
  }
  return {
    capabilities: { ...capabilities() },
    kernel: { release: release(), version: osVersion() },
    libc: libc(),
    node: { version: process.version, arch: arch(), napi: process.versions.napi ?? null },
    limits: { nofile: limitRecord(limits.nofile), sigpending: limitRecord(limits.sigpending) },
    pidNamespace: { inode: ns ? Number(/\[(\d+)\]/.exec(ns)?.[1] ?? NaN) || null : null, depth: nspid.length || null, nspid },
    pid1: process.pid === 1,
    subreaper,
    cgroup: cgroupLine === undefined ? null : cgroupLine.slice(3),
  };
}

const yes = (io: Io, ok: boolean) => (ok ? 'yes' : bold(io, 'no'));

/** What each capability means for the caller, by its value. */
function meaning(key: keyof Capabilities, value: unknown): string {
  switch (key) {
    case 'pidfd':
      return value ? 'handles are pidfds: a recycled pid is never reached' : 'fallback: pid + start time, re-read before each signal';
    case 'pidfdSendSignal':
      return value ? 'signals go through the pidfd' : 'fallback: kill(2) after an identity check';
    case 'waitidPidfd':
      return value ? 'a child\'s exit is read through its pidfd' : 'fallback: waitid(P_PID, WNOWAIT), checked by start time';
    case 'pidfdInfoExit':
      return value ? 'exit status readable after the reap' : 'exit status only while unreaped (own children)';
    case 'procChildren':
      return value ? 'tree walks read /proc/<pid>/task/<tid>/children' : 'tree walks scan all of /proc';
    case 'subreaper':
      return value ? 'orphans can be adopted and reaped' : 'no PR_SET_CHILD_SUBREAPER';
    case 'cgroup2':
      return value ? 'cgroup v2 mounted here' : 'no cgroup v2';
    case 'fdBudget':
      return 'most fds kept open for caches (1/8 of RLIMIT_NOFILE, <= 1024)';
  }
}

function human(io: Io, r: DoctorRecord): string {
  const lim = (l: LimitRecord | null) => (l === null ? dim(io, 'unknown') : `${l.soft} (hard ${l.hard})`);
  const caps = (Object.keys(r.capabilities) as Array<keyof Capabilities>).map((k): [string, string, string] => {
    const v = r.capabilities[k];
    const shown = typeof v === 'boolean' ? yes(io, v) : v === null ? bold(io, 'none') : String(v);
    return [k, shown, meaning(k, v)];
  });
  const system: Array<[string, string]> = [
    ['kernel', `${r.kernel.release} (${r.kernel.version})`],
    ['libc', r.libc.version ? `${r.libc.family} ${r.libc.version}` : r.libc.family],
    ['node', `${r.node.version} ${r.node.arch}, N-API ${r.node.napi ?? '?'}`],
    ['RLIMIT_NOFILE', lim(r.limits.nofile)],
    ['RLIMIT_SIGPENDING', lim(r.limits.sigpending)],
    ['pid namespace', r.pidNamespace.inode === null ? dim(io, 'unknown') : `${r.pidNamespace.inode}, depth ${r.pidNamespace.depth ?? '?'}${(r.pidNamespace.depth ?? 1) > 1 ? ` (pids ${r.pidNamespace.nspid.join(' / ')}, outermost first)` : ' (that of /proc)'}`],
    ['PID 1', r.pid1 ? 'yes: this process is init of its namespace' : `no (pid ${process.pid})`],
    ['subreaper', r.subreaper === null ? dim(io, 'unknown') : r.subreaper ? 'yes' : 'no'],
    ['cgroup', r.cgroup ?? dim(io, 'none (v1 only, or no /proc)')],
  ];
  const w1 = Math.max(...caps.map(([k]) => k.length), ...system.map(([k]) => k.length));
  const w2 = Math.max(...caps.map(([, v]) => v.length));
  const lines = [
    bold(io, 'capabilities'),
    ...caps.map(([k, v, m]) => `  ${k.padEnd(w1)}  ${v.padEnd(w2)}  ${dim(io, m)}`),
    bold(io, 'system'),
    ...system.map(([k, v]) => `  ${k.padEnd(w1)}  ${v}`),
  ];
  return `${lines.join('\n')}\n`;
}

export const doctor: Command = {
  name: 'doctor',
  summary: 'what this kernel and container let sigkit guarantee (pidfds, limits, namespaces)',
  usage: `sigkit doctor [--json]

  Which guarantees hold here and why: pidfd support part by part (and the
  fallback used where a part is missing), the children file, the
  subreaper, cgroup v2 and the fd budget; then the kernel, libc, Node,
  RLIMIT_NOFILE, RLIMIT_SIGPENDING, the pid namespace (inode and nesting
  depth), whether this process is PID 1, and its subreaper state.
  --json   one record: { capabilities, kernel, libc, node, limits,
           pidNamespace, pid1, subreaper, cgroup }

  Exit 0 (a missing capability is a finding, not a failure), 2 on bad usage.`,
  run(args, io) {
    const { values, positionals } = parse(args, {});
    if (positionals.length > 0) throw usageError(`doctor takes no arguments, got '${positionals[0]}'`);
    const record = doctorRecord();
    if (values.json) json(io, record);
    else io.out(human(io, record));
    return EXIT.OK;
  },
};
