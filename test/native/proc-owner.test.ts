/**
 * Owner fields and memory figures that must not come from a stale or
 * approximate source: a process that changes its uid after a scan has cached
 * its stat fd shows the new uid on the next scan; readProcess' rssBytes is
 * VmRSS exactly, listProcesses' stays within the documented bound.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { descendants, listProcesses, readProcess } from '../../src/index.js';
import { NAMED } from '../helpers/paths.js';
import { buildProcFixture } from '../helpers/proc-forker.js';
import { LineReader, procStateOf, start, stopAll, waitUntil } from '../helpers/procs.js';

afterEach(() => stopAll());

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('a cached entry never reports an old owner', () => {
  let bin: string;
  let cleanup = () => {};
  beforeAll(() => {
    ({ bin, cleanup } = buildProcFixture('proc-setuid'));
  });
  afterAll(() => cleanup());

  it('a process that changes uid after a scan shows the new uid in the next scans', async () => {
    const child = start(bin, ['65534'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = new LineReader(child.stdout!);
    expect(await lines.next()).toBe(`ready ${child.pid}`);
    const uidIn = () => listProcesses().find((p) => p.pid === child.pid)?.uid;
    // Two scans: the second reads through the fd the first cached.
    expect(uidIn()).toBe(0);
    expect(uidIn()).toBe(0);
    child.stdin!.write('go\n');
    expect(await lines.next()).toBe('changed 65534');
    expect(uidIn()).toBe(65534);
    expect(uidIn()).toBe(65534);
    expect(descendants(process.pid).find((p) => p.pid === child.pid)?.uid).toBe(65534);
    expect(readProcess(child.pid!).uid).toBe(65534);
  });
});

describe('rssBytes', () => {
  async function named(name: string): Promise<number> {
    const child = start(NAMED, [name]);
    expect(await new LineReader(child.stdout!).next()).toBe(`ready ${child.pid}`);
    await waitUntil('the fixture to sleep in pause()', () => (procStateOf(child.pid!) === 'S' ? true : undefined));
    return child.pid!;
  }

  function vmRssBytes(pid: number): number {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(m![1]) * 1024;
  }

  it('readProcess: exactly VmRSS of status, for a process at rest and for this busy one', async () => {
    const pid = await named('rss-rest');
    const info = readProcess(pid);
    expect(info.rssBytes).toBe(vmRssBytes(pid));
    // This process allocates as it runs: bracket its figure between two reads.
    const lo = vmRssBytes(process.pid);
    const mine = readProcess(process.pid).rssBytes;
    const hi = vmRssBytes(process.pid);
    expect(mine).toBeGreaterThanOrEqual(Math.min(lo, hi));
    expect(mine).toBeLessThanOrEqual(Math.max(lo, hi));
    expect(mine % 1024).toBe(0);
  });

  it('listProcesses: stat\'s approximate rss, within the documented bound of VmRSS', async () => {
    const pid = await named('rss-bound');
    const listed = listProcesses().find((p) => p.pid === pid)!;
    const exact = vmRssBytes(pid);
    // 3 counters x CPUs x max(32, 2 x CPUs) pages (see ProcessSummary.rssBytes).
    const n = cpus().length;
    const bound = 3 * n * Math.max(32, 2 * n) * 4096;
    expect(Math.abs(listed.rssBytes - exact)).toBeLessThanOrEqual(bound);
    expect(listProcesses({ details: true }).find((p) => p.pid === pid)!.rssBytes).toBe(exact);
  });
});
