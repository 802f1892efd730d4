/** `sigkit term` and `sigkit pkill` through the bin, on processes this test starts. */
import { afterEach, describe, expect, it } from 'vitest';
import { descendants, isAlive } from '../../src/index.js';
import { sigkit } from '../helpers/cli.js';
import { NAMED } from '../helpers/paths.js';
import { LineReader, start, stopAll, waitUntil } from '../helpers/procs.js';

afterEach(() => stopAll());

async function ready(cmd: string, args: string[], opts = {}): Promise<number> {
  const child = start(cmd, args, opts);
  expect(await new LineReader(child.stdout!).next()).toMatch(/^ready/);
  return child.pid!;
}

describe('sigkit term', () => {
  it('prints a timeline: each signal sent and each exit, graceful and forced', async () => {
    const polite = await ready('sh', ['-c', "trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done"]);
    const stubborn = await ready('sh', ['-c', "trap '' TERM; echo ready; while :; do sleep 0.05; done"]);
    const r = await sigkit(['term', String(polite), String(stubborn), '--steps', 'TERM:2s,KILL:2s']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^\\+\\s*[\\d.]+ ms  SIGTERM -> ${polite}$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^\\+\\s*[\\d.]+ ms  ${polite} exited$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^\\+\\s*[\\d.]+ ms  SIGKILL -> ${stubborn}$`)));
    // They are this test's children: until this test's loop reaps them they are zombies, and term says so.
    expect(r.stdout).toMatch(new RegExp(`^${polite}: exited gracefully after [\\d.]+ m?s( \\(code 0\\))?(; a zombie until its parent ${process.pid} reaps it)?$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${stubborn}: killed \\(forced\\) after [\\d.]+ m?s( \\(SIGKILL\\))?(; a zombie until its parent ${process.pid} reaps it)?$`, 'm'));
    expect(isAlive(polite) || isAlive(stubborn)).toBe(false);
  });

  it('--tree ends a process and its descendants; --json reports them', async () => {
    const root = start('bash', ['-c', 'for i in 1 2 3; do sleep 30 & done; wait'], { detached: true });
    await waitUntil('3 children', () => (descendants(root.pid!).length === 3 ? true : undefined));
    const kids = descendants(root.pid!).map((d) => d.pid);
    const r = await sigkit(['term', '--tree', '--json', String(root.pid)]);
    expect(r.code).toBe(0);
    const [res] = JSON.parse(r.stdout);
    expect(res).toMatchObject({ pid: root.pid, exited: true, forced: false });
    expect(res.members.map((m: { pid: number }) => m.pid).sort()).toEqual([root.pid, ...kids].sort());
    for (const k of kids) expect(isAlive(k)).toBe(false);
  });

  it('--group ends every member of a process group', async () => {
    const leader = start('sh', ['-c', 'sleep 30 & sleep 30 & wait'], { detached: true });
    await waitUntil('2 children', () => (descendants(leader.pid!).length === 2 ? true : undefined));
    const r = await sigkit(['term', '--group', String(leader.pid), '--grace', '1s']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^group ${leader.pid} \\(3 processes\\): exited gracefully`, 'm'));
  });

  it.each([
    [['term'], /missing PID/],
    [['term', '0'], /between 1 and 2147483647/],
    [['term', 'abc'], /must be a positive integer/],
    [['term', '--grace', 'soon', 'PID'], /--grace must be a duration/],
    [['term', '--steps', 'TERM', 'PID'], /--steps takes SIGNAL:DURATION/],
    [['term', '--steps', 'FOO:1s', 'PID'], /unknown signal 'FOO'/],
    [['term', '--steps', 'STOP:1s', 'PID'], /cannot end a process/],
    [['term', '--tree', '--group', 'PID'], /--tree or --group/],
    [['pkill'], /give a PATTERN or at least one filter/],
    [['pkill', '-S', 'NOPE', 'x'], /unknown signal 'NOPE'/],
  ])('bad input %j: one line, exit 2, nothing signalled', async (args, message) => {
    const victim = start('sleep', ['30']);
    const r = await sigkit(args.map((a) => (a === 'PID' ? String(victim.pid) : a)));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(isAlive(victim.pid!)).toBe(true);
  });
});

describe('sigkit pkill', () => {
  const name = `pk${process.pid % 100000}`;

  it('--dry-run lists and sends nothing; then it signals exactly the matches', async () => {
    const a = await ready(NAMED, [name]);
    const b = await ready(NAMED, [name]);
    const dry = await sigkit(['pkill', '-x', name, '-P', String(process.pid), '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`^\\s*${a}\\s+${name}\\s+would send SIGTERM`, 'm'));
    expect(isAlive(a) && isAlive(b)).toBe(true);
    const real = JSON.parse((await sigkit(['pkill', '-x', name, '-P', String(process.pid), '-S', 'USR1', '--json'])).stdout);
    expect(real.map((m: { pid: number; signalled: boolean }) => [m.pid, m.signalled]).sort()).toEqual([[a, true], [b, true]].sort());
    await waitUntil('both gone', () => (!isAlive(a) && !isAlive(b) ? true : undefined));
  });

  it('exits 1 when nothing matches', async () => {
    expect((await sigkit(['pkill', '-x', 'no-such-name-zz', '--dry-run'])).code).toBe(1);
  });
});
