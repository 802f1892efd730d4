/**
 * The /proc scan is a guest in the host's fd table: under `prlimit
 * --nofile=64` with 300 processes of ours in the table it lists them all,
 * keeps at most 64/8 fds, leaves the host able to open files, gives its cache
 * back when the host runs out, and says EMFILE rather than return a short list.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFixture } from '../helpers/fixture.js';
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
  oursRecovered: number;
  descendantsRecovered: number;
  openAtEnd: true | string;
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
    expect(r.oursRecovered).toBe(CHILDREN);
    expect(r.descendantsRecovered).toBe(CHILDREN);
    expect(r.openAtEnd).toBe(true);
    await forker.stop();
  });
});
