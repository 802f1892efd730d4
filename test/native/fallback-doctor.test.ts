/**
 * `sigkit doctor`: the same facts as capabilities() and /proc, in a table
 * or as JSON, on this kernel, under the seccomp launcher, and as PID 1 of a
 * fresh PID namespace (inside unshare, with a timeout).
 */
import { execFile } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { release } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { capabilities } from '../../src/index.js';
import type { DoctorRecord } from '../../src/cli/commands/doctor.js';
import { CLI, sigkit } from '../helpers/cli.js';
import { FIXTURE_BIN } from '../helpers/paths.js';

const LAUNCHER = path.join(FIXTURE_BIN, 'seccomp-launcher');

function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout: 30_000, killSignal: 'SIGKILL', env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('sigkit doctor', () => {
  it('--json: capabilities as the library probes them, and the system facts /proc gives', async () => {
    const r = await sigkit(['doctor', '--json']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as DoctorRecord;
    expect(d.capabilities).toEqual({ ...capabilities() });
    expect(d.kernel.release).toBe(release());
    expect(d.libc.family).toBe('glibc');
    expect(d.libc.version).toMatch(/^2\.\d+$/);
    expect(d.node.version).toBe(process.version);
    const limits = readFileSync('/proc/self/limits', 'latin1');
    const soft = (label: string) => Number(new RegExp(`^${label}\\s+(\\d+)`, 'm').exec(limits)![1]);
    // The CLI is our child: it inherits our limits.
    expect(d.limits.nofile!.soft).toBe(soft('Max open files'));
    expect(d.limits.sigpending!.soft).toBe(soft('Max pending signals'));
    expect(d.pidNamespace.inode).toBe(Number(/\d+/.exec(readlinkSync('/proc/self/ns/pid'))![0]));
    expect(d.pidNamespace.depth).toBe(d.pidNamespace.nspid.length);
    expect(d).toMatchObject({ pid1: false, subreaper: false });
  });

  it('the table names each capability, the fallback where one is missing, and the limits', async () => {
    const plain = await sigkit(['doctor']);
    expect(plain.code).toBe(0);
    for (const key of ['pidfd', 'pidfdSendSignal', 'waitidPidfd', 'pidfdInfoExit', 'procChildren', 'subreaper', 'cgroup2', 'fdBudget', 'kernel', 'libc', 'RLIMIT_NOFILE', 'RLIMIT_SIGPENDING', 'pid namespace', 'PID 1']) {
      expect(plain.stdout).toContain(key);
    }
    const refused = await run([LAUNCHER, 'enosys', '--', process.execPath, CLI, 'doctor']);
    expect(refused.code).toBe(0);
    expect(refused.stdout).toMatch(/pidfd\s+no\s+fallback: pid \+ start time/);
    expect(refused.stdout).toMatch(/pidfdSendSignal\s+no\s+fallback: kill\(2\)/);
  });

  it('as PID 1 of a new PID namespace: pid1 true, one level deeper, another namespace', async () => {
    const host = JSON.parse((await sigkit(['doctor', '--json'])).stdout) as DoctorRecord;
    // NSpid counts the levels from the namespace /proc was mounted in: the
    // host's /proc sees both, a /proc mounted inside only the new one.
    const nested = await run(['timeout', '20', 'unshare', '--pid', '--fork', process.execPath, CLI, 'doctor', '--json']);
    expect(nested.code, nested.stderr).toBe(0);
    const d = JSON.parse(nested.stdout) as DoctorRecord;
    expect(d.pid1).toBe(true);
    expect(d.pidNamespace.depth).toBe(host.pidNamespace.depth! + 1);
    expect(d.pidNamespace.nspid.at(-1)).toBe(1);
    expect(d.pidNamespace.inode).not.toBe(host.pidNamespace.inode);
    const own = await run(['timeout', '20', 'unshare', '--pid', '--fork', '--mount-proc', process.execPath, CLI, 'doctor', '--json']);
    expect(own.code, own.stderr).toBe(0);
    expect(JSON.parse(own.stdout)).toMatchObject({ pid1: true, pidNamespace: { depth: 1, nspid: [1] } });
  });

  it('refuses arguments with exit 2', async () => {
    const r = await sigkit(['doctor', 'now']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('doctor');
  });
});
