/**
 * The adversarial safety suite (issue 11). Everything dangerous happens
 * inside a fresh PID namespace in a new session, where it can reach nothing
 * but the suite's own processes:
 *
 *   [new session] unshare --pid --fork --mount-proc --kill-child
 *     safety-recorder "init" (PID 1)  ->  safety-recorder "ancestor" (a session leader)
 *       ->  driver.cjs  ->  recorders "other-session", "other-group", "own-group", "reused"
 *
 * Every recorder logs each signal it receives (signal, si_code, sender).
 * The driver calls every exported function and every CLI command that can
 * signal with every dangerous input (pid/pgid 0, 1, -1, negatives, NaN,
 * strings, 2^31, its own pid/pgid/sid, its parent, PID 1, a thread id, a
 * zombie, a reaped and reused pid, catch-all queries, --tree/--group on
 * protected targets) and checks each refusal. Then each recorder gets a
 * sentinel (SIGRTMAX, value 4242; every lower pending signal is delivered
 * before it), and this test asserts that no bystander received anything
 * else, that none is stopped or gone, and that every signalling export and
 * command was exercised (a new one fails the suite until it is).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Signal } from '../../src/index.js';
import { CLI } from '../helpers/cli.js';
import { LIB } from '../helpers/fixture.js';
import { FIXTURE_BIN, ROOT, ZOMBIE_PARENT } from '../helpers/paths.js';

const RECORDER = path.join(FIXTURE_BIN, 'safety-recorder');
const DRIVER = path.join(ROOT, 'test', 'safety', 'driver.cjs');
const dir = mkdtempSync(path.join(tmpdir(), 'sigkit-safety-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Report {
  entryPoints: number;
  inputs: number;
  cases: Record<string, number>;
  failures: string[];
  unclassified: string[];
  recorders: Record<string, { pid: number; pgid: number; sid: number }>;
  states: Record<string, string>;
  driver: { pid: number; ppid: number };
  error?: string;
}

function runSuite(): Promise<{ report: Report; stderr: string; code: number | null }> {
  const argv = [
    'unshare', '--pid', '--fork', '--mount-proc', '--kill-child',
    RECORDER, path.join(dir, 'signals.log'), 'init', '--init', '--',
    RECORDER, path.join(dir, 'signals.log'), 'ancestor', '--session', '--',
    process.execPath, DRIVER, LIB, CLI, RECORDER, ZOMBIE_PARENT, dir,
  ];
  return new Promise((resolve, reject) => {
    // detached: a new session, so nothing in the namespace shares ours.
    const child = spawn('timeout', ['-s', 'KILL', '150', ...argv], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve({ report: JSON.parse(line) as Report, stderr, code });
      } catch {
        reject(new Error(`the driver printed no report (exit ${code}): ${stdout}\n${stderr}`));
      }
    });
  });
}

describe('adversarial safety suite, in a fresh PID namespace', () => {
  it('every dangerous input to every signalling export and command is refused or harmless; no bystander receives anything', { timeout: 180_000 }, async () => {
    const { report, stderr } = await runSuite();
    expect(report.error, stderr).toBeUndefined();
    expect(report.failures).toEqual([]);
    expect(report.unclassified).toEqual([]);

    // What each bystander received, from its own log. Allowed: the sentinel,
    // and SIGCHLD from its own children's exits (CLD_* codes 1..6).
    const byPid = new Map(Object.entries(report.recorders).map(([name, r]) => [name, r]));
    const received: string[] = [];
    let sentinels = 0;
    for (const line of readFileSync(path.join(dir, 'signals.log'), 'utf8').split('\n')) {
      const m = /^(\S+) sig (\d+) (-?\d+) (\d+) (-?\d+)$/.exec(line);
      if (!m) continue;
      const [, , signo, code, pid, value] = m;
      if (Number(signo) === Signal.SIGRTMAX && Number(code) === -1 && Number(pid) === report.driver.pid && Number(value) === 4242) {
        sentinels++;
        continue;
      }
      if (Number(signo) === Signal.SIGCHLD && Number(code) >= 1 && Number(code) <= 6) continue;
      received.push(line);
    }
    expect(byPid.size).toBe(6);
    expect(sentinels).toBe(6);
    expect(received).toEqual([]);
    // None stopped (SIGSTOP cannot be caught, so the log cannot show it) or killed.
    for (const [name, state] of Object.entries(report.states)) expect(`${name}: ${state}`).toMatch(/: [RS]$/);
    // The layout is what the suite claims.
    expect(report.recorders.init!.pid).toBe(1);
    expect(report.driver.ppid).toBe(report.recorders.ancestor!.pid);
    expect(report.recorders['other-session']!.sid).not.toBe(report.recorders.ancestor!.sid);
    expect(report.recorders['other-group']!.pgid).not.toBe(report.recorders['own-group']!.pgid);
    expect(report.entryPoints).toBeGreaterThanOrEqual(13);
    console.log(`safety suite: ${report.entryPoints} entry points, ${report.inputs} inputs, ${received.length} bystander signals; ${JSON.stringify(report.cases)}`);
  });
});
