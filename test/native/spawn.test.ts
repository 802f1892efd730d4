/**
 * spawnProcess on real processes: a Node parent (test/fixtures/sup-parent.cjs)
 * spawns `sh` with two grandchildren (one in its own session, like a daemon),
 * then the test kills that parent and watches, through pidfds opened before
 * the kill, which of the processes end.
 */
import { cgroupWritable } from '../helpers/cgroup.js';
import { execFileSync } from 'node:child_process';
import { existsSync, rmdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { descendants, openProcess, readProcess, spawnProcess, type ProcessHandle } from '../../src/index.js';
import { helperPath } from '../../src/spawn.js';
import { errorOf } from '../helpers/errors.js';
import { LIB, runFixture } from '../helpers/fixture.js';
import { FIXTURE_SRC } from '../helpers/paths.js';
import { LineReader, exited, start, stopAll, waitUntil } from '../helpers/procs.js';

const FIXTURE = path.join(FIXTURE_SRC, 'sup-parent.cjs');
const pinned: ProcessHandle[] = [];
const cgroups: string[] = [];

afterEach(() => {
  // Only processes this test's fixtures started, through pidfds opened on them.
  for (const h of pinned.splice(0)) {
    if (!h.closed && h.isAlive()) h.kill('SIGKILL');
    h.close();
  }
  stopAll();
  for (const dir of cgroups.splice(0)) {
    for (let i = 0; i < 100 && existsSync(dir); i++) {
      try {
        rmdirSync(dir);
      } catch {
        execFileSync('sleep', ['0.02']);
      }
    }
  }
});

interface Tree {
  parent: ReturnType<typeof start>;
  lines: LineReader;
  info: { pid: number; pgid: number; cgroup: string | null };
  /** The child and its two grandchildren, pinned. */
  members: ProcessHandle[];
}

/** Starts the fixture parent with spawnProcess options; resolves once the tree is up and pinned. */
async function startTree(opts: Record<string, unknown>, where = 'main', daemon = false): Promise<Tree> {
  const env = { ...process.env, ...(daemon ? { SUP_DAEMON: '1' } : {}) };
  const parent = start(process.execPath, [FIXTURE, LIB, JSON.stringify(opts), where], { env });
  const lines = new LineReader(parent.stdout!);
  const info = JSON.parse(await lines.next(10_000)) as Tree['info'] & { error?: string };
  if (info.error) throw new Error(info.error);
  if (info.cgroup) cgroups.push(info.cgroup);
  const pids = await waitUntil('two grandchildren', () => {
    const d = descendants(info.pid).filter((p) => p.comm === 'sleep');
    return d.length === 2 ? [info.pid, ...d.map((p) => p.pid)] : undefined;
  });
  const members = pids.map((p) => openProcess(p));
  pinned.push(...members);
  return { parent, lines, info, members };
}

/** ms until every handle has exited (a zombie counts), or null if one is still running after timeoutMs. */
async function goneWithin(handles: ProcessHandle[], timeoutMs: number, t0: number): Promise<number | null> {
  try {
    await Promise.all(handles.map((h) => h.exited({ timeoutMs })));
    return performance.now() - t0;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_SIGKIT_TIMEOUT') return null;
    throw e;
  }
}

describe('spawnProcess never reaches a recycled pid or group', () => {
  it('after the child exits and its pid goes to a stranger: the exit handler and terminate() leave the stranger alone; a member left in the group is still ended', async () => {
    // PID 1 of a fresh pid namespace, where ns_last_pid hands the pid on purpose.
    const r = await runFixture<Record<string, unknown>>('sup-reuse.cjs', [], { prefix: ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'] });
    expect(r).toMatchObject({ reused1: true, reused2: true });
    expect(r).toMatchObject({
      strangerAfterExitHandler: true,
      terminateAfterExit: { notFound: true, steps: 0 },
      strangerAfterTerminate: true,
      treeTerminateAfterExit: { notFound: true, steps: 0 },
      stranger2Alive: true,
      memberAliveAfterLeader: true,
      memberTerminate: { exited: true, members: [r.member] },
      memberGone: true,
    });
  });
});

describe('spawnProcess: SIGKILL of the Node parent', () => {
  // The latency itself (median 9 ms, cgroup 3.5 ms here) is measured by
  // bench/spawn.mjs: on a loaded machine the guard's wake-up is the
  // scheduler's business, so the tests wait for the exits (event-driven)
  // instead of asserting a time.
  it('dieWithParent + killOnExit: the child and its whole group are gone', async () => {
    const { parent, members, info } = await startTree({ dieWithParent: true, killOnExit: true });
    expect(info.pgid).toBe(info.pid);
    const t0 = performance.now();
    parent.kill('SIGKILL');
    const ms = await goneWithin(members, 2000, t0);
    expect(ms).not.toBeNull();
    console.log(`[figure] group tree gone ${ms!.toFixed(1)} ms after SIGKILL of the parent`);
  });

  it.runIf(cgroupWritable)('dieWithParent + cgroup + killOnExit: everything in the cgroup is gone, and the cgroup is removed', async () => {
    // The second grandchild setsid()s away from the group: a cgroup holds it anyway.
    const { parent, members, info } = await startTree({ dieWithParent: 'SIGTERM', cgroup: true, killOnExit: true }, 'main', true);
    expect(info.cgroup).toMatch(/\/sigkit-\d+-\d+-\d+$/);
    const procs = execFileSync('cat', [`${info.cgroup}/cgroup.procs`], { encoding: 'utf8' }).trim().split('\n').map(Number);
    expect(procs.sort()).toEqual(members.map((h) => h.pid).sort());
    const t0 = performance.now();
    parent.kill('SIGKILL');
    const ms = await goneWithin(members, 2000, t0);
    expect(ms).not.toBeNull();
    console.log(`[figure] cgroup tree gone ${ms!.toFixed(1)} ms after SIGKILL of the parent`);
    await waitUntil('the guard to remove the cgroup', () => (existsSync(info.cgroup!) ? undefined : true), 5000);
  });

  it('without the options the child and its grandchildren survive the parent', async () => {
    const { parent, members } = await startTree({});
    parent.kill('SIGKILL');
    await exited(parent);
    expect(await goneWithin(members, 300, performance.now())).toBeNull();
    expect(members.every((h) => h.isAlive())).toBe(true);
  });

  it('dieWithParent alone covers one generation: the child dies, its grandchildren live on', async () => {
    const { parent, members } = await startTree({ dieWithParent: true });
    parent.kill('SIGKILL');
    await members[0]!.exited({ timeoutMs: 2000 });
    expect(await goneWithin(members.slice(1), 300, performance.now())).toBeNull();
  });

  it('killOnExit alone (no death signal) ends the tree too, a setsid daemon included: the guard does it', async () => {
    const { parent, members } = await startTree({ killOnExit: true }, 'main', true);
    parent.kill('SIGKILL');
    expect(await goneWithin(members, 2000, performance.now())).not.toBeNull();
  });
});

describe('spawnProcess: the parent ends by itself', () => {
  it.each([
    ['process.exit (SIGUSR2 makes the fixture call it)', 'SIGUSR2'],
    ['a fatal catchable signal (SIGTERM, default action)', 'SIGTERM'],
  ] as const)('killOnExit ends the tree at %s', async (_, sig) => {
    const { parent, members } = await startTree({ killOnExit: true, group: false });
    parent.kill(sig);
    const how = await exited(parent);
    expect(how).toEqual(sig === 'SIGTERM' ? { code: null, signal: 'SIGTERM' } : { code: 0, signal: null });
    expect(await goneWithin(members, 2000, performance.now())).not.toBeNull();
  });
});

describe('spawnProcess from a worker thread', () => {
  it('dieWithParent: the child dies when the worker that spawned it ends (the process lives on)', async () => {
    const { parent, lines, members } = await startTree({ dieWithParent: true }, 'worker');
    parent.kill('SIGUSR2'); // the fixture ends its worker
    expect(JSON.parse(await lines.next())).toEqual({ workerExit: 0 });
    await members[0]!.exited({ timeoutMs: 2000 });
    expect(parent.exitCode).toBeNull();
    expect(await goneWithin(members.slice(1), 200, performance.now())).toBeNull(); // one generation
  });

  it('killOnExit: the whole tree ends with the worker', async () => {
    const { parent, lines, members } = await startTree({ killOnExit: true }, 'worker');
    parent.kill('SIGUSR2');
    expect(JSON.parse(await lines.next())).toEqual({ workerExit: 0 });
    expect(await goneWithin(members, 2000, performance.now())).not.toBeNull();
    expect(parent.exitCode).toBeNull();
  });

  it('without the options the worker-spawned child outlives the worker', async () => {
    const { parent, lines, members } = await startTree({}, 'worker');
    parent.kill('SIGUSR2');
    expect(JSON.parse(await lines.next())).toEqual({ workerExit: 0 });
    expect(await goneWithin(members, 300, performance.now())).toBeNull();
  });
});

describe('spawnProcess in this process', () => {
  it('group (default) and session: pgid and sid are the child\'s own pid; group: false keeps ours', async () => {
    const a = spawnProcess('sleep', ['30']);
    const b = spawnProcess('sleep', ['30'], { session: true });
    const c = spawnProcess('sleep', ['30'], { group: false });
    pinned.push(a.handle, b.handle, c.handle);
    await Promise.all([a.ready, b.ready, c.ready]);
    const me = readProcess(process.pid);
    expect([readProcess(a.pid).pgid, readProcess(a.pid).sid]).toEqual([a.pid, me.sid]);
    expect([readProcess(b.pid).pgid, readProcess(b.pid).sid]).toEqual([b.pid, b.pid]);
    expect([readProcess(c.pid).pgid, c.pgid]).toEqual([me.pgid, me.pgid]);
    expect(a.pgid).toBe(a.pid);
    expect(readProcess(a.pid).cmdline).toEqual(['sleep', '30']); // the helper exec'd it: same pid
  });

  it('terminate() ends its group, grandchildren included; exit says how the child ended', async () => {
    const sp = spawnProcess('sh', ['-c', 'sleep 30 & sleep 30 & echo up; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new LineReader(sp.child.stdout!).next();
    const kids = descendants(sp.pid).map((p) => openProcess(p.pid));
    pinned.push(...kids);
    const r = await sp.terminate({ graceMs: 2000 });
    expect(r).toMatchObject({ id: sp.pid, exited: true, forced: false });
    expect(r.members.map((m) => m.pid).sort()).toEqual([sp.pid, ...kids.map((k) => k.pid)].sort());
    expect(await sp.exit).toMatchObject({ pid: sp.pid, code: null, signal: 'SIGTERM' });
  });

  it('a command that does not exist: the error event and ready reject with ENOENT (as child_process), exit 127', async () => {
    const sp = spawnProcess('no-such-command-sigkit');
    const ev = new Promise((resolve) => sp.child.once('error', resolve));
    await expect(sp.ready).rejects.toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'spawn no-such-command-sigkit', path: 'no-such-command-sigkit' });
    expect(await ev).toMatchObject({ code: 'ENOENT' });
    expect(await sp.exit).toMatchObject({ code: 127, signal: null });
  });

  it('the helper checks getppid() after the prctl: a parent already gone means the death signal at once', () => {
    // Run directly with a parent pid that is not its parent: it kills itself with the signal.
    const r = (() => {
      try {
        execFileSync(helperPath(), ['-d', '15:1', '--', 'sleep', 'sleep', '30'], { stdio: 'ignore', timeout: 5000 });
        return 'exited 0';
      } catch (e) {
        return (e as { signal?: string }).signal;
      }
    })();
    expect(r).toBe('SIGTERM');
  });

  it('the child starts with every signal at its default and none blocked', async () => {
    const sp = spawnProcess('grep', ['-E', '^Sig(Blk|Ign)', '/proc/self/status'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const out = new LineReader(sp.child.stdout!);
    expect([await out.next(), await out.next()]).toEqual(['SigBlk:\t0000000000000000', 'SigIgn:\t0000000000000000']);
    await sp.exit;
  });

  it('a missing helper is a clear error at spawn time, never a spawn without the guarantees', () => {
    const out = execFileSync(process.execPath, ['-e', `
      try { require(${JSON.stringify(LIB)}).spawnProcess('true', [], { dieWithParent: true }); console.log('spawned'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, paths: e.paths })); }`], { env: { ...process.env, SIGKIT_EXEC: '/nonexistent/sigkit-exec' }, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ code: 'ERR_SIGKIT_HELPER_MISSING', paths: ['/nonexistent/sigkit-exec'] });
  });

  it.each([
    [{ dieWithparent: true }, 'ERR_INVALID_ARG_VALUE'],
    [{ dieWithParent: 'SIGFOO' }, 'ERR_UNKNOWN_SIGNAL'],
    [{ dieWithParent: 0 }, 'ERR_INVALID_ARG_VALUE'],
    [{ group: 'yes' }, 'ERR_INVALID_ARG_TYPE'],
    [{ cgroup: 'relative/path' }, 'ERR_INVALID_ARG_VALUE'],
    [{ cgroup: '/tmp/not-a-cgroup' }, 'ERR_INVALID_ARG_VALUE'],
    [{ cgroup: 7 }, 'ERR_INVALID_ARG_TYPE'],
  ])('bad options %j: %s before anything is spawned', (opts, code) => {
    expect(errorOf(() => spawnProcess('true', [], opts as never)).code).toBe(code);
  });

  it('bad file and args', () => {
    expect(errorOf(() => spawnProcess(7 as never)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(errorOf(() => spawnProcess('')).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(errorOf(() => spawnProcess('true', [1 as never])).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(errorOf(() => spawnProcess('true', [], { cwd: '/nonexistent-sigkit' })).code).toBe('ENOENT');
  });
});
