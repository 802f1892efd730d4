/**
 * The pidfd fallback's own guarantees, each shown in a script run under the
 * seccomp launcher (so the refusal is the kernel's answer, not a switch):
 * capabilities() in each mode, event-loop liveness of waits (kept alive
 * while pending, released at once after), EMFILE never read as "exited",
 * and the exit reaction for children (SIGCHLD) and non-children (the poll).
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { capabilities } from '../../src/index.js';
import { fdBudgetFor, cgroup2Mount, readLimits } from '../../src/capabilities.js';
import { LIB } from '../helpers/fixture.js';
import { FIXTURE_BIN } from '../helpers/paths.js';

const LAUNCHER = path.join(FIXTURE_BIN, 'seccomp-launcher');

/** Runs `code` (CommonJS, `lib` bound to sigkit) under the launcher; its last stdout line parsed as JSON. */
function under<T>(mode: string, code: string, timeoutMs = 30_000): Promise<T & { elapsedMs: number }> {
  const script = `const lib = require(${JSON.stringify(LIB)});\n${code}`;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(LAUNCHER, [mode, '--', process.execPath, '-e', script], { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const elapsedMs = performance.now() - t0;
      const line = stdout.trim().split('\n').pop() ?? '';
      if (error) return reject(new Error(`${error.message}\n${stdout}${stderr}`));
      try {
        resolve({ ...(JSON.parse(line) as T), elapsedMs });
      } catch {
        reject(new Error(`no JSON: ${stdout}${stderr}`));
      }
    });
  });
}

describe('capabilities', () => {
  it('on this kernel: what it probed matches /proc and the limits', () => {
    const caps = capabilities();
    expect(capabilities()).toBe(caps); // probed once
    expect(Object.isFrozen(caps)).toBe(true);
    expect(caps.cgroup2).toBe(cgroup2Mount());
    expect(caps.fdBudget).toBe(fdBudgetFor(readLimits().nofile!.soft));
    expect(caps.fdBudget).toBeLessThanOrEqual(1024);
    expect(typeof caps.procChildren).toBe('boolean');
    expect(caps.subreaper).toBe(true);
  });

  it('fdBudgetFor: an eighth of the soft limit, at most 1,024', () => {
    expect([fdBudgetFor(64), fdBudgetFor(1024), fdBudgetFor(20_000), fdBudgetFor(Infinity), fdBudgetFor(null)]).toEqual([8, 128, 1024, 1024, 128]);
  });

  it('cgroup2Mount reads the mount point after the separator, unescaped', () => {
    const info = [
      '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '41 31 0:38 / /sys/fs/cgroup/uni\\040fied rw,relatime shared:9 - cgroup2 cgroup2 rw',
    ].join('\n');
    expect(cgroup2Mount(info)).toBe('/sys/fs/cgroup/uni fied');
    expect(cgroup2Mount('31 23 0:28 / /sys/fs/cgroup rw - cgroup cgroup rw,cpu')).toBeNull();
  });

  it.each([
    ['enosys', { pidfd: false, pidfdSendSignal: false, waitidPidfd: false, pidfdInfoExit: false }],
    ['eperm', { pidfd: false, pidfdSendSignal: false, waitidPidfd: false, pidfdInfoExit: false }],
    ['nosend', { pidfd: true, pidfdSendSignal: false, waitidPidfd: false }],
  ])('under seccomp-launcher %s: %j', async (mode, want) => {
    const r = await under<{ caps: Record<string, unknown>; kind: string }>(mode, `
      const h = lib.openProcess(process.pid);
      console.log(JSON.stringify({ caps: lib.capabilities(), kind: h.kind }));`);
    expect(r.caps).toMatchObject({ ...want, subreaper: true, fdBudget: capabilities().fdBudget, cgroup2: capabilities().cgroup2 });
    expect(r.kind).toBe(want.pidfd ? 'pidfd' : 'pid+starttime');
  });
});

describe('waits without pidfds', () => {
  it('a pending wait keeps the loop alive; after it ends (exit or timeout) nothing does', async () => {
    // The script ends by itself only if no timer or SIGCHLD watcher is left.
    const r = await under<{ child: boolean; nonChild: boolean; timedOut: boolean; kinds: string[] }>('enosys', `
      const { spawn, execFileSync } = require('node:child_process');
      const child = spawn('sleep', ['0.3'], { stdio: 'ignore' });
      const nonChild = Number(execFileSync('sh', ['-c', 'sleep 0.4 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' }));
      const forever = spawn('sleep', ['30'], { stdio: 'ignore' });
      const out = { kinds: [lib.openProcess(child.pid).kind, lib.openProcess(nonChild).kind] };
      Promise.all([
        lib.waitForExit(child.pid).then((v) => (out.child = v)),
        lib.waitForExit(nonChild).then((v) => (out.nonChild = v)),
        lib.waitForExit(forever.pid, { timeoutMs: 100 }).then((v) => (out.timedOut = !v)),
      ]).then(() => { forever.kill('SIGKILL'); forever.unref(); process.on('exit', () => console.log(JSON.stringify(out))); });`);
    expect(r).toMatchObject({ child: true, nonChild: true, timedOut: true, kinds: ['pid+starttime', 'pid+starttime'] });
    // Exits right after the 0.4 s sleeper (generous for a loaded machine); a leftover ref'd timer would hold it forever.
    expect(r.elapsedMs).toBeLessThan(20_000);
  });

  it('EMFILE while polling is not an exit: the wait stays pending, then sees the real exit', async () => {
    const r = await under<Record<string, unknown>>('enosys', `
      const fs = require('node:fs');
      const { spawn } = require('node:child_process');
      const target = spawn('sleep', ['30'], { stdio: 'ignore' });
      target.once('spawn', async () => {
        const h = lib.openProcess(target.pid);
        const out = { kind: h.kind };
        let settled = false;
        const waiting = h.exited().then(() => (settled = true));
        const fds = [];
        try { for (;;) fds.push(fs.openSync('/dev/null', 'r')); } catch (e) { out.exhausted = e.code; }
        try { h.isAlive(); out.isAlive = 'no error'; } catch (e) { out.isAlive = e.code + ' ' + e.syscall; }
        // Let the poll run many times (1 ms doubling to 50 ms) while every open fails.
        await new Promise((r) => setTimeout(r, 300));
        for (const fd of fds) fs.closeSync(fd);
        out.settledDuringEmfile = settled;
        out.aliveAfter = h.isAlive();
        target.kill('SIGKILL');
        await waiting;
        out.exitedAfter = settled && !h.isAlive();
        h.close();
        console.log(JSON.stringify(out));
      });`);
    expect(r).toMatchObject({ kind: 'pid+starttime', exhausted: 'EMFILE', isAlive: 'EMFILE open', settledDuringEmfile: false, aliveAfter: true, exitedAfter: true });
  });

  it('a signal goes out only while the pid carries the start time the handle read', async () => {
    // A handle whose start time is not the process's is what a stale handle
    // looks like after pid reuse: ESRCH, nothing sent. (A real reuse runs in
    // pidfd.test.ts under the launcher: the pid-reuse fixture.)
    const r = await under<Record<string, unknown>>('eperm', `
      const { spawn } = require('node:child_process');
      const target = spawn('sleep', ['30'], { stdio: 'ignore' });
      target.once('spawn', () => {
        const h = lib.openProcess(target.pid);
        const stale = lib.openProcess(target.pid);
        Object.defineProperty(stale, 'startTime', { value: h.startTime + 1 });
        const out = { kind: h.kind };
        try { stale.kill('SIGKILL'); out.stale = 'sent'; } catch (e) { out.stale = e.code + ' ' + e.syscall; }
        out.staleAlive = stale.isAlive();
        out.stillRunning = h.isAlive();
        h.kill('SIGTERM');
        target.once('exit', (code, signal) => { out.exit = signal; console.log(JSON.stringify(out)); });
      });`);
    expect(r).toMatchObject({ kind: 'pid+starttime', stale: 'ESRCH kill', staleAlive: false, stillRunning: true, exit: 'SIGTERM' });
  });
});
