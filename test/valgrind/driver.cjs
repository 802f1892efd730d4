// Drives every native domain of sigkit, on processes it starts itself, for
// `npm run test:valgrind` (memcheck): kill/proc, pidfd handles (closed and
// dropped + GC), waitForExit/exitOf, waitpid/reapChildren on orphans it
// adopts as a subreaper, startReaper, onSignal with self-sent SIGUSR2 and
// realtime signals, signalStats/getDisposition, and worker threads that load
// the addon, listen and end. Changes its own signal state: it is its own
// process, never a test runner. Prints what it did; any memcheck error fails
// the run through --error-exitcode, and any wrong result exits 1.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const lib = path.join(__dirname, '..', '..', 'lib', 'index.js');
const s = require(lib);

const rounds = Number(process.env.ROUNDS || 200);
// Everything under valgrind is ~50x slower: generous, but bounded.
const DEADLINE = Date.now() + Number(process.env.DRIVER_DEADLINE_MS || 15 * 60_000);
const counts = {};
const count = (k, n = 1) => (counts[k] = (counts[k] || 0) + n);

function check(ok, what) {
  if (!ok) throw new Error(`valgrind driver: check failed: ${what}`);
}

function left() {
  const ms = DEADLINE - Date.now();
  if (ms <= 0) throw new Error('valgrind driver: deadline passed');
  return ms;
}

function withTimeout(p, what, ms = left()) {
  let t;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`valgrind driver: timed out: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

async function until(fn, what) {
  while (!fn()) {
    left();
    await new Promise((r) => setTimeout(r, 5));
  }
  count(what);
}

function spawned(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: 'ignore', ...opts });
  return withTimeout(new Promise((r, j) => child.once('spawn', () => r(child)).once('error', j)), `spawn ${cmd}`);
}

// A shell that forks `sleep <secs>` into the background, prints its pid and
// exits: the sleep is orphaned and, with the subreaper bit, re-parented here.
async function orphan(secs) {
  const sh = spawn('sh', ['-c', `sleep ${secs} & echo $!`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  sh.stdout.on('data', (d) => (out += d));
  await withTimeout(new Promise((r) => sh.once('close', r)), 'orphan shell');
  const pid = Number(out.trim());
  check(pid > 1, `orphan pid from the shell: ${JSON.stringify(out)}`);
  return pid;
}

async function killAndProc(child) {
  let esrch = 0;
  for (let i = 0; i < rounds; i++) {
    s.kill(child.pid, 0);
    s.isAlive(child.pid);
    s.sigqueue(child.pid, 0, i);
    try {
      s.kill(2147483647, 0);
    } catch (e) {
      if (e.code === 'ESRCH') esrch++;
    }
    try {
      s.killpg(2147483647, 0);
    } catch (e) {
      if (e.code === 'ESRCH') esrch++;
    }
    s.readProcess(child.pid);
    s.listProcesses();
    if (i % 20 === 0) s.listProcesses({ details: true });
    s.children(process.pid);
    s.descendants(process.pid);
    s.processTree(process.pid);
    s.findZombies();
    s.isZombie(child.pid);
    s.signals();
    s.formatSignalList();
  }
  s.findProcesses({ ppid: process.pid });
  check(esrch === 2 * rounds, 'ESRCH for a pid that cannot exist');
  count('kill/proc rounds', rounds);
}

// valgrind 3.19 (Debian 12) does not know pidfd_open(2) and answers ENOSYS:
// there, only sigkit's ENOSYS paths run; the ASan run covers the rest.
function havePidfd(child) {
  try {
    s.openProcess(child.pid).close();
    return true;
  } catch (e) {
    if (e.code !== 'ENOSYS') throw e;
    return false;
  }
}

async function pidfdUnsupported(child) {
  for (let i = 0; i < rounds; i++) {
    try {
      s.openProcess(child.pid);
      check(false, 'openProcess without pidfd_open');
    } catch (e) {
      check(e.code === 'ENOSYS' && e.syscall === 'pidfd_open', `ENOSYS, got ${e.code}`);
    }
    await s.waitForExit(child.pid).then(
      () => check(false, 'waitForExit without pidfd_open'),
      (e) => check(e.code === 'ENOSYS', `ENOSYS, got ${e.code}`),
    );
  }
  const c = await spawned('true', []);
  await s.exitOf(c).then(
    () => check(false, 'exitOf without pidfd_open'),
    (e) => check(e.code === 'ENOSYS', `ENOSYS, got ${e.code}`),
  );
  await withTimeout(new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r))), 'child exit');
  count('pidfd ENOSYS rounds (no pidfd_open under this valgrind)', rounds);
}

// exitOf where pidfds work, else Node's own exit event.
function exitOf(c) {
  if (hasPidfd) return s.exitOf(c);
  return new Promise((r) => c.once('exit', (code, signal) => r({ code, signal })));
}

let hasPidfd = true;

async function pidfd(child) {
  hasPidfd = havePidfd(child);
  if (!hasPidfd) return pidfdUnsupported(child);
  for (let i = 0; i < rounds; i++) {
    const h = s.openProcess(child.pid);
    h.kill(0);
    check(h.isAlive(), 'a sleeping child is alive');
    // A wait that times out: the pidfd was polled on the loop, then unwatched.
    await h.exited({ timeoutMs: 1 }).then(
      () => check(false, 'exited() resolved for a live child'),
      (e) => check(e.code === 'ERR_SIGKIT_TIMEOUT', `timeout, got ${e.code}`),
    );
    // A wait pending when the handle closes rejects with EBADF.
    const pending = h.exited();
    h.close();
    await pending.then(
      () => check(false, 'exited() resolved after close'),
      (e) => check(e.code === 'EBADF', `EBADF, got ${e.code}`),
    );
    h.close();
    try {
      h.kill(0);
      check(false, 'kill on a closed handle');
    } catch (e) {
      check(e.code === 'EBADF', 'EBADF on a closed handle');
    }
    // Dropped without close(): the finalizer closes the pidfd.
    s.openProcess(child.pid);
  }
  count('pidfd open/close rounds', rounds);
  global.gc();
  await new Promise((r) => setImmediate(r));
  global.gc();
  // Exits seen through a pidfd: handle.exited, waitForExit, exitOf.
  const n = Math.max(5, rounds / 10);
  for (let i = 0; i < n; i++) {
    const c = await spawned('sleep', ['0.01']);
    const h = s.openProcess(c.pid);
    const info = s.exitOf(c);
    check((await s.waitForExit(c.pid, { timeoutMs: 0 })) === false, 'waitForExit(timeoutMs: 0) on a live child');
    await withTimeout(s.waitForExit(c.pid), 'waitForExit');
    await withTimeout(h.exited(), 'handle.exited');
    check(!h.isAlive(), 'not alive after exit');
    h.close();
    const exit = await withTimeout(info, 'exitOf');
    check(exit.code === 0 && exit.signal === null, `exitOf: ${JSON.stringify(exit)}`);
  }
  count('exit waits', n);
}

async function reaping() {
  s.setChildSubreaper(true);
  check(s.isChildSubreaper(), 'subreaper bit set');
  const n = Math.max(5, rounds / 10);
  // waitpid, blocking and not, on orphans this process adopted.
  for (let i = 0; i < n; i++) {
    const pid = await orphan('0.05');
    const early = s.waitpid(pid);
    const info = early ?? s.waitpid(pid, { noHang: false });
    check(info.pid === pid && info.code === 0, `waitpid: ${JSON.stringify(info)}`);
    try {
      s.waitpid(pid);
      check(false, 'second waitpid');
    } catch (e) {
      check(e.code === 'ECHILD', `ECHILD, got ${e.code}`);
    }
  }
  count('waitpid orphans', n);
  // reapChildren, excluding nothing: it must leave child_process's own child.
  const live = await spawned('sleep', ['30']);
  const pids = new Set();
  for (let i = 0; i < n; i++) pids.add(await orphan('0.01'));
  const reaped = [];
  await until(() => {
    for (const info of s.reapChildren()) reaped.push(info.pid);
    return [...pids].every((p) => reaped.includes(p));
  }, 'reapChildren passes');
  check(!reaped.includes(live.pid), 'reapChildren left the child_process child alone');
  const liveExit = exitOf(live);
  live.kill('SIGKILL');
  check((await withTimeout(liveExit, 'exitOf live')).signal === 'SIGKILL', 'child_process child reports SIGKILL');
  // startReaper: orphans and child_process children together.
  const seen = new Set();
  const reaper = s.startReaper({ onExit: (info) => seen.add(info.pid), intervalMs: 50 });
  const want = [];
  const exits = [];
  for (let i = 0; i < n; i++) {
    want.push(await orphan('0.01'));
    const c = await spawned('true', []);
    exits.push(withTimeout(new Promise((r) => c.once('exit', (code) => r(code))), 'child exit'));
  }
  await until(() => want.every((p) => seen.has(p)), 'reaper passes');
  check((await Promise.all(exits)).every((code) => code === 0), 'every child_process child reported exit 0');
  check(reaper.reaped >= want.length, 'reaper count');
  reaper.close();
  reaper.close();
  check(reaper.closed, 'reaper closed');
  s.setChildSubreaper(false);
  check(!s.isChildSubreaper(), 'subreaper bit cleared');
  count('reaper orphans', want.length);
}

async function signals() {
  const rt = `SIGRTMIN+${3}`;
  check(s.getDisposition('SIGUSR2') === 'default', 'SIGUSR2 starts at SIG_DFL');
  for (const sig of ['SIGUSR2', rt]) {
    for (let i = 0; i < rounds; i++) {
      const got = [];
      const off = s.onSignal(sig, (e) => got.push(e));
      const off2 = s.onSignal(sig, () => {});
      check(s.getDisposition(sig) === 'handler', `${sig} handled while subscribed`);
      if (sig === rt) s.sigqueue(process.pid, sig, i);
      else s.kill(process.pid, sig);
      await until(() => got.length === 1, `${sig} received`);
      check(got[0].pid === process.pid, 'sender pid');
      if (sig === rt) check(got[0].value === i && got[0].code === 'SI_QUEUE', `payload ${JSON.stringify(got[0])}`);
      off2();
      off();
      off();
    }
    check(s.getDisposition(sig) === 'default', `${sig} back to SIG_DFL`);
  }
  // A burst of self-sent realtime signals, several per loop turn.
  const burst = Math.max(100, rounds * 5);
  let got = 0;
  const off = s.onSignal('SIGRTMIN+4', () => got++);
  const before = s.signalStats('SIGRTMIN+4');
  for (let i = 0; i < burst; i++) s.sigqueue(process.pid, 'SIGRTMIN+4', i);
  await until(() => got === burst, 'burst drained');
  const after = s.signalStats('SIGRTMIN+4');
  check(after.delivered - before.delivered === burst && after.dropped === before.dropped, `stats ${JSON.stringify(after)}`);
  off();
  // waitForSignal, signalEvents.
  const w = s.waitForSignal('SIGUSR2', { timeoutMs: left() });
  s.kill(process.pid, 'SIGUSR2');
  check((await w).signal === 'SIGUSR2', 'waitForSignal');
  await s.waitForSignal('SIGUSR2', { timeoutMs: 1 }).then(
    () => check(false, 'waitForSignal resolved with nothing sent'),
    (e) => check(e.code === 'ERR_SIGKIT_TIMEOUT', `timeout, got ${e.code}`),
  );
  const it = s.signalEvents(rt);
  s.sigqueue(process.pid, rt, 7);
  s.sigqueue(process.pid, rt, 8);
  const a = await withTimeout(it.next(), 'signalEvents 1');
  const b = await withTimeout(it.next(), 'signalEvents 2');
  check(a.value.value === 7 && b.value.value === 8, 'signalEvents order');
  await it.return();
  // Coexistence with process.on: libuv's handler chained, never SIG_DFL in between.
  let nodeGot = 0;
  const nodeListener = () => nodeGot++;
  let ours = 0;
  const off3 = s.onSignal('SIGUSR2', () => ours++);
  process.on('SIGUSR2', nodeListener);
  s.kill(process.pid, 'SIGUSR2');
  await until(() => nodeGot === 1 && ours === 1, 'process.on beside onSignal');
  process.removeListener('SIGUSR2', nodeListener);
  off3();
  check(s.getDisposition('SIGUSR2') === 'default', 'SIGUSR2 back to SIG_DFL after process.on churn');
  for (const sig of ['SIGPIPE', 'SIGINT', 'SIGKILL', 'SIGRTMAX', 1, 64]) s.getDisposition(sig);
  count('signal rounds', 2 * rounds);
  count('burst', burst);
}

const workerCode = `
const { parentPort, workerData } = require('node:worker_threads');
const s = require(workerData.lib);
let n = 0;
s.onSignal(workerData.sig, (e) => {
  n++;
  parentPort.postMessage({ got: e.value });
  if (workerData.exitAfter && n >= 1) process.exit(0);
}, { ref: true });
s.signalStats(workerData.sig);
parentPort.postMessage({ ready: true });
`;

async function workers() {
  const sig = 'SIGRTMIN+5';
  const n = Math.max(4, rounds / 20);
  // The main thread listens too: it must get every signal the workers get.
  let mainGot = 0;
  const off = s.onSignal(sig, () => mainGot++);
  let sent = 0;
  for (let i = 0; i < n; i++) {
    const exitAfter = i % 2 === 1; // half end themselves, half are terminated
    const w = new Worker(workerCode, { eval: true, workerData: { lib, sig, exitAfter } });
    const ended = new Promise((r) => w.once('exit', r));
    let got = false;
    await withTimeout(
      new Promise((resolve, reject) => {
        w.on('message', (m) => {
          if (m.ready) {
            s.sigqueue(process.pid, sig, i);
            sent++;
          } else if (m.got === i) {
            got = true;
            resolve();
          }
        });
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
      }),
      'worker round',
    );
    check(got, 'worker received');
    if (!exitAfter) await w.terminate();
    await withTimeout(ended, 'worker exit');
  }
  await until(() => mainGot === sent, 'main thread got every signal');
  off();
  count('workers', n);
}

async function main() {
  const child = await spawned('sleep', ['600']);
  for (const phase of [killAndProc, pidfd, reaping, signals, workers]) {
    if (process.env.DRIVER_VERBOSE) console.error(`valgrind driver: ${phase.name}`);
    await phase(child);
  }
  const exit = exitOf(child);
  child.kill('SIGKILL');
  await withTimeout(exit, 'sleep child exit');
  global.gc();
  const summary = Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(`valgrind driver: ${summary}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
