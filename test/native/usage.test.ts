/**
 * processUsage / treeUsage against processes the test starts: an idle one,
 * a busy one, a small tree; checked against what /proc says directly.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { findProcesses } from '../../src/proc.js';
import { processUsage, treeUsage } from '../../src/usage.js';
import { rejectionOf } from '../helpers/errors.js';
import { NAMED } from '../helpers/paths.js';
import { LineReader, exited, start, stopAll, waitUntil } from '../helpers/procs.js';

afterAll(() => stopAll());

function statusKb(pid: number, key: string): number {
  return Number(new RegExp(`\\n${key}:\\s*(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

async function idle(name = 'usageidle'): Promise<number> {
  const child = start(NAMED, [name]);
  await new LineReader(child.stdout!).next();
  return child.pid!;
}

describe('processUsage', () => {
  it('one sample: exact RSS, PSS <= RSS, USS <= PSS, fds, threads; cpuPercent null', async () => {
    const pid = await idle();
    const u = await processUsage(pid, { intervalMs: 0 });
    expect(u.pid).toBe(pid);
    expect(u.cpuPercent).toBeNull();
    // An idle process's memory does not move: the exact VmRSS, not stat's estimate.
    expect(u.rssBytes).toBe(statusKb(pid, 'VmRSS') * 1024);
    expect(u.swapBytes).toBe(statusKb(pid, 'VmSwap') * 1024);
    expect(u.pssBytes).toBeGreaterThan(0);
    expect(u.pssBytes!).toBeLessThanOrEqual(u.rssBytes);
    expect(u.ussBytes!).toBeLessThanOrEqual(u.pssBytes!);
    expect(u.fds).toBe(readdirSync(`/proc/${pid}/fd`).length);
    expect(u.threads).toBe(1);
    expect(typeof u.readBytes).toBe('number');
    expect(typeof u.writeBytes).toBe('number');
    const lean = await processUsage(pid, { intervalMs: 0, smaps: false });
    expect(lean).toMatchObject({ pssBytes: null, ussBytes: null, rssBytes: u.rssBytes });
  });

  it('CPU over the interval: a busy process near 100, an idle one near 0', async () => {
    const busy = start(process.execPath, ['-e', 'setTimeout(() => process.exit(0), 30000); for (;;) {}']);
    const idlePid = await idle('usagecalm');
    // Wait until the busy one has started spinning (its CPU time grows).
    await waitUntil('the busy child to spin', () => {
      try {
        return Number(readFileSync(`/proc/${busy.pid}/stat`, 'latin1').split(') ')[1]!.split(' ')[11]) > 5 ? true : undefined;
      } catch {
        return undefined;
      }
    }, 15_000);
    const [b, i] = await processUsage([busy.pid!, idlePid], { intervalMs: 500 });
    expect(b!.pid).toBe(busy.pid);
    // Generous bounds: two shared cores under load.
    expect(b!.cpuPercent!).toBeGreaterThan(15);
    expect(b!.cpuPercent!).toBeLessThan(100 * b!.threads + 10);
    expect(i!.cpuPercent!).toBeLessThan(5);
    busy.kill('SIGKILL');
    await exited(busy);
  });

  it('leaves out of an array the processes that are gone; rejects ESRCH for one', async () => {
    const gone = start(NAMED, ['usagegone']);
    await new LineReader(gone.stdout!).next();
    gone.kill('SIGKILL');
    await exited(gone);
    const alive = await idle('usagealive');
    const list = await processUsage([alive, gone.pid!], { intervalMs: 0 });
    expect(list.map((u) => u.pid)).toEqual([alive]);
    expect(await rejectionOf(processUsage(gone.pid!, { intervalMs: 0 }))).toMatchObject({ code: 'ESRCH', errno: -3, pid: gone.pid });
  });

  it('checks its arguments', async () => {
    expect((await rejectionOf(processUsage(0))).code).toBe('ERR_INVALID_ARG_VALUE');
    expect((await rejectionOf(processUsage(1, { interval: 5 } as never))).code).toBe('ERR_INVALID_ARG_VALUE');
    expect((await rejectionOf(processUsage(1, { intervalMs: -1 }))).code).toBe('ERR_OUT_OF_RANGE');
    expect((await rejectionOf(processUsage(1, { smaps: 1 } as never))).code).toBe('ERR_INVALID_ARG_TYPE');
    expect((await rejectionOf(processUsage([1, -5]))).code).toBe('ERR_INVALID_ARG_VALUE');
  });
});

describe('treeUsage', () => {
  it('sums a process and its descendants', async () => {
    // Its own group, so that the sleeps end with it.
    const root = start('sh', ['-c', 'sleep 30 & sleep 30 & sleep 30 & wait'], { detached: true });
    await waitUntil('three sleeps', () => {
      try {
        const kids = readFileSync(`/proc/${root.pid}/task/${root.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
        return kids.length === 3 && kids.every((k) => readFileSync(`/proc/${k}/comm`, 'utf8').trim() === 'sleep') ? kids.map(Number) : undefined;
      } catch {
        return undefined;
      }
    });
    const t = await treeUsage(root.pid!, { intervalMs: 50 });
    expect(t.pid).toBe(root.pid);
    expect(t.processes).toBe(4);
    expect(t.threads).toBe(4);
    const each = await processUsage([root.pid!, ...readFileSync(`/proc/${root.pid}/task/${root.pid}/children`, 'utf8').trim().split(/\s+/).map(Number)], { intervalMs: 0 });
    expect(t.rssBytes).toBe(each.reduce((s, u) => s + u.rssBytes, 0));
    expect(t.fds).toBe(each.reduce((s, u) => s + (u.fds ?? 0), 0));
    expect(t.cpuPercent).not.toBeNull();
    process.kill(-root.pid!, 'SIGKILL');
    await exited(root);
  });
});

describe('findProcesses minRssBytes', () => {
  it('keeps processes with at least that much resident memory', async () => {
    const pid = await idle('usageminrss');
    const rss = statusKb(pid, 'VmRSS') * 1024;
    expect(findProcesses({ name: 'usageminrss', minRssBytes: rss }).map((p) => p.pid)).toEqual([pid]);
    expect(findProcesses({ name: 'usageminrss', minRssBytes: rss + 1024 * 1024 * 1024 })).toEqual([]);
    expect(() => findProcesses({ name: 'x', minRssBytes: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});
