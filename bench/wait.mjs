// How soon after a process exits does each waiter know? The target is not
// our child: a python3 "factory" (our child) forks it and reaps it at once,
// as a normal init would (this machine's PID 1 reaps ~1.9 s late, which
// would only measure that). The target, on SIGTERM, writes its own
// CLOCK_MONOTONIC reading and _exits; every waiter's reaction is its
// detection time minus that stamp, all on CLOCK_MONOTONIC
// (process.hrtime.bigint() and python's time.monotonic_ns()).
//
// Waiters:
//  - sigkit waitForExit(pid) (pidfd on the event loop);
//  - the floor: a bare pidfd poll in a separate python3 process;
//  - process.kill(pid, 0) every 100 ms until ESRCH;
//  - fkill(pid, { waitForExit }) which sends SIGTERM itself (via `kill`)
//    and then polls `ps` with back-off: its own rounds.
// Rounds interleave; medians. Bounded: ~25 rounds, a few seconds.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import { fmt, median } from './harness.mjs';

const require = createRequire(import.meta.url);
const { waitForExit, kill } = require('../lib/index.js');

export const FACTORY = String.raw`
import os, signal, sys, time
def reap(*_):
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass
signal.signal(signal.SIGCHLD, reap)
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        def stamp(*_):
            os.write(1, b"exit %d %d\n" % (os.getpid(), time.monotonic_ns()))
            os._exit(0)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, stamp)
        while True:
            signal.pause()
    sys.stdout.write("pid %d\n" % pid)
    sys.stdout.flush()
`;

const FLOOR = String.raw`
import os, select, sys, time
poller = select.poll()
poller.register(0, select.POLLIN)
fds = {}
while True:
    for fd, _ in poller.poll():
        if fd == 0:
            line = sys.stdin.readline()
            if not line:
                sys.exit(0)
            pid = int(line)
            pfd = os.pidfd_open(pid)
            fds[pfd] = pid
            poller.register(pfd, select.POLLIN)
            os.write(1, b"watching %d\n" % pid)
        else:
            t = time.monotonic_ns()
            poller.unregister(fd)
            os.close(fd)
            os.write(1, b"floor %d %d\n" % (fds.pop(fd), t))
`;

/** Lines of a child's stdout, keyed by their first word and pid. */
export function lineWaiter(child) {
  const pending = new Map();
  const seen = new Map();
  createInterface({ input: child.stdout }).on('line', (line) => {
    const [kind, a, b] = line.split(' ');
    const key = kind === 'pid' ? 'pid' : `${kind} ${a}`;
    const value = kind === 'pid' ? Number(a) : BigInt(b ?? 0);
    const waiter = pending.get(key)?.shift();
    if (waiter) waiter(value);
    else seen.set(key, [...(seen.get(key) ?? []), value]);
  });
  return (key) => {
    const queued = seen.get(key);
    if (queued?.length) return Promise.resolve(queued.shift());
    return new Promise((resolve) => pending.set(key, [...(pending.get(key) ?? []), resolve]));
  };
}

const ms = (ns) => Number(ns) / 1e6;
const sleep = (t) => new Promise((r) => setTimeout(r, t));

export async function rows() {
  const { default: fkill } = await import('fkill');
  const factory = spawn('python3', ['-c', FACTORY], { stdio: ['pipe', 'pipe', 'inherit'] });
  const floor = spawn('python3', ['-c', FLOOR], { stdio: ['pipe', 'pipe', 'inherit'] });
  const fromFactory = lineWaiter(factory);
  const fromFloor = lineWaiter(floor);
  const samples = { sigkit: [], floor: [], poll: [], fkill: [] };

  async function target() {
    factory.stdin.write('go\n');
    const pid = await fromFactory('pid');
    floor.stdin.write(`${pid}\n`);
    await fromFloor(`watching ${pid}`);
    return pid;
  }

  try {
    for (let round = 0; round < 24; round++) {
      const pid = await target();
      const exitStamp = fromFactory(`exit ${pid}`);
      const floorSeen = fromFloor(`floor ${pid}`);
      if (round % 3 !== 2) {
        // sigkit and the 100 ms kill(pid, 0) poll, both armed before the exit.
        const sigkit = waitForExit(pid, { timeoutMs: 10_000 }).then(() => process.hrtime.bigint());
        const poll = new Promise((resolve) => {
          const timer = setInterval(() => {
            try {
              process.kill(pid, 0);
            } catch {
              clearInterval(timer);
              resolve(process.hrtime.bigint());
            }
          }, 100);
        });
        // Uniform over one poll period: the exit lands at a random poll phase.
        await sleep(20 + Math.random() * 100);
        kill(pid, 'SIGTERM'); // the target's own SIGTERM handler stamps and exits
        const [stamp, s, p, f] = await Promise.all([exitStamp, sigkit, poll, floorSeen]);
        samples.sigkit.push(ms(s - stamp));
        samples.poll.push(ms(p - stamp));
        samples.floor.push(ms(f - stamp));
      } else {
        // fkill kills and waits in one call, as its README shows.
        await sleep(20 + Math.random() * 80);
        const done = fkill(pid, { waitForExit: 5000 }).then(() => process.hrtime.bigint());
        const [stamp, k, f] = await Promise.all([exitStamp, done, floorSeen]);
        samples.fkill.push(ms(k - stamp));
        samples.floor.push(ms(f - stamp));
      }
    }
  } finally {
    factory.stdin.end();
    floor.stdin.end();
    await Promise.all([once(factory, 'exit'), once(floor, 'exit')]);
  }

  const p90 = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length * 0.9)];
  const sigkit = median(samples.sigkit);
  const floorMs = median(samples.floor);
  const cell = (v) => `${fmt(median(v), 2)} ms (p90 ${fmt(p90(v), 2)})`;
  const goal = '<= 2.5 ms';
  return [
    {
      benchmark: '`waitForExit` reaction to a non-child\'s exit, median',
      sigkit: cell(samples.sigkit),
      peer: 'fkill 10 `waitForExit` (polls `ps`)',
      peerValue: cell(samples.fkill),
      ratio: `${fmt(median(samples.fkill) / sigkit, 0)}x sooner`,
      target: goal,
      ok: sigkit <= 2.5,
    },
    {
      benchmark: '`waitForExit` reaction to a non-child\'s exit, median',
      sigkit: cell(samples.sigkit),
      peer: '`process.kill(pid, 0)` every 100 ms',
      peerValue: cell(samples.poll),
      ratio: `${fmt(median(samples.poll) / sigkit, 0)}x sooner`,
      target: goal,
      ok: sigkit <= 2.5,
    },
    {
      benchmark: 'the floor: a bare pidfd poll (python3, own process), same targets',
      sigkit: cell(samples.sigkit),
      peer: 'pidfd + poll(2), nothing else',
      peerValue: cell(samples.floor),
      ratio: `+${fmt(sigkit - floorMs, 2)} ms`,
      target: '',
    },
  ];
}
