/**
 * sigkit check-shutdown through the bin (the CLI process is the subreaper,
 * never the test runner), on commands this test gives it.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as os from 'node:os';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitForExit } from '../../src/index.js';
import { CLI, sigkit } from '../helpers/cli.js';
import { LIB } from '../helpers/fixture.js';
import { FIXTURE_SRC } from '../helpers/paths.js';

const SERVER = path.join(FIXTURE_SRC, 'sup-server.cjs');
const node = process.execPath;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('sigkit check-shutdown', () => {
  it('passes a well-behaved server (onShutdown: killed by SIGTERM after its hooks)', async () => {
    const out = path.join(os.tmpdir(), `sigkit-check-${process.pid}`);
    const r = await sigkit(['check-shutdown', '--json', '--ready-line', '"port"', '--grace', '5s', '--', node, SERVER, LIB, 'normal', out]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: true, signal: 'SIGTERM', forced: false, leftovers: [], problems: [], exit: { code: null, signal: 'SIGTERM' } });
    expect(report.exitedAfterMs).toBeLessThan(5000);
    expect(r.stderr).toMatch(/"port"/); // its output passed through on stderr
    rmSync(out, { force: true });
    rmSync(`${out}.log`, { force: true });
  });

  it('--ready-port: ready once the port accepts a connection; the human report says PASS', async () => {
    const port = await freePort();
    const server = `const s = require('node:net').createServer().listen(${port}, '127.0.0.1'); process.on('SIGTERM', () => s.close(() => process.exit(0)));`;
    const r = await sigkit(['check-shutdown', '--ready-port', String(port), '--', node, '-e', server]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sigkit check-shutdown: PASS\n/);
    expect(r.stdout).toMatch(new RegExp(`ready +\\S+ ms \\(port ${port} open\\)`));
    expect(r.stdout).toMatch(/exit +exit code 0, \S+ ms after SIGTERM/);
    expect(r.stdout).toMatch(/leftovers +none/);
  });

  it('fails one that ignores SIGTERM: killed after the grace, with a clear report', async () => {
    const r = await sigkit(['check-shutdown', '--ready-line', 'ready', '--grace', '300ms', '--', 'sh', '-c', `trap '' TERM; echo ready; exec sleep 30`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^sigkit check-shutdown: FAIL\n/);
    expect(r.stdout).toMatch(/exit +killed by SIGKILL \(forced: SIGKILL after the grace\)/);
    expect(r.stdout).toMatch(/problems:\n {2}- still running 300 ms after SIGTERM: killed with SIGKILL \(it ignores SIGTERM, or its shutdown takes too long\)\n$/);
    const j = JSON.parse((await sigkit(['check-shutdown', '--json', '-q', '--ready-line', 'ready', '--grace', '200ms', '--', 'sh', '-c', `trap '' TERM; echo ready; exec sleep 30`])).stdout);
    expect(j).toMatchObject({ ok: false, forced: true, exitedAfterMs: null, exit: { signal: 'SIGKILL' } });
  });

  it('fails one that leaves a grandchild running (a daemon that setsid()s away); the leftover is listed, then killed', async () => {
    const script = `trap 'exit 0' TERM; (setsid sleep 30 &); echo ready; while :; do sleep 0.05; done`;
    const r = await sigkit(['check-shutdown', '--json', '--ready-line', 'ready', '--', 'sh', '-c', script]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ ok: false, forced: false, exit: { code: 0, signal: null } });
    expect(j.leftovers).toHaveLength(1);
    expect(j.leftovers[0]).toMatchObject({ comm: 'sleep', ppid: expect.any(Number) });
    expect(j.problems).toEqual([`left 1 process running after it exited: ${j.leftovers[0].pid} (sleep); it was killed`]);
    // Killed by the checker (and reaped as its child): not running any more.
    expect(await waitForExit(j.leftovers[0].pid, { timeoutMs: 0 })).toBe(true);
  });

  it('--expect: a different exit is a failure that names both', async () => {
    const r = await sigkit(['check-shutdown', '--expect', '3', '--ready-line', 'ready', '--', 'sh', '-c', `trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/- exit code 0 after SIGTERM, expected exit code 3\n/);
    const ok = await sigkit(['check-shutdown', '--signal', 'INT', '--expect', 'SIGINT', '--ready-line', 'ready', '--', node, '-e', `console.log('ready'); setInterval(() => {}, 1000)`]);
    expect(ok.code).toBe(0);
  });

  it('a command that exits before it is ready, or never gets ready, fails', async () => {
    const early = JSON.parse((await sigkit(['check-shutdown', '--json', '--ready-line', 'ready', '--', 'sh', '-c', 'exit 4'])).stdout);
    expect(early).toMatchObject({ ok: false, readyAfterMs: null, exit: { code: 4 }, problems: ['exited before it was ready (exit code 4)'] });
    const never = JSON.parse((await sigkit(['check-shutdown', '--json', '--ready-line', 'ready', '--ready-timeout', '200ms', '--', 'sleep', '30'])).stdout);
    expect(never).toMatchObject({ ok: false, forced: true, problems: ['not ready within 200 ms'] });
    const missing = await sigkit(['check-shutdown', '--', 'no-such-command-sigkit']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/cannot run no-such-command-sigkit: ENOENT/);
  });

  it('checkShutdown() restores the subreaper bit of the calling process', async () => {
    const script = `const s = require(${JSON.stringify(LIB)});
      s.checkShutdown({ cmd: ['sh', '-c', 'echo ready; exec sleep 30'], ready: { line: /ready/ } })
        .then((r) => console.log(JSON.stringify({ ok: r.ok, subreaper: s.isChildSubreaper() })));`;
    const out = await new Promise<string>((resolve, reject) => execFile(node, ['-e', script], (e, stdout) => (e ? reject(e) : resolve(stdout))));
    expect(JSON.parse(out)).toEqual({ ok: true, subreaper: false });
  });

  it.each([
    [[], /missing -- CMD/],
    [['sleep', '1'], /put -- before the command/],
    [['--'], /missing CMD after --/],
    [['--ready-port', '80', '--ready-line', 'x', '--', 'true'], /give one of --ready-port, --ready-line, --ready-delay/],
    [['--ready-port', '70000', '--', 'true'], /--ready-port must be a port number/],
    [['--ready-line', '(', '--', 'true'], /--ready-line must be a regular expression/],
    [['--expect', '300', '--', 'true'], /--expect takes an exit code/],
    [['--expect', 'SIGFOO', '--', 'true'], /unknown signal 'SIGFOO'/],
    [['--grace', 'soon', '--', 'true'], /--grace must be a duration/],
    [['--signal', '0', '--', 'true'], /--signal 0 is not a signal/],
  ])('%j: usage error, exit 2', async (args, message) => {
    const r = await sigkit(['check-shutdown', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('--help', async () => {
    const r = await sigkit(['check-shutdown', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('sigkit check-shutdown ')).toBe(true);
    expect(CLI).toMatch(/main\.js$/);
  });
});
