// How soon does a wait see an exit where pidfds are refused? The fallback
// (SIGCHLD for own children, an adaptive /proc poll for others) beside the
// pidfd path and fkill, on the same targets in the same run.
//
// The fallback runs in a second node process under the seccomp launcher
// (test/fixtures/seccomp-launcher.c, mode enosys: pidfd_open refused as on
// Linux < 5.3): the refusal is the kernel's, not a switch. Every target
// stamps CLOCK_MONOTONIC right before it _exits; each waiter's reaction is
// its detection time minus that stamp, all on CLOCK_MONOTONIC
// (process.hrtime.bigint() in both node processes, python's
// time.monotonic_ns() in the targets).
//
// Non-child: a python "factory" (our child) forks the target and reaps it
// at once, as a normal init would (bench/wait.mjs); neither node process is
// its parent. Own child: each waiter spawns its own target, which exits by
// itself after a random 20-120 ms. Waits are armed 20-120 ms before the
// exit, so the poll has backed off part of the way (1, 2, 4 ... 50 ms).
//   node bench/fallback.mjs           (also part of npm run bench)
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, median } from './harness.mjs';
import { FACTORY, lineWaiter } from './wait.mjs';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lib = require('../lib/index.js');

// A target that is our own child: exits by itself after argv[1] seconds
// (0: waits for SIGTERM), stamping its exit either way.
const TARGET = String.raw`
import os, signal, sys, time
def stamp(*_):
    os.write(1, b"exit %d %d\n" % (os.getpid(), time.monotonic_ns()))
    os._exit(0)
signal.signal(signal.SIGTERM, stamp)
os.write(1, b"ready %d 0\n" % os.getpid())
delay = float(sys.argv[1])
if delay > 0:
    time.sleep(delay)
    stamp()
while True:
    signal.pause()
`;

const randomDelay = () => 0.02 + Math.random() * 0.1;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ms = (ns) => Number(ns) / 1e6;

/** Spawns the python target as our child; resolves { child, pid, exitStamp }. */
async function ownTarget(delaySeconds) {
  const child = spawn('python3', ['-c', TARGET, String(delaySeconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const from = lineWaiter(child);
  const [pid] = [child.pid];
  await from(`ready ${pid}`);
  return { child, pid, exitStamp: from(`exit ${pid}`) };
}

// ---------------------------------------------------------------------------
// The waiter, run under the launcher: `watch PID` and `child DELAY` on stdin.

async function waiter() {
  if (lib.capabilities().pidfd) throw new Error('the fallback waiter found pidfds: not under the launcher?');
  const out = (line) => process.stdout.write(`${line}\n`);
  const { createInterface } = await import('node:readline');
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, arg] = line.split(' ');
    if (cmd === 'watch') {
      const pid = Number(arg);
      if (lib.openProcess(pid).kind !== 'pid+starttime') throw new Error('expected a fallback handle');
      lib.waitForExit(pid, { timeoutMs: 10_000 }).then((ok) => out(`seen ${pid} ${ok ? process.hrtime.bigint() : 0}`));
      out(`watching ${pid} 0`);
    } else if (cmd === 'child') {
      const { pid, exitStamp } = await ownTarget(Number(arg));
      lib.waitForExit(pid, { timeoutMs: 10_000 }).then(async (ok) => {
        const t = process.hrtime.bigint();
        out(`stamp ${pid} ${await exitStamp}`);
        out(`seen ${pid} ${ok ? t : 0}`);
      });
      out(`pid ${pid}`);
    }
  }
}

function launcher() {
  const bin = path.join(ROOT, 'node_modules', '.cache', 'sigkit-test-fixtures', 'seccomp-launcher');
  const src = path.join(ROOT, 'test', 'fixtures', 'seccomp-launcher.c');
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
    mkdirSync(path.dirname(bin), { recursive: true });
    execFileSync('cc', ['-O1', '-Wall', '-Wextra', '-Werror', '-o', bin, src], { stdio: 'inherit' });
  }
  return bin;
}

const p90 = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length * 0.9)];
const cell = (v) => `${fmt(median(v), 2)} ms (p90 ${fmt(p90(v), 2)}, n=${v.length})`;

export async function rows() {
  const { default: fkill } = await import('fkill');
  const fallback = spawn(launcher(), ['enosys', '--', process.execPath, fileURLToPath(import.meta.url), '--waiter'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const factory = spawn('python3', ['-c', FACTORY], { stdio: ['pipe', 'pipe', 'inherit'] });
  const fromFallback = lineWaiter(fallback);
  const fromFactory = lineWaiter(factory);
  const non = { pidfd: [], fallback: [], fkill: [] };
  const own = { pidfd: [], fallback: [], fkill: [] };

  try {
    // Non-children: every waiter armed on the same target; fkill on every third, sending SIGTERM itself.
    for (let round = 0; round < 30; round++) {
      factory.stdin.write('go\n');
      const pid = await fromFactory('pid');
      const exitStamp = fromFactory(`exit ${pid}`);
      const pidfd = lib.waitForExit(pid, { timeoutMs: 10_000 }).then(() => process.hrtime.bigint());
      fallback.stdin.write(`watch ${pid}\n`);
      await fromFallback(`watching ${pid}`);
      const fb = fromFallback(`seen ${pid}`);
      await sleep(20 + Math.random() * 100);
      let fk;
      if (round % 3 === 2) fk = fkill(pid, { waitForExit: 5000 }).then(() => process.hrtime.bigint());
      else lib.kill(pid, 'SIGTERM'); // the target's own handler stamps and exits
      const [stamp, a, b, c] = await Promise.all([exitStamp, pidfd, fb, fk]);
      non.pidfd.push(ms(a - stamp));
      non.fallback.push(ms(b - stamp));
      if (c !== undefined) non.fkill.push(ms(c - stamp));
    }
    // Own children: each waiter's own, in turn.
    for (let round = 0; round < 45; round++) {
      const which = ['pidfd', 'fallback', 'fkill'][round % 3];
      if (which === 'pidfd') {
        const { pid, exitStamp } = await ownTarget(randomDelay());
        const t = await lib.waitForExit(pid, { timeoutMs: 10_000 }).then(() => process.hrtime.bigint());
        own.pidfd.push(ms(t - (await exitStamp)));
      } else if (which === 'fallback') {
        fallback.stdin.write(`child ${randomDelay()}\n`);
        const pid = await fromFallback('pid');
        const [stamp, seen] = await Promise.all([fromFallback(`stamp ${pid}`), fromFallback(`seen ${pid}`)]);
        own.fallback.push(ms(seen - stamp));
      } else {
        const { pid, exitStamp } = await ownTarget(0);
        await sleep(20 + Math.random() * 100);
        const t = await fkill(pid, { waitForExit: 5000 }).then(() => process.hrtime.bigint());
        own.fkill.push(ms(t - (await exitStamp)));
      }
    }
  } finally {
    factory.stdin.end();
    fallback.stdin.end();
    await Promise.all([once(factory, 'exit'), once(fallback, 'exit')]);
  }

  const row = (what, s) => [
    {
      benchmark: `fallback \`waitForExit\` (no pidfd), ${what}: reaction to the exit`,
      sigkit: cell(s.fallback),
      peer: 'sigkit with pidfds, same targets',
      peerValue: cell(s.pidfd),
      ratio: `+${fmt(median(s.fallback) - median(s.pidfd), 2)} ms`,
      target: what === 'own child' ? 'SIGCHLD-driven' : '<= 50 ms (poll cap)',
      ok: what === 'own child' ? true : p90(s.fallback) <= 55,
    },
    {
      benchmark: `fallback \`waitForExit\` (no pidfd), ${what}: reaction to the exit`,
      sigkit: cell(s.fallback),
      peer: 'fkill 10 `waitForExit` (polls `ps`)',
      peerValue: cell(s.fkill),
      ratio: `${fmt(median(s.fkill) / median(s.fallback), 1)}x sooner`,
      target: '',
    },
  ];
  return [...row('non-child', non), ...row('own child', own)];
}

if (process.argv[2] === '--waiter') {
  waiter().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { machine, table } = await import('./harness.mjs');
  const r = await rows();
  console.log(`Machine: ${machine()}\n`);
  console.log(table(r));
}
