/**
 * Issue 11's holes on real processes this test starts (the inputs that are
 * safe on a shared host: our own children and their threads). The dangerous
 * inputs (0, 1, -1, our own group, ancestors) run in test/safety/, inside a
 * fresh PID namespace.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isAlive, isZombie, kill, openProcess, readProcess, terminate, terminateTree,
} from '../../src/index.js';
import { sigkit } from '../helpers/cli.js';
import { errorOf } from '../helpers/errors.js';
import { LIB } from '../helpers/fixture.js';
import { FIXTURE_SRC } from '../helpers/paths.js';
import { LineReader, procStateOf, start, stopAll, waitUntil } from '../helpers/procs.js';

afterEach(() => stopAll());

/** A node child with several threads; resolves its pid and one thread id that is not the leader. */
async function threaded(): Promise<{ pid: number; tid: number }> {
  const child = start(process.execPath, ['-e', 'console.log("ready"); setTimeout(() => {}, 60_000)']);
  expect(await new LineReader(child.stdout!).next()).toBe('ready');
  const pid = child.pid!;
  const tid = Number(readdirSync(`/proc/${pid}/task`).find((t) => Number(t) !== pid));
  expect(tid).toBeGreaterThan(0);
  return { pid, tid };
}

describe('a thread id is not a process', () => {
  it('isAlive and isZombie are false, readProcess and openProcess are ESRCH, terminate* resolve notFound; the thread is untouched', async () => {
    const { pid, tid } = await threaded();
    expect(isAlive(tid)).toBe(false);
    expect(isZombie(tid)).toBe(false);
    expect(errorOf(() => readProcess(tid))).toMatchObject({ name: 'SyscallError', code: 'ESRCH', pid: tid });
    expect(errorOf(() => openProcess(tid))).toMatchObject({ name: 'SyscallError', code: 'ESRCH', pid: tid });
    expect(await terminate(tid, { graceMs: 100 })).toMatchObject({ pid: tid, notFound: true, exited: true, steps: [] });
    expect(await terminateTree(tid, { graceMs: 100 })).toMatchObject({ id: tid, notFound: true, exited: true, members: [] });
    // The kill primitive keeps the kernel's meaning: a tid is signallable (0 only probes).
    expect(() => kill(tid, 0)).not.toThrow();
    // The process and its thread are as they were.
    expect(isAlive(pid)).toBe(true);
    expect(procStateOf(tid)).toMatch(/^[RS]$/);
    const cli = await sigkit(['term', String(tid), '--grace', '100ms']);
    expect(cli).toMatchObject({ code: 1, stdout: '' });
    expect(cli.stderr.trim().split('\n')).toEqual([`sigkit term: ${tid}: no such process`]);
    expect(isAlive(pid)).toBe(true);
  });
});

describe('a member that may not be signalled (EPERM) does not stop the rest of the tree', () => {
  it('terminateTree run as nobody over a root-owned root: the root and its root child are EPERM members, the nobody child is ended, nothing is left stopped', async () => {
    // root (ours, uid 0) -> child A as nobody (65534), child B as root. The
    // terminator runs as nobody: it may signal A only.
    const script = `setpriv --reuid=65534 --regid=65534 --clear-groups sleep 60 & sleep 60 & echo ready; wait`;
    const root = start('sh', ['-c', script], { detached: true });
    expect(await new LineReader(root.stdout!).next()).toBe('ready');
    const kids = await waitUntil('two children', () => {
      const k = readdirSync(`/proc/${root.pid}/task`).flatMap((t) => {
        try {
          return require('node:fs').readFileSync(`/proc/${root.pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
        } catch {
          return [];
        }
      });
      // setpriv execs sleep; wait until both children run sleep as their final uid.
      const ready = k.filter((p) => readProcess(p).comm === 'sleep');
      return ready.length === 2 ? ready : undefined;
    });
    const nobodyKid = kids.find((p) => readProcess(p).uid === 65534)!;
    const rootKid = kids.find((p) => readProcess(p).uid === 0)!;
    expect(nobodyKid && rootKid).toBeTruthy();
    const fixture = path.join(FIXTURE_SRC, 'terminate-tree-as.cjs');
    const out = await new Promise<string>((resolve, reject) => {
      execFile('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, fixture, LIB, String(root.pid)], { timeout: 30_000 }, (e, stdout, stderr) => {
        if (e) reject(new Error(`${e.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { members: Array<{ pid: number; exited: boolean; error?: { code: string } }>; exited: boolean };
    const byPid = new Map(r.members.map((m) => [m.pid, m]));
    expect(byPid.get(root.pid!)).toMatchObject({ exited: false, error: { code: 'EPERM' } });
    expect(byPid.get(rootKid)).toMatchObject({ exited: false, error: { code: 'EPERM' } });
    expect(byPid.get(nobodyKid)).toMatchObject({ exited: true });
    expect(r.exited).toBe(false);
    expect(isAlive(nobodyKid)).toBe(false);
    // Nothing sigkit could reach was left stopped; the others never were.
    expect(procStateOf(root.pid!)).not.toBe('T');
    expect(procStateOf(rootKid)).not.toBe('T');
    process.kill(-root.pid!, 'SIGKILL'); // our own detached group
  });
});

describe('the CLI prints exactly one line for every bad input', () => {
  it.each([
    [['send', '-s', '-1', 'PID']],
    [['term', 'PID', '--grace', '-1s']],
    [['term', 'PID', '--grace', 'soon']],
    [['send', '-s', 'SIGTREM', 'PID']],
    [['term', 'PID', '--steps', 'TERM:1s,STOP:1s']],
    [['send', 'PID', 'abc']],
  ])('%j: one line, exit 2, nothing sent', async (args) => {
    const child = start('sh', ['-c', "trap 'echo got; exit 3' TERM INT HUP USR1 USR2; echo ready; while :; do sleep 0.05; done"]);
    const lines = new LineReader(child.stdout!);
    expect(await lines.next()).toBe('ready');
    const r = await sigkit(args.map((a) => (a === 'PID' ? String(child.pid) : a)));
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(isAlive(child.pid!)).toBe(true);
  });
});
