/**
 * Two copies of sigkit in one process (two versions in one node_modules
 * tree): both receive their signals, Node's process.on listeners keep
 * firing, and once both have unsubscribed the disposition is exactly what it
 * was before (sigaction(2), down to the handler address). Each run is a forked
 * fixture (test/fixtures/copies-two.cjs), never the test runner.
 */
import { describe, expect, it } from 'vitest';
import { runFixture } from '../helpers/fixture.js';

interface Scenario {
  name: string;
  misses: unknown[];
  raw0: [string, number, string];
  raw1: [string, number, string];
  same: boolean;
}
interface Result {
  where: string;
  statusAtStart: { caught: number; ignored: number };
  statusAtEnd: { caught: number; ignored: number };
  scenarios: Scenario[];
  disposition: string;
  workerEndsAB?: { gotA: number };
  workerEndsBA?: { gotA: number };
  workerCopyMapped?: boolean;
}

function check(r: Result): void {
  // 2 subscribe orders x 2 unsubscribe orders x 3 process.on placements.
  expect(r.scenarios).toHaveLength(12);
  for (const s of r.scenarios) {
    // Every SIGUSR2 reached exactly the listeners subscribed at the time.
    expect(s.misses, s.name).toEqual([]);
    expect(s.raw1, s.name).toEqual(s.raw0);
  }
  // process.on('SIGUSR2') placed before: libuv's handler is what stays.
  const before = r.scenarios.filter((s) => s.name.endsWith('before'));
  for (const s of before) expect(s.raw0[0]).not.toBe('0');
  expect(r.statusAtEnd).toEqual(r.statusAtStart);
  expect(r.disposition).toBe('default');
}

describe('two copies of sigkit in one process', () => {
  it('on the main thread: every order, with and without process.on, leaves the disposition as it was', async () => {
    const r = await runFixture<Result>('copies-two.cjs', ['main']);
    check(r);
  });

  it('with the second copy in a worker: the same, and the worker ending (Node dlcloses its copy) hurts nobody', async () => {
    const r = await runFixture<Result>('copies-two.cjs', ['worker']);
    check(r);
    expect(r.workerEndsAB).toMatchObject({ gotA: 1 });
    expect(r.workerEndsBA).toMatchObject({ gotA: 1 });
    // Pinned with RTLD_NODELETE: a handler address must outlive the worker.
    expect(r.workerCopyMapped).toBe(true);
  });
});
