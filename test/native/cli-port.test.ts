/** `sigkit port` and `sigkit ps --sort`, run as a user would, on listeners the test starts. */
import { type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sigkit } from '../helpers/cli.js';
import { FIXTURE_SRC } from '../helpers/paths.js';
import { LineReader, exited, start, stopAll } from '../helpers/procs.js';

const LISTENER = path.join(FIXTURE_SRC, 'listener.cjs');

async function listener(): Promise<{ child: ChildProcess; pid: number; port: number }> {
  const child = start(process.execPath, [LISTENER, 'tcp']);
  const m = /^listening (\d+) (\d+)$/.exec(await new LineReader(child.stdout!).next(15_000));
  return { child, pid: Number(m![1]), port: Number(m![2]) };
}

afterAll(() => stopAll());

describe('sigkit port', () => {
  it('shows who listens, as a table and as JSON', async () => {
    const l = await listener();
    const r = await sigkit(['port', String(l.port)]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^\s*PID\s+COMMAND\s+PROTO\s+STATE\s+LOCAL\s+REMOTE\s+INODE$/);
    expect(r.stdout).toMatch(new RegExp(`^\\s*${l.pid}\\s+node\\s+tcp\\s+LISTEN\\s+127\\.0\\.0\\.1:${l.port}\\s`, 'm'));
    const j = JSON.parse((await sigkit(['port', `:${l.port}`, '--json'])).stdout);
    expect(j).toEqual([expect.objectContaining({ pid: l.pid, localPort: l.port, state: 'LISTEN' })]);
  });

  it('--term ends the holder; then nothing listens (exit 1)', async () => {
    const l = await listener();
    const r = await sigkit(['port', String(l.port), '--term', '--grace', '5s']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${l.pid}: exited`, 'm'));
    expect(await exited(l.child)).toEqual({ code: null, signal: 'SIGTERM' });
    const again = await sigkit(['port', String(l.port)]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/nothing listens on port/);
  });

  it('--kill sends SIGKILL at once', async () => {
    const l = await listener();
    expect((await sigkit(['port', String(l.port), '--kill'])).code).toBe(0);
    expect(await exited(l.child)).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('refuses to end an ancestor (this test process listens): exit 1 (refused, as in term), one line, nothing sent', async () => {
    const server = await new Promise<ReturnType<typeof createServer>>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const port = (server.address() as { port: number }).port;
      const r = await sigkit(['port', String(port), '--term']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/refuses.*ancestor/);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(server.listening).toBe(true);
    } finally {
      server.close();
    }
  });

  it('bad usage exits 2', async () => {
    for (const args of [['port'], ['port', '0'], ['port', '70000'], ['port', 'http'], ['port', '80', '--term', '--kill'], ['port', '80', '--grace', '1s']]) {
      expect((await sigkit(args)).code, args.join(' ')).toBe(2);
    }
  });
});

describe('sigkit ps --sort', () => {
  it('orders by RSS (largest first) and by pid, with %CPU and RSS columns', async () => {
    // This process and its descendants (a few node and sleep processes of
    // different sizes): the whole machine's list may be huge on a busy host.
    const root = start('sh', ['-c', 'sleep 30 & sleep 30 & wait'], { detached: true });
    await new Promise((r) => setTimeout(r, 0));
    const me = String(process.pid);
    const r = await sigkit(['ps', '--sort', 'rss', '--json', me]);
    expect(r.code).toBe(0);
    const rss = (JSON.parse(r.stdout) as Array<{ rssBytes: number }>).map((p) => p.rssBytes);
    expect(rss.length).toBeGreaterThan(1);
    expect(rss).toEqual([...rss].sort((a, b) => b - a));
    const byPid = (JSON.parse((await sigkit(['ps', '--sort', 'pid', '--json', me])).stdout) as Array<{ pid: number }>).map((p) => p.pid);
    expect(byPid).toEqual([...byPid].sort((a, b) => a - b));
    const text = await sigkit(['ps', '--sort', 'cpu', me]);
    process.kill(-root.pid!, 'SIGKILL');
    expect(text.stdout.split('\n')[0]).toMatch(/%CPU\s+RSS\s+TIME\s+COMMAND$/);
    const cpu = text.stdout.split('\n').slice(1).filter(Boolean).map((l) => Number(l.trim().split(/\s+/)[6]));
    expect(cpu).toEqual([...cpu].sort((a, b) => b - a));
    expect((await sigkit(['ps', '--sort', 'mem'])).code).toBe(2);
  });
});
