/**
 * The end-of-run check of test/helpers/teardown.ts: it finds a process of
 * this run by the marker its environment was started with, and nothing else.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RUN_ENV, leftoverTempDirs, survivors } from '../helpers/teardown.js';
import { start, stopAll } from '../helpers/procs.js';

afterEach(() => stopAll());

describe('the suite\'s leftover check', () => {
  it('runs with a marker and a private TMPDIR', () => {
    expect(process.env[RUN_ENV]).toMatch(/^[0-9a-f]{16}$/);
    expect(tmpdir()).toBe(process.env.SIGKIT_TEST_TMPDIR);
    expect(path.basename(tmpdir())).toBe(`sigkit-run-${process.env[RUN_ENV]}`);
  });

  it('lists a live process started with the marker, not one started with another run\'s', async () => {
    const id = process.env[RUN_ENV]!;
    const ours = start('sleep', ['30']);
    const other = start('sleep', ['30'], { env: { ...process.env, [RUN_ENV]: 'someone-else' } });
    await Promise.all([once(ours, 'spawn'), once(other, 'spawn')]);
    const found = survivors(id).map((s) => s.pid);
    expect(found).toContain(ours.pid);
    expect(found).not.toContain(other.pid);
    expect(survivors(id).find((s) => s.pid === ours.pid)).toMatchObject({ comm: 'sleep', cmdline: 'sleep 30', ppid: process.pid });
    ours.kill('SIGKILL');
    await once(ours, 'exit');
    expect(survivors(id).map((s) => s.pid)).not.toContain(ours.pid);
    // A process that changed its environment keeps the one it started with (/proc/<pid>/environ).
    const sh = spawn('sh', ['-c', `unset ${RUN_ENV}; exec sleep 30`], { stdio: 'ignore' });
    await once(sh, 'spawn');
    try {
      const deadline = Date.now() + 5000;
      const comm = () => {
        try {
          return readFileSync(`/proc/${sh.pid}/comm`, 'utf8').trim();
        } catch {
          return undefined;
        }
      };
      while (comm() !== 'sleep' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(comm()).toBe('sleep');
      // exec passes the shell's environment, which no longer has the marker: not found.
      expect(survivors(id).some((s) => s.pid === sh.pid && s.comm === 'sleep')).toBe(false);
    } finally {
      sh.kill('SIGKILL');
      await once(sh, 'exit');
    }
  });

  it('lists sigkit-* temp dirs in the run\'s TMPDIR', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sigkit-teardown-'));
    try {
      expect(leftoverTempDirs()).toContain(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(leftoverTempDirs()).not.toContain(dir);
  });
});
