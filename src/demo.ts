/**
 * The guided demo (`npm run demo`): a tour of sigkit on processes it starts
 * itself. It signals nothing else, finishes in a few seconds and leaves no
 * process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { formatSignalList, isAlive, isSyscallError, kill, killpg, signalName, signalNumber } from './index.js';

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const bold = (s: string) => (useColor ? `\x1b[1m${s}\x1b[22m` : s);
const dim = (s: string) => (useColor ? `\x1b[2m${s}\x1b[22m` : s);

function step(title: string): void {
  console.log(`\n${bold(`== ${title}`)}`);
}

async function started(child: ChildProcess): Promise<number> {
  await once(child, 'spawn');
  return child.pid!;
}

async function exitOf(child: ChildProcess): Promise<string> {
  const [code, signal] = (child.exitCode !== null || child.signalCode !== null)
    ? [child.exitCode, child.signalCode]
    : await once(child, 'exit') as [number | null, string | null];
  return signal ? `killed by ${signal}` : `exited with code ${code}`;
}

async function readPids(child: ChildProcess, count: number): Promise<number[]> {
  let text = '';
  for await (const chunk of child.stdout!) {
    text += String(chunk);
    const pids = text.split('\n').filter(Boolean).map(Number);
    if (pids.length >= count && text.endsWith('\n')) return pids;
  }
  throw new Error('the shell ended before reporting its children');
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

async function waitForState(pid: number, state: string, timeoutMs: number): Promise<boolean> {
  const { readFileSync } = await import('node:fs');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      if (stat.charAt(stat.lastIndexOf(')') + 2) === state) return true;
    } catch {
      return false;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

export async function demo(): Promise<void> {
  const children: ChildProcess[] = [];
  const track = (c: ChildProcess) => (children.push(c), c);
  try {
    step('1. The signal table of this machine (as bash\'s kill -l prints it)');
    process.stdout.write(formatSignalList());
    console.log(dim(`SIGRTMIN is ${signalNumber('SIGRTMIN')} here, read from libc at run time; 'rtmax-1' parses to ${signalNumber('rtmax-1')}, 50 is ${signalName(50)}.`));

    step('2. kill(): a signal to one process');
    const sleeper = track(spawn('sleep', ['30'], { stdio: 'ignore' }));
    const pid = await started(sleeper);
    kill(pid, 'SIGTERM');
    console.log(`kill(${pid}, 'SIGTERM') -> sleep ${await exitOf(sleeper)}`);

    step('3. killpg(): a whole process group, grandchildren included');
    const group = track(spawn('sh', ['-c', 'for i in 1 2 3; do sleep 30 & echo $!; done; wait'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true }));
    const pgid = await started(group);
    const members = await readPids(group, 3);
    killpg(pgid, 'SIGTERM');
    console.log(`killpg(${pgid}, 'SIGTERM') -> the shell ${await exitOf(group)}`);
    const gone = await waitFor(() => members.every((m) => !isAlive(m)), 3000);
    console.log(`its sleeps ${members.join(', ')}: ${gone ? 'all gone (isAlive false)' : 'still running?'}`);

    step('4. isAlive(): a zombie is not alive');
    // The shell starts a short sleep and becomes `sleep 5`, which never waits:
    // when the short sleep ends it stays a zombie.
    const parent = track(spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] }));
    const [line] = await once(parent.stdout!, 'data') as [Buffer];
    const zombie = Number(String(line).trim());
    if (await waitForState(zombie, 'Z', 3000)) {
      let probe = 'alive';
      try {
        process.kill(zombie, 0);
      } catch {
        probe = 'gone';
      }
      console.log(`pid ${zombie} has exited, but its parent has not reaped it (state Z).`);
      console.log(`process.kill(${zombie}, 0) says: ${probe}    isAlive(${zombie}) says: ${isAlive(zombie) ? 'alive' : 'not alive'}`);
    }

    step('5. Errors you can act on');
    try {
      kill(pid, 'SIGTERM');
    } catch (e) {
      if (isSyscallError(e)) console.log(`kill(${pid}) after it was reaped: ${e.name} code=${e.code} errno=${e.errno} syscall=${e.syscall}`);
    }
    try {
      kill(0, 'SIGTERM');
    } catch (e) {
      console.log(`kill(0): ${(e as { code: string }).code}: ${(e as Error).message}`);
    }
    console.log('\nMore in README.md. Everything above ran on processes this demo started.');
  } finally {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
  }
}

if (require.main === module) {
  demo().catch((e: unknown) => {
    console.error(`demo failed: ${(e as Error).message}`);
    process.exitCode = 1;
  });
}
