/**
 * The native suite's pidfd, wait and terminate tests, run again under the
 * seccomp launcher (test/fixtures/seccomp-launcher.c), which makes the
 * kernel refuse pidfd_open, pidfd_send_signal, pidfd_getfd and
 * waitid(P_PIDFD): with ENOSYS (a kernel before 5.3, gVisor) and with EPERM
 * (a seccomp profile). A third mode refuses only pidfd_send_signal and
 * waitid(P_PIDFD), where handles keep their pidfd for waits. Each inner run
 * is told its mode (SIGKIT_TEST_FALLBACK, see test/helpers/fallback-mode.ts)
 * and asserts the weaker guarantee where only a pidfd could give the strong
 * one; its first pidfd test checks that the refusal is really in force.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_BIN, ROOT } from '../helpers/paths.js';

const LAUNCHER = path.join(FIXTURE_BIN, 'seccomp-launcher');
const VITEST = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

interface Run {
  code: number | null;
  output: string;
}

function innerRun(mode: string, files: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, SIGKIT_TEST_FALLBACK: mode, NO_COLOR: '1', FORCE_COLOR: '0' };
  // The inner vitest is a run of its own, not a worker of this one.
  for (const key of Object.keys(env)) if (key.startsWith('VITEST')) delete env[key];
  // One inner file at a time: the outer suite already fills the machine, and
  // the wait suite's stress fixtures have their own watchdogs.
  const argv = [mode, '--', process.execPath, VITEST, 'run', '--maxWorkers=1', ...files];
  return new Promise((resolve) => {
    execFile(LAUNCHER, argv, { cwd: ROOT, env, encoding: 'utf8', timeout: 400_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** The summary lines, and the whole output when the run failed. */
function verdict(run: Run): string {
  const summary = run.output.split('\n').filter((l) => /Test Files|Tests |FAIL|×/.test(l)).join('\n');
  return run.code === 0 ? summary : `exit ${run.code}\n${run.output}`;
}

const SUITES = ['test/native/pidfd.test.ts', 'test/native/wait.test.ts', 'test/native/terminate.test.ts'];

describe.each([
  ['enosys', SUITES],
  ['eperm', SUITES],
  ['nosend', ['test/native/pidfd.test.ts', 'test/native/terminate.test.ts']],
])('under seccomp-launcher %s', (mode, files) => {
  it(`${files.map((f) => path.basename(f, '.test.ts')).join(', ')}: every test passes`, { timeout: 420_000 }, async () => {
    const run = await innerRun(mode, files);
    const text = verdict(run);
    expect(run.code, text).toBe(0);
    expect(run.output, text).toMatch(new RegExp(`Test Files\\s+${files.length} passed \\(${files.length}\\)`));
    expect(run.output, text).not.toMatch(/\bfailed\b/);
  });
});
