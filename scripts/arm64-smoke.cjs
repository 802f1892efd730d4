/**
 * A smoke test of sigkit as installed, run by whatever node runs it (under
 * qemu-aarch64-static: an arm64 Node loading prebuilds/linux-arm64). Every
 * step waits for an event with a deadline. Signals go only to children this
 * script spawned and, for SIGUSR2, to itself. Prints one line per step and
 * "smoke: ok", or "smoke: FAILED ..." and exits 1.
 *
 * Usage: PREBUILDS_ONLY=1 node scripts/arm64-smoke.cjs <package dir>
 */
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const dir = path.resolve(process.argv[2] || path.join(__dirname, '..'));
const DEADLINE_MS = 60_000; // emulated, on a loaded machine

function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function check(ok, what) {
  if (!ok) throw new Error(what);
}

/** A child of ours to signal: the host's sleep (qemu-user runs only this node emulated). */
function spawnSleeper() {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  const closed = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => resolve({ child, closed }));
  });
}

async function main() {
  const where = require('node-gyp-build').resolve(dir);
  const s = require(dir);
  console.log(`loaded: ${path.relative(dir, where)} (node ${process.version}, process.arch ${process.arch})`);
  check(where.endsWith(path.join(`linux-${process.arch}`, 'sigkit.glibc.node')) || where.endsWith('sigkit.musl.node'), `unexpected addon ${where}`);

  const all = s.signals();
  check(s.Signal.SIGTERM === 15 && s.signalName(10) === 'SIGUSR1' && s.signalNumber('SIGRTMIN+1') === s.Signal.SIGRTMIN + 1, 'catalogue numbers');
  console.log(`catalogue: ${all.length} signals, SIGTERM=${s.Signal.SIGTERM}, SIGUSR2=${s.Signal.SIGUSR2}, SIGRTMIN=${s.Signal.SIGRTMIN}, SIGRTMAX=${s.Signal.SIGRTMAX}`);

  const a = await spawnSleeper();
  try {
    check(s.isAlive(a.child.pid), 'child alive before kill');
    const procs = s.listProcesses();
    const self = procs.find((p) => p.pid === process.pid);
    const kid = procs.find((p) => p.pid === a.child.pid);
    check(self && kid && kid.ppid === process.pid, 'listProcesses lists this process and its child');
    console.log(`listProcesses: ${procs.length} processes; self ${self.pid} (${self.comm}), child ${kid.pid} (${kid.comm}, ppid ${kid.ppid})`);
    s.kill(a.child.pid, 'SIGTERM');
    const end = await within(a.closed, 'kill');
    check(end.signal === 'SIGTERM', `child ended by ${end.signal}`);
    console.log(`kill: child ${a.child.pid} ended by ${end.signal}`);
  } finally {
    if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
  }

  let off;
  const event = await within(new Promise((resolve) => {
    off = s.onSignal('SIGUSR2', resolve);
    process.kill(process.pid, 'SIGUSR2');
  }), 'onSignal');
  off();
  check(event.signal === 'SIGUSR2' && event.code === 'SI_USER' && event.pid === process.pid, `event ${JSON.stringify(event)}`);
  console.log(`onSignal: ${event.signal} (${event.number}) code ${event.code} from pid ${event.pid}, attested ${event.attested}`);

  const b = await spawnSleeper();
  try {
    const handle = s.openProcess(b.child.pid);
    check(handle.isAlive(), 'handle alive');
    handle.kill('SIGKILL');
    await within(handle.exited({ timeoutMs: DEADLINE_MS }), 'exited()');
    check(!handle.isAlive(), 'handle dead after exited()');
    handle.close();
    const end = await within(b.closed, 'child exit');
    console.log(`openProcess: pidfd on child ${b.child.pid}, kill SIGKILL, exited() resolved; child ended by ${end.signal}`);
  } finally {
    if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGKILL');
  }
  console.log('smoke: ok');
}

main().catch((e) => {
  console.log(`smoke: FAILED ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
