/**
 * onShutdown in forked servers (test/fixtures/sup-server.cjs): it changes
 * the process's signal state, so it never runs in the test runner.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LIB } from '../helpers/fixture.js';
import { FIXTURE_SRC } from '../helpers/paths.js';
import { LineReader, exited, start, stopAll, waitUntil } from '../helpers/procs.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sigkit-shutdown-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => stopAll());

let n = 0;
async function server(mode: string) {
  const out = path.join(tmp, `out-${n++}`);
  const child = start(process.execPath, [path.join(FIXTURE_SRC, 'sup-server.cjs'), LIB, mode, out]);
  const stderr: string[] = [];
  child.stderr!.on('data', (d) => stderr.push(String(d)));
  const info = JSON.parse(await new LineReader(child.stdout!).next(10_000)) as { pid: number; port: number };
  const log = () => (existsSync(`${out}.log`) ? readFileSync(`${out}.log`, 'utf8').trim().split('\n') : []);
  return { child, info, out, log, stderr: () => stderr.join('') };
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('onShutdown', () => {
  it('SIGTERM: the two hooks run in order (close the listener, then flush), the file is complete, exit = killed by SIGTERM', async () => {
    const { child, info, out, log } = await server('normal');
    expect(await get(info.port)).toBe('ok');
    const t0 = performance.now();
    process.kill(info.pid, 'SIGTERM');
    expect(await exited(child)).toEqual({ code: null, signal: 'SIGTERM' });
    console.log(`[figure] onShutdown: SIGTERM to exit with two hooks (1000 awaited writes) ${(performance.now() - t0).toFixed(0)} ms`);
    const lines = log();
    expect(lines.filter((l) => !l.startsWith('event'))).toEqual(['closed', 'flush start', 'flushed']);
    const event = JSON.parse(lines[0]!.slice('event '.length));
    // The sender is this test process, and the kernel vouches for it (SI_USER).
    expect(event).toMatchObject({ reason: 'SIGTERM', signal: { signal: 'SIGTERM', number: 15, code: 'SI_USER', pid: process.pid, uid: process.getuid!(), attested: true } });
    const file = readFileSync(out, 'utf8').split('\n');
    expect(file).toHaveLength(1002);
    expect(file.slice(-2)).toEqual(['END', '']);
    await expect(get(info.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a second SIGTERM during a slow hook ends the process at once', async () => {
    const { child, info, log, stderr } = await server('slow');
    process.kill(info.pid, 'SIGTERM');
    await waitUntil('the slow hook to start', () => (log().includes('slow start') ? true : undefined));
    const t0 = performance.now();
    process.kill(info.pid, 'SIGTERM');
    expect(await exited(child)).toEqual({ code: null, signal: 'SIGTERM' });
    const ms = performance.now() - t0;
    console.log(`[figure] onShutdown: second SIGTERM to exit ${ms.toFixed(1)} ms (the hook had 30 s to go)`);
    expect(log()).toEqual(['slow start']);
    expect(stderr()).toMatch(new RegExp(`SIGTERM again \\(from pid ${process.pid}\\) while the hooks run: exiting now`));
  });

  it('SIGINT starts it too; the exit is killed by SIGINT', async () => {
    const { child, info, log } = await server('normal');
    process.kill(info.pid, 'SIGINT');
    expect(await exited(child)).toEqual({ code: null, signal: 'SIGINT' });
    expect(log().at(-1)).toBe('flushed');
  });

  it('hooks that outlive the deadline: a line on stderr, then the signal all the same', async () => {
    const { child, info, log, stderr } = await server('timeout');
    const t0 = performance.now();
    process.kill(info.pid, 'SIGTERM');
    expect(await exited(child)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(log()).toEqual(['hang start']);
    expect(stderr()).toMatch(/did not finish within 300 ms: exiting anyway/);
  });

  it('with several registrations the one deadline is the longest any asked for (1500 ms beats 200 ms)', async () => {
    const { child, info, log, stderr } = await server('longest');
    process.kill(info.pid, 'SIGTERM');
    expect(await exited(child)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(log()).toEqual(['short', 'long start', 'long end']);
    expect(stderr()).not.toMatch(/did not finish/);
  });

  it('a hook that sets process.exitCode chooses the exit code', async () => {
    const { child, info } = await server('exitcode');
    process.kill(info.pid, 'SIGTERM');
    expect(await exited(child)).toEqual({ code: 3, signal: null });
  });

  it("shutdown('manual') runs the same hooks with signal null and exits 0", async () => {
    const { child, log } = await server('manual');
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    const lines = log();
    expect(JSON.parse(lines[0]!.slice('event '.length))).toEqual({ signal: null, reason: 'manual' });
    expect(lines.slice(1)).toEqual(['closed', 'flush start', 'flushed']);
  });

  it('beside signal-exit and a process.on listener: they fire, signal-exit does not cut the hooks short, its onExit runs at the end', async () => {
    const { child, info, log } = await server('neighbours');
    process.kill(info.pid, 'SIGTERM');
    expect(await exited(child)).toEqual({ code: null, signal: 'SIGTERM' });
    const lines = log().filter((l) => !l.startsWith('event'));
    expect(lines).toContain('process.on SIGTERM');
    expect(lines.filter((l) => l !== 'process.on SIGTERM')).toEqual(['closed', 'flush start', 'flushed', 'signal-exit onExit 143 null']);
  });
});

describe('onShutdown: bad input (in a child process: a valid call would change signal state)', () => {
  it('refuses bad hooks and options before subscribing anything; a worker thread is refused', async () => {
    const script = `
      const { onShutdown, getDisposition } = require(${JSON.stringify(LIB)});
      const { Worker } = require('node:worker_threads');
      const codes = [];
      for (const args of [[1], [() => {}, { timeout: 5 }], [() => {}, { signals: 'SIGTERM' }], [() => {}, { signals: ['SIGFOO'] }],
                          [() => {}, { signals: ['SIGTERM', 'SIGKILL'] }], [() => {}, { exitCode: 256 }], [() => {}, { timeoutMs: -1 }]]) {
        try { onShutdown(...args); codes.push('no error'); } catch (e) { codes.push(e.code); }
      }
      const w = new Worker("try { require(" + JSON.stringify(${JSON.stringify(LIB)}) + ").onShutdown(() => {}); } catch (e) { require('node:worker_threads').parentPort.postMessage(e.code); }", { eval: true });
      w.once('message', (m) => { codes.push(m); console.log(JSON.stringify({ codes, term: getDisposition('SIGTERM') })); });`;
    const child = start(process.execPath, ['-e', script]);
    const r = JSON.parse(await new LineReader(child.stdout!).next(10_000));
    expect(r).toEqual({
      codes: ['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_INVALID_ARG_TYPE', 'ERR_UNKNOWN_SIGNAL', 'ERR_INVALID_ARG_VALUE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE', 'ERR_WORKER_UNSUPPORTED_OPERATION'],
      term: 'default', // SIGTERM was subscribed for the SIGKILL case, and released again
    });
  });
});
