/**
 * The guided demo (`npm run demo`, `sigkit demo`): a tour of sigkit on
 * processes it starts itself. It signals nothing else, takes a few seconds
 * and leaves no process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  children, findZombies, formatSignalList, isAlive, isSyscallError, kill, onSignal, openProcess, reapChildren, setChildSubreaper,
  signalName, signalNumber, terminate, terminateGroup,
} from './index.js';

const useColor = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const bold = (s: string) => (useColor ? `\x1b[1m${s}\x1b[22m` : s);
const dim = (s: string) => (useColor ? `\x1b[2m${s}\x1b[22m` : s);

function step(title: string): void {
  console.log(`\n${bold(`== ${title}`)}`);
}

/** Resolves with the child's first stdout line. */
async function firstLine(child: ChildProcess): Promise<string> {
  let text = '';
  for await (const chunk of child.stdout!) {
    text += String(chunk);
    const nl = text.indexOf('\n');
    if (nl >= 0) return text.slice(0, nl);
  }
  throw new Error('the process ended before it said anything');
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

const ms = (n: number | null) => `${Math.round(n ?? 0)} ms`;

export async function demo(): Promise<void> {
  const started: ChildProcess[] = [];
  const track = (c: ChildProcess) => (started.push(c), c);
  const dir = mkdtempSync(path.join(tmpdir(), 'sigkit-demo-'));
  const idle = 'while :; do sleep 0.05; done';
  try {
    step('1. The signal table of this machine (as bash\'s kill -l prints it)');
    process.stdout.write(formatSignalList());
    console.log(dim(`SIGRTMIN is ${signalNumber('SIGRTMIN')} here, read from libc at run time; 'rtmax-1' parses to ${signalNumber('rtmax-1')}; 50 is ${signalName(50)}.`));

    step('2. Graceful or forced: terminate() = SIGTERM, wait, then SIGKILL');
    const marker = path.join(dir, 'cleaned-up');
    const graceful = track(spawn('sh', ['-c', `trap 'sleep 0.2; echo bye > ${marker}; exit 0' TERM; echo ready; ${idle}`], { stdio: ['ignore', 'pipe', 'ignore'] }));
    const stubborn = track(spawn('sh', ['-c', `trap '' TERM; echo ready; ${idle}`], { stdio: ['ignore', 'pipe', 'ignore'] }));
    await Promise.all([firstLine(graceful), firstLine(stubborn)]);
    const [g, s] = await Promise.all([terminate(graceful.pid!, { graceMs: 2000 }), terminate(stubborn.pid!, { graceMs: 500 })]);
    console.log(`a shell with a 200 ms cleanup hook: ${g.forced ? 'forced' : 'exited on SIGTERM'} after ${ms(g.exitedAfterMs)}; its cleanup file ${existsSync(marker) ? `says "${readFileSync(marker, 'utf8').trim()}"` : 'is missing'}`);
    console.log(`a shell that ignores SIGTERM: ${s.steps.map((x) => `${x.signal} at ${ms(x.sentAtMs)}`).join(', ')} -> ${s.forced ? 'killed (forced)' : 'exited'} after ${ms(s.exitedAfterMs)}`);

    step('3. A process group: terminateGroup() waits for every member');
    const leader = track(spawn('sh', ['-c', 'for i in 1 2 3; do sleep 30 & done; echo ready; wait'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true }));
    await firstLine(leader);
    await waitFor(() => children(leader.pid!).filter((c) => c.comm === 'sleep').length === 3, 3000);
    const group = await terminateGroup(leader.pid!, { graceMs: 2000 });
    console.log(`group ${group.id}: ${group.members.map((m) => `${m.comm} ${m.pid}`).join(', ')} -> all exited: ${group.exited}, after ${ms(group.exitedAfterMs)}`);

    step('4. A zombie: found, its parent named, and reaped');
    // This process becomes a subreaper: orphans re-parent to it, not to PID 1.
    setChildSubreaper(true);
    // The shell starts a short sleep and becomes `sleep 30`, which never waits:
    // when the short sleep ends, it stays a zombie.
    const parent = track(spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] }));
    const zombiePid = Number(await firstLine(parent));
    if (await waitFor(() => findZombies().some((z) => z.pid === zombiePid), 3000)) {
      const z = findZombies().find((x) => x.pid === zombiePid)!;
      let probe = 'alive';
      try {
        process.kill(zombiePid, 0);
      } catch {
        probe = 'gone';
      }
      console.log(`zombie ${z.pid} (${z.comm}): its parent ${z.ppid} (${z.parent?.comm}) never waits; it catches SIGCHLD: ${z.parentCatchesSIGCHLD}`);
      console.log(`process.kill(${zombiePid}, 0) says ${probe}; isAlive(${zombiePid}) says ${isAlive(zombiePid) ? 'alive' : 'not alive'}`);
      await terminate(parent.pid!, { graceMs: 1000 });
      // Its parent is gone: the zombie is re-parented to us, and we reap it.
      let reaped: ReturnType<typeof reapChildren> = [];
      await waitFor(() => (reaped = reaped.concat(reapChildren())).some((e) => e.pid === zombiePid), 3000);
      const e = reaped.find((x) => x.pid === zombiePid);
      console.log(e ? `ended its parent; zombie ${e.pid} came to us and was reaped: exit code ${e.code}` : 'the zombie was not reaped');
    }
    setChildSubreaper(false);

    step('5. A signal received with its sender (siginfo)');
    const got = new Promise<{ pid: number; uid: number; code: string; attested: boolean }>((resolve) => {
      // ref: keep this process alive until the signal is in (a listener
      // alone does not, like a process.on signal listener).
      const off = onSignal('SIGUSR2', (ev) => {
        off();
        resolve(ev);
      }, { ref: true });
    });
    const sender = track(spawn('sh', ['-c', `kill -USR2 ${process.pid}`], { stdio: 'ignore' }));
    const ev = await got;
    console.log(`SIGUSR2 from pid ${ev.pid} (the shell we started was ${sender.pid}), uid ${ev.uid}, ${ev.code}, kernel-attested: ${ev.attested}`);

    step('6. A handle that can never signal a recycled pid');
    const sleeper = track(spawn('sleep', ['30'], { stdio: 'ignore' }));
    // Listen before anything can make it exit: Node may emit 'exit' in the
    // same loop turn that the pidfd reports the exit, before exited() resolves.
    const sleeperExit = once(sleeper, 'exit');
    await once(sleeper, 'spawn');
    const handle = openProcess(sleeper.pid!);
    handle.kill('SIGTERM');
    await handle.exited({ timeoutMs: 2000 });
    await sleeperExit;
    try {
      handle.kill('SIGTERM');
    } catch (err) {
      if (isSyscallError(err)) {
        console.log(`openProcess(${handle.pid}).kill() after the process was reaped: ${err.code} from ${err.syscall}, whatever now holds pid ${handle.pid}`);
      }
    } finally {
      handle.close();
    }
    try {
      kill(0, 'SIGTERM');
    } catch (err) {
      console.log(`kill(0) is refused before any system call: ${(err as { code: string }).code}`);
    }
    console.log('\nMore in README.md. Everything above ran on processes this demo started.');
  } finally {
    for (const c of started) {
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  demo().then(() => process.exit(0), (e: unknown) => {
    console.error(`demo failed: ${(e as Error).message}`);
    process.exit(1);
  });
}
