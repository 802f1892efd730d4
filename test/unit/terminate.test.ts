/**
 * The terminate policy against a fake process table (a fake binding): the
 * holes of issue 11 that a real machine cannot stage on demand.
 * - A child whose pidfd_open comes late, after its parent reaped it and its
 *   pid went to a stranger: the stranger is never pinned nor signalled.
 * - A member that answers EPERM: recorded on that member, the rest of the
 *   tree gets every step, every SIGSTOP is followed by SIGCONT, no pidfd leaks.
 * - An abort signalled from inside onStep, or during the freeze: noticed at
 *   once, and every stopped member is continued.
 * - Unknown option keys and protected targets: refused before any syscall.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { terminate, terminateGroup, terminateTree } from '../../src/terminate.js';
import { rejectionOf } from '../helpers/errors.js';

const FIELDS = ['pid', 'ppid', 'pgid', 'sid', 'ttyNr', 'tpgid', 'flags', 'state', 'threads', 'startTime', 'utime', 'stime', 'rssPages', 'uid', 'gid', 'exitSignal'];

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  startTime: number;
  state: string;
  /** errno (positive) every signal to it fails with. */
  deny?: number;
  /** Signals that end it. */
  diesOn: number[];
}
interface Fd {
  proc: Proc;
  closed: boolean;
  watcher?: (events: number) => void;
}

const h = vi.hoisted(() => {
  const s = {
    procs: new Map<number, Proc>(),
    fds: [] as Fd[],
    /** [pid, signal] of every signal that reached a process. */
    sent: [] as Array<[number, number]>,
    /** Runs just before pidfdOpen(pid) does its work (to stage a reuse). */
    beforeOpen: undefined as ((pid: number) => void) | undefined,
  };
  const alive = (p: Proc) => p.state !== 'Z' && p.state !== 'gone';
  const deliver = (p: Proc, sig: number): number => {
    if (p.state === 'gone') return -3;
    if (p.deny) return -p.deny;
    if (sig === 0) return 0;
    s.sent.push([p.pid, sig]);
    if (!alive(p)) return 0;
    if (sig === 19) p.state = 'T';
    else if (sig === 18 && p.state === 'T') p.state = 'S';
    if (p.diesOn.includes(sig)) {
      p.state = 'Z';
      // Wake the waiters as the kernel would, on the loop.
      for (const fd of s.fds) {
        if (fd.proc === p && fd.watcher) {
          const cb = fd.watcher;
          fd.watcher = undefined;
          setImmediate(() => cb(1));
        }
      }
    }
    return 0;
  };
  const impl = {
    pidfdOpen: (pid: number): unknown => {
      s.beforeOpen?.(pid);
      const p = s.procs.get(pid);
      if (!p || p.state === 'gone') return -3;
      const fd: Fd = { proc: p, closed: false };
      s.fds.push(fd);
      return fd;
    },
    pidfdSendSignal: (fd: Fd, sig: number): number => (fd.closed ? -9 : deliver(fd.proc, sig)),
    pidfdPoll: (fd: Fd): number => (alive(fd.proc) ? 0 : 1),
    pidfdWaitid: (): unknown => 0,
    pidfdGetInfo: (): unknown => -25,
    pidfdWatch: (fd: Fd, cb: (e: number) => void): number => {
      fd.watcher = cb;
      return 0;
    },
    pidfdUnwatch: (fd: Fd): number => ((fd.watcher = undefined), 0),
    pidfdClose: (fd: Fd): number => {
      if (fd.closed) return -9;
      fd.closed = true;
      fd.watcher = undefined;
      return 0;
    },
    procStartTime: (pid: number): number => s.procs.get(pid)?.startTime ?? -2,
    procState: (pid: number): number => {
      const p = s.procs.get(pid);
      return !p || p.state === 'gone' ? -2 : p.state.charCodeAt(0);
    },
    procStat: (pid: number, out: Float64Array): string | number => {
      const p = s.procs.get(pid);
      if (!p || p.state === 'gone') return -2;
      out.fill(0);
      out[0] = p.pid;
      out[1] = p.ppid;
      out[2] = p.pgid;
      out[7] = p.state.charCodeAt(0);
      out[9] = p.startTime;
      return `p${pid}`;
    },
    procChildren: (pid: number): number[] | number => [...s.procs.values()].filter((c) => c.ppid === pid && c.state !== 'gone').map((c) => c.pid),
    procScan: (): unknown => {
      const live = [...s.procs.values()].filter((p) => p.state !== 'gone');
      const out = new Float64Array(live.length * FIELDS.length);
      live.forEach((p, i) => {
        const at = i * FIELDS.length;
        out[at] = p.pid;
        out[at + 1] = p.ppid;
        out[at + 2] = p.pgid;
        out[at + 7] = p.state.charCodeAt(0);
        out[at + 9] = p.startTime;
      });
      return [out, live.map((p) => `p${p.pid}`).join('\0')];
    },
    procCacheClear: (): number => 0,
    clockBoottimeMs: (): number => 1000,
    killpg: (pgid: number, sig: number): number => {
      const members = [...s.procs.values()].filter((p) => p.pgid === pgid && p.state !== 'gone');
      if (members.length === 0) return -3;
      const results = members.map((p) => deliver(p, sig));
      return results.some((r) => r === 0) ? 0 : results[0]!;
    },
  };
  return { s, impl };
});

vi.mock('../../src/native.js', () => {
  const constants: Record<string, unknown> = {
    platformSupported: true, sigrtmin: 34, sigrtmax: 64, nsig: 65, clockTicks: 100, pageSize: 4096, procFieldNames: FIELDS_FOR_MOCK(),
  };
  function FIELDS_FOR_MOCK(): string[] {
    return ['pid', 'ppid', 'pgid', 'sid', 'ttyNr', 'tpgid', 'flags', 'state', 'threads', 'startTime', 'utime', 'stime', 'rssPages', 'uid', 'gid', 'exitSignal'];
  }
  return {
    native: new Proxy(constants, {
      get(target, key: string) {
        if (key in target) return target[key];
        return (h.impl as Record<string, unknown>)[key];
      },
    }),
  };
});

const SIGTERM = 15;
const SIGKILL = 9;
const SIGCONT = 18;
const SIGSTOP = 19;

function add(p: Partial<Proc> & { pid: number; ppid: number }): Proc {
  const proc: Proc = { pgid: p.pid, startTime: 1000 + p.pid, state: 'S', diesOn: [SIGTERM, SIGKILL], ...p };
  h.s.procs.set(proc.pid, proc);
  return proc;
}
const sentTo = (pid: number) => h.s.sent.filter(([p]) => p === pid).map(([, sig]) => sig);

/** Every SIGSTOP a pid got is followed, later, by a SIGCONT. */
function everyStopContinued(pid: number): boolean {
  const sigs = sentTo(pid);
  let stopped = false;
  for (const sig of sigs) {
    if (sig === SIGSTOP) stopped = true;
    if (sig === SIGCONT) stopped = false;
  }
  return !stopped;
}

beforeEach(() => {
  h.s.procs.clear();
  h.s.fds.length = 0;
  h.s.sent.length = 0;
  h.s.beforeOpen = undefined;
  // This process (ppid 1: no ancestors in the fake) and PID 1.
  add({ pid: process.pid, ppid: 1, pgid: process.pid, diesOn: [] });
  add({ pid: 1, ppid: 0, pgid: 1, diesOn: [] });
});

describe('terminateTree against a fake process table', () => {
  it('a child reaped and its pid reused by a stranger before pidfd_open is let go: the stranger gets nothing', async () => {
    add({ pid: 100, ppid: process.pid, startTime: 5000 });
    add({ pid: 101, ppid: 100, startTime: 5001 });
    add({ pid: 200, ppid: 1, startTime: 100 }); // unrelated
    // pidfd_open(101) comes late: 100 has reaped 101, and the pid went to a stranger (child of 200).
    h.s.beforeOpen = (pid) => {
      if (pid !== 101) return;
      h.s.beforeOpen = undefined;
      h.s.procs.set(101, { pid: 101, ppid: 200, pgid: 200, startTime: 6000, state: 'S', diesOn: [SIGTERM, SIGKILL] });
    };
    const r = await terminateTree(100, { graceMs: 50 });
    expect(sentTo(101)).toEqual([]);
    expect(r.members.map((m) => m.pid)).toEqual([100]);
    expect(r.exited).toBe(true);
    expect(h.s.fds.every((fd) => fd.closed)).toBe(true);
  });

  it('a pinned "child" that started before its parent is not the child that was listed', async () => {
    add({ pid: 100, ppid: process.pid, startTime: 5000 });
    // Same ppid, but older than its parent: a stale listing racing a reuse of the parent's child slot.
    add({ pid: 101, ppid: 100, startTime: 10 });
    const r = await terminateTree(100, { graceMs: 50 });
    expect(sentTo(101)).toEqual([]);
    expect(r.members.map((m) => m.pid)).toEqual([100]);
  });

  it('one member answering EPERM is recorded on that member; the rest get every step; every SIGSTOP is continued; no pidfd leaks', async () => {
    add({ pid: 100, ppid: process.pid });
    add({ pid: 101, ppid: 100, deny: 1 });
    add({ pid: 102, ppid: 100, diesOn: [SIGKILL] }); // ignores SIGTERM
    add({ pid: 103, ppid: 102 });
    const r = await terminateTree(100, { steps: [{ signal: 'SIGTERM', waitMs: 30 }, { signal: 'SIGKILL', waitMs: 200 }] });
    expect(r.members.find((m) => m.pid === 101)).toMatchObject({ exited: false, error: { code: 'EPERM', errno: -1, syscall: 'pidfd_send_signal' } });
    expect(sentTo(100)).toEqual([SIGSTOP, SIGTERM, SIGCONT]);
    expect(sentTo(103)).toEqual([SIGSTOP, SIGTERM, SIGCONT]);
    expect(sentTo(102)).toEqual([SIGSTOP, SIGTERM, SIGCONT, SIGKILL]);
    for (const pid of [100, 102, 103]) expect(everyStopContinued(pid)).toBe(true);
    expect(r).toMatchObject({ exited: false, forced: true });
    expect(r.members.filter((m) => m.exited).map((m) => m.pid)).toEqual([100, 102, 103]);
    expect(h.s.fds.every((fd) => fd.closed)).toBe(true);
  });

  it('an abort signalled inside onStep is noticed at once (not after the wait), and nothing is left stopped', async () => {
    add({ pid: 100, ppid: process.pid, diesOn: [SIGKILL] });
    add({ pid: 101, ppid: 100, diesOn: [SIGKILL] });
    const ac = new AbortController();
    const t0 = performance.now();
    const e = await rejectionOf(terminateTree(100, { graceMs: 60_000, signal: ac.signal, onStep: () => ac.abort() }));
    expect(e).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(everyStopContinued(100) && everyStopContinued(101)).toBe(true);
    expect(h.s.fds.every((fd) => fd.closed)).toBe(true);
  });

  it('an abort during the freeze continues every member stopped so far', async () => {
    add({ pid: 100, ppid: process.pid });
    add({ pid: 101, ppid: 100 });
    const ac = new AbortController();
    // The first member to be stopped aborts the call while the freeze goes on.
    h.s.beforeOpen = (pid) => {
      if (pid === 101) ac.abort();
    };
    const e = await rejectionOf(terminateTree(100, { graceMs: 1000, signal: ac.signal }));
    expect(e).toMatchObject({ code: 'ABORT_ERR' });
    expect(sentTo(100)[0]).toBe(SIGSTOP);
    expect(everyStopContinued(100) && everyStopContinued(101)).toBe(true);
    expect(sentTo(100)).not.toContain(SIGTERM);
  });
});

describe('refused before any syscall', () => {
  it.each([
    [() => terminate(100, { grace: 100 } as never), 'options.grace', 'graceMs'],
    [() => terminateTree(100, { graceMS: 100 } as never), 'options.graceMS', 'graceMs'],
    [() => terminateGroup(100, { step: [] } as never), 'options.step', 'steps'],
    [() => terminate(100, { steps: [{ signal: 'SIGTERM', wait: 10 }] } as never), 'options.steps[0].wait', 'waitMs'],
  ])('an unknown option key names itself and the nearest known one (%#)', async (call, key, near) => {
    add({ pid: 100, ppid: process.pid });
    const e = await rejectionOf(call());
    expect(e).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(e.message).toContain(key);
    expect(e.message).toContain(`'${near}'`);
    expect(h.s.sent).toEqual([]);
    expect(h.s.fds).toEqual([]);
  });

  it.each([
    ['terminate(self)', () => terminate(process.pid), 'self'],
    ['terminate(1)', () => terminate(1), 'init'],
    ['terminateTree(self)', () => terminateTree(process.pid), 'self'],
    ['terminateTree(1)', () => terminateTree(1), 'init'],
    ['terminateGroup(own group)', () => terminateGroup(process.pid), 'own-group'],
  ])('%s is ERR_SIGKIT_PROTECTED, nothing opened or sent', async (_name, call, reason) => {
    const e = await rejectionOf(call());
    expect(e).toMatchObject({ code: 'ERR_SIGKIT_PROTECTED', reason });
    expect(h.s.sent).toEqual([]);
    expect(h.s.fds).toEqual([]);
  });

  it('a group that holds an ancestor-like protected member (PID 1 joined it) is refused', async () => {
    add({ pid: 300, ppid: process.pid, pgid: 300 });
    h.s.procs.get(1)!.pgid = 300;
    const e = await rejectionOf(terminateGroup(300));
    expect(e).toMatchObject({ code: 'ERR_SIGKIT_PROTECTED', reason: 'init', pid: 1, pgid: 300 });
    expect(h.s.sent).toEqual([]);
  });
});

describe('terminateGroup against a fake process table', () => {
  it('an EPERM member is recorded; the others are signalled and waited for', async () => {
    add({ pid: 400, ppid: process.pid, pgid: 400 });
    add({ pid: 401, ppid: 400, pgid: 400, deny: 1 });
    add({ pid: 402, ppid: 400, pgid: 400 });
    const r = await terminateGroup(400, { graceMs: 100 });
    expect(r.members.find((m) => m.pid === 401)).toMatchObject({ exited: false, error: { code: 'EPERM' } });
    expect(r.members.filter((m) => m.exited).map((m) => m.pid)).toEqual([400, 402]);
    expect(sentTo(402)).toContain(SIGTERM);
    expect(h.s.fds.every((fd) => fd.closed)).toBe(true);
  });
});
