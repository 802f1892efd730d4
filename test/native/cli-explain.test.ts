/** `sigkit explain` and `sigkit watch` run as a user runs them, on processes the test started. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { CLI, sigkit } from '../helpers/cli.js';
import { LineReader, procStateOf, waitUntil } from '../helpers/procs.js';
import { kill, sigqueue } from '../../src/index.js';
import { buildFixtures, stopFixtures, startFixture, statusField, type Built } from './explain-fixtures.js';

let fx: Built;
beforeAll(() => {
  fx = buildFixtures();
});
afterEach(() => stopFixtures());
afterAll(() => fx?.remove());

describe('sigkit explain', () => {
  it('explains SIGTERM, and SIGKILL too when SIGTERM would not surely end it', async () => {
    const t = await startFixture(fx.target, ['ignore:15']);
    const r = await sigkit(['explain', String(t.pid)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`SIGTERM to ${t.pid} (explain-target): will not end it  [ignored]`);
    expect(r.stdout).toContain(`SIGKILL to ${t.pid} (explain-target): will end it  [default]`);
    const j = await sigkit(['explain', String(t.pid), '--json']);
    const both = JSON.parse(j.stdout) as Array<{ verdict: string; signal: string }>;
    expect(both.map((e) => [e.signal, e.verdict])).toEqual([['SIGTERM', 'ignored'], ['SIGKILL', 'default']]);
    const one = JSON.parse((await sigkit(['explain', String(t.pid), 'TERM', '--json'])).stdout) as { verdict: string; evidence: { ignored: boolean } };
    expect(one).toMatchObject({ verdict: 'ignored', evidence: { ignored: true } });
  });

  it('explains SIGTERM alone when it ends it; exits 1 for no such process and 2 for bad usage', async () => {
    const t = await startFixture(fx.target, []);
    const r = await sigkit(['explain', String(t.pid)]);
    expect(r.stdout).toContain('will end it  [default]');
    expect(r.stdout).not.toContain('SIGKILL to');
    const gone = await sigkit(['explain', '99999999', 'KILL']);
    expect(gone.code).toBe(1);
    expect(gone.stdout).toContain('[no-such-process]');
    expect((await sigkit(['explain'])).code).toBe(2);
    expect((await sigkit(['explain', '12', 'SIGNOPE'])).code).toBe(2);
    expect((await sigkit(['explain', '12', '0'])).code).toBe(2);
  });
});

describe('sigkit watch', () => {
  it('prints strace-like lines and the exit; --json one object per line', async () => {
    const t = await startFixture('sh', ['-c', `${fx.counter} & wait $!; echo "status $?"`]);
    const w = spawn(process.execPath, [CLI, 'watch', String(t.pid)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = new LineReader(w.stdout!);
    await waitUntil('attached', () => (Number(statusField(t.pid, 'TracerPid')) > 0 ? true : undefined), 10_000);
    kill(t.pid, 'SIGUSR2');
    expect(await out.next(10_000)).toBe(`--- SIGUSR2 {si_signo=SIGUSR2, si_code=SI_USER, si_pid=${process.pid}, si_uid=0} ---`);
    sigqueue(t.pid, 'SIGRTMIN+1', 42);
    expect(await out.next(10_000)).toBe(`--- SIGRTMIN+1 {si_signo=SIGRTMIN+1, si_code=SI_QUEUE, si_pid=${process.pid}, si_uid=0, si_int=42} ---`);
    kill(t.pid, 'SIGTERM');
    expect(await out.next(10_000)).toMatch(/^--- SIGTERM /);
    expect(await out.next(10_000)).toBe('+++ exited with 0 +++');
    const code = await new Promise((r) => w.once('exit', r));
    expect(code).toBe(0);
  });

  it('Ctrl-C detaches and leaves the process as it was', async () => {
    const t = await startFixture('sh', ['-c', `${fx.counter} & wait $!; echo "status $?"`]);
    const w = spawn(process.execPath, [CLI, 'watch', String(t.pid), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = new LineReader(w.stdout!);
    await waitUntil('attached', () => (Number(statusField(t.pid, 'TracerPid')) > 0 ? true : undefined), 10_000);
    kill(t.pid, 'SIGUSR2');
    expect(JSON.parse(await out.next(10_000))).toMatchObject({ type: 'signal', signal: 'SIGUSR2', code: 'SI_USER', pid: process.pid });
    await t.expect(/^usr2 1$/);
    w.kill('SIGINT');
    expect(await new Promise((r) => w.once('exit', r))).toBe(0);
    expect(statusField(t.pid, 'TracerPid')).toBe('0');
    expect(procStateOf(t.pid)).toMatch(/^[SR]$/);
    kill(t.pid, 'SIGUSR2');
    await t.expect(/^usr2 2$/);
  });

  it('refuses, with exit 1, a process already traced', async () => {
    const t = await startFixture('sh', ['-c', `${fx.counter} & wait $!`]);
    const first = spawn(process.execPath, [CLI, 'watch', String(t.pid)], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitUntil('attached', () => (Number(statusField(t.pid, 'TracerPid')) > 0 ? true : undefined), 10_000);
    const second = await sigkit(['watch', String(t.pid)]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already traced by \d+/);
    first.kill('SIGINT');
    await new Promise((r) => first.once('exit', r));
    expect((await sigkit(['watch', '99999999'])).stderr).toMatch(/no process 99999999/);
  });
});
