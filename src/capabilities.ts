/**
 * What this kernel, container and process let sigkit guarantee, probed once
 * per thread. Every probe acts on this process itself or on a throwaway
 * child that exits at once; none signals anything but this process with
 * signal 0.
 *
 * Each pidfd feature has a fallback where its probe says false (see
 * {@link ProcessHandle.kind}); the fallbacks do not need these answers, they
 * react to the errno of the refused call, so a filter installed later still
 * falls back. The answers are for people and tools: `sigkit doctor`.
 */
import { readFileSync } from 'node:fs';
import { native } from './native.js';

const EPERM = 1;
const ENOSYS = 38;
const EINVAL = 22;

/**
 * Which guarantees hold on this system. From {@link capabilities}.
 * @example
 * const { pidfd, fdBudget } = capabilities();
 */
export interface Capabilities {
  /**
   * `pidfd_open(2)` works (Linux 5.3+, not refused by seccomp): handles are
   * pidfds, immune to pid reuse, and exit waits are events. When false,
   * handles are `pid+starttime` (see {@link ProcessHandle.kind}).
   */
  pidfd: boolean;
  /** `pidfd_send_signal(2)` works on a pidfd; when false, signals go through kill(2) after an identity check. */
  pidfdSendSignal: boolean;
  /** `waitid(P_PIDFD)` works (5.4+); when false, a child's exit is read with `waitid(P_PID, WNOWAIT)`. */
  waitidPidfd: boolean;
  /** `PIDFD_INFO_EXIT` (6.15+): a process's exit status stays readable through its pidfd after it was reaped. */
  pidfdInfoExit: boolean;
  /** `/proc/<pid>/task/<tid>/children` exists (CONFIG_PROC_CHILDREN): tree walks read it instead of scanning /proc. */
  procChildren: boolean;
  /** `PR_SET_CHILD_SUBREAPER` is available (3.4+): orphans can be adopted and reaped. */
  subreaper: boolean;
  /** Where cgroup v2 is mounted (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on a hybrid host), else null. */
  cgroup2: string | null;
  /** The most fds sigkit keeps open for caches: min(1024, floor(soft RLIMIT_NOFILE / 8)). */
  fdBudget: number;
}

/** A soft and a hard limit; `Infinity` for unlimited. */
export interface Limit {
  soft: number;
  hard: number;
}

/**
 * `RLIMIT_NOFILE` and `RLIMIT_SIGPENDING` of this process, from
 * /proc/self/limits (null when it cannot be read).
 * @throws never
 * @example
 * readLimits().nofile?.soft; // 1024
 * @internal
 */
export function readLimits(): { nofile: Limit | null; sigpending: Limit | null } {
  let text = '';
  try {
    text = readFileSync('/proc/self/limits', 'latin1');
  } catch {
    // no /proc: both unknown
  }
  const limit = (label: string): Limit | null => {
    const line = text.split('\n').find((l) => l.startsWith(label));
    if (line === undefined) return null;
    const [soft, hard] = line.slice(label.length).trim().split(/\s+/).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
    return Number.isNaN(soft) || Number.isNaN(hard) || soft === undefined || hard === undefined ? null : { soft, hard };
  };
  return { nofile: limit('Max open files'), sigpending: limit('Max pending signals') };
}

/**
 * The fd budget for a soft `RLIMIT_NOFILE`: an eighth of it, at most 1,024,
 * at least 1 (128 when the limit cannot be read, an eighth of the usual 1,024).
 * @throws never
 * @example
 * fdBudgetFor(1024); // 128
 * @internal
 */
export function fdBudgetFor(softNofile: number | null): number {
  if (softNofile === null || Number.isNaN(softNofile)) return 128;
  return Math.max(1, Math.min(1024, Math.floor(softNofile / 8)));
}

/** Undoes the octal escapes of a mountinfo path (`\040` is a space). */
function unescapeMount(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * The first cgroup2 mount point in /proc/self/mountinfo, or null.
 * @throws never
 * @example
 * cgroup2Mount(); // '/sys/fs/cgroup'
 * @internal
 */
export function cgroup2Mount(mountinfo?: string): string | null {
  let text = mountinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/mountinfo', 'latin1');
    } catch {
      return null;
    }
  }
  for (const line of text.split('\n')) {
    // "36 25 0:30 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw": the
    // optional fields end at " - ", then the filesystem type.
    const dash = line.indexOf(' - ');
    if (dash < 0 || line.slice(dash + 3).split(' ')[0] !== 'cgroup2') continue;
    const mountPoint = line.slice(0, dash).split(' ')[4];
    if (mountPoint !== undefined) return unescapeMount(mountPoint);
  }
  return null;
}

// Errnos that mean "refused by this kernel or by a seccomp filter", as
// opposed to a real answer about the process asked about.
const refused = (r: number): boolean => r === -ENOSYS || r === -EPERM;

interface PidfdProbe {
  pidfd: boolean;
  pidfdSendSignal: boolean;
  waitidPidfd: boolean;
}

let pidfdProbe: PidfdProbe | undefined;
let cached: Readonly<Capabilities> | undefined;

/** pidfd_open, pidfd_send_signal and waitid(P_PIDFD) on this process's own pid. */
function probePidfd(): PidfdProbe {
  if (pidfdProbe !== undefined) return pidfdProbe;
  const fd = native.pidfdOpen(process.pid);
  if (typeof fd === 'number') {
    pidfdProbe = { pidfd: false, pidfdSendSignal: false, waitidPidfd: false };
    return pidfdProbe;
  }
  try {
    // Signal 0 to ourselves: always permitted, so any error is a refusal.
    const send = native.pidfdSendSignal(fd, 0);
    // We are not our own child: ECHILD is the answer of a kernel that knows P_PIDFD.
    const w = native.pidfdWaitid(fd, true);
    const waitid = typeof w === 'object' || (!refused(w) && w !== -EINVAL);
    pidfdProbe = { pidfd: true, pidfdSendSignal: send === 0, waitidPidfd: waitid };
  } finally {
    native.pidfdClose(fd);
  }
  return pidfdProbe;
}

/**
 * True when `pidfd_send_signal` works here; false when the kernel or a filter
 * refuses it (an EPERM from it is then no answer about permission).
 * @throws never
 * @example
 * if (r === -EPERM && !pidfdSendSignalWorks()) fallBackToKill();
 * @internal
 */
export function pidfdSendSignalWorks(): boolean {
  return probePidfd().pidfdSendSignal;
}

/**
 * Which guarantees hold on this system: pidfds and their parts, the
 * children file, the subreaper, cgroup v2 and the fd budget. Probed on the
 * first call (on this process's own pid, and one throwaway child that exits
 * at once, for `pidfdInfoExit`), then the same frozen object.
 *
 * Where a pidfd feature is false sigkit falls back rather than fails:
 * handles identify a process by (pid, start time), re-read right before
 * each signal; exit waits follow SIGCHLD for this process's own children and
 * an adaptive /proc poll (1 ms, doubling to 50 ms) for others.
 *
 * @throws never (a probe that fails answers false)
 * @example
 * const caps = capabilities();
 * if (!caps.pidfd) console.warn('no pidfds: pid reuse is checked by start time only');
 */
export function capabilities(): Readonly<Capabilities> {
  if (cached !== undefined) return cached;
  const p = probePidfd();
  const children = native.threadChildren();
  cached = Object.freeze({
    pidfd: p.pidfd,
    pidfdSendSignal: p.pidfdSendSignal,
    waitidPidfd: p.waitidPidfd,
    pidfdInfoExit: p.pidfd && native.pidfdInfoExitProbe() === 1,
    procChildren: Array.isArray(children),
    subreaper: native.prctlGetChildSubreaper() >= 0,
    cgroup2: cgroup2Mount(),
    fdBudget: fdBudgetFor(readLimits().nofile?.soft ?? null),
  });
  return cached;
}

/**
 * Forgets the probed answers (tests that swap the binding).
 * @throws never
 * @example
 * resetCapabilities();
 * @internal
 */
export function resetCapabilities(): void {
  pidfdProbe = undefined;
  cached = undefined;
}
