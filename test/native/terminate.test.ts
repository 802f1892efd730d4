/**
 * terminate, terminateGroup, terminateTree, killMatching, terminateMatching on
 * real processes this test starts (detached groups where a group is needed).
 */
import type { SignalLike } from '../../src/signals.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  descendants, isAlive, killMatching, listProcesses, readProcess, terminate, terminateGroup, terminateMatching, terminateTree,
} from '../../src/index.js';
import { NAMED } from '../helpers/paths.js';
import { NO_PIDFD } from '../helpers/fallback-mode.js';
import { LineReader, makeZombies, procStateOf, start, stopAll, waitUntil } from '../helpers/procs.js';

afterEach(() => stopAll());

const dir = mkdtempSync(path.join(tmpdir(), 'sigkit-terminate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function ready(cmd: string, args: string[], opts = {}): Promise<number> {
  const child = start(cmd, args, opts);
  const line = await new LineReader(child.stdout!).next();
  expect(line).toMatch(/^ready/);
  return child.pid!;
}

// A shell that prints "ready" once its TERM trap is set, then idles.
const idle = 'while :; do sleep 0.05; done';

function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(() => undefined, (e) => (e as { code?: string }).code);
}

describe('terminate', () => {
  it('a process with a 200 ms shutdown hook exits on SIGTERM: forced false, the file is written', async () => {
    const file = path.join(dir, 'graceful');
    const pid = await ready('sh', ['-c', `trap 'sleep 0.2; echo cleaned > ${file}; exit 0' TERM; echo ready; ${idle}`]);
    const seen: string[] = [];
    const r = await terminate(pid, { graceMs: 3000, onStep: (s) => seen.push(s.signal) });
    expect(r).toMatchObject({ pid, exited: true, forced: false });
    expect(r.steps.map((s) => s.signal)).toEqual(['SIGTERM']);
    expect(seen).toEqual(['SIGTERM']);
    expect(r.exitedAfterMs).toBeGreaterThanOrEqual(150);
    expect(readFileSync(file, 'utf8')).toBe('cleaned\n');
    // Our own child: the kernel still holds its status for Node, and we read it without reaping.
    // Without pidfds libuv may reap it first on the same SIGCHLD, and nothing keeps it then.
    if (!NO_PIDFD || r.exit) expect(r.exit).toMatchObject({ pid, code: 0, signal: null });
  });

  it('a process that ignores SIGTERM is killed after the grace period: forced true, steps timed', async () => {
    const pid = await ready('sh', ['-c', `trap '' TERM; echo ready; ${idle}`]);
    const r = await terminate(pid, { steps: [{ signal: 'SIGTERM', waitMs: 300 }, { signal: 'SIGKILL', waitMs: 2000 }] });
    expect(r).toMatchObject({ exited: true, forced: true });
    expect(r.steps.map((s) => s.signal)).toEqual(['SIGTERM', 'SIGKILL']);
    expect(r.steps[0]!.sentAtMs).toBeLessThan(r.steps[1]!.sentAtMs);
    expect(r.steps[1]!.sentAtMs - r.steps[0]!.sentAtMs).toBeGreaterThanOrEqual(290);
    expect(r.exitedAfterMs!).toBeGreaterThanOrEqual(r.steps[1]!.sentAtMs);
    if (!NO_PIDFD || r.exit) expect(r.exit).toMatchObject({ signal: 'SIGKILL', signalNumber: 9 });
    expect(isAlive(pid)).toBe(false);
  });

  it('a stopped process still terminates gracefully: SIGCONT follows SIGTERM', async () => {
    const file = path.join(dir, 'stopped');
    const pid = await ready('sh', ['-c', `trap 'echo cleaned > ${file}; exit 0' TERM; echo ready; ${idle}`]);
    process.kill(pid, 'SIGSTOP');
    await waitUntil('state T', () => (procStateOf(pid) === 'T' ? true : undefined));
    const r = await terminate(pid, { graceMs: 3000 });
    expect(r).toMatchObject({ exited: true, forced: false });
    expect(existsSync(file)).toBe(true);
  });

  it('a zombie target resolves at once with exited, zombie and its parent; nothing is sent', async () => {
    const { parent, zombies } = await makeZombies(1);
    const r = await terminate(zombies[0]!);
    expect(r).toMatchObject({ pid: zombies[0], exited: true, zombie: true, ppid: parent.pid, forced: false, steps: [] });
  });

  it('a pid with no process resolves exited with notFound', async () => {
    const child = start('true');
    await new Promise((r) => child.once('exit', r));
    expect(await terminate(child.pid!)).toMatchObject({ exited: true, notFound: true, steps: [] });
  });

  it('abort cancels the waiting, not what was sent', async () => {
    const pid = await ready('sh', ['-c', `trap 'sleep 0.3; exit 0' TERM; echo ready; ${idle}`]);
    const ac = new AbortController();
    const p = terminate(pid, { graceMs: 5000, signal: ac.signal, onStep: () => setImmediate(() => ac.abort()) });
    expect(await codeOf(p)).toBe('ABORT_ERR');
    // The SIGTERM went out: the hook runs and the process ends by itself.
    await waitUntil('exit after the aborted wait', () => (isAlive(pid) ? undefined : true), 3000);
  });

  it.each([
    [{ steps: [] }, 'ERR_INVALID_ARG_VALUE'],
    [{ steps: [{ signal: 'SIGSTOP', waitMs: 1 }] }, 'ERR_INVALID_ARG_VALUE'],
    [{ steps: [{ signal: 0, waitMs: 1 }] }, 'ERR_INVALID_ARG_VALUE'],
    [{ steps: [{ signal: 'SIGFOO', waitMs: 1 }] }, 'ERR_UNKNOWN_SIGNAL'],
    [{ steps: [{ signal: 'SIGTERM', waitMs: -1 }] }, 'ERR_OUT_OF_RANGE'],
    [{ steps: [{ signal: 'SIGTERM', waitMs: Infinity }] }, 'ERR_INVALID_ARG_VALUE'],
    [{ graceMs: 5, steps: [{ signal: 'SIGTERM', waitMs: 1 }] }, 'ERR_INVALID_ARG_VALUE'],
    [{ signal: 'no' }, 'ERR_INVALID_ARG_TYPE'],
    [{ onStep: 5 }, 'ERR_INVALID_ARG_TYPE'],
    ['fast', 'ERR_INVALID_ARG_TYPE'],
  ])('bad options %j reject with %s and send nothing', async (opts, code) => {
    const child = start('sleep', ['30']);
    expect(await codeOf(terminate(child.pid!, opts as never))).toBe(code);
    expect(await codeOf(terminateGroup(child.pid!, opts as never))).toBe(code);
    expect(await codeOf(terminateTree(child.pid!, opts as never))).toBe(code);
    expect(isAlive(child.pid!)).toBe(true);
  });

  it.each([[0], [-1], ['12'], [1.5]])('bad target %j rejects with ERR_*', async (pid) => {
    expect(await codeOf(terminate(pid as number))).toMatch(/^ERR_/);
  });
});

describe('terminateGroup', () => {
  it('waits for every member, also those whose parent (the leader) died first', async () => {
    const member = `(trap 'sleep 0.3; exit 0' TERM; ${idle}) &`;
    const leader = start('sh', ['-c', `${member} ${member} trap 'exit 0' TERM; echo ready; ${idle}`], { detached: true });
    await new LineReader(leader.stdout!).next();
    await waitUntil('both members', () => (listProcesses().filter((p) => p.pgid === leader.pid && p.comm === 'sh').length === 3 ? true : undefined));
    const r = await terminateGroup(leader.pid!, { graceMs: 3000 });
    expect(r).toMatchObject({ id: leader.pid, exited: true, forced: false });
    expect(r.exitedAfterMs!).toBeGreaterThanOrEqual(250);
    const shells = r.members.filter((m) => m.comm === 'sh');
    expect(shells).toHaveLength(3);
    expect(r.members.every((m) => m.exited)).toBe(true);
    for (const m of r.members) expect(isAlive(m.pid)).toBe(false);
    expect(listProcesses().filter((p) => p.pgid === leader.pid && p.state !== 'Z')).toEqual([]);
  });

  it('escalates to SIGKILL for members that ignore SIGTERM', async () => {
    const leader = start('sh', ['-c', `(trap '' TERM; ${idle}) & trap '' TERM; echo ready; ${idle}`], { detached: true });
    await new LineReader(leader.stdout!).next();
    const r = await terminateGroup(leader.pid!, { steps: [{ signal: 'TERM', waitMs: 200 }, { signal: 'KILL', waitMs: 2000 }] });
    expect(r).toMatchObject({ exited: true, forced: true });
    expect(r.steps.map((s) => s.signal)).toEqual(['SIGTERM', 'SIGKILL']);
  });

  it('a group with no process resolves notFound, like terminate and terminateTree', async () => {
    const child = start('true');
    await new Promise((r) => child.once('exit', r));
    expect(await terminateGroup(child.pid!)).toEqual({ id: child.pid, exited: true, forced: false, steps: [], exitedAfterMs: 0, members: [], notFound: true });
    expect(await terminateTree(child.pid!)).toEqual({ id: child.pid, exited: true, forced: false, steps: [], exitedAfterMs: 0, members: [], notFound: true });
    expect(await terminate(child.pid!)).toEqual({ pid: child.pid, exited: true, forced: false, steps: [], exitedAfterMs: 0, notFound: true });
  });
});

describe('terminateTree', () => {
  it('a tree that keeps forking (a child every 10 ms, depth 3) is left with nothing alive', async () => {
    const script = `node() { d=$1; n=0; while :; do if [ $d -lt 3 ] && [ $n -lt 3 ]; then node $((d+1)) & n=$((n+1)); else sleep 0.03 & fi; sleep 0.01; done; }; node 0`;
    const root = start('sh', ['-c', script], { detached: true });
    await waitUntil('the tree to grow', () => (descendants(root.pid!).length >= 40 ? true : undefined), 10_000);
    const r = await terminateTree(root.pid!, { graceMs: 3000 });
    expect(r.exited).toBe(true);
    expect(r.members.length).toBeGreaterThanOrEqual(40);
    // Nothing of the tree runs any more: the whole process group (the tree
    // never left it) holds zombies at most, re-parented ones included.
    await waitUntil('the group to be empty of live processes', () => (listProcesses().some((p) => p.pgid === root.pid && p.state !== 'Z') ? undefined : true), 2000);
    for (const m of r.members) expect(isAlive(m.pid)).toBe(false);
  });

  it('a bash with 20 sleeping children: all 21 confirmed gone', async () => {
    const root = start('bash', ['-c', 'for i in $(seq 20); do sleep 30 & done; wait'], { detached: true });
    await waitUntil('20 children', () => (descendants(root.pid!).length === 20 ? true : undefined));
    const r = await terminateTree(root.pid!, { graceMs: 2000 });
    expect(r).toMatchObject({ exited: true, forced: false });
    expect(r.members).toHaveLength(21);
    expect(r.members.every((m) => m.exited)).toBe(true);
  });
});

describe('killMatching and terminateMatching', () => {
  const name = `km${process.pid % 100000}`;

  it('signal only what matches; never this process, its ancestors or PID 1', async () => {
    const a = await ready(NAMED, [name]);
    const b = await ready(NAMED, [name]);
    const dry = killMatching({ name, ppid: process.pid }, 'SIGTERM', { dryRun: true });
    expect(dry.map((m) => m.pid).sort()).toEqual([a, b].sort());
    expect(dry.every((m) => !m.signalled)).toBe(true);
    expect(isAlive(a) && isAlive(b)).toBe(true);
    // A dry run over everything in our session: never us, our ancestors or 1.
    const me = readProcess(process.pid);
    const listed = killMatching({ sid: me.sid }, 'SIGTERM', { dryRun: true });
    const everything = listed.filter((m) => !m.skipped).map((m) => m.pid);
    const ancestors: number[] = [];
    for (let p = me.ppid; p > 1; p = readProcess(p).ppid) ancestors.push(p);
    for (const p of [process.pid, 1, ...ancestors]) expect(everything).not.toContain(p);
    // The protected ones that matched are listed as skipped, never signalled.
    const sameSession = ancestors.filter((p) => readProcess(p).sid === me.sid);
    expect(sameSession.length).toBeGreaterThan(0); // vitest's main process at least
    for (const p of sameSession) expect(listed.find((m) => m.pid === p)).toMatchObject({ signalled: false, skipped: 'ancestor' });
    expect(everything).toContain(a);
    const done = killMatching({ name, ppid: process.pid }, 'SIGUSR1');
    expect(done.map((m) => ({ pid: m.pid, signalled: m.signalled })).sort((x, y) => x.pid - y.pid)).toEqual([a, b].sort((x, y) => x - y).map((pid) => ({ pid, signalled: true })));
    await waitUntil('both gone', () => (!isAlive(a) && !isAlive(b) ? true : undefined));
  });

  it('terminateMatching escalates per process; dryRun lists only', async () => {
    const yielding = await ready(NAMED, [`${name}-t`]);
    const stubborn = await ready(NAMED, [`${name}-t`, 'masks']); // catches SIGTERM and stays
    const query = { name: `${name}-t`, ppid: process.pid };
    const dry = await terminateMatching(query, { dryRun: true });
    expect(dry.map((m) => m.pid).sort()).toEqual([yielding, stubborn].sort());
    expect(isAlive(yielding) && isAlive(stubborn)).toBe(true);
    const r = await terminateMatching(query, { graceMs: 200 });
    const by = new Map(r.map((m) => [m.pid, m.result]));
    expect(by.get(yielding)).toMatchObject({ exited: true, forced: false });
    expect(by.get(stubborn)).toMatchObject({ exited: true, forced: true });
  });

  it('an empty query throws', () => {
    expect(() => killMatching({}, 'SIGTERM')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => killMatching({ name: 'x' }, 'SIGFOO' as SignalLike)).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_SIGNAL' }));
    return expect(terminateMatching({})).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });
});
