/**
 * terminateCgroup on cgroups this test makes under the cgroup v2 mount
 * (/sys/fs/cgroup/unified here), filled through spawnProcess({ cgroup }).
 * Every cgroup made is removed in afterEach.
 */
import { cgroupWritable } from '../helpers/cgroup.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnProcess, terminateCgroup, type SpawnedProcess } from '../../src/index.js';
import { cgroupMembers, cgroupOf, cgroupRoot } from '../../src/cgroup.js';
import { rejectionOf } from '../helpers/errors.js';
import { LineReader, waitUntil } from '../helpers/procs.js';

const root = cgroupRoot();
const made: string[] = [];
const spawned: SpawnedProcess[] = [];

const writable = cgroupWritable;

/** A fresh cgroup beside ours, removed after the test. */
function newCgroup(): string {
  const dir = path.join(cgroupOf(process.pid)!, `sigkit-test-${process.pid}-${made.length}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir);
  made.push(dir);
  return dir;
}

afterEach(async () => {
  for (const dir of made.splice(0)) {
    if (!existsSync(dir)) continue;
    // Only our own cgroups: whatever is left in them is a process this test started.
    if (existsSync(path.join(dir, 'cgroup.kill'))) execFileSync('sh', ['-c', `echo 1 > ${dir}/cgroup.kill`]);
    await waitUntil(`${dir} to empty`, () => (/populated 0/.test(readFileSync(path.join(dir, 'cgroup.events'), 'utf8')) ? true : undefined));
    rmdirSync(dir);
  }
  for (const sp of spawned.splice(0)) sp.handle.closed || sp.handle.close();
});

/** Starts `sh -c script` inside the cgroup; resolves when it printed its first line. */
async function inCgroup(dir: string, script: string): Promise<SpawnedProcess> {
  const sp = spawnProcess('sh', ['-c', script], { cgroup: dir, stdio: ['ignore', 'pipe', 'ignore'] });
  spawned.push(sp);
  await new LineReader(sp.child.stdout!).next();
  return sp;
}

describe.runIf(writable)('terminateCgroup', () => {
  it('ends a cgroup whose members fork continuously, with the polite signal alone (frozen while signalled)', async () => {
    const dir = newCgroup();
    // A new background child every 5 ms, each forking again.
    await inCgroup(dir, 'echo up; while :; do (sleep 1 & sleep 1) & sleep 0.005; done');
    await waitUntil('a crowd in the cgroup', () => (cgroupMembers(dir).length >= 10 ? true : undefined));
    const r = await terminateCgroup(dir, { graceMs: 3000 });
    expect(r).toMatchObject({ path: dir, exited: true, forced: false, steps: [{ signal: 'SIGTERM' }] });
    expect(r.members.length).toBeGreaterThanOrEqual(10);
    expect(r.members.every((m) => m.exited)).toBe(true);
    expect(readFileSync(path.join(dir, 'cgroup.events'), 'utf8')).toMatch(/^populated 0$/m);
    expect(readFileSync(path.join(dir, 'cgroup.events'), 'utf8')).toMatch(/^frozen 0$/m); // thawed
  });

  it('members that ignore SIGTERM and fork continuously: cgroup.kill ends them all at the SIGKILL step', async () => {
    const dir = newCgroup();
    await inCgroup(dir, `trap '' TERM; echo up; while :; do (trap '' TERM; sleep 1 & sleep 1) & sleep 0.005; done`);
    await waitUntil('a crowd in the cgroup', () => (cgroupMembers(dir).length >= 10 ? true : undefined));
    const steps: string[] = [];
    const r = await terminateCgroup(dir, { graceMs: 300, onStep: (s) => steps.push(s.signal), remove: true });
    expect(r).toMatchObject({ exited: true, forced: true, removed: true });
    expect(steps).toEqual(['SIGTERM', 'SIGKILL']);
    expect(existsSync(dir)).toBe(false);
  });

  it('preStop is awaited before the first signal, and the members are untouched while it runs', async () => {
    const dir = newCgroup();
    const sp = await inCgroup(dir, `trap 'exit 0' TERM; echo up; while :; do sleep 0.01; done`);
    const events: string[] = [];
    const r = await terminateCgroup(dir, {
      preStop: async (ctx) => {
        events.push(`preStop ${ctx.kind} ${ctx.target}`);
        await new Promise((res) => setTimeout(res, 100));
        events.push(`alive ${sp.handle.isAlive()}`);
      },
      onStep: (s) => events.push(`step ${s.signal}`),
    });
    expect(events).toEqual([`preStop cgroup ${dir}`, 'alive true', 'step SIGTERM']);
    expect(r.preStop).toMatchObject({ timedOut: false });
    expect(r.preStop!.durationMs).toBeGreaterThanOrEqual(90);
    expect(r.steps[0]!.sentAtMs).toBeGreaterThanOrEqual(r.preStop!.durationMs);
    expect(await sp.exit).toMatchObject({ code: 0 });
  });

  it('a preStop that hangs is cut at preStopTimeoutMs (its AbortSignal fires) and the ladder goes on', async () => {
    const dir = newCgroup();
    await inCgroup(dir, 'echo up; exec sleep 30');
    let aborted = false;
    const r = await terminateCgroup(dir, {
      preStopTimeoutMs: 100,
      preStop: (ctx) => new Promise(() => ctx.signal.addEventListener('abort', () => (aborted = true))),
    });
    expect(r.preStop).toMatchObject({ timedOut: true });
    expect(aborted).toBe(true);
    expect(r.exited).toBe(true);
  });

  it('refuses a cgroup that holds this process (the root of the hierarchy here) before sending anything', async () => {
    const e = await rejectionOf(terminateCgroup(cgroupOf(process.pid)!));
    expect(e).toMatchObject({ code: 'ERR_SIGKIT_PROTECTED', reason: 'self', pid: process.pid });
  });

  it('no such cgroup: the not-found shape', async () => {
    expect(await terminateCgroup(path.join(root!, 'sigkit-no-such-cgroup'))).toMatchObject({ notFound: true, exited: true, members: [] });
  });

  it.each([
    ['relative', {}, 'ERR_INVALID_ARG_VALUE'],
    ['/tmp', {}, 'ERR_INVALID_ARG_VALUE'],
    [7, {}, 'ERR_INVALID_ARG_TYPE'],
    ['ROOT/x', { grace: 10 }, 'ERR_INVALID_ARG_VALUE'],
    ['ROOT/x', { remove: 'yes' }, 'ERR_INVALID_ARG_TYPE'],
    ['ROOT/x', { preStop: 'no' }, 'ERR_INVALID_ARG_TYPE'],
  ])('bad input %j %j: %s', async (p, opts, code) => {
    const arg = typeof p === 'string' ? p.replace('ROOT', root!) : p;
    expect(await rejectionOf(terminateCgroup(arg as string, opts as never))).toMatchObject({ code });
  });
});
