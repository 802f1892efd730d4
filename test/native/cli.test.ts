/** The CLI through its bin, in a child process, on processes this test starts. */
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { sigkit } from '../helpers/cli.js';
import { NAMED } from '../helpers/paths.js';
import { children } from '../../src/index.js';
import { LineReader, exited, makeZombies, parseReceived, procStateOf, start, startReceiver, stopAll, waitUntil } from '../helpers/procs.js';

afterEach(() => stopAll());
describe('sigkit list', () => {
  it('prints bash\'s kill -l table', async () => {
    const r = await sigkit(['list']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(execFileSync('bash', ['-c', 'kill -l'], { encoding: 'utf8' }));
  });

  it('-L adds default actions and descriptions; --json the records', async () => {
    const long = await sigkit(['list', '-L']);
    expect(long.stdout).toMatch(/^\s+15 {2}SIGTERM\s+terminate\s+Terminated$/m);
    const j = JSON.parse((await sigkit(['list', '--json'])).stdout);
    expect(j.find((s: { number: number }) => s.number === 9)).toMatchObject({ name: 'SIGKILL', catchable: false });
  });
});

describe('sigkit send', () => {
  it('sends a named signal, a queued value and a group signal', async () => {
    const r = await startReceiver(['2']);
    expect(await sigkit(['send', '-s', 'USR1', String(r.pid)])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(parseReceived(await r.lines.next())).toMatchObject({ signo: 10, code: 0 });
    expect((await sigkit(['send', '-s', 'RTMIN+1', '-q', '77', String(r.pid)])).code).toBe(0);
    expect(parseReceived(await r.lines.next())).toMatchObject({ signo: 35, code: -1, value: 77 });
    const group = start('sh', ['-c', 'sleep 30 & sleep 30 & wait'], { detached: true });
    expect((await sigkit(['send', '-s', 'KILL', '-g', String(group.pid)])).code).toBe(0);
    expect(await exited(group)).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('a pid that is gone: one line, exit 1', async () => {
    const child = start('true');
    await exited(child);
    const r = await sigkit(['send', String(child.pid)]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `sigkit send: kill ${child.pid}: no such process (ESRCH)\n` });
  });

  it.each([
    [['nosuchcommand'], /unknown command 'nosuchcommand'/],
    [['send', '-s', 'SIGFOO', 'PIDX'], /unknown signal 'SIGFOO'/],
    [['send', '0'], /PID must be between 1 and 2147483647, not '0'/],
    [['send', '-1'], /Unknown option '-1'/],
    [['send'], /missing PID/],
    [['send', 'abc'], /PID must be a positive integer, not 'abc'/],
    [['send', '12x'], /PID must be a positive integer/],
    [['send', '-q', 'x', '5'], /--queue VALUE must be a 32-bit integer/],
    [['status'], /missing PID/],
    [['ps', '1', '2'], /at most one PID/],
    [['find'], /give a PATTERN or at least one filter/],
    [['find', '('], /not a valid regular expression/],
    [['list', '--bogus'], /Unknown option '--bogus'/],
  ])('bad input %j: one-line error, exit 2, nothing signalled', async (args, message) => {
    const victim = start('sleep', ['30']);
    const r = await sigkit(args.map((a) => (a === 'PIDX' ? String(victim.pid) : a)));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(victim.exitCode).toBeNull();
    expect(victim.signalCode).toBeNull();
  });
});

describe('sigkit ps, status, find, zombies', () => {
  it('ps shows a process and its descendants; --tree draws them', async () => {
    const root = start('sh', ['-c', 'sleep 30 & wait'], { detached: true });
    await waitUntil('the sleep to start', () => (children(root.pid!).some((c) => c.comm === 'sleep') ? true : undefined));
    const r = await sigkit(['ps', String(root.pid)]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^\s*PID\s+PPID\s+PGID\s+SID\s+S\s+TTY\s+%CPU\s+RSS\s+TIME\s+COMMAND$/);
    expect(r.stdout).toMatch(new RegExp(`^\\s*${root.pid}\\s+${process.pid}\\s.*\\ssh$`, 'm'));
    const tree = await sigkit(['ps', '--tree', String(root.pid)]);
    expect(tree.stdout).toMatch(/└─ sleep$/m);
    const j = JSON.parse((await sigkit(['ps', '--json', String(root.pid)])).stdout);
    expect(j[0]).toMatchObject({ pid: root.pid, comm: 'sh' });
  });

  it('status names state, family and signal dispositions', async () => {
    const child = start(NAMED, ['statusme', 'masks']);
    await new LineReader(child.stdout!).next();
    await waitUntil('the fixture to sleep in pause()', () => (procStateOf(child.pid!) === 'S' ? true : undefined));
    const r = await sigkit(['status', String(child.pid)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^state\s+S \(sleeping\)$/m);
    expect(r.stdout).toMatch(new RegExp(`^parent\\s+${process.pid}$`, 'm'));
    expect(r.stdout).toMatch(/^blocked\s+SIGUSR2$/m);
    expect(r.stdout).toMatch(/^ignored\s+SIGUSR1$/m);
    expect(r.stdout).toMatch(/^caught\s+SIGTERM$/m);
    const gone = await sigkit(['status', '2147483647']);
    expect(gone).toMatchObject({ code: 1, stderr: 'sigkit status: no process 2147483647\n' });
  });

  it('find matches like pgrep and exits 1 when nothing matches', async () => {
    const child = start(NAMED, ['findme-cli']);
    await new LineReader(child.stdout!).next();
    const r = await sigkit(['find', '-x', 'findme-cli', '-P', String(process.pid), '--json']);
    expect(JSON.parse(r.stdout).map((p: { pid: number }) => p.pid)).toEqual([child.pid]);
    expect((await sigkit(['find', '^findme-c', '-P', String(process.pid)])).stdout).toMatch(new RegExp(`^\\s*${child.pid}\\s`, 'm'));
    expect((await sigkit(['find', '-x', 'no-such-process-name-x'])).code).toBe(1);
  });

  it('zombies names each parent; --nudge sends SIGCHLD to those that catch it', async () => {
    const { parent, zombies } = await makeZombies(1, { catchSigchld: true });
    const r = await sigkit(['zombies']);
    expect(r.stdout).toMatch(new RegExp(`^\\s*${zombies[0]}\\s+zombie-parent\\s+${parent.pid}\\s+zombie-parent\\s+yes\\s+kill -CHLD ${parent.pid}`, 'm'));
    const nudged = JSON.parse((await sigkit(['zombies', '--nudge', '-P', String(parent.pid), '--json'])).stdout);
    // Only our zombie's parent was nudged (the filter keeps foreign parents out).
    expect(nudged.nudged).toEqual([{ ppid: parent.pid, ok: true }]);
  });
});
