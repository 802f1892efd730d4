/**
 * The pidfd and wait policy against a fake binding: errno handling, the
 * retry on a dying pid, identity verification in openProcess, how waits end
 * (and that every end disarms and closes), exitOf's fallbacks, the reaping
 * pass's exclusions, and the reaper's scheduling.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
// vi.mock below is hoisted above this import by vitest.
import { SyscallError } from '../../src/errors.js';
import { openProcess } from '../../src/pidfd.js';
import { exitOf, isChildSubreaper, reapChildren, setChildSubreaper, startReaper, waitForExit, waitpid } from '../../src/wait.js';
import { errorOf, rejectionOf } from '../helpers/errors.js';

interface FakeFd {
  pid: number;
  closed: boolean;
  watcher?: (events: number) => void;
  watches: number;
  unwatches: number;
}
interface FakeWatch {
  cb: (signo: number) => void;
  closed: boolean;
  ref: boolean;
}

const h = vi.hoisted(() => {
  const calls: string[] = [];
  const fds: FakeFd[] = [];
  const watches: FakeWatch[] = [];
  const defaults = () => ({
    pidfdOpen: (pid: number): unknown => {
      const fd: FakeFd = { pid, closed: false, watches: 0, unwatches: 0 };
      fds.push(fd);
      return fd;
    },
    pidfdSendSignal: (_fd: FakeFd, _sig: number): number => 0,
    pidfdPoll: (_fd: FakeFd): number => 0,
    pidfdWaitid: (_fd: FakeFd, _noWait: boolean): unknown => 0,
    pidfdGetInfo: (_fd: FakeFd): unknown => -25, // ENOTTY: a kernel before 6.13
    pidfdWatch: (fd: FakeFd, cb: (e: number) => void): number => {
      fd.watcher = cb;
      fd.watches++;
      return 0;
    },
    pidfdUnwatch: (fd: FakeFd): number => {
      fd.watcher = undefined;
      fd.unwatches++;
      return 0;
    },
    pidfdClose: (fd: FakeFd): number => {
      if (fd.closed) return -9;
      fd.closed = true;
      fd.watcher = undefined;
      return 0;
    },
    procStartTime: (_pid: number): number => 4242,
    procState: (_pid: number): number => 'S'.charCodeAt(0),
    waitpid: (_pid: number, _noHang: boolean): unknown => 0,
    prctlSetChildSubreaper: (_on: boolean): number => 0,
    prctlGetChildSubreaper: (): number => 0,
    gettid: (): number => 1,
    threadChildren: (): unknown => [],
    // A /proc scan: [fields (15 per process, procFieldNames order), comms joined by NUL].
    procScan: (): unknown => [new Float64Array(0), ''],
    procCacheClear: (): number => 0,
    clockBoottimeMs: (): number => 1000,
    loopChildPids: (): number[] => [],
    sigchldWatch: (cb: (signo: number) => void): unknown => {
      const w: FakeWatch = { cb, closed: false, ref: false };
      watches.push(w);
      return w;
    },
    sigchldRef: (w: FakeWatch, ref: boolean): number => ((w.ref = ref), 0),
    sigchldClose: (w: FakeWatch): number => ((w.closed = true), 0),
  });
  const impl: Record<string, (...args: never[]) => unknown> = defaults();
  const reset = (): void => {
    calls.length = 0;
    fds.length = 0;
    watches.length = 0;
    Object.assign(impl, defaults());
  };
  return { calls, fds, watches, impl, reset };
});

vi.mock('../../src/native.js', () => {
  const constants: Record<string, unknown> = {
    platformSupported: true, sigrtmin: 34, sigrtmax: 64, nsig: 65, clockTicks: 100, pageSize: 4096,
    procFieldNames: ['pid', 'ppid', 'pgid', 'sid', 'ttyNr', 'tpgid', 'flags', 'state', 'threads', 'startTime', 'utime', 'stime', 'rssPages', 'uid', 'gid'],
  };
  return {
    native: new Proxy(constants, {
      get(target, key: string) {
        if (key in target) return target[key];
        const fn = h.impl[key];
        if (!fn) return undefined;
        return (...args: unknown[]) => {
          const shown = args.filter((a) => typeof a === 'number' || typeof a === 'boolean');
          h.calls.push([key, ...shown].join(' '));
          return (fn as (...a: unknown[]) => unknown)(...args);
        };
      },
    }),
  };
});

const POLLIN = 1;
const exit = (over: Partial<{ pid: number; code: number | null; signal: number | null; core: boolean }> = {}) => ({ pid: 100, code: 0, signal: null, core: false, ...over });



const flush = () => new Promise<void>((r) => setImmediate(r));

beforeEach(() => h.reset());
afterEach(() => vi.useRealTimers());

describe('openProcess', () => {
  it('opens, reads starttime, then checks the pidfd still names an unreaped process', () => {
    const p = openProcess(100);
    expect(p).toMatchObject({ pid: 100, startTime: 4242 });
    expect(h.calls).toEqual(['pidfdOpen 100', 'procStartTime 100', 'pidfdSendSignal 0']);
    expect(h.fds[0]!.closed).toBe(false);
  });

  it('EPERM on the check still means the process is there', () => {
    h.impl.pidfdSendSignal = () => -1;
    expect(openProcess(100).startTime).toBe(4242);
  });

  it.each([
    ['reaped after the stat read', () => ((h.impl.pidfdSendSignal = () => -3), undefined), { code: 'ESRCH', syscall: 'pidfd_open', pid: 100 }],
    ['reaped before the stat read', () => ((h.impl.procStartTime = () => -2), undefined), { code: 'ESRCH', syscall: 'pidfd_open' }],
    ['stat unreadable', () => ((h.impl.procStartTime = () => -5), undefined), { code: 'EIO', syscall: 'open', path: '/proc/100/stat' }],
  ])('%s: throws and closes the pidfd', (_what, arrange, want) => {
    arrange();
    expect(errorOf(() => openProcess(100))).toMatchObject({ name: 'SyscallError', ...want });
    expect(h.fds[0]!.closed).toBe(true);
  });

  it('ESRCH from pidfd_open', () => {
    h.impl.pidfdOpen = () => -3;
    expect(errorOf(() => openProcess(100))).toMatchObject({ code: 'ESRCH', errno: -3, syscall: 'pidfd_open', pid: 100 });
  });

  it('EINVAL for a pid being reaped: /proc says it is gone, so ESRCH', () => {
    h.impl.pidfdOpen = () => -22;
    h.impl.procState = () => -2;
    expect(errorOf(() => openProcess(100))).toMatchObject({ code: 'ESRCH' });
  });

  it('EINVAL that clears on retry (a dying pid settles) opens', () => {
    let n = 0;
    const real = h.impl.pidfdOpen!;
    h.impl.pidfdOpen = ((pid: number) => (n++ === 0 ? -22 : (real as (p: number) => unknown)(pid))) as never;
    expect(openProcess(100).pid).toBe(100);
    expect(h.calls.filter((c) => c.startsWith('pidfdOpen'))).toHaveLength(2);
  });

  it('ENOENT that persists while /proc shows the pid (a thread id) is thrown after a few tries', () => {
    h.impl.pidfdOpen = () => -2;
    expect(errorOf(() => openProcess(100))).toMatchObject({ code: 'ENOENT', syscall: 'pidfd_open', pid: 100 });
    expect(h.calls.filter((c) => c.startsWith('pidfdOpen'))).toHaveLength(4);
  });

  it('other errors are thrown as they are', () => {
    h.impl.pidfdOpen = () => -24;
    expect(errorOf(() => openProcess(100))).toMatchObject({ code: 'EMFILE', syscall: 'pidfd_open' });
  });
});

describe('ProcessHandle', () => {
  it('kill maps errno with the signal name', () => {
    const p = openProcess(100);
    // EPERM for the target only: signal 0 to ourselves (the capability probe) works.
    h.impl.pidfdSendSignal = (fd: FakeFd) => (fd.pid === 100 ? -1 : 0);
    expect(errorOf(() => p.kill('SIGRTMIN+2'))).toMatchObject({ code: 'EPERM', syscall: 'pidfd_send_signal', pid: 100, signal: 'SIGRTMIN+2' });
    expect(h.calls).toContain('pidfdSendSignal 36');
  });

  it('isAlive remembers an exit and polls no more', () => {
    const p = openProcess(100);
    expect(p.isAlive()).toBe(true);
    h.impl.pidfdPoll = () => POLLIN;
    expect(p.isAlive()).toBe(false);
    h.calls.length = 0;
    expect(p.isAlive()).toBe(false);
    expect(h.calls).toEqual([]);
  });

  it('waiters share one watch; a waiter leaving keeps it; the last one leaving stops it', async () => {
    vi.useFakeTimers();
    const p = openProcess(100);
    const fd = h.fds[0]!;
    const short = p.exited({ timeoutMs: 10 }).catch((e: Error & { code: string }) => e.code);
    const long = p.exited();
    expect(fd.watches).toBe(1);
    vi.advanceTimersByTime(10);
    expect(await short).toBe('ERR_SIGKIT_TIMEOUT');
    expect(fd.unwatches).toBe(0);
    fd.watcher!(POLLIN);
    await long;
    expect(p.isAlive()).toBe(false);
    const ac = new AbortController();
    // Exited: later waits resolve without a watch.
    await p.exited({ signal: ac.signal });
    expect(fd.watches).toBe(1);
  });

  it('a failing poll rejects every waiter; a failing watch rejects the call', async () => {
    const p = openProcess(100);
    const a = p.exited();
    const b = p.exited();
    h.fds[0]!.watcher!(-5);
    for (const e of [await rejectionOf(a), await rejectionOf(b)]) expect(e).toMatchObject({ code: 'EIO', syscall: 'poll', pid: 100 });
    h.impl.pidfdWatch = () => -12;
    expect(await rejectionOf(p.exited())).toMatchObject({ code: 'ENOMEM', syscall: 'epoll_ctl' });
  });

  it('close stops the watch once and closes the pidfd once', async () => {
    const p = openProcess(100);
    const waiting = p.exited();
    p.close();
    p.close();
    expect(await rejectionOf(waiting)).toMatchObject({ code: 'EBADF' });
    expect(h.calls.filter((c) => c === 'pidfdClose')).toHaveLength(1);
  });
});

describe('waitForExit', () => {
  it('ESRCH: true without a watch', async () => {
    h.impl.pidfdOpen = () => -3;
    expect(await waitForExit(100)).toBe(true);
    expect(h.calls).toEqual(['pidfdOpen 100']);
  });

  it('already readable: true, pidfd closed', async () => {
    h.impl.pidfdPoll = () => POLLIN;
    expect(await waitForExit(100)).toBe(true);
    expect(h.fds[0]).toMatchObject({ closed: true, watches: 0 });
  });

  it('timeoutMs 0: false at once, pidfd closed', async () => {
    expect(await waitForExit(100, { timeoutMs: 0 })).toBe(false);
    expect(h.fds[0]).toMatchObject({ closed: true, watches: 0 });
  });

  it('the event: true, pidfd closed', async () => {
    const waiting = waitForExit(100);
    h.fds[0]!.watcher!(POLLIN);
    expect(await waiting).toBe(true);
    expect(h.fds[0]!.closed).toBe(true);
  });

  it('a timeout longer than a Node timer can hold re-arms, then resolves false and cleans up', async () => {
    vi.useFakeTimers();
    const waiting = waitForExit(100, { timeoutMs: 3_000_000_000 });
    let result: boolean | undefined;
    void waiting.then((r) => (result = r));
    await vi.advanceTimersByTimeAsync(2 ** 31);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(3_000_000_000 - 2 ** 31);
    expect(result).toBe(false);
    expect(h.fds[0]).toMatchObject({ closed: true, unwatches: 1 });
  });

  it('abort: AbortError, unwatched and closed', async () => {
    const ac = new AbortController();
    const waiting = waitForExit(100, { signal: ac.signal });
    ac.abort();
    expect(await rejectionOf(waiting)).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(h.fds[0]).toMatchObject({ closed: true, unwatches: 1 });
  });

  it('already aborted: rejects before opening anything', async () => {
    expect(await rejectionOf(waitForExit(100, { signal: AbortSignal.abort() }))).toMatchObject({ name: 'AbortError' });
    expect(h.calls).toEqual([]);
  });

  it('a failing poll rejects with SyscallError poll, pidfd closed', async () => {
    const waiting = waitForExit(100);
    h.fds[0]!.watcher!(-5);
    expect(await rejectionOf(waiting)).toMatchObject({ code: 'EIO', syscall: 'poll', pid: 100 });
    expect(h.fds[0]!.closed).toBe(true);
  });
});

describe('exitOf', () => {
  function child(pid: number | undefined): ChildProcess {
    const c = new ChildProcess();
    Object.assign(c, { pid, spawnfile: 'worker' });
    return c;
  }

  it('no pid: ERR_SIGKIT_SPAWN_FAILED, nothing opened', async () => {
    expect(await rejectionOf(exitOf(child(undefined)))).toMatchObject({ code: 'ERR_SIGKIT_SPAWN_FAILED', spawnfile: 'worker' });
    expect(h.calls).toEqual([]);
  });

  it('Node already has the exit: ERR_SIGKIT_EXIT_UNAVAILABLE, nothing opened', async () => {
    const c = child(100);
    Object.assign(c, { exitCode: 0 });
    expect(await rejectionOf(exitOf(c))).toMatchObject({ code: 'ERR_SIGKIT_EXIT_UNAVAILABLE', pid: 100 });
    expect(h.calls).toEqual([]);
  });

  it('pid gone, or no longer libuv\'s (reaped, perhaps recycled): unavailable, pidfd closed', async () => {
    h.impl.pidfdOpen = () => -3;
    expect(await rejectionOf(exitOf(child(100)))).toMatchObject({ code: 'ERR_SIGKIT_EXIT_UNAVAILABLE' });
    h.reset();
    h.impl.loopChildPids = () => [7];
    expect(await rejectionOf(exitOf(child(100)))).toMatchObject({ code: 'ERR_SIGKIT_EXIT_UNAVAILABLE' });
    expect(h.fds[0]!.closed).toBe(true);
  });

  it('already exited: read with WNOWAIT at once, names realtime signals', async () => {
    h.impl.loopChildPids = () => [100];
    h.impl.pidfdWaitid = () => exit({ code: null, signal: 40 });
    expect(await exitOf(child(100))).toEqual({ pid: 100, code: null, signal: 'SIGRTMIN+6', signalNumber: 40, coreDumped: false });
    expect(h.calls).toContain('pidfdWaitid true');
    expect(h.fds[0]).toMatchObject({ closed: true, watches: 0 });
  });

  it('still running: waits for the pidfd, then reads the status without reaping', async () => {
    h.impl.loopChildPids = () => [100];
    const info = exitOf(child(100));
    expect(h.fds[0]!.watches).toBe(1);
    // Unref'd: the child's own handle decides whether the loop waits (child.unref()).
    expect(h.calls).toContain('pidfdWatch false');
    h.impl.pidfdWaitid = () => exit({ code: 3 });
    h.fds[0]!.watcher!(POLLIN);
    expect(await info).toMatchObject({ pid: 100, code: 3, signal: null });
    expect(h.fds[0]!.closed).toBe(true);
  });

  it('libuv reaped it first (ECHILD): the status kept for the pidfd (PIDFD_INFO_EXIT)', async () => {
    h.impl.loopChildPids = () => [100];
    const info = exitOf(child(100));
    h.impl.pidfdWaitid = () => -10;
    h.impl.pidfdGetInfo = () => ({ mask: 12, pid: null, ppid: null, exit: exit({ pid: 0, code: null, signal: 9, core: false }) });
    h.fds[0]!.watcher!(POLLIN);
    expect(await info).toEqual({ pid: 100, code: null, signal: 'SIGKILL', signalNumber: 9, coreDumped: false });
  });

  it('libuv reaped it first on a kernel without PIDFD_INFO_EXIT: Node\'s view', async () => {
    h.impl.loopChildPids = () => [100];
    const c = child(100);
    const info = exitOf(c);
    h.impl.pidfdWaitid = () => -10;
    h.fds[0]!.watcher!(POLLIN);
    c.emit('exit', null, 'SIGTERM');
    expect(await info).toEqual({ pid: 100, code: null, signal: 'SIGTERM', signalNumber: 15, coreDumped: false });
  });

  it('an unexpected waitid error rejects', async () => {
    h.impl.loopChildPids = () => [100];
    h.impl.pidfdWaitid = () => -22;
    expect(await rejectionOf(exitOf(child(100)))).toMatchObject({ code: 'EINVAL', syscall: 'waitid', pid: 100 });
    expect(h.fds[0]!.closed).toBe(true);
  });

  it('a signal libc reserves is named by number', async () => {
    h.impl.loopChildPids = () => [100];
    h.impl.pidfdWaitid = () => exit({ code: null, signal: 32, core: true });
    expect(await exitOf(child(100))).toMatchObject({ signal: 'SIG32', signalNumber: 32, coreDumped: true });
  });
});

describe('waitpid', () => {
  it('refuses a pid this loop\'s libuv owns, before any waitpid', () => {
    h.impl.loopChildPids = () => [100];
    expect(errorOf(() => waitpid(100))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    expect(h.calls).toEqual(['loopChildPids']);
  });

  it('maps results: exit, still running, errno; noHang defaults to true', () => {
    h.impl.waitpid = () => exit({ code: 5 });
    expect(waitpid(100)).toMatchObject({ pid: 100, code: 5 });
    expect(h.calls.at(-1)).toBe('waitpid 100 true');
    h.impl.waitpid = () => 0;
    expect(waitpid(100)).toBeNull();
    h.impl.waitpid = () => -10;
    expect(errorOf(() => waitpid(100, { noHang: false }))).toMatchObject({ code: 'ECHILD', syscall: 'waitpid', pid: 100 });
    expect(h.calls.at(-1)).toBe('waitpid 100 false');
  });
});

describe('reapChildren', () => {
  it('reaps this thread\'s children except libuv\'s and the excluded ones', () => {
    h.impl.threadChildren = () => [10, 11, 12, 13, 14];
    h.impl.loopChildPids = () => [11];
    h.impl.waitpid = ((pid: number) => (pid === 10 ? exit({ pid: 10, code: 1 }) : pid === 14 ? -10 : 0)) as never;
    expect(reapChildren({ exclude: new Set([12]) })).toEqual([{ pid: 10, code: 1, signal: null, signalNumber: null, coreDumped: false }]);
    expect(h.calls.filter((c) => c.startsWith('waitpid'))).toEqual(['waitpid 10 true', 'waitpid 13 true', 'waitpid 14 true']);
  });

  it('no children: no walk of the loop', () => {
    expect(reapChildren()).toEqual([]);
    expect(h.calls).toEqual(['threadChildren']);
  });

  it('an unexpected waitpid error is thrown', () => {
    h.impl.threadChildren = () => [10];
    h.impl.waitpid = () => -22;
    expect(errorOf(() => reapChildren())).toMatchObject({ code: 'EINVAL', syscall: 'waitpid', pid: 10 });
  });

  it('an error on one pid reaps the others, and the thrown error carries every exit it took', () => {
    h.impl.threadChildren = () => [10, 11, 12];
    h.impl.waitpid = ((pid: number) => (pid === 11 ? -24 : exit({ pid, code: pid }))) as never;
    const e = errorOf(() => reapChildren()) as Error & { reaped?: Array<{ pid: number }> };
    expect(e).toMatchObject({ code: 'EMFILE', syscall: 'waitpid', pid: 11 });
    expect(e.reaped!.map((i) => i.pid)).toEqual([10, 12]);
  });

  it('options are checked: an unknown key is refused', () => {
    expect(errorOf(() => reapChildren({ exlude: [] } as never))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });

  it('without /proc/.../children it falls back to a ppid scan of /proc', async () => {
    const real = spawn('sleep', ['30'], { stdio: 'ignore' });
    await once(real, 'spawn');
    try {
      const record = (pid: number, ppid: number) => [pid, ppid, 1, 1, 0, -1, 0, 'S'.charCodeAt(0), 1, 100, 0, 0, 10, 0, 0];
      h.impl.procScan = () => [new Float64Array([...record(real.pid!, process.pid), ...record(99999, 1)]), 'sleep\0other'];
      h.impl.threadChildren = () => -2;
      expect(reapChildren()).toEqual([]);
      expect(h.calls).toContain(`waitpid ${real.pid} true`);
      expect(h.calls).not.toContain('waitpid 99999 true');
      h.impl.threadChildren = () => -13;
      expect(errorOf(() => reapChildren())).toMatchObject({ code: 'EACCES', syscall: 'open' });
    } finally {
      real.kill('SIGKILL');
    }
  });
});

describe('subreaper', () => {
  it('maps prctl', () => {
    setChildSubreaper();
    setChildSubreaper(false);
    expect(h.calls).toEqual(['prctlSetChildSubreaper true', 'prctlSetChildSubreaper false']);
    h.impl.prctlGetChildSubreaper = () => 1;
    expect(isChildSubreaper()).toBe(true);
    h.impl.prctlSetChildSubreaper = () => -1;
    expect(errorOf(() => setChildSubreaper())).toMatchObject({ code: 'EPERM', syscall: 'prctl' });
    h.impl.prctlGetChildSubreaper = () => -22;
    expect(errorOf(() => isChildSubreaper())).toMatchObject({ code: 'EINVAL', syscall: 'prctl' });
  });
});

describe('startReaper', () => {
  it('passes once at start and once per loop turn however many SIGCHLDs came', async () => {
    const got: number[] = [];
    let pass = 0;
    h.impl.threadChildren = () => (pass++, [20]);
    h.impl.waitpid = () => exit({ pid: 20, code: 0 });
    const r = startReaper({ onExit: (i) => got.push(i.pid), intervalMs: 0 });
    expect(got).toEqual([]); // never synchronously inside startReaper
    await flush();
    expect(pass).toBe(1);
    const w = h.watches[0]!;
    w.cb(17);
    w.cb(17);
    w.cb(17);
    await flush();
    expect(pass).toBe(2);
    expect(got).toEqual([20, 20]);
    expect(r.reaped).toBe(2);
    r.close();
    r.close();
    expect(w.closed).toBe(true);
    expect(r.closed).toBe(true);
    w.cb(17);
    await flush();
    expect(pass).toBe(2);
  });

  it('the safety timer passes too; ref and exclude are honoured (exclude read live)', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let passes = 0;
    h.impl.threadChildren = () => (passes++, [30, 31]);
    const exclude = new Set<number>();
    const r = startReaper({ intervalMs: 500, ref: true, exclude });
    expect(h.watches[0]!.ref).toBe(true);
    await flush();
    exclude.add(31);
    vi.advanceTimersByTime(500);
    await flush();
    expect(passes).toBe(2);
    expect(h.calls.filter((c) => c.startsWith('waitpid'))).toEqual(['waitpid 30 true', 'waitpid 31 true', 'waitpid 30 true']);
    r.close();
    vi.advanceTimersByTime(5000);
    await flush();
    expect(passes).toBe(2);
  });

  it('EMFILE in the background goes to onError, never to the event loop, and the pass is retried until it works', async () => {
    let passes = 0;
    h.impl.threadChildren = () => (++passes <= 3 ? -24 : [40]);
    h.impl.waitpid = () => exit({ pid: 40, code: 0 });
    const errors: Error[] = [];
    const got: number[] = [];
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const r = startReaper({ intervalMs: 0, onError: (e) => errors.push(e), onExit: (i) => got.push(i.pid) });
      // No SIGCHLD comes: the backoff timer (10, 20, 40 ms) passes again by itself.
      const deadline = Date.now() + 10_000;
      while (got.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
      r.close();
      expect(got).toEqual([40]);
      expect(passes).toBe(4);
      // One report per kind in a run of failing passes.
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ name: 'SyscallError', code: 'EMFILE', errno: -24, syscall: 'open' });
      expect(uncaught).toEqual([]);
    } finally {
      process.removeListener('uncaughtException', onUncaught);
    }
  });

  it('an exception from onExit, or from onError itself, never escapes: onError, then a warning', async () => {
    h.impl.threadChildren = () => [50];
    h.impl.waitpid = () => exit({ pid: 50, code: 0 });
    const errors: Error[] = [];
    const r = startReaper({ intervalMs: 0, onExit: () => { throw new Error('boom'); }, onError: (e) => errors.push(e) });
    await flush();
    r.close();
    expect(errors.map((e) => e.message)).toEqual(['boom']);

    const warnings: Error[] = [];
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(((w: Error) => void warnings.push(w)) as never);
    h.impl.threadChildren = () => -23;
    const r2 = startReaper({ intervalMs: 0, onError: () => { throw new Error('onError broke'); } });
    await flush();
    r2.close();
    expect(warnings.map((w) => w.message)).toEqual(['onError broke']);
    // Default onError: process.emitWarning with the error itself.
    warnings.length = 0;
    const r3 = startReaper({ intervalMs: 0 });
    await flush();
    r3.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ name: 'SyscallError', code: 'ENFILE' });
    warn.mockRestore();
  });

  it('options: onError must be a function; unknown keys are refused', () => {
    expect(errorOf(() => startReaper({ onError: 5 } as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(errorOf(() => startReaper({ onErorr: () => {} } as never))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(/onError/) });
  });

  it('a failing watcher throws SyscallError', () => {
    h.impl.sigchldWatch = () => -22;
    expect(errorOf(() => startReaper())).toMatchObject({ code: 'EINVAL', syscall: 'sigaction', signal: 'SIGCHLD' });
  });

  it('cannot be constructed directly', async () => {
    const { Reaper } = await import('../../src/wait.js');
    expect(() => Reflect.construct(Reaper, [Symbol('x'), {}])).toThrow(TypeError);
    expect(SyscallError).toBeDefined();
  });
});
