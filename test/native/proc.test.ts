/**
 * /proc introspection against processes this test starts, compared with
 * what ps says, with hostile names, masks, zombies and churn.
 */
import { execFileSync, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import {
  children, descendants, findProcesses, findZombies, isAlive, isZombie, listProcesses, processTree, readProcess,
} from '../../src/index.js';
import { NAMED } from '../helpers/paths.js';
import { LineReader, makeZombies, procStateOf, start, stopAll, waitUntil } from '../helpers/procs.js';
import { codeOf } from '../helpers/errors.js';

afterEach(() => stopAll());
async function named(name: string, ...extra: string[]): Promise<number> {
  const child = start(NAMED, [name, ...extra]);
  const line = await new LineReader(child.stdout!).next();
  expect(line).toBe(`ready ${child.pid}`);
  // It prints before it calls pause(): wait (by an independent parse) until it sleeps.
  await waitUntil('the fixture to sleep in pause()', () => (procStateOf(child.pid!) === 'S' ? true : undefined));
  return child.pid!;
}


interface PsRow { pid: number; ppid: number; pgid: number; sid: number; stat: string; comm: string }

function ps(): Map<number, PsRow> {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,pgid=,sid=,stat=,comm='], { encoding: 'utf8' });
  const rows = new Map<number, PsRow>();
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s(.*)$/.exec(line);
    if (m) rows.set(Number(m[1]), { pid: Number(m[1]), ppid: Number(m[2]), pgid: Number(m[3]), sid: Number(m[4]), stat: m[5]!, comm: m[6]!.trim() });
  }
  return rows;
}

describe('agreement with ps -eo pid,ppid,pgid,sid,stat,comm', () => {
  it('for the processes this test started, and for every pid in both snapshots', async () => {
    const group = start('sh', ['-c', 'sleep 30 & sleep 30 & wait'], { detached: true });
    await waitUntil('two sleeps', () => (children(group.pid!).length === 2 ? true : undefined));
    const before = ps();
    const ours = listProcesses();
    const after = ps();
    const mine = ours.filter((p) => p.pgid === group.pid);
    expect(mine.map((p) => p.comm).sort()).toEqual(['sh', 'sleep', 'sleep']);
    for (const p of mine) {
      const row = after.get(p.pid)!;
      expect({ ppid: p.ppid, pgid: p.pgid, sid: p.sid, state: p.state, comm: p.comm }).toEqual({ ppid: row.ppid, pgid: row.pgid, sid: row.sid, state: row.stat[0], comm: row.comm });
      expect(p.state).toBe('S');
    }
    let compared = 0;
    for (const p of ours) {
      const a = before.get(p.pid);
      const b = after.get(p.pid);
      // Only where ps saw the same process twice (same parent) and printed the name as is.
      if (!a || !b || a.ppid !== b.ppid || a.comm !== b.comm || /[^\x21-\x7e ]/.test(p.comm)) continue;
      expect({ pid: p.pid, ppid: p.ppid, pgid: p.pgid, sid: p.sid, comm: p.comm }).toEqual({ pid: b.pid, ppid: b.ppid, pgid: b.pgid, sid: b.sid, comm: b.comm });
      compared++;
    }
    expect(compared).toBeGreaterThan(10);
  });
});

describe('hostile names', () => {
  it.each([
    ['a) Z 1 (b'],
    ['with spaces  x'],
    ['new\nline'],
    [')))'],
    ['(('],
  ])('a process named %j reads with its true state, ppid and comm', async (name) => {
    const pid = await named(name);
    const info = readProcess(pid);
    expect(info).toMatchObject({ pid, comm: name, state: 'S', ppid: process.pid, stateName: 'sleeping' });
    expect(info.cmdline).toEqual([NAMED, name]);
    const listed = listProcesses().find((p) => p.pid === pid);
    expect(listed).toMatchObject({ comm: name, state: 'S', ppid: process.pid });
    expect(findProcesses({ name, ppid: process.pid }).map((p) => p.pid)).toEqual([pid]);
    expect(isZombie(pid)).toBe(false);
  });

  it('processes that vanish mid-scan never make listProcesses throw', async () => {
    const churn = start('sh', ['-c', 'while :; do /bin/true & /bin/true & /bin/true; wait; done']);
    let scans = 0;
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline) {
      const all = listProcesses();
      expect(all.some((p) => p.pid === churn.pid)).toBe(true);
      listProcesses({ details: true });
      scans += 2;
      await new Promise((r) => setImmediate(r));
    }
    expect(scans).toBeGreaterThan(20);
  });
});

describe('signal masks', () => {
  it('a child that ignores SIGUSR1, catches SIGTERM and blocks SIGUSR2 reads back exactly those', async () => {
    const pid = await named('masked', 'masks');
    const { signals } = readProcess(pid);
    expect(signals.ignored).toEqual(['SIGUSR1']);
    expect(signals.caught).toEqual(['SIGTERM']);
    expect(signals.blocked).toEqual(['SIGUSR2']);
    expect(signals.pending).toEqual([]);
    expect(signals.shared).toEqual([]);
  });

  it('a blocked signal sent to it shows as pending', async () => {
    const pid = await named('pending', 'masks');
    process.kill(pid, 'SIGUSR2');
    const info = await waitUntil('pending SIGUSR2', () => {
      const i = readProcess(pid);
      return i.signals.shared.length > 0 ? i : undefined;
    });
    expect(info.signals.shared).toEqual(['SIGUSR2']);
  });
});

describe('zombies', () => {
  it('a real zombie is found with the right parent; isAlive false, isZombie true', async () => {
    const { parent, zombies } = await makeZombies(2);
    const found = findZombies().filter((z) => z.ppid === parent.pid);
    expect(found.map((z) => z.pid).sort()).toEqual([...zombies].sort());
    for (const z of found) {
      expect(z.parent).toMatchObject({ pid: parent.pid, comm: 'zombie-parent' });
      expect(z.parentCatchesSIGCHLD).toBe(false);
      expect(z.comm).toBe('zombie-parent');
      expect(isZombie(z.pid)).toBe(true);
      expect(isAlive(z.pid)).toBe(false);
      expect(readProcess(z.pid)).toMatchObject({ state: 'Z', stateName: 'zombie', cmdline: [] });
    }
  });

  it('says whether the parent catches SIGCHLD', async () => {
    const { parent, zombies } = await makeZombies(1, { catchSigchld: true });
    const [z] = findZombies().filter((x) => x.ppid === parent.pid);
    expect(z).toMatchObject({ pid: zombies[0], parentCatchesSIGCHLD: true });
  });
});

describe('children, descendants, processTree', () => {
  it('follow a three-level tree', async () => {
    const root = start('sh', ['-c', 'sh -c "sleep 30 & sleep 30 & wait" & sleep 30 & wait'], { detached: true });
    const tree = await waitUntil('the tree to form', () => {
      const t = processTree(root.pid!);
      return t.children.length === 2 && t.children.some((c) => c.children.length === 2) ? t : undefined;
    });
    expect(tree.children.map((c) => c.comm).sort()).toEqual(['sh', 'sleep']);
    const inner = tree.children.find((c) => c.comm === 'sh')!;
    expect(inner.children.map((c) => c.comm)).toEqual(['sleep', 'sleep']);
    expect(descendants(root.pid!).map((d) => d.pid).sort()).toEqual([inner.pid, ...tree.children.filter((c) => c !== inner).map((c) => c.pid), ...inner.children.map((c) => c.pid)].sort());
    expect(children(root.pid!).every((c) => c.ppid === root.pid)).toBe(true);
    expect(children(process.pid).some((c) => c.pid === root.pid)).toBe(true);
  });
});

describe('findProcesses', () => {
  it('matches by name, cmdline, ppid, pgid, sid, state, uid and age; never this process', async () => {
    const marker = `m${process.pid}x${Date.now() % 100000}`;
    const pid = await named('finder', marker);
    const me = readProcess(process.pid);
    expect(findProcesses({ name: 'finder', ppid: process.pid }).map((p) => p.pid)).toEqual([pid]);
    expect(findProcesses({ name: /^find/, cmdline: new RegExp(marker, 'g') }).map((p) => p.pid)).toEqual([pid]);
    expect(findProcesses({ cmdline: marker }).map((p) => p.pid)).toEqual([pid]);
    expect(findProcesses({ ppid: process.pid, state: ['S', 'R'], uid: process.getuid!(), pgid: me.pgid, sid: me.sid }).map((p) => p.pid)).toContain(pid);
    expect(findProcesses({ ppid: process.pid, state: 'Z' }).map((p) => p.pid)).not.toContain(pid);
    expect(findProcesses({ name: 'finder', ppid: process.pid, newerThanMs: 60_000 })).toHaveLength(1);
    expect(findProcesses({ name: 'finder', ppid: process.pid, olderThanMs: 60_000 })).toHaveLength(0);
    expect(findProcesses({ name: 'finder', uid: 12345 })).toHaveLength(0);
    expect(findProcesses({ ppid: me.ppid }).map((p) => p.pid)).not.toContain(process.pid);
    expect(findProcesses({ cmdline: /./ }).map((p) => p.pid)).not.toContain(process.pid);
  });

  it.each([
    [{}, 'ERR_INVALID_ARG_VALUE'],
    [{ name: undefined }, 'ERR_INVALID_ARG_VALUE'],
    [{ nmae: 'x' }, 'ERR_INVALID_ARG_VALUE'],
    [{ name: 5 }, 'ERR_INVALID_ARG_TYPE'],
    [{ cmdline: 5 }, 'ERR_INVALID_ARG_TYPE'],
    [{ uid: '0' }, 'ERR_INVALID_ARG_TYPE'],
    [{ ppid: -1 }, 'ERR_INVALID_ARG_VALUE'],
    [{ state: 'Q' }, 'ERR_INVALID_ARG_VALUE'],
    [{ olderThanMs: -5 }, 'ERR_INVALID_ARG_VALUE'],
    [{ newerThanMs: NaN }, 'ERR_INVALID_ARG_VALUE'],
    [null, 'ERR_INVALID_ARG_TYPE'],
    ['sleep', 'ERR_INVALID_ARG_TYPE'],
  ])('refuses %j with %s', (query, code) => {
    expect(codeOf(() => findProcesses(query as never))).toBe(code);
  });
});

describe('bad input', () => {
  it('a pid that does not exist is SyscallError ESRCH', async () => {
    const child = spawn('true');
    await new Promise((r) => child.once('exit', r));
    // isZombie, like isAlive, answers false for a missing process: one shape for "not found".
    expect(isZombie(child.pid!)).toBe(false);
    for (const fn of [readProcess, children, descendants, processTree]) {
      let error: unknown;
      try {
        fn(child.pid!);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ name: 'SyscallError', code: 'ESRCH', errno: -3, pid: child.pid });
    }
  });

  it('listProcesses refuses an unknown option or options that are not an object', () => {
    expect(codeOf(() => listProcesses({ detail: true } as never))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => listProcesses(null as never))).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => listProcesses(5 as never))).toBe('ERR_INVALID_ARG_TYPE');
  });

  it.each([[0], [-1], [1.5], ['12'], [null], [2 ** 31]])('bad pid %j throws ERR_INVALID_ARG_*/ERR_OUT_OF_RANGE', (pid) => {
    for (const fn of [readProcess, isZombie, children, descendants, processTree]) {
      expect(codeOf(() => fn(pid as number))).toMatch(/^ERR_(INVALID_ARG_(TYPE|VALUE)|OUT_OF_RANGE)$/);
    }
  });
});
