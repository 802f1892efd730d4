/**
 * explainSignal checked against the kernel: for each verdict the test builds
 * the situation with a real process it started, asks explainSignal, then
 * sends the signal and checks that what happened is what was predicted.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { descendants, explainSignal, kill } from '../../src/index.js';
import { exited, makeZombies, procStateOf, start, waitUntil } from '../helpers/procs.js';
import { runFixture } from '../helpers/fixture.js';
import { codeOf } from '../helpers/errors.js';
import { buildFixtures, remember, stopFixtures, isPending, startFixture, statusField, type Built } from './explain-fixtures.js';

const SIGUSR1 = 10;
const SIGTERM = 15;
let fx: Built;

beforeAll(() => {
  fx = buildFixtures();
});
afterEach(() => stopFixtures());
afterAll(() => fx?.remove());

const target = (args: string[], opts?: { prefix?: string[]; detached?: boolean }) => startFixture(fx.target, args, opts);

describe('explainSignal: each verdict against the kernel', () => {
  it('ignored: SIG_IGN, the kernel discards it and the process lives on', async () => {
    const t = await target([`ignore:${SIGTERM}`, `catch:${SIGUSR1}`]);
    const e = explainSignal(t.pid, 'SIGTERM');
    expect(e).toMatchObject({ pid: t.pid, signal: 'SIGTERM', verdict: 'ignored', willEnd: false });
    expect(e.evidence).toMatchObject({ ignored: true, blocked: false, caught: false, pending: false, state: 'S' });
    kill(t.pid, 'SIGTERM');
    kill(t.pid, 'SIGUSR1');
    // SIGUSR1 sent after SIGTERM is handled: SIGTERM had been discarded, not queued.
    await t.expect(/^caught 10$/);
    expect(isPending(t.pid, SIGTERM)).toBe(false);
    expect(t.child.exitCode).toBe(null);
  });

  it('blocked: stays pending (and says so once it is)', async () => {
    const t = await target([`block:${SIGUSR1}`, `catch:${SIGUSR1}`]);
    const before = explainSignal(t.pid, 'SIGUSR1');
    expect(before).toMatchObject({ verdict: 'blocked', willEnd: false });
    expect(before.evidence).toMatchObject({ blocked: true, caught: true, pending: false });
    kill(t.pid, 'SIGUSR1');
    expect(isPending(t.pid, SIGUSR1)).toBe(true);
    const after = explainSignal(t.pid, 'SIGUSR1');
    expect(after).toMatchObject({ verdict: 'blocked', willEnd: false });
    expect(after.evidence.pending).toBe(true);
    expect(after.reasons.some((r) => /already pending/.test(r))).toBe(true);
    expect(procStateOf(t.pid)).toBe('S');
  });

  it('blocked by the main thread only is not blocked: another thread takes it (decided over every task/<tid>/status)', async () => {
    const t = await target([`block:${SIGUSR1}`, `catch:${SIGUSR1}`, 'thread']);
    const tid = Number((await t.expect(/^thread (\d+)$/))[1]);
    await waitUntil('the thread to unblock', () => (statusField(tid, 'SigBlk') === '0000000000000000' ? true : undefined));
    const e = explainSignal(t.pid, 'SIGUSR1');
    expect(e).toMatchObject({ verdict: 'caught', willEnd: null });
    expect(e.evidence.blocked).toBe(false);
    expect(e.reasons.join('\n')).toContain(`thread ${tid} does not`);
    kill(t.pid, 'SIGUSR1');
    await t.expect(/^caught 10$/);
  });

  it('not-a-process: a thread id; kill(2) with it reaches the whole process, as predicted', async () => {
    const t = await target([`catch:${SIGUSR1}`, 'thread']);
    const tid = Number((await t.expect(/^thread (\d+)$/))[1]);
    const e = explainSignal(tid, 'SIGUSR1');
    expect(e).toMatchObject({ pid: tid, verdict: 'not-a-process', willEnd: null, suggestion: `use pid ${t.pid}` });
    expect(e.reasons[0]).toContain(`thread of process ${t.pid}`);
    expect(e.reasons[1]).toBe(`for process ${t.pid}: caught`);
    process.kill(tid, 'SIGUSR1');
    await t.expect(/^caught 10$/);
  });

  it('caught: the handler runs', async () => {
    const t = await target([`catch:${SIGUSR1}`]);
    const e = explainSignal(t.pid, 'SIGUSR1');
    expect(e).toMatchObject({ verdict: 'caught', willEnd: null });
    expect(e.evidence).toMatchObject({ caught: true, ignored: false, blocked: false });
    kill(t.pid, 'SIGUSR1');
    await t.expect(/^caught 10$/);
    expect(t.child.exitCode).toBe(null);
  });

  it('default terminate: it ends, by that signal', async () => {
    const t = await target([]);
    const e = explainSignal(t.pid, 'SIGTERM');
    expect(e).toMatchObject({ verdict: 'default', willEnd: true, suggestion: null });
    kill(t.pid, 'SIGTERM');
    expect(await exited(t.child)).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('default ignore (SIGCHLD) and default stop (SIGTSTP): neither ends it', async () => {
    const t = await target([`catch:${SIGUSR1}`]);
    const chld = explainSignal(t.pid, 'SIGCHLD');
    expect(chld).toMatchObject({ verdict: 'default', willEnd: false });
    kill(t.pid, 'SIGCHLD');
    kill(t.pid, 'SIGUSR1');
    await t.expect(/^caught 10$/);
    expect(t.child.exitCode).toBe(null);
    const tstp = explainSignal(t.pid, 'SIGTSTP');
    expect(tstp).toMatchObject({ verdict: 'default', willEnd: false });
    expect(tstp.reasons.join('\n')).toMatch(/stops it/);
    kill(t.pid, 'SIGTSTP');
    await waitUntil('state T', () => (procStateOf(t.pid) === 'T' ? true : undefined));
  });

  it('stopped: SIGTERM stays pending until SIGCONT, then ends it; SIGKILL needs no SIGCONT', async () => {
    const t = await target([]);
    kill(t.pid, 'SIGSTOP');
    await waitUntil('state T', () => (procStateOf(t.pid) === 'T' ? true : undefined));
    const e = explainSignal(t.pid, 'SIGTERM');
    expect(e).toMatchObject({ verdict: 'stopped', willEnd: false });
    expect(e.evidence.state).toBe('T');
    expect(e.suggestion).toMatch(/SIGCONT/);
    kill(t.pid, 'SIGTERM');
    expect(isPending(t.pid, SIGTERM)).toBe(true);
    expect(procStateOf(t.pid)).toBe('T');
    expect(explainSignal(t.pid, 'SIGTERM').evidence.pending).toBe(true);
    kill(t.pid, 'SIGCONT');
    expect(await exited(t.child)).toEqual({ code: null, signal: 'SIGTERM' });

    const t2 = await target([]);
    kill(t2.pid, 'SIGSTOP');
    await waitUntil('state T', () => (procStateOf(t2.pid) === 'T' ? true : undefined));
    expect(explainSignal(t2.pid, 'SIGKILL')).toMatchObject({ verdict: 'default', willEnd: true });
    kill(t2.pid, 'SIGKILL');
    expect(await exited(t2.child)).toEqual({ code: null, signal: 'SIGKILL' });
  });

  for (const catchSigchld of [false, true]) {
    it(`zombie: even SIGKILL does nothing; names the parent${catchSigchld ? ', which catches SIGCHLD' : ''}`, async () => {
      const { parent, zombies } = await makeZombies(1, { catchSigchld });
      const z = zombies[0]!;
      const e = explainSignal(z, 'SIGKILL');
      expect(e).toMatchObject({ verdict: 'zombie', willEnd: false });
      expect(e.evidence.state).toBe('Z');
      expect(e.evidence.parent?.pid).toBe(parent.pid);
      expect(e.reasons.join('\n')).toContain(catchSigchld ? 'catches SIGCHLD' : 'does not catch SIGCHLD');
      expect(e.suggestion).toContain(String(parent.pid));
      kill(z, 'SIGKILL');
      expect(procStateOf(z)).toBe('Z');
      expect(explainSignal(z, 'SIGKILL').verdict).toBe('zombie');
    });
  }

  it('uninterruptible (D, a vfork parent): a signal waits until the sleep ends, then is handled', async () => {
    const t = await target([`catch:${SIGUSR1}`, 'vfork']);
    const child = Number((await t.expect(/^child (\d+)$/))[1]);
    remember(child);
    await waitUntil('state D', () => (procStateOf(t.pid) === 'D' ? true : undefined));
    const e = explainSignal(t.pid, 'SIGUSR1');
    expect(e).toMatchObject({ verdict: 'uninterruptible', willEnd: null });
    expect(e.evidence.state).toBe('D');
    // wchan is best effort: the kernel answers 0 while it cannot unwind the sleeper.
    if (e.evidence.wchan !== undefined) expect(e.evidence.wchan).toMatch(/^\w+$/);
    kill(t.pid, 'SIGUSR1');
    expect(isPending(t.pid, SIGUSR1)).toBe(true);
    expect(procStateOf(t.pid)).toBe('D');
    // End the sleep: the vfork child (ours, a grandchild) exits.
    process.kill(child, 'SIGKILL');
    await t.expect(/^caught 10$/);
    // A fatal signal to a D process: it depends (killable sleep or not).
    expect(explainSignal(t.pid, 'SIGKILL').willEnd).toBe(true); // no longer in D
  });

  it('uninterruptible: SIGKILL is "it depends" (willEnd null) and a killable sleep does end', async () => {
    const t = await target(['vfork']);
    const child = Number((await t.expect(/^child (\d+)$/))[1]);
    remember(child);
    await waitUntil('state D', () => (procStateOf(t.pid) === 'D' ? true : undefined));
    const e = explainSignal(t.pid, 'SIGKILL');
    expect(e).toMatchObject({ verdict: 'uninterruptible', willEnd: null });
    kill(t.pid, 'SIGKILL');
    expect(await exited(t.child)).toEqual({ code: null, signal: 'SIGKILL' });
    process.kill(child, 'SIGKILL');
  });

  it('namespace-init seen from the parent namespace: SIGTERM is dropped, SIGKILL gets through', async () => {
    // Our child unshare makes the target PID 1 of a new pid namespace, in a new session.
    const t = await target([`catch:${SIGUSR1}`], { prefix: ['timeout', '60', 'unshare', '--pid', '--fork', '--mount-proc', '--kill-child'], detached: true });
    expect(t.pid).toBe(1); // as the target sees itself
    const hostPid = await waitUntil('the namespace init', () => descendants(t.child.pid!).find((d) => statusField(d.pid, 'NSpid')?.endsWith('\t1'))?.pid);
    remember(hostPid);
    const term = explainSignal(hostPid, 'SIGTERM');
    expect(term).toMatchObject({ verdict: 'namespace-init', willEnd: false });
    expect(term.evidence.namespaceInit).toBe(true);
    kill(hostPid, 'SIGTERM');
    expect(isPending(hostPid, SIGTERM)).toBe(false); // dropped, not queued
    kill(hostPid, 'SIGUSR1');
    await t.expect(/^caught 10$/);
    expect(procStateOf(hostPid)).toMatch(/^[SR]$/); // alive
    const k = explainSignal(hostPid, 'SIGKILL');
    expect(k).toMatchObject({ verdict: 'default', willEnd: true });
    expect(k.reasons.join('\n')).toMatch(/ancestor namespace/);
    kill(hostPid, 'SIGKILL');
    await waitUntil('the namespace init to go', () => (procStateOf(hostPid) === undefined || procStateOf(hostPid) === 'Z' ? true : undefined));
    await exited(t.child, 10_000);
  });

  it('namespace-init seen from inside: even SIGKILL to PID 1 is dropped (run in a new session and pid namespace)', async () => {
    const r = await runFixture<{ kill: { verdict: string; willEnd: boolean; namespaceInit: boolean }; term: { verdict: string; willEnd: boolean }; state: string; pendingAfter: boolean; pid: number }>(
      'explain-nsinit.cjs',
      [],
      { prefix: ['setsid', 'timeout', '60', 'unshare', '--pid', '--fork', '--mount-proc', 'sh', '-c', '"$@"; exit $?', 'sh'] },
    );
    expect(r.pid).toBeGreaterThan(1);
    expect(r.kill).toMatchObject({ verdict: 'namespace-init', willEnd: false, namespaceInit: true });
    expect(r.term).toMatchObject({ verdict: 'namespace-init', willEnd: false });
    // Both were sent; PID 1 is there and nothing is pending: dropped.
    expect(r.state).not.toBe('Z');
    expect(r.pendingAfter).toBe(false);
  });

  it('not-permitted and other uids: predictions of a process running as nobody match kill(2)', async () => {
    const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    const mine = await target([]); // root's
    const theirs = await target([`catch:${SIGUSR1}`], { prefix: asNobody }); // nobody's, default SIGTERM
    // As root: permitted by CAP_KILL, though not by uid.
    const root = explainSignal(theirs.pid, 'SIGUSR1');
    expect(root).toMatchObject({ verdict: 'caught' });
    expect(root.evidence.owner).toEqual({ uid: 65534, ours: false });
    kill(theirs.pid, 'SIGUSR1');
    await theirs.expect(/^caught 10$/);
    // As nobody: root's process is not permitted; nobody's own is.
    const r = await runFixture<{ uid: number; results: Array<{ pid: number; verdict: string; willEnd: boolean; owner: { uid: number; ours: boolean }; watch: unknown; sent: string }> }>(
      'explain-asuser.cjs',
      [String(mine.pid), String(theirs.pid)],
      { prefix: asNobody },
    );
    expect(r.uid).toBe(65534);
    expect(r.results[0]).toMatchObject({ pid: mine.pid, verdict: 'not-permitted', willEnd: false, owner: { uid: 0, ours: false }, sent: 'EPERM' });
    expect(r.results[0]!.watch).toMatchObject({ code: 'EPERM', syscall: 'ptrace', reason: 'not-permitted' });
    expect(r.results[1]).toMatchObject({ pid: theirs.pid, verdict: 'default', willEnd: true, owner: { uid: 65534, ours: true }, sent: 'ok' });
    expect(await exited(theirs.child)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(mine.child.exitCode).toBe(null);
    expect(procStateOf(mine.pid)).toMatch(/^[SR]$/);
  });

  it('no-such-process: a reaped pid answers ESRCH, as predicted', async () => {
    const c = start('true');
    await exited(c);
    const pid = c.pid!;
    await waitUntil('the pid to be free', () => (existsSync(`/proc/${pid}`) ? undefined : true));
    const e = explainSignal(pid, 'SIGTERM');
    expect(e).toMatchObject({ pid, verdict: 'no-such-process', willEnd: false });
    expect(e.evidence).toMatchObject({ state: null, owner: null });
    expect(codeOf(() => process.kill(pid, 'SIGTERM'))).toBe('ESRCH');
    expect(explainSignal(99_999_999, 'SIGTERM').reasons.join('\n')).toMatch(/pid_max/);
  });

  it('protected: this process and its parent (nothing is sent)', () => {
    const self = explainSignal(process.pid, 'SIGKILL');
    expect(self).toMatchObject({ verdict: 'protected', willEnd: true });
    expect(self.reasons[0]).toMatch(/this process itself/);
    expect(self.reasons[1]).toBe('for kill(2) itself: default');
    const parent = explainSignal(process.ppid, 'SIGKILL');
    expect(parent).toMatchObject({ verdict: 'protected', willEnd: true });
    expect(parent.reasons[0]).toMatch(/ancestor/);
  });

  it('refuses bad input before reading anything', () => {
    expect(codeOf(() => explainSignal(0))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => explainSignal(-1))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => explainSignal(process.pid, 0))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => explainSignal(process.pid, 'SIGNOPE' as never))).toBe('ERR_UNKNOWN_SIGNAL');
    expect(codeOf(() => explainSignal('1' as unknown as number))).toBe('ERR_INVALID_ARG_TYPE');
    expect(explainSignal(process.pid).signal).toBe('SIGTERM');
  });
});

