/**
 * The /proc scan is a guest in the host's fd table: under `prlimit
 * --nofile=64` with 300 processes of ours in the table it lists them all,
 * keeps at most 64/8 fds (a worker's scan included), leaves the host able to
 * open files, gives its cache back when the host runs out and when idle, and
 * says EMFILE rather than return a short list.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIB, runFixture } from '../helpers/fixture.js';
import { FIXTURE_SRC } from '../helpers/paths.js';
import { LineReader } from '../helpers/procs.js';
import { buildProcFixture, startForker, type Forker } from '../helpers/proc-forker.js';

const CHILDREN = 300;
let forkerBin: string;
let cleanup: () => void;
const forkers: Forker[] = [];

beforeAll(() => {
  ({ bin: forkerBin, cleanup } = buildProcFixture('proc-forker'));
});

afterAll(async () => {
  for (const f of forkers) await f.stop();
  cleanup();
});

interface BudgetReport {
  limit: number;
  listed: number;
  ours: number;
  heldAfterList: number | string;
  openAfterList: true | string;
  oursAgain: number;
  heldAfterSecond: number | string;
  descendants: number;
  heldAfterDescendants: number | string;
  openAfterDescendants: true | string;
  fillers: number;
  oursStarved: number | string;
  heldAfterStarved: number | string;
  openAfterStarved: true | string;
  oursNoFd: number | { name: string; code: string; errno: number; syscall: string };
  descendantsNoFd: number | string;
  childPidsNoFd: number | string;
  scanGroupNoFd: number | string;
  childPidsRecovered: number;
  scanGroupRecovered: number;
  oursRecovered: number;
  descendantsRecovered: number;
  openAtEnd: true | string;
  heldBefore: number;
  oursInWorker: number;
  heldWithWorker: number | string;
  heldIdle: number | string;
  releasedAfterMs: number;
}

const hasPrlimit = existsSync('/usr/bin/prlimit') || (() => {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasPrlimit)('fd budget under prlimit --nofile=64', () => {
  it(`${CHILDREN} processes of ours: all listed, <= 8 fds held, the host's open() works, EMFILE instead of a short list`, async () => {
    const forker = await startForker(forkerBin, CHILDREN);
    forkers.push(forker);
    const r = await runFixture<BudgetReport>('proc-fd-budget.cjs', [String(forker.pid), String(forker.pgid), String(CHILDREN)], {
      prefix: ['prlimit', '--nofile=64:64', '--'],
      timeoutMs: 60_000,
    });
    expect(r.limit).toBe(64);
    expect(r.listed).toBeGreaterThanOrEqual(CHILDREN);
    expect(r.ours).toBe(CHILDREN);
    expect(r.oursAgain).toBe(CHILDREN);
    expect(r.descendants).toBe(CHILDREN);
    for (const held of [r.heldAfterList, r.heldAfterSecond, r.heldAfterDescendants]) {
      expect(held).toBeTypeOf('number');
      expect(held).toBeLessThanOrEqual(8);
    }
    expect(r.openAfterList).toBe(true);
    expect(r.openAfterDescendants).toBe(true);
    // Starved: the scan dropped its cache and still saw every process.
    expect(r.fillers).toBeGreaterThan(0);
    expect(r.oursStarved).toBe(CHILDREN);
    expect(r.heldAfterStarved).toBe(0);
    expect(r.openAfterStarved).toBe(true);
    // Nothing to give back: an error, never a short list.
    expect(r.oursNoFd).toMatchObject({ name: 'SyscallError', code: 'EMFILE', errno: -24 });
    expect(r.descendantsNoFd).toBe('EMFILE');
    expect(r.childPidsNoFd).toBe('EMFILE');
    expect(r.scanGroupNoFd).toBe('EMFILE');
    expect(r.oursRecovered).toBe(CHILDREN);
    expect(r.descendantsRecovered).toBe(CHILDREN);
    expect(r.childPidsRecovered).toBe(CHILDREN);
    expect(r.scanGroupRecovered).toBe(CHILDREN);
    expect(r.openAtEnd).toBe(true);
    // A worker's scan is complete too, and the process as a whole stays within 8.
    expect(r.heldBefore).toBe(0);
    expect(r.oursInWorker).toBe(CHILDREN);
    expect(r.heldWithWorker).toBeTypeOf('number');
    expect(r.heldWithWorker).toBeLessThanOrEqual(8);
    // Idle, the cache is given back by itself (a 2 s unref'd timer).
    expect(r.heldIdle).toBe(0);
    expect(r.releasedAfterMs).toBeLessThan(10_000);
    await forker.stop();
  });
});

describe.skipIf(!hasPrlimit)('the budget follows the limit', () => {
  it('lowered by the host (prlimit --pid) while the cache is full, the next scan fits 1/8 of the new limit', async () => {
    const forker = await startForker(forkerBin, CHILDREN);
    forkers.push(forker);
    const child = spawn(process.execPath, [path.join(FIXTURE_SRC, 'proc-fd-rlimit.cjs'), LIB, String(forker.pid), String(forker.pgid), String(CHILDREN)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      const lines = new LineReader(child.stdout!);
      const cached = /^cached (\d+)$/.exec(await lines.next(30_000));
      expect(Number(cached?.[1])).toBeGreaterThan(64);
      execFileSync('prlimit', ['--pid', String(child.pid), '--nofile=64:64']);
      child.stdin!.write('go\n');
      const r = JSON.parse(await lines.next(30_000)) as Record<string, number>;
      expect(r.limitBefore).toBeGreaterThan(64 * 8);
      expect(r.limitAfter).toBe(64);
      expect(r.oursBefore).toBe(CHILDREN);
      expect(r.oursAfter).toBe(CHILDREN);
      expect(r.descendantsAfter).toBe(CHILDREN);
      expect(r.heldAfterList).toBeLessThanOrEqual(8);
      expect(r.heldAfterDescendants).toBeLessThanOrEqual(8);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
