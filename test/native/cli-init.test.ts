/**
 * sigkit init's parity with tini and dumb-init, through the bin. Init runs
 * as PID 1 of a new pid namespace (`unshare --pid --fork --mount-proc
 * --kill-child`), so everything it starts dies with it; the --kill-orphans
 * and -p cases run it as a plain subreaper in a session of its own, where
 * the test can see what is left after it exits.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { children, kill, openProcess, signalNumber, waitForExit, type ProcessHandle } from '../../src/index.js';
import { CLI, sigkit } from '../helpers/cli.js';
import { ROOT } from '../helpers/paths.js';
import { LineReader, exited, start, stopAll, waitUntil } from '../helpers/procs.js';

const node = process.execPath;
const pinned: ProcessHandle[] = [];
afterEach(() => {
  for (const h of pinned.splice(0)) {
    if (!h.closed && h.isAlive()) h.kill('SIGKILL');
    h.close();
  }
  stopAll();
});

/** init as PID 1 of a new pid namespace; resolves once CMD printed "ready". */
async function startInit(args: string[], prefix: string[] = []): Promise<{ unshare: ChildProcess; init: number; out: LineReader; err: LineReader }> {
  const unshare = start(prefix[0] ?? 'unshare', [...prefix.slice(1), ...(prefix.length ? ['unshare'] : []), '--pid', '--fork', '--mount-proc', '--kill-child', node, CLI, 'init', ...args]);
  const out = new LineReader(unshare.stdout!);
  const err = new LineReader(unshare.stderr!);
  expect(await out.next(10_000)).toBe('ready');
  const init = await waitUntil('init in its namespace', () => children(unshare.pid!).find((p) => p.comm !== 'unshare')?.pid);
  return { unshare, init, out, err };
}

describe('sigkit init: tini / dumb-init parity', () => {
  it('forwards every catchable signal, not six: SIGWINCH, SIGPWR, SIGURG, SIGUSR2, realtime ones', async () => {
    const traps = ['WINCH', 'PWR', 'URG', 'USR2', 'RTMIN+4', 'RTMAX-1'].map((s) => `trap 'echo got ${s}' ${s}`).join('; ');
    const { unshare, init, out } = await startInit(['--', 'bash', '-c', `${traps}; trap 'exit 0' TERM; echo ready; while :; do sleep 0.01; done`]);
    for (const s of ['SIGWINCH', 'SIGPWR', 'SIGURG', 'SIGUSR2', 'SIGRTMIN+4', 'SIGRTMAX-1'] as const) {
      kill(init, s); // init is our descendant: unshare's child
      expect(await out.next()).toBe(`got ${s.slice(3)}`);
    }
    kill(init, 'SIGTERM');
    expect(await exited(unshare)).toEqual({ code: 0, signal: null });
  });

  it('--rewrite FROM:TO forwards FROM as TO (dumb-init); TO 0 drops it', async () => {
    const script = `trap 'echo got QUIT; exit 0' QUIT; trap 'echo got TERM' TERM; trap 'echo got USR1' USR1; echo ready; while :; do sleep 0.01; done`;
    const { unshare, init, out, err } = await startInit(['--rewrite', '15:3', '--rewrite=USR1:0', '-v', '--', 'bash', '-c', script]);
    kill(init, 'SIGUSR1');
    expect(await err.next()).toMatch(/^sigkit init: PID 1, subreaper; started /);
    expect(await err.next()).toBe('sigkit init: dropped SIGUSR1 (from pid 0, SI_USER): --rewrite to 0');
    kill(init, 'SIGTERM');
    expect(await out.next()).toBe('got QUIT'); // never "got TERM" nor "got USR1"
    expect(await exited(unshare)).toEqual({ code: 0, signal: null });
    expect(await err.next()).toMatch(/^sigkit init: forwarded SIGTERM as SIGQUIT \(from pid 0, SI_USER\) to \d+$/);
  });

  it('-e CODE: that exit code (or 128+n) becomes 0 (tini); other codes pass through', async () => {
    const run = async (args: string[]) => (await sigkit(['init', ...args])).code;
    expect(await run(['-e', '3', '--', 'sh', '-c', 'exit 3'])).toBe(0);
    expect(await run(['-e', '3', '--', 'sh', '-c', 'exit 4'])).toBe(4);
    expect(await run(['-e', '3', '-e', '143', '--', 'sh', '-c', 'kill -TERM $$'])).toBe(0);
    const j = await sigkit(['init', '--json', '-e', '7', '--', 'sh', '-c', 'exit 7']);
    expect(JSON.parse(j.stderr.trim().split('\n').at(-1)!)).toMatchObject({ event: 'exit', code: 7, exitCode: 0, remapped: 7 });
  });

  it('CMD starts with every signal at its default and none blocked, even if init was started with a realtime signal ignored', async () => {
    // python3 ignores SIGRTMIN+3 and execs the whole chain: unshare, node (init), CMD.
    const rt = signalNumber('SIGRTMIN+3');
    const py = `import os, signal; signal.signal(${rt}, signal.SIG_IGN); os.execvp('unshare', ${JSON.stringify(['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', node, CLI, 'init', '--', 'grep', '-E', '^Sig(Blk|Ign)', '/proc/self/status'])})`;
    const p = start('python3', ['-c', py]);
    const out = new LineReader(p.stdout!);
    expect([await out.next(10_000), await out.next()]).toEqual(['SigBlk:\t0000000000000000', 'SigIgn:\t0000000000000000']);
    expect(await exited(p)).toEqual({ code: 0, signal: null });
  });

  it('--kill-orphans: orphans still running when CMD exits get SIGTERM, then SIGKILL after the grace', async () => {
    // A plain subreaper in its own session: what it leaves is visible here.
    const script = `sleep 30 & echo $!; (trap '' TERM; exec sleep 30) & echo $!; exit 0`;
    const init = start('setsid', ['-w', node, CLI, 'init', '--kill-orphans', '--grace', '300ms', '--json', '--', 'sh', '-c', script]);
    const out = new LineReader(init.stdout!);
    const err = new LineReader(init.stderr!);
    const orphans = [Number(await out.next(10_000)), Number(await out.next())].map((pid) => openProcess(pid));
    pinned.push(...orphans);
    expect(await exited(init, 10_000)).toEqual({ code: 0, signal: null });
    const log = (await err.rest()).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log.find((r) => r.event === 'orphans')).toMatchObject({ signal: 'SIGTERM', pids: expect.arrayContaining(orphans.map((h) => h.pid)) });
    for (const h of orphans) expect(h.isAlive()).toBe(false);
    expect(log.at(-1)).toMatchObject({ event: 'exit', exitCode: 0, reaped: 2 });
  });

  it('without --kill-orphans the orphans are left alone (as tini): they outlive init', async () => {
    const init = start('setsid', ['-w', node, CLI, 'init', '--', 'sh', '-c', 'sleep 30 & echo $!; exit 0']);
    const orphan = openProcess(Number(await new LineReader(init.stdout!).next(10_000)));
    pinned.push(orphan);
    expect(await exited(init, 10_000)).toEqual({ code: 0, signal: null });
    expect(await waitForExit(orphan.pid, { timeoutMs: 200 })).toBe(false);
  });

  it('-p SIG: init gets SIG when its parent dies, and forwards it to CMD (tini)', async () => {
    // sh starts init in the background and prints its pid; SIGKILL of sh is init's parent dying.
    const parent = start('sh', ['-c', `setsid ${node} ${CLI} init -p SIGUSR2 -- sh -c "trap 'echo got USR2; exit 0' USR2; echo ready; while :; do sleep 0.01; done" & echo $!; wait`]);
    const out = new LineReader(parent.stdout!);
    const initPid = Number(await out.next(10_000));
    const init = openProcess(initPid);
    pinned.push(init);
    expect(await out.next(10_000)).toBe('ready');
    parent.kill('SIGKILL');
    expect(await out.next()).toBe('got USR2');
    await init.exited({ timeoutMs: 5000 });
  });

  it.each([
    [['--rewrite', '15', '--', 'true'], /--rewrite takes FROM:TO/],
    [['--rewrite', 'KILL:TERM', '--', 'true'], /--rewrite: init does not forward SIGKILL/],
    [['--rewrite', 'TERM:FOO', '--', 'true'], /unknown signal 'FOO'/],
    [['-e', '256', '--', 'true'], /-e takes an exit code \(0-255\)/],
    [['-e', '--', 'true'], /-e needs a value/],
    [['-p', 'BOGUS', '--', 'true'], /unknown signal 'BOGUS'/],
  ])('%j: usage error, exit 2', async (args, message) => {
    const r = await sigkit(['init', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sigkit-init-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the Dockerfile in examples/ runs as a container runtime would run it', () => {
  it('its ENTRYPOINT + CMD as PID 1 of a fresh pid namespace: ready, then SIGTERM (docker stop) ends it cleanly with 143', async () => {
    const dockerfile = readFileSync(path.join(ROOT, 'examples', 'Dockerfile'), 'utf8');
    const entry = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(entry.slice(0, 2)).toEqual(['sigkit', 'init']);
    // The image's `sigkit` is this checkout's bin (and its require('sigkit') this checkout); the app is examples/server.js.
    const argv = [...entry.slice(1), ...cmd].map((a) => (a === 'server.js' ? path.join(ROOT, 'examples', 'server.js') : a));
    const modules = path.join(tmp, 'node_modules');
    mkdirSync(modules, { recursive: true });
    symlinkSync(ROOT, path.join(modules, 'sigkit'));
    const env = { ...process.env, NODE_PATH: modules, PORT: '0', JOURNAL: path.join(tmp, 'journal') };
    const unshare = start('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', node, CLI, ...argv], { env });
    const out = new LineReader(unshare.stdout!);
    expect(await out.next(10_000)).toMatch(/^listening on \d+$/);
    const init = await waitUntil('init in its namespace', () => children(unshare.pid!).find((p) => p.comm !== 'unshare')?.pid);
    kill(init, 'SIGTERM'); // what docker stop and the kubelet send: to PID 1
    expect(await out.next()).toBe('shutdown: closed the listener');
    expect(await out.next()).toBe('shutdown: flushed');
    expect(await exited(unshare)).toEqual({ code: 143, signal: null });
  });
});
