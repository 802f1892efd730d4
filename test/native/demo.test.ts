/** `npm run demo` as a newcomer runs it: it must work and clean up after itself. */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runFixture } from '../helpers/fixture.js';
import { ROOT } from '../helpers/paths.js';

describe('demo', () => {
  it('walks through every step and exits 0 within 15 s', async () => {
    const t0 = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'lib', 'cli', 'main.js'), 'demo'], { timeout: 15_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(stdout).toContain(' 1) SIGHUP\t 2) SIGINT');
    expect(stdout).toMatch(/a shell with a 200 ms cleanup hook: exited on SIGTERM after \d+ ms; its cleanup file says "bye"/);
    expect(stdout).toMatch(/a shell that ignores SIGTERM: SIGTERM at \d+ ms, SIGKILL at \d+ ms -> killed \(forced\)/);
    expect(stdout).toMatch(/group \d+: sh \d+, sleep \d+, sleep \d+, sleep \d+ -> all exited: true/);
    expect(stdout).toMatch(/zombie (\d+) \(sleep\): its parent \d+ \(sleep\) never waits/);
    expect(stdout).toMatch(/process\.kill\(\d+, 0\) says alive; isAlive\(\d+\) says not alive/);
    expect(stdout).toMatch(/came to us and was reaped: exit code 0/);
    const sender = /SIGUSR2 from pid (\d+) \(the shell we started was (\d+)\), uid \d+, SI_USER, kernel-attested: true/.exec(stdout);
    expect(sender).not.toBeNull();
    expect(sender![1]).toBe(sender![2]);
    expect(stdout).toMatch(/kill\(\) after the process was reaped: ESRCH from pidfd_send_signal/);
    expect(stdout).not.toMatch(/\x1b\[/);
  });

  it('completes 200 of 200 runs (it used to stop early in about 15% of them)', async () => {
    // 20 processes side by side, 10 runs one after another in each: the
    // demo mostly waits (graces, a 0.1 s zombie), so this costs ~10 runs of time.
    const batches = 20;
    const perBatch = 10;
    const results = await Promise.all(
      Array.from({ length: batches }, () =>
        runFixture<{ runs: number; completed: number; failures: unknown[]; stalled: boolean; lastOutput?: string }>('sig-demo-runs.cjs', [String(perBatch)], { timeoutMs: 170_000 }),
      ),
    );
    for (const r of results) expect(r, r.lastOutput).toMatchObject({ runs: perBatch, completed: perBatch, failures: [], stalled: false });
    expect(results.reduce((n, r) => n + r.completed, 0)).toBe(200);
  }, 180_000);
});
