/**
 * openProcess / ProcessHandle against real processes this test starts:
 * identity (startTime, pid reuse in a fresh PID namespace), signalling,
 * event-driven exit, zombies, errors, fd ownership and worker threads.
 */
import type { SignalLike } from '../../src/signals.js';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ProcessHandle, SyscallError, openProcess } from '../../src/index.js';
import { LIB, runFixture } from '../helpers/fixture.js';
import { exited, makeZombies, parseReceived, procStateOf, start, startReceiver, stopAll, waitUntil } from '../helpers/procs.js';
import { errorOf, rejectionOf } from '../helpers/errors.js';

const SI_USER = 0;
const work = mkdtempSync(path.join(tmpdir(), 'sigkit-pidfd-'));
afterEach(() => stopAll());
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** starttime (field 22) of /proc/<pid>/stat, parsed independently of sigkit. */
function startTimeOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}



async function running(cmd = 'sleep', args = ['30']): Promise<number> {
  const child = start(cmd, args);
  await once(child, 'spawn');
  return child.pid!;
}

describe('openProcess', () => {
  it('names the process: pid and the starttime /proc reports', async () => {
    const pid = await running();
    const h = openProcess(pid);
    expect(h).toBeInstanceOf(ProcessHandle);
    expect(h.pid).toBe(pid);
    expect(h.startTime).toBe(startTimeOf(pid));
    expect(h.isAlive()).toBe(true);
    h.close();
  });

  it('reads starttime correctly for a process named to confuse a parser', async () => {
    // comm is the executable's base name: ') ', a fake state and a newline.
    const link = path.join(work, 'a) Z 1 (b\n2 3');
    symlinkSync('/bin/sleep', link);
    const pid = await running(link, ['30']);
    await waitUntil('exec', () => (readFileSync(`/proc/${pid}/comm`, 'latin1').startsWith('a) Z') ? true : undefined));
    const h = openProcess(pid);
    expect(h.startTime).toBe(startTimeOf(pid));
    expect(h.startTime).toBeGreaterThan(0);
    h.close();
  });

  it('throws ESRCH for a pid that does not exist', async () => {
    const child = start('true');
    const pid = child.pid!;
    await exited(child);
    expect(errorOf(() => openProcess(pid))).toMatchObject({ name: 'SyscallError', code: 'ESRCH', errno: -3, syscall: 'pidfd_open', pid });
  });

  it('a thread id that is not a process is ESRCH, "no such process" (issue 11)', () => {
    const tid = Number(readdirSync('/proc/self/task').find((t) => Number(t) !== process.pid));
    const e = errorOf(() => openProcess(tid));
    expect(e).toBeInstanceOf(SyscallError);
    expect(e).toMatchObject({ code: 'ESRCH', syscall: 'pidfd_open', pid: tid });
  });

  it.each([
    [0, 'ERR_INVALID_ARG_VALUE'],
    [-1, 'ERR_INVALID_ARG_VALUE'],
    [1.5, 'ERR_OUT_OF_RANGE'],
    [NaN, 'ERR_OUT_OF_RANGE'],
    [2 ** 31, 'ERR_OUT_OF_RANGE'],
    ['123', 'ERR_INVALID_ARG_TYPE'],
    [undefined, 'ERR_INVALID_ARG_TYPE'],
  ])('refuses pid %s with %s', (pid, code) => {
    expect(errorOf(() => openProcess(pid as number)).code).toBe(code);
  });

  it('cannot be constructed directly', () => {
    expect(() => Reflect.construct(ProcessHandle, [Symbol('x'), 1, {}, 0])).toThrow(TypeError);
  });
});

describe('ProcessHandle.kill', () => {
  it('delivers through the pidfd with SI_USER and our pid', async () => {
    const r = await startReceiver(['1']);
    const h = openProcess(r.pid);
    h.kill('SIGUSR1');
    expect(parseReceived(await r.lines.next())).toMatchObject({ signo: 10, code: SI_USER, pid: process.pid });
    h.close();
  });

  it('throws ESRCH once the process is reaped, with the pid and signal', async () => {
    const child = start('sleep', ['30']);
    const h = openProcess(child.pid!);
    h.kill('SIGKILL');
    await exited(child); // Node reaped it
    expect(errorOf(() => h.kill('SIGTERM'))).toMatchObject({
      name: 'SyscallError',
      code: 'ESRCH',
      errno: -3,
      syscall: 'pidfd_send_signal',
      pid: child.pid,
      signal: 'SIGTERM',
      message: 'pidfd_send_signal ESRCH',
    });
    h.close();
  });

  it('a recycled pid is never signalled: stale kill throws ESRCH, the new process is untouched', async () => {
    // Fresh PID namespace: the fixture is its PID 1 and sets ns_last_pid.
    const r = await runFixture<Record<string, unknown>>('pid-reuse.cjs', [], { prefix: ['unshare', '--pid', '--fork', '--mount-proc'] });
    expect(r).toMatchObject({ nsPid: 1, reused: true, aExit: { code: null, signal: 'SIGKILL' } });
    // The stale handle refuses, though the number now names a live process.
    expect(r.staleKill).toEqual({ code: 'ESRCH', errno: -3, syscall: 'pidfd_send_signal', pid: r.pid, signal: 'SIGKILL' });
    expect(r.numberReachesNew).toBe(true);
    expect(r.staleIsAlive).toBe(false);
    expect(r.staleExitedResolved).toBe(true);
    // The new owner of the pid ran on and died of the later SIGTERM, not of the stale SIGKILL.
    expect(['R', 'S', 'D']).toContain(r.newStateAfter); // running (it may still be starting up)
    expect(r).toMatchObject({ newIsAlive: true, newNodeExitBefore: { code: null, signal: null } });
    expect(r.newExit).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('does not throw for a zombie (kill(2) semantics), whose isAlive is false', async () => {
    const { zombies: [zombie] } = await makeZombies();
    const h = openProcess(zombie!);
    expect(h.isAlive()).toBe(false);
    expect(() => h.kill('SIGTERM')).not.toThrow();
    expect(procStateOf(zombie!)).toBe('Z');
    h.close();
  });

  it('refuses unknown signals and bad types before any syscall', async () => {
    const h = openProcess(await running());
    expect(errorOf(() => h.kill('SIGFOO' as SignalLike))).toMatchObject({ code: 'ERR_UNKNOWN_SIGNAL' });
    expect(errorOf(() => h.kill({} as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(h.isAlive()).toBe(true);
    h.close();
  });
});

describe('ProcessHandle.exited', () => {
  it('resolves for every waiter when the process exits (event-driven), then stays resolved', async () => {
    const child = start('sleep', ['30']);
    const h = openProcess(child.pid!);
    let settled = 0;
    const waits = [h.exited(), h.exited({ timeoutMs: 10_000 }), h.exited({ signal: new AbortController().signal })].map((p) => p.then(() => settled++));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(0);
    child.kill('SIGTERM');
    await Promise.all(waits);
    expect(settled).toBe(3);
    expect(h.isAlive()).toBe(false);
    await h.exited();
    h.close();
  });

  it('resolves at once for a zombie, which process.kill(pid, 0) still calls alive', async () => {
    const { zombies: [zombie] } = await makeZombies();
    const h = openProcess(zombie!);
    expect(() => process.kill(zombie!, 0)).not.toThrow();
    await h.exited({ timeoutMs: 1000 });
    h.close();
  });

  it('rejects with TimeoutError ERR_SIGKIT_TIMEOUT after timeoutMs', async () => {
    const h = openProcess(await running());
    expect(await rejectionOf(h.exited({ timeoutMs: 30 }))).toMatchObject({ name: 'TimeoutError', code: 'ERR_SIGKIT_TIMEOUT', timeoutMs: 30 });
    expect(await rejectionOf(h.exited({ timeoutMs: 0 }))).toMatchObject({ code: 'ERR_SIGKIT_TIMEOUT' });
    expect(h.isAlive()).toBe(true);
    h.close();
  });

  it('rejects with AbortError when aborted, before or during the wait', async () => {
    const h = openProcess(await running());
    const ac = new AbortController();
    const pending = h.exited({ signal: ac.signal });
    ac.abort(new Error('stop'));
    const e = await rejectionOf(pending);
    expect(e).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect((e.cause as Error).message).toBe('stop');
    expect(await rejectionOf(h.exited({ signal: AbortSignal.abort() }))).toMatchObject({ name: 'AbortError' });
    h.close();
  });

  it('rejects bad options instead of throwing', async () => {
    const h = openProcess(await running());
    expect(await rejectionOf(h.exited('soon' as never))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(await rejectionOf(h.exited({ timeoutMs: -1 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(await rejectionOf(h.exited({ timeoutMs: NaN }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(await rejectionOf(h.exited({ timeoutMs: '5' as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(await rejectionOf(h.exited({ signal: {} as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    h.close();
  });
});

describe('ProcessHandle.close', () => {
  it('is idempotent; pending waits reject EBADF; later calls throw EBADF', async () => {
    const pid = await running();
    const h = openProcess(pid);
    const pending = h.exited();
    h.close();
    h.close();
    expect(h.closed).toBe(true);
    expect(await rejectionOf(pending)).toMatchObject({ name: 'SyscallError', code: 'EBADF', errno: -9, syscall: 'poll', pid });
    expect(errorOf(() => h.kill())).toMatchObject({ code: 'EBADF', syscall: 'pidfd_send_signal', pid });
    expect(errorOf(() => h.isAlive())).toMatchObject({ code: 'EBADF', syscall: 'poll' });
    expect(await rejectionOf(h.exited())).toMatchObject({ code: 'EBADF' });
  });

  it('[Symbol.dispose] closes', async () => {
    const h = openProcess(await running());
    h[Symbol.dispose]();
    expect(h.closed).toBe(true);
  });

  it('leaks no fd: 10,000 open/close cycles, waits ended every way, 1,000 handles dropped and collected, workers ended mid-wait', async () => {
    interface Fds {
      all: number;
      pidfds: number;
    }
    const r = await runFixture<Record<string, Fds & Record<string, unknown>> & { waitEnds: string[]; targetStillRunning: boolean }>('fd-leak.cjs', [], { nodeArgs: ['--expose-gc'] });
    const { baseline } = r;
    expect(baseline.pidfds).toBe(0);
    expect(r.afterCycles).toEqual(baseline);
    expect(r.waitEnds).toEqual(['ABORT_ERR', 'EBADF', 'ERR_SIGKIT_TIMEOUT', 'false']);
    expect(r.afterWaits).toEqual(baseline);
    // The dropped handles really held 1,000 pidfds, and GC gave them all back.
    expect(r.whileHeld).toEqual({ all: baseline.all + 1000, pidfds: 1000 });
    expect(r.afterGc).toMatchObject({ all: baseline.all, pidfds: 0 });
    expect(r.afterGc!.timedOut).toBeUndefined();
    expect(r.workerBaseline!.pidfds).toBe(0);
    for (const w of [r.workerTerminated!, r.workerExited!]) {
      expect((w.during as unknown as Fds).pidfds).toBe(51); // 50 handles + 1 waitForExit
      expect(w.after).toEqual(r.workerBaseline);
    }
    expect(r.workerExited!.code).toBe(0);
    expect(r.targetStillRunning).toBe(true);
  });
});

describe('worker threads', () => {
  it('workers terminated while their waits and reaper fire: no crash, no pidfd left (80 rounds)', async () => {
    // Before NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS this aborted the process
    // in about one run in three: a value created while V8 terminates the
    // worker fails, and node-addon-api turned the unthrowable error into a
    // fatal one.
    const r = await runFixture<{ rounds: number; codes: number[]; pidfdsLeft: number }>('worker-teardown.cjs', ['80']);
    expect(r).toEqual({ rounds: 80, codes: [1], pidfdsLeft: 0 });
  });

  it('handles opened in four workers each see the exit of a process of the main thread', async () => {
    const child = start('sleep', ['30']);
    await once(child, 'spawn');
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { openProcess, waitForExit } = require(workerData.lib);
      const h = openProcess(workerData.pid);
      Promise.all([h.exited({ timeoutMs: 10000 }), waitForExit(workerData.pid, { timeoutMs: 10000 })])
        .then(([, w]) => { parentPort.postMessage({ alive: h.isAlive(), waited: w, startTime: h.startTime }); h.close(); });
      parentPort.postMessage('ready');
    `;
    const workers = Array.from({ length: 4 }, () => new Worker(code, { eval: true, workerData: { lib: LIB, pid: child.pid } }));
    // Before any await: a worker that ends with a message queued emits 'message' and 'exit' together.
    const exits = workers.map((w) => once(w, 'exit'));
    const messages = workers.map((w) => {
      const got: unknown[] = [];
      return new Promise<unknown[]>((resolve) => w.on('message', (m) => (got.push(m), got.length === 2 && resolve(got))));
    });
    const ready = await Promise.all(workers.map(async (w) => (await once(w, 'message'))[0]));
    expect(ready).toEqual(['ready', 'ready', 'ready', 'ready']);
    child.kill('SIGTERM');
    for (const [, result] of await Promise.all(messages)) {
      expect(result).toEqual({ alive: false, waited: true, startTime: expect.any(Number) });
    }
    expect((await Promise.all(exits)).map(([c]) => c)).toEqual([0, 0, 0, 0]);
  });
});
