/** `npm run demo` as a newcomer runs it: it must work and clean up after itself. */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

describe('demo', () => {
  it('walks through every step and exits 0 within 15 s', async () => {
    const t0 = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'lib', 'demo.js')], { timeout: 15_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(stdout).toContain(' 1) SIGHUP\t 2) SIGINT');
    expect(stdout).toMatch(/kill\(\d+, 'SIGTERM'\) -> sleep killed by SIGTERM/);
    expect(stdout).toMatch(/its sleeps [\d, ]+: all gone/);
    expect(stdout).toMatch(/process\.kill\(\d+, 0\) says: alive {4}isAlive\(\d+\) says: not alive/);
    expect(stdout).toMatch(/code=ESRCH errno=-3 syscall=kill/);
    expect(stdout).not.toMatch(/\x1b\[/);
  });
});
