/**
 * waitForExit, exitOf, waitpid, reapChildren, the subreaper and the reaper,
 * against real processes. Whatever changes this process's subreaper bit or
 * SIGCHLD (startReaper, setChildSubreaper) runs in a forked fixture.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ProcessHandle,
  Signal,
  exitOf,
  isChildSubreaper,
  kill,
  openProcess,
  reapChildren,
  setChildSubreaper,
  startReaper,
  waitForExit,
  waitpid,
  type ExitInfo,
} from '../../src/index.js';
import { LIB, runFixture } from '../helpers/fixture.js';
import { FIXTURE_SRC } from '../helpers/paths.js';
import { LineReader, exited, makeZombies, procStateOf, start, stopAll } from '../helpers/procs.js';
import { errorOf, rejectionOf } from '../helpers/errors.js';
import { FALLBACK } from '../helpers/fallback-mode.js';

// Non-children started through a shell: stopAll() only knows the shell.
// Ended through a pidfd, so cleanup can never reach a recycled pid.
const nonChildren: ProcessHandle[] = [];
afterEach(() => {
  stopAll();
  for (const h of nonChildren.splice(0)) {
    try {
      h.kill('SIGKILL');
    } catch {
      // already gone
    }
    h.close();
  }
});



/** A `sleep` that is not our child: its shell parent exits at once. */
async function nonChild(): Promise<number> {
  const sh = start('sh', ['-c', 'sleep 30 >/dev/null 2>&1 & echo $!']);
  const pid = Number(await new LineReader(sh.stdout!).next());
  await exited(sh);
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  if (ppid === process.pid) throw new Error('expected a non-child');
  nonChildren.push(openProcess(pid));
  return pid;
}

/** True when the kernel keeps a reaped process's exit status for its pidfd (6.15+). */
function kernelHasPidfdInfoExit(): boolean {
  const [major, minor] = release().split('.').map(Number);
  return major! > 6 || (major === 6 && minor! >= 15);
}

describe('waitForExit', () => {
  it('resolves true when a process that is not our child exits, false on timeout before', async () => {
    const pid = await nonChild();
    expect(await waitForExit(pid, { timeoutMs: 50 })).toBe(false);
    const waiting = waitForExit(pid, { timeoutMs: 10_000 });
    kill(pid, 'SIGTERM'); // a process this test started, through its shell
    expect(await waiting).toBe(true);
  });

  it('resolves true at once for a zombie, and for a pid that no longer exists', async () => {
    const { zombies: [zombie] } = await makeZombies();
    expect(procStateOf(zombie!)).toBe('Z');
    expect(await waitForExit(zombie!, { timeoutMs: 0 })).toBe(true);
    const child = start('true');
    await exited(child);
    expect(await waitForExit(child.pid!)).toBe(true);
  });

  it('timeoutMs 0 checks once', async () => {
    const child = start('sleep', ['30']);
    expect(await waitForExit(child.pid!, { timeoutMs: 0 })).toBe(false);
  });

  it('rejects with AbortError on abort (and at once when already aborted)', async () => {
    const child = start('sleep', ['30']);
    const ac = new AbortController();
    const waiting = waitForExit(child.pid!, { signal: ac.signal });
    ac.abort();
    expect(await rejectionOf(waiting)).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(await rejectionOf(waitForExit(child.pid!, { signal: AbortSignal.abort() }))).toMatchObject({ name: 'AbortError' });
    expect(child.exitCode).toBeNull();
  });

  it('a thread id is not a process: resolves true at once, like any pid with no process (issue 11)', async () => {
    const tid = Number(readdirSync('/proc/self/task').find((t) => Number(t) !== process.pid));
    expect(await waitForExit(tid, { timeoutMs: 5000 })).toBe(true);
  });

  it.each([
    [0, undefined, 'ERR_INVALID_ARG_VALUE'],
    [-1, undefined, 'ERR_INVALID_ARG_VALUE'],
    ['1', undefined, 'ERR_INVALID_ARG_TYPE'],
    [1.5, undefined, 'ERR_OUT_OF_RANGE'],
    [1, null, 'ERR_INVALID_ARG_TYPE'],
    [1, { timeoutMs: -5 }, 'ERR_OUT_OF_RANGE'],
    [1, { timeoutMs: '5' }, 'ERR_INVALID_ARG_TYPE'],
    [1, { signal: 'x' }, 'ERR_INVALID_ARG_TYPE'],
  ])('rejects pid %s, options %j with %s (never throws)', async (pid, options, code) => {
    let promise: Promise<boolean> | undefined;
    expect(() => (promise = waitForExit(pid as number, options as never))).not.toThrow();
    expect(await rejectionOf(promise!)).toMatchObject({ code });
  });
});

// exitOf has no fallback yet where pidfd_open or waitid(P_PIDFD) is refused
// (issue 12): under the seccomp launcher only that is checked.
describe.runIf(FALLBACK !== undefined)('exitOf where pidfds are refused', () => {
  it('names the true exit from the SIGCHLD siginfo (a realtime signal too, where Node says code 0); Node still gets its exit', async () => {
    const rt = spawn('sleep', ['30'], { stdio: 'ignore' });
    const rtInfo = exitOf(rt);
    const rtNode = exited(rt);
    await once(rt, 'spawn');
    kill(rt.pid!, 'SIGRTMIN+6');
    expect(await rtInfo).toEqual({ pid: rt.pid, code: null, signal: 'SIGRTMIN+6', signalNumber: Signal['SIGRTMIN+6'], coreDumped: false });
    expect(await rtNode).toEqual({ code: 0, signal: null });
    // A child that exits before exitOf's handler is in place: read from its zombie.
    const quick = spawn('sh', ['-c', 'exit 3'], { stdio: 'ignore' });
    const node = exited(quick);
    expect(await exitOf(quick)).toMatchObject({ pid: quick.pid, code: 3, signal: null });
    expect(await node).toEqual({ code: 3, signal: null });
  });
});

describe.skipIf(FALLBACK !== undefined)('exitOf', () => {
  it('names a realtime signal where Node reports code 0', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const info = exitOf(child);
    const node = exited(child);
    kill(child.pid!, 'SIGRTMIN+6');
    expect(await info).toEqual({ pid: child.pid, code: null, signal: 'SIGRTMIN+6', signalNumber: Signal['SIGRTMIN+6'], coreDumped: false });
    // Node's own view of the same exit (NODE-LINUX-FACTS.md item 9), which exitOf does not disturb.
    expect(await node).toEqual({ code: 0, signal: null });
  });

  it('reports exit codes and classic signals exactly as Node does', async () => {
    const cases: Array<[string[], Partial<ExitInfo>]> = [
      [['-c', 'exit 42'], { code: 42, signal: null }],
      [['-c', 'exit 0'], { code: 0, signal: null }],
      [['-c', 'kill -TERM $$'], { code: null, signal: 'SIGTERM', signalNumber: 15 }],
      [['-c', 'kill -KILL $$'], { code: null, signal: 'SIGKILL', signalNumber: 9 }],
    ];
    for (const [args, want] of cases) {
      const child = spawn('sh', args, { stdio: 'ignore' });
      const [info, node] = await Promise.all([exitOf(child), exited(child)]);
      expect(info).toMatchObject({ pid: child.pid, coreDumped: false, ...want });
      expect(node).toEqual({ code: info.code, signal: info.signal });
    }
  });

  it('returns the same promise for the same child', async () => {
    const child = spawn('true');
    const a = exitOf(child);
    expect(exitOf(child)).toBe(a);
    expect(await a).toMatchObject({ code: 0 });
  });

  it('is right for 100 children exiting at once, and every one still emits exit', async () => {
    const children = Array.from({ length: 100 }, (_, i) => {
      const script = i % 3 === 0 ? `kill -${Signal.SIGRTMIN + (i % 5)} $$` : `exit ${i}`;
      const child = spawn('sh', ['-c', script], { stdio: 'ignore' });
      return { i, child, info: exitOf(child), node: exited(child, 10_000) };
    });
    for (const { i, child, info, node } of children) {
      const got = await info;
      if (i % 3 === 0) expect(got).toMatchObject({ pid: child.pid, code: null, signalNumber: Signal.SIGRTMIN + (i % 5) });
      else expect(got).toMatchObject({ pid: child.pid, code: i, signal: null });
      await node;
    }
  });

  it('still names the signal when child_process reaped the child first', async () => {
    // The fixture builds that order (see its header) ten times; it signals
    // itself, so it runs in its own process.
    const { rounds } = await runFixture<{ rounds: Array<{ order: string[]; info: ExitInfo }> }>('exit-order.cjs', ['10']);
    expect(rounds).toHaveLength(10);
    for (const { order, info } of rounds) {
      // Node reaped first, and reported the realtime signal as a clean exit.
      expect(order).toEqual(['node exit 0 null', 'exitOf']);
      if (kernelHasPidfdInfoExit()) {
        expect(info).toMatchObject({ code: null, signal: 'SIGRTMIN+6', signalNumber: Signal['SIGRTMIN+6'] });
      } else {
        // Before 6.15 nothing keeps a reaped child's status: Node's view is all there is.
        expect(info).toMatchObject({ code: 0, signal: null });
      }
    }
  });

  it('rejects ERR_SIGKIT_SPAWN_FAILED for a child that failed to spawn', async () => {
    const child = spawn('/nonexistent/sigkit-no-such-program');
    const spawnError = once(child, 'error');
    expect(child.pid).toBeUndefined();
    expect(await rejectionOf(exitOf(child))).toMatchObject({ code: 'ERR_SIGKIT_SPAWN_FAILED', spawnfile: '/nonexistent/sigkit-no-such-program' });
    expect((await spawnError)[0]).toMatchObject({ code: 'ENOENT' });
  });

  it('rejects ERR_SIGKIT_EXIT_UNAVAILABLE once child_process has reaped the child', async () => {
    const child = spawn('true');
    await exited(child);
    expect(await rejectionOf(exitOf(child))).toMatchObject({ code: 'ERR_SIGKIT_EXIT_UNAVAILABLE', pid: child.pid });
  });

  it('rejects anything but a ChildProcess with ERR_INVALID_ARG_TYPE', async () => {
    for (const bad of [undefined, null, 123, { pid: 1 }, new ChildProcess().constructor]) {
      expect(await rejectionOf(exitOf(bad as never))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    }
  });

  it('works in a worker thread for the worker\'s own child', async () => {
    const w = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const { spawn } = require('node:child_process');
       const { exitOf, signalNumber } = require(workerData.lib);
       const child = spawn('sh', ['-c', 'kill -' + signalNumber('SIGRTMIN+3') + ' $$']);
       exitOf(child).then((info) => parentPort.postMessage(info));`,
      { eval: true, workerData: { lib: LIB } },
    );
    const exit = once(w, 'exit'); // before any await: 'message' and 'exit' may come together
    const [info] = (await once(w, 'message')) as [ExitInfo];
    expect(info).toMatchObject({ code: null, signal: 'SIGRTMIN+3' });
    expect((await exit)[0]).toBe(0);
  });
});

describe('waitpid', () => {
  it('throws ECHILD for a process that is not our child', async () => {
    const pid = await nonChild();
    expect(errorOf(() => waitpid(pid))).toMatchObject({ name: 'SyscallError', code: 'ECHILD', errno: -10, syscall: 'waitpid', pid });
    expect(errorOf(() => waitpid(process.pid))).toMatchObject({ code: 'ECHILD' });
  });

  it('refuses a child_process child, which then still reports its exit to Node', async () => {
    const child = spawn('sh', ['-c', 'exit 7']);
    expect(errorOf(() => waitpid(child.pid!))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    expect(errorOf(() => waitpid(child.pid!, { noHang: false }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(await exited(child)).toEqual({ code: 7, signal: null });
  });

  it.each([
    [0, undefined, 'ERR_INVALID_ARG_VALUE'],
    [-1, undefined, 'ERR_INVALID_ARG_VALUE'],
    ['12', undefined, 'ERR_INVALID_ARG_TYPE'],
    [12, 'now', 'ERR_INVALID_ARG_TYPE'],
    [12, { noHang: 1 }, 'ERR_INVALID_ARG_TYPE'],
  ])('refuses pid %s, options %j with %s', (pid, options, code) => {
    expect(errorOf(() => waitpid(pid as number, options as never))).toMatchObject({ code });
  });
});

describe('reapChildren (in this process: no subreaper, so only a no-steal check)', () => {
  it('never takes a child_process child, called on every turn while 50 children exit', async () => {
    const children = Array.from({ length: 50 }, (_, i) => {
      const child = spawn('sh', ['-c', `exit ${i + 1}`], { stdio: 'ignore' });
      return { code: i + 1, node: exited(child, 10_000) };
    });
    let reaping = true;
    const reaped: ExitInfo[] = [];
    const loop = (): void => {
      if (!reaping) return;
      reaped.push(...reapChildren());
      setImmediate(loop);
    };
    loop();
    const got = await Promise.all(children.map((c) => c.node));
    reaping = false;
    expect(got).toEqual(children.map((c) => ({ code: c.code, signal: null })));
    expect(reaped).toEqual([]);
  });

  it('refuses bad options', () => {
    expect(errorOf(() => reapChildren('all' as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(errorOf(() => reapChildren({ exclude: 5 as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(errorOf(() => reapChildren({ exclude: '12' as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('subreaper', () => {
  it('this test process is not one, and a bad argument changes nothing', () => {
    expect(isChildSubreaper()).toBe(false);
    expect(errorOf(() => setChildSubreaper('yes' as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(isChildSubreaper()).toBe(false);
  });

  it('orphaned grandchildren re-parent to a subreaper and reapChildren returns their exits', async () => {
    const r = await runFixture<Record<string, unknown>>('subreaper.cjs');
    expect(r).toMatchObject({ before: false, after: true, shellExit: { code: 0, signal: null } });
    expect(r.reparented).toEqual([true, true, true, true, true]);
    expect(r.waitpidRunning).toBeNull();
    expect(r.allExited).toEqual([true, true, true, true]);
    expect(r.zombiesBefore).toEqual(r.expectedZombies);
    expect(r.reapedCount).toBe(3); // the fourth was excluded
    expect(r.selfExit).toMatchObject({ code: 3, signal: null, signalNumber: null, coreDumped: false });
    expect(r.term).toMatchObject({ code: null, signal: 'SIGTERM', signalNumber: 15 });
    expect(r.rt).toMatchObject({ code: null, signal: 'SIGRTMIN+6', signalNumber: Signal['SIGRTMIN+6'] });
    expect(r.excludedStillZombie).toBe(true);
    expect(r.killedByWaitpid).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(r.killedAgain).toMatchObject({ name: 'SyscallError', code: 'ECHILD', syscall: 'waitpid' });
    expect(r.waitedByWaitpid).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(r.reapAgain).toEqual([]);
    expect(r.zombiesAfter).toEqual([]);
  });
});

describe('startReaper', () => {
  it('refuses bad options before touching SIGCHLD', () => {
    expect(errorOf(() => startReaper(null as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(errorOf(() => startReaper({ onExit: 5 as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(errorOf(() => startReaper({ intervalMs: -1 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(errorOf(() => startReaper({ intervalMs: 1.5 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(errorOf(() => startReaper({ ref: 'yes' as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(errorOf(() => startReaper({ exclude: 3 as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    const sigCgt = BigInt(`0x${/SigCgt:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
    expect((sigCgt >> 16n) & 1n).toBe(0n); // SIGCHLD: nobody installed a handler
  });

  it('500 child_process children keep their exit codes while a SIGCHLD-only reaper collects 100+ orphans', async () => {
    const r = await runFixture<Record<string, unknown>>('reaper-stress.cjs', ['500', '25']);
    expect(r.sigchldCaughtAtStart).toBe(false);
    expect(r.sigchldCaughtWithReaper).toBe(true);
    expect(r.exits).toBe(500);
    expect(r.mismatches).toEqual([]);
    expect(r.phase1Orphans).toBe(100);
    // Between the phases no child_process child was left, yet SIGCHLD stayed ours.
    expect(r.childrenBetween).toEqual(r.lateOrphans);
    expect(r.sigchldCaughtBetween).toBe(true);
    expect(r.orphansExpected).toBe(103);
    expect(r.orphanMismatches).toEqual([]);
    expect(r.unexpectedReaped).toEqual([]);
    expect(r.reaperCount).toBe(103);
    expect(r.childrenLeft).toEqual([]);
    expect(r.reaperClosed).toBe(true);
    expect(r.sigchldCaughtAfterClose).toBe(false);
  });

  it('never takes another thread\'s children: main reaps while a worker spawns, and the reverse', async () => {
    const r = await runFixture<Record<string, unknown>>('reaper-threads.cjs', ['100']);
    expect(r).toEqual({ workerMismatches: [], mainReaped: 0, mainMismatches: [], workerReaped: 0 });
  });
});

describe('a guest in the host process', () => {
  it('a reaper out of fds: EMFILE goes to onError, the process lives on, and the retry reaps the orphan once fds are back', async () => {
    // prlimit: Node raises its soft limit to the hard one at start; with both
    // at 256 the fixture can fill its fd table quickly.
    const r = await runFixture<{ orphan: number; fillerFds: number; errors: Array<{ name: string; code: string; syscall: string }>; exitsWhileFull: number; exit: ExitInfo; uncaught: string[]; alive: boolean }>(
      'sig-reaper-emfile.cjs', [], { prefix: ['prlimit', '--nofile=256:256'] },
    );
    expect(r.fillerFds).toBeGreaterThan(100);
    expect(r.errors[0]).toEqual({ name: 'SyscallError', code: 'EMFILE', syscall: 'open' });
    expect(r.uncaught).toEqual([]);
    // Whether the orphan is reaped while the table is full depends on whether
    // the budgeted /proc reader still held its children-file fd (it may):
    // what must hold is no crash, EMFILE reported, and the orphan reaped.
    expect(r.exitsWhileFull).toBeLessThanOrEqual(1);
    expect(r.exit).toMatchObject({ pid: r.orphan, code: null, signal: 'SIGTERM' });
    expect(r.alive).toBe(true);
  });

  it('exitOf honours child.unref(): the process exits while the child runs', async () => {
    const f = start(process.execPath, [path.join(FIXTURE_SRC, 'sig-exitof-unref.cjs'), LIB, 'unref']);
    const lines = new LineReader(f.stdout!);
    const m = /^child (\d+)$/.exec(await lines.next(10_000));
    expect(m).not.toBeNull();
    const childPid = Number(m![1]);
    try {
      expect(await lines.next(10_000)).toBe('loop-empty');
      // Within a deadline, not when `sleep 30` ends.
      expect(await exited(f, 10_000)).toEqual({ code: 0, signal: null });
      expect(procStateOf(childPid)).toBe('S'); // the child runs on (orphaned)
    } finally {
      // The fixture's child, orphaned now: ended through a pidfd, never a stale pid.
      try {
        const h = openProcess(childPid);
        nonChildren.push(h);
      } catch {
        // already gone
      }
    }
  });

  it('exitOf still holds a ref\'d child\'s process open until the exit is read', async () => {
    const f = start(process.execPath, [path.join(FIXTURE_SRC, 'sig-exitof-unref.cjs'), LIB, 'ref']);
    const line = await new LineReader(f.stdout!).next(10_000);
    expect(JSON.parse(line.replace(/^exit /, ''))).toMatchObject({ code: null, signal: 'SIGRTMIN+2' });
    expect(await exited(f, 10_000)).toEqual({ code: 0, signal: null });
  });
});
