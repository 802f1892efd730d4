/**
 * sigkit wait, trap and init through the bin, in child processes, on
 * processes this test starts (init runs as PID 1 of a new pid namespace, so
 * everything it starts dies with it).
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, sigkit } from '../helpers/cli.js';
import { children, descendants, readProcess, signalNumber, waitForExit } from '../../src/index.js';
import { LineReader, exited, makeZombies, procStateOf, start, stopAll, waitUntil } from '../helpers/procs.js';

afterEach(() => stopAll());

const node = process.execPath;
const uid = process.getuid!();

/** True when `pid` holds a pidfd for `target` (its fdinfo says `Pid: target`). */
function holdsPidfdFor(pid: number, target: number): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      return new RegExp(`^Pid:\\s+${target}$`, 'm').test(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
    } catch {
      return false;
    }
  });
}

describe('sigkit wait', () => {
  it('waits for a running process and returns when it exits', async () => {
    const victim = start('sleep', ['30']);
    const w = start(node, [CLI, 'wait', '--json', String(victim.pid)]);
    const out = new LineReader(w.stdout!);
    // It is waiting once it holds a pidfd on the victim: only then end the victim.
    await waitUntil('sigkit wait to open its pidfd', () => (holdsPidfdFor(w.pid!, victim.pid!) ? true : undefined));
    expect(w.exitCode).toBeNull();
    victim.kill('SIGTERM');
    expect(await exited(w)).toEqual({ code: 0, signal: null });
    expect(JSON.parse((await out.rest()).join('\n'))).toMatchObject({ pid: victim.pid, exited: true, alreadyExited: false, notFound: false });
  });

  it('times out with exit 1 while the process keeps running', async () => {
    const victim = start('sleep', ['30']);
    const r = await sigkit(['wait', '--timeout', '200ms', String(victim.pid)]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `sigkit wait: pid ${victim.pid} is still running after 200 ms (timeout)\n` });
    expect(victim.exitCode).toBeNull();
    expect(victim.signalCode).toBeNull();
    const j = await sigkit(['wait', '--json', '-t', '100ms', String(victim.pid)]);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ pid: victim.pid, exited: false, alreadyExited: false, timeoutMs: 100 });
  });

  it('counts a zombie as exited and names the parent that must reap it', async () => {
    const { parent, zombies } = await makeZombies(1);
    const r = await sigkit(['wait', String(zombies[0])]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`pid ${zombies[0]} has already exited: it is a zombie: exited, not yet reaped by its parent ${parent.pid} (zombie-parent)\n`);
    const j = JSON.parse((await sigkit(['wait', '--json', String(zombies[0])])).stdout);
    expect(j).toMatchObject({ exited: true, alreadyExited: true, zombie: true, parent: { pid: parent.pid, comm: 'zombie-parent' } });
    expect(procStateOf(zombies[0]!)).toBe('Z'); // looked at, not reaped
  });

  it('a pid that names no process: one line "no such process", exit 1 at once (as in every command)', async () => {
    const gone = start('true');
    await exited(gone);
    const r = await sigkit(['wait', String(gone.pid)]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `sigkit wait: pid ${gone.pid}: no such process\n` });
  });
});

/** Starts `sigkit trap ARGS` and waits for its "ready <pid>" line on stderr. */
async function startTrap(args: string[]): Promise<{ trap: ChildProcess; out: LineReader; err: LineReader }> {
  const trap = start(node, [CLI, 'trap', ...args], { env: { ...process.env, NO_COLOR: '1' } });
  const out = new LineReader(trap.stdout!);
  const err = new LineReader(trap.stderr!);
  const ready = await err.next();
  expect(ready).toMatch(new RegExp(`^ready ${trap.pid} SIG`));
  return { trap, out, err };
}

/** Runs `sigkit send ARGS` as a child of this test and returns its pid (the sender the trap should name). */
async function send(args: string[]): Promise<number> {
  const sender = start(node, [CLI, 'send', ...args]);
  expect(await exited(sender)).toEqual({ code: 0, signal: null });
  return sender.pid!;
}

describe('sigkit trap', () => {
  it('names the pid of the sigkit send that signalled it, with code and value', async () => {
    const { trap, out } = await startTrap(['USR1', 'RTMIN+1', '--count', '2']);
    const killer = await send(['-s', 'USR1', String(trap.pid)]);
    expect(await out.next()).toBe(`SIGUSR1 pid=${killer} uid=${uid} code=SI_USER attested=yes`);
    const queuer = await send(['-s', 'RTMIN+1', '-q', '77', String(trap.pid)]);
    expect(await out.next()).toBe(`SIGRTMIN+1 pid=${queuer} uid=${uid} code=SI_QUEUE value=77 attested=no`);
    expect(await exited(trap)).toEqual({ code: 0, signal: null });
  });

  it('--json prints one object per signal (JSON lines)', async () => {
    const { trap, out } = await startTrap(['--json', '-c', '1', 'SIGRTMIN+3', '15']);
    const sender = await send(['-s', 'TERM', String(trap.pid)]);
    expect(JSON.parse(await out.next())).toEqual({ signal: 'SIGTERM', number: 15, code: 'SI_USER', pid: sender, uid, attested: true });
    expect(await exited(trap)).toEqual({ code: 0, signal: null });
  });

  it('SIGUSR1 is trapped, not taken by the inspector', async () => {
    const { trap, out, err } = await startTrap(['USR1', '--count', '1']);
    const sender = await send(['-s', 'USR1', String(trap.pid)]);
    expect(await out.next()).toMatch(new RegExp(`^SIGUSR1 pid=${sender} `));
    expect(await exited(trap)).toEqual({ code: 0, signal: null });
    await expect(err.next(1000)).rejects.toThrow(/stream ended/); // no "Debugger listening"
  });

  it('exits 1 when the timeout passes before --count signals', async () => {
    const r = await sigkit(['trap', 'USR2', '--timeout', '200ms']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ready \d+ SIGUSR2\nsigkit trap: timeout after 200 ms: no signal received \(SIGUSR2\)\n$/);
    const { trap, out, err } = await startTrap(['USR2', '-c', '2', '-t', '300ms']);
    await send(['-s', 'USR2', String(trap.pid)]);
    expect(await out.next()).toMatch(/^SIGUSR2 /);
    expect(await exited(trap)).toEqual({ code: 1, signal: null });
    expect(await err.next()).toBe('sigkit trap: timeout after 300 ms: 1 of 2 signals received (SIGUSR2)');
  });
});

/**
 * `unshare --pid --fork --mount-proc --kill-child node CLI init ARGS`: init is
 * PID 1 of a new pid namespace; --kill-child ends it (and so the whole
 * namespace) if the test kills unshare. Resolves once CMD printed "ready".
 */
async function startInit(args: string[]): Promise<{ unshare: ChildProcess; init: number; cmd: number; out: LineReader; err: LineReader }> {
  const unshare = start('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', node, CLI, 'init', ...args]);
  const out = new LineReader(unshare.stdout!);
  const err = new LineReader(unshare.stderr!);
  const init = await waitUntil('init to start in its namespace', () => children(unshare.pid!)[0]?.pid);
  expect(await out.next(10_000)).toBe('ready');
  // CMD's pid inside the namespace (not 2: Node's threads take pids there too).
  const cmd = nsPid(children(init)[0]!.pid);
  return { unshare, init, cmd, out, err };
}

/** The pid of a process inside its own (innermost) pid namespace: the last NSpid of /proc/<pid>/status. */
function nsPid(hostPid: number): number {
  const m = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${hostPid}/status`, 'utf8'));
  return Number(m![1]!.trim().split(/\s+/).at(-1));
}

describe('sigkit init as PID 1 of a new pid namespace', () => {
  it('forwards SIGUSR1 (no inspector) and SIGTERM to CMD and exits with its code', async () => {
    const script = [
      `trap 'echo got USR1' USR1`,
      `trap 'echo got TERM; kill $p; exit 3' TERM`,
      'sleep 30 & p=$!',
      'echo ready',
      'while kill -0 $p 2>/dev/null; do wait $p; done',
    ].join('\n');
    const { unshare, init, cmd, out, err } = await startInit(['-v', '--', 'sh', '-c', script]);
    // The multi-line script is logged on one line, quoted as bash would: $'...\n...'.
    expect(await err.next()).toBe(`sigkit init: PID 1, subreaper; started ${cmd}: sh -c $'${script.replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`);
    process.kill(init, 'SIGUSR1'); // our own descendant: unshare's child
    expect(await out.next()).toBe('got USR1');
    // A sender in an ancestor namespace shows as pid 0.
    expect(await err.next()).toBe(`sigkit init: forwarded SIGUSR1 (from pid 0, SI_USER) to ${cmd}`);
    process.kill(init, 'SIGTERM');
    expect(await out.next()).toBe('got TERM');
    expect(await exited(unshare)).toEqual({ code: 3, signal: null });
    const tail = await err.rest();
    expect(tail[0]).toBe(`sigkit init: forwarded SIGTERM (from pid 0, SI_USER) to ${cmd}`);
    expect(tail.at(-1)).toMatch(new RegExp(`^sigkit init: child ${cmd} exit 3; exiting 3 `));
    expect(tail.join('\n')).not.toMatch(/Debugger/);
  });

  it('reaps orphaned grandchildren (no zombie left) and exits 143 when CMD dies of SIGTERM', async () => {
    const script = 'for i in 1 2 3; do (sleep 0.1 &); done; echo ready; exec sleep 30';
    const { unshare, init, cmd, err } = await startInit(['--json', '--', 'sh', '-c', script]);
    const records: Array<Record<string, unknown>> = [];
    while (records.filter((r) => r.event === 'reap').length < 3) records.push(JSON.parse(await err.next()));
    expect(records[0]).toMatchObject({ event: 'start', pid: cmd, init: 1, pid1: true, cmd: ['sh', '-c', script] });
    const reaps = records.filter((r) => r.event === 'reap');
    expect(reaps).toHaveLength(3);
    for (const r of reaps) expect(r).toMatchObject({ code: 0, signal: null });
    // From the host: init's only child is CMD (now sleep 30); nothing under init is a zombie.
    const kids = children(init);
    expect(kids.map((k) => [k.comm, k.state])).toEqual([['sleep', 'S']]);
    expect(descendants(unshare.pid!).filter((p) => p.state === 'Z')).toEqual([]);
    process.kill(init, 'SIGTERM');
    expect(await exited(unshare)).toEqual({ code: 143, signal: null });
    const tail = (await err.rest()).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(tail[0]).toMatchObject({ event: 'forward', signal: 'SIGTERM', from: 0, code: 'SI_USER', to: cmd, group: false });
    expect(tail.at(-1)).toEqual({ event: 'exit', pid: cmd, code: null, signal: 'SIGTERM', exitCode: 143, reaped: 3 });
  });

  it('exits with the exit code of CMD, or 128+n for signal n (realtime too)', async () => {
    const run = (cmd: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const u = start('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', node, CLI, 'init', '-v', '--', ...cmd]);
        let stderr = '';
        u.stderr!.on('data', (d) => (stderr += d));
        u.once('close', (code) => resolve({ code, stderr }));
      });
    expect((await run(['sh', '-c', 'exit 7'])).code).toBe(7);
    expect((await run(['sh', '-c', 'kill -TERM $$'])).code).toBe(143);
    const rt = signalNumber('SIGRTMIN+2');
    const r = await run([node, '-e', `process.kill(process.pid, ${rt})`]);
    expect(r.code).toBe(128 + rt);
    expect(r.stderr).toMatch(new RegExp(`child \\d+ killed by SIGRTMIN\\+2; exiting ${128 + rt} `));
  });

  it('--group forwards to the whole process group of CMD', async () => {
    const script = [
      // The short sleeps are in the group too and die of the TERM; the loop
      // goes on, and dash runs the trap between two commands.
      // "ready" only once the subshell has set its trap: it says so with
      // SIGUSR1 to the shell ($$ is the shell's pid in a subshell too).
      `r=; trap 'r=1' USR1`,
      `( trap 'echo grandchild got TERM; exit 0' TERM; kill -USR1 $$; while :; do sleep 0.01; done ) & g=$!`,
      'while [ -z "$r" ]; do sleep 0.01; done',
      `trap 'wait $g; echo child got TERM; exit 5' TERM`,
      'echo ready',
      'wait $g',
    ].join('\n');
    const { unshare, init, cmd, out, err } = await startInit(['--group', '-v', '--', 'sh', '-c', script]);
    expect(await err.next()).toMatch(new RegExp(`^sigkit init: PID 1, subreaper; started ${cmd} in its own group ${cmd}: `));
    const host = children(init)[0]!; // CMD as the host sees it
    expect(host.pgid).toBe(host.pid); // its own group (and session), apart from init's
    expect(readProcess(init).pgid).not.toBe(host.pgid);
    process.kill(init, 'SIGTERM');
    expect(await out.next()).toBe('grandchild got TERM');
    expect(await out.next()).toBe('child got TERM');
    expect(await exited(unshare)).toEqual({ code: 5, signal: null });
    // dash may say "Terminated" for the short sleep the TERM killed, in any order.
    const logged = (await err.rest()).filter((l) => l.startsWith('sigkit init: '));
    expect(logged).toEqual([
      `sigkit init: forwarded SIGTERM (from pid 0, SI_USER) to group ${cmd}`,
      expect.stringMatching(new RegExp(`^sigkit init: child ${cmd} exit 5; exiting 5 `)),
    ]);
  });

  it('SIGKILLs a CMD that ignores SIGTERM once the grace period is over', async () => {
    const { unshare, init, cmd, err } = await startInit(['--grace', '200ms', '-v', '--', 'sh', '-c', `trap '' TERM; echo ready; exec sleep 30`]);
    await err.next(); // started
    process.kill(init, 'SIGTERM');
    expect(await err.next()).toBe(`sigkit init: forwarded SIGTERM (from pid 0, SI_USER) to ${cmd}`);
    expect(await err.next()).toBe(`sigkit init: still running 200 ms after the shutdown signal: SIGKILL to ${cmd}`);
    expect(await err.next()).toMatch(new RegExp(`^sigkit init: child ${cmd} killed by SIGKILL; exiting 137 `));
    expect(await exited(unshare)).toEqual({ code: 137, signal: null });
  });

  it('a CMD that does not exist: one line, exit 127', async () => {
    const r = await sigkit(['init', '--', 'no-such-command-sigkit']);
    expect(r).toEqual({ code: 127, stdout: '', stderr: "sigkit init: cannot run 'no-such-command-sigkit': command not found (ENOENT)\n" });
  });

  it('words after -- belong to CMD, --help included', async () => {
    const r = await sigkit(['init', '--', 'echo', '--help', '-h']);
    expect(r).toEqual({ code: 0, stdout: '--help -h\n', stderr: '' });
  });
});

describe('wait, trap, init: help and bad input', () => {
  it.each(['wait', 'trap', 'init'])('%s --help prints its usage', async (name) => {
    const r = await sigkit([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(`sigkit ${name} `)).toBe(true);
    expect((await sigkit(['--help'])).stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
  });

  it.each([
    [['wait'], /^sigkit wait: missing PID$/m],
    [['wait', '0'], /PID must be between 1 and 2147483647, not '0'/],
    [['wait', 'abc'], /PID must be a positive integer, not 'abc'/],
    [['wait', 'PIDX', 'PIDX'], /give one PID, not 2/],
    [['wait', '-t', 'soon', 'PIDX'], /--timeout must be a duration/],
    [['trap'], /missing SIG/],
    [['trap', 'SIGKILL'], /cannot trap SIGKILL: the kernel never lets it be caught/],
    [['trap', 'stop'], /cannot trap SIGSTOP/],
    [['trap', 'SEGV'], /cannot trap SIGSEGV: a fault signal/],
    [['trap', '32'], /cannot trap signal 32: libc reserves it/],
    [['trap', '0'], /signal 0 is not a signal/],
    [['trap', 'SIGFOO'], /unknown signal 'SIGFOO'/],
    [['trap', 'USR1', '--count', '0'], /--count N must be a positive integer, not '0'/],
    [['trap', 'USR1', '-t', 'x'], /--timeout must be a duration/],
    [['init'], /missing -- CMD/],
    [['init', 'kill', 'PIDX'], /put -- before the command/],
    [['init', '--'], /missing CMD after --/],
    [['init', '--grace', 'x', '--', 'kill', 'PIDX'], /--grace must be a duration/],
    [['init', '--bogus', '--', 'kill', 'PIDX'], /Unknown option '--bogus'/],
  ])('%j: one-line error, exit 2, nothing signalled', async (args, message) => {
    const victim = start('sleep', ['30']);
    const r = await sigkit(args.map((a) => (a === 'PIDX' ? String(victim.pid) : a)));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(victim.exitCode).toBeNull();
    expect(victim.signalCode).toBeNull();
    expect(await waitForExit(victim.pid!, { timeoutMs: 0 })).toBe(false);
  });
});
