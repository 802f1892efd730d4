/**
 * descendants() picks how to find a tree by its size (children files for a
 * small one, one scan of the table for a large one): both ways must give the
 * same processes, breadth first; children() is its first level; scanGroup()
 * (the scan terminateGroup needs) counts a group's live members.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { children, descendants, listProcesses } from '../../src/index.js';
import { childPidsOf, readTree, scanGroup } from '../../src/proc.js';
import { buildProcFixture, startForker, type Forker } from '../helpers/proc-forker.js';
import { start, stopAll, waitUntil } from '../helpers/procs.js';

let bin: string;
let cleanup = () => {};
const forkers: Forker[] = [];
beforeAll(() => {
  ({ bin, cleanup } = buildProcFixture('proc-forker'));
});
afterEach(async () => {
  stopAll();
  for (const f of forkers.splice(0)) await f.stop();
});
afterAll(() => cleanup());

const pids = (list: { pid: number }[]) => list.map((p) => p.pid).sort((a, b) => a - b);

/** Each process comes after its parent (or has the root as parent). */
function breadthFirst(root: number, list: { pid: number; ppid: number }[]): boolean {
  const at = new Map(list.map((p, i) => [p.pid, i]));
  return list.every((p, i) => p.ppid === root || (at.get(p.ppid) ?? Infinity) < i);
}

describe('descendants: children files and one scan agree', () => {
  it('on a three-level tree', async () => {
    // Its own group: stopAll ends the whole tree, grandchildren included.
    const root = start('sh', ['-c', 'sh -c "sleep 30 & sleep 30 & wait" & sleep 30 & wait'], { detached: true });
    await waitUntil('the tree to form', () => (descendants(root.pid!).length === 4 ? true : undefined));
    const walked = readTree(root.pid!, 0, 1);
    const scanned = readTree(root.pid!, 0, 2);
    expect(pids(walked)).toEqual(pids(scanned));
    expect(pids(descendants(root.pid!))).toEqual(pids(walked));
    expect(walked).toHaveLength(4);
    for (const list of [walked, scanned]) expect(breadthFirst(root.pid!, list)).toBe(true);
    // One level: the children, both ways.
    expect(pids(readTree(root.pid!, 1, 1))).toEqual(pids(readTree(root.pid!, 1, 2)));
    expect(pids(children(root.pid!))).toEqual(pids(walked.filter((p) => p.ppid === root.pid)));
    expect(children(root.pid!)).toHaveLength(2);
    // The same summaries either way (a sleeping tree does not change; the
    // boot time behind startedAt is re-read by each call, to the ms).
    const byPid = new Map(scanned.map((p) => [p.pid, p]));
    const still = (p: (typeof walked)[number]) => ({ ...p, cpuTimeMs: 0, startedAt: 0 });
    for (const p of walked) {
      expect(still(p)).toEqual(still(byPid.get(p.pid)!));
      expect(Math.abs(p.startedAt.getTime() - byPid.get(p.pid)!.startedAt.getTime())).toBeLessThan(50);
    }
  });

  it('on a 300-child tree, most of the table: by size, by children files and by one scan, the same 300', async () => {
    const forker = await startForker(bin, 300);
    forkers.push(forker);
    listProcesses(); // the size rule uses the last scan's count
    const auto = descendants(forker.pid);
    expect(auto).toHaveLength(300);
    expect(pids(auto)).toEqual(pids(readTree(forker.pid, 0, 1)));
    expect(pids(auto)).toEqual(pids(readTree(forker.pid, 0, 2)));
    expect(auto.every((p) => p.ppid === forker.pid && p.pgid === forker.pgid)).toBe(true);
  });

  it('a pid that does not exist is ESRCH both ways', async () => {
    const gone = start('true');
    await new Promise((r) => gone.once('exit', r));
    for (const strategy of [0, 1, 2] as const) {
      expect(() => readTree(gone.pid!, 0, strategy)).toThrow(expect.objectContaining({ code: 'ESRCH', pid: gone.pid }));
    }
  });
});

describe('scanGroup', () => {
  it("counts a group's live members, and says when it has none", async () => {
    const forker = await startForker(bin, 25);
    forkers.push(forker);
    const group = scanGroup(forker.pgid);
    expect(group.any).toBe(true);
    expect(group.alive.sort((a, b) => a - b)).toEqual(pids(descendants(forker.pid)));
    await forker.stop();
    forkers.length = 0;
    expect(scanGroup(forker.pgid)).toEqual({ alive: [], any: false });
  });
});

describe('childPidsOf', () => {
  it('lists the children of a live process, and null for one that is gone', async () => {
    const forker = await startForker(bin, 5);
    forkers.push(forker);
    expect(childPidsOf(forker.pid)!.sort((a, b) => a - b)).toEqual(pids(children(forker.pid)));
    const gone = start('true');
    await new Promise((r) => gone.once('exit', r));
    expect(childPidsOf(gone.pid!)).toBeNull();
  });
});
