// The adversarial safety driver. Runs ONLY inside a fresh PID namespace
// (test/safety/adversarial.test.ts starts it under `setsid unshare --pid
// --fork --mount-proc`), as the child of two bystander recorders: the
// namespace's PID 1 ("init") and its parent ("ancestor", a session leader
// whose group this driver shares). It starts more recorders (another
// session, another group, its own group), then calls every exported
// function and every CLI command that can send a signal with every
// dangerous input, checks each refusal, and finally asks each recorder for a
// sentinel so that the test can read what every bystander received.
//
// Usage: node driver.cjs LIB CLI RECORDER ZOMBIE_PARENT LOG (the recorders' shared log file)
// Prints one JSON line: { entryPoints, inputs, cases, failures, unclassified, recorders }.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const [lib, cli, recorderBin, zombieParentBin, log] = process.argv.slice(2);
const sk = require(lib);
const cliCommands = require(path.join(path.dirname(cli), 'main.js')).COMMANDS.map((c) => c.name);

// Everything ends with the namespace; this only bounds a hung run.
const watchdog = setTimeout(() => {
  console.log(JSON.stringify({ error: 'driver watchdog fired' }));
  process.exit(1);
}, 100_000);

const failures = [];
const cases = new Map(); // entry point -> number of inputs tried
let inputs = 0;

function note(entry) {
  cases.set(entry, (cases.get(entry) ?? 0) + 1);
  inputs++;
}

const describe = (v) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isFinite(v) ? String(v) : JSON.stringify(v) ?? String(v));

/** Calls fn, which must throw (or reject) with a code matching `code`. */
async function refused(entry, input, code, fn) {
  note(entry);
  let outcome;
  try {
    outcome = { value: await fn() };
  } catch (e) {
    outcome = { error: e };
  }
  if (!outcome.error) failures.push(`${entry}(${input}): resolved ${describe(outcome.value)?.slice(0, 200)}, expected ${code}`);
  else if (!code.test(String(outcome.error.code))) failures.push(`${entry}(${input}): ${outcome.error.code} ${outcome.error.message}, expected ${code}`);
}

/** Calls fn, which must succeed; `check(value)` returns an error string or undefined. */
async function accepted(entry, input, fn, check = () => undefined) {
  note(entry);
  try {
    const value = await fn();
    const problem = check(value);
    if (problem) failures.push(`${entry}(${input}): ${problem}`);
  } catch (e) {
    failures.push(`${entry}(${input}): threw ${e.code} ${e.message}`);
  }
}

/** Runs the CLI; the exit code must be in `codes` and stderr one line at most. */
function cliCase(args, codes) {
  note(`cli ${args[0]}`);
  let code = 0;
  let stderr = '';
  try {
    execFileSync(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000, env: { ...process.env, NO_COLOR: '1' } });
  } catch (e) {
    code = e.status ?? -1;
    stderr = String(e.stderr ?? '');
  }
  if (!codes.includes(code)) failures.push(`sigkit ${args.join(' ')}: exit ${code}, expected ${codes.join('|')}: ${stderr.trim()}`);
  if (stderr.trimEnd().split('\n').length > 1) failures.push(`sigkit ${args.join(' ')}: ${stderr.trimEnd().split('\n').length} lines on stderr`);
}

function recorder(name, flags) {
  const child = spawn(recorderBin, [log, name, ...flags], { stdio: 'ignore', detached: flags.includes('--session') });
  return child;
}

function readyLines() {
  const out = new Map();
  for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
    const m = /^(\S+) ready (\d+) (\d+) (\d+)$/.exec(line);
    if (m) out.set(m[1], { pid: Number(m[2]), pgid: Number(m[3]), sid: Number(m[4]) });
  }
  return out;
}

async function until(what, check, ms = 10_000) {
  const deadline = performance.now() + ms;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    const v = check();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

async function main() {
  if (process.pid === 1 || !fs.existsSync('/proc/1/status')) throw new Error('not in the expected namespace layout');
  // Refuse to run anywhere but a fresh pid namespace whose init is our recorder.
  const initComm = fs.readFileSync('/proc/1/comm', 'utf8').trim();
  if (!initComm.startsWith('safety-recorde')) throw new Error(`PID 1 is ${initComm}, not the suite's recorder: refusing to run`);

  // Bystanders started here: another session, another group (same session), our own group.
  const started = [recorder('other-session', ['--session']), recorder('other-group', ['--group']), recorder('own-group', [])];
  const names = ['init', 'ancestor', 'other-session', 'other-group', 'own-group', 'reused'];
  await until('the recorders', () => (['init', 'ancestor', 'other-session', 'other-group', 'own-group'].every((n) => readyLines().has(n)) ? true : undefined));

  const me = sk.readProcess(process.pid);
  const ancestor = process.ppid;
  const ownPgid = me.pgid;
  const ownSid = me.sid;
  const rec = readyLines();
  const otherGroup = rec.get('other-group').pgid;

  // A thread id of this process (a worker guarantees one).
  const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
  await new Promise((r) => worker.once('online', r));
  const tid = Number(fs.readdirSync('/proc/self/task').find((t) => Number(t) !== process.pid));

  // A zombie (its parent never reaps) and a pid reaped then reused by a recorder.
  const zp = spawn(zombieParentBin, ['1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const zombie = await new Promise((resolve) => zp.stdout.once('data', (d) => resolve(Number(/zombies (\d+)/.exec(String(d))[1]))));
  const doomed = spawn('sleep', ['30'], { stdio: 'ignore' });
  const stale = sk.openProcess(doomed.pid);
  doomed.kill('SIGKILL'); // our own child
  await new Promise((r) => doomed.once('exit', r));
  fs.writeFileSync('/proc/sys/kernel/ns_last_pid', String(stale.pid - 1));
  started.push(recorder('reused', []));
  await until('the reused recorder', () => readyLines().get('reused'));
  const reusedPid = readyLines().get('reused').pid;
  if (reusedPid !== stale.pid) failures.push(`pid reuse was not staged: ${reusedPid} != ${stale.pid}`);

  const BAD_PIDS = [0, -1, -2, -ownPgid, -otherGroup, NaN, Infinity, -Infinity, 1.5, 2 ** 31, '1', `${ancestor}`, null, {}, [], 1n, true];
  const BAD_PGIDS = [0, 1, -1, -5, -ownPgid, NaN, 2 ** 31, 1.5, '1', null, 1n];
  const PROTECTED = [[process.pid, 'self'], [ancestor, 'ancestor'], [1, 'init']];
  const PROTECTED_GROUPS = [ownPgid, ownSid, ancestor];
  const ARG = /^ERR_(INVALID_ARG_TYPE|INVALID_ARG_VALUE|OUT_OF_RANGE)$/;
  const PROT = /^ERR_SIGKIT_PROTECTED$/;
  const fast = { steps: [{ signal: 'SIGTERM', waitMs: 50 }, { signal: 'SIGKILL', waitMs: 50 }] };

  // --- primitives: the kernel's special values are refused; protected pids are probed only (signal 0) ---
  for (const pid of BAD_PIDS) {
    await refused('kill', describe(pid), ARG, () => sk.kill(pid, 'SIGTERM'));
    await refused('sigqueue', describe(pid), ARG, () => sk.sigqueue(pid, 'SIGRTMIN+1', 7));
    await refused('openProcess', describe(pid), ARG, () => sk.openProcess(pid).kill('SIGTERM'));
  }
  for (const g of BAD_PGIDS) await refused('killpg', describe(g), ARG, () => sk.killpg(g, 'SIGTERM'));
  for (const [pid] of PROTECTED) {
    await accepted('kill', `${pid}, 0`, () => sk.kill(pid, 0));
    await accepted('sigqueue', `${pid}, 0`, () => sk.sigqueue(pid, 0, 1));
    await accepted('openProcess', `${pid}.kill(0)`, () => {
      const h = sk.openProcess(pid);
      try { h.kill(0); } finally { h.close(); }
    });
  }
  for (const g of PROTECTED_GROUPS) await accepted('killpg', `${g}, 0`, () => sk.killpg(g, 0));
  // The native layer itself refuses the special values without the call (defense in depth).
  const { native } = require(path.join(path.dirname(lib), 'native.js'));
  for (const pid of [0, -1, -ownPgid, -otherGroup]) {
    note('native.kill');
    if (native.kill(pid, 15) !== -22) failures.push(`native.kill(${pid}) did not refuse with -EINVAL`);
    note('native.sigqueue');
    if (native.sigqueue(pid, 15, 1) !== -22) failures.push(`native.sigqueue(${pid}) did not refuse`);
    note('native.pidfdOpen');
    if (native.pidfdOpen(pid) !== -22) failures.push(`native.pidfdOpen(${pid}) did not refuse`);
  }
  for (const g of [0, 1, -1, -otherGroup]) {
    note('native.killpg');
    if (native.killpg(g, 15) !== -22) failures.push(`native.killpg(${g}) did not refuse`);
  }
  // A thread id, a zombie and a stale handle through the primitives.
  await accepted('kill', `tid ${tid}, 0`, () => sk.kill(tid, 0));
  await refused('openProcess', `tid ${tid}`, /^ESRCH$/, () => sk.openProcess(tid));
  await refused('openProcess', 'stale handle .kill', /^ESRCH$/, () => stale.kill('SIGTERM'));
  await accepted('kill', `zombie ${zombie}`, () => sk.kill(zombie, 'SIGTERM'));

  // --- high level: protected targets refused, bad input refused, not-found one shape ---
  const high = [['terminate', (t, o) => sk.terminate(t, o)], ['terminateTree', (t, o) => sk.terminateTree(t, o)]];
  for (const [name, fn] of high) {
    for (const pid of BAD_PIDS) await refused(name, describe(pid), ARG, () => fn(pid, fast));
    for (const [pid, reason] of PROTECTED) {
      await refused(name, `${pid} (${reason})`, PROT, () => fn(pid, fast));
      await refused(name, `${pid} (${reason}) SIGKILL first`, PROT, () => fn(pid, { steps: [{ signal: 'SIGKILL', waitMs: 10 }] }));
    }
    await accepted(name, `tid ${tid}`, () => fn(tid, fast), (r) => (r.notFound === true && r.exited === true ? undefined : `not notFound: ${JSON.stringify(r)}`));
    await accepted(name, `zombie ${zombie}`, () => fn(zombie, fast), (r) => (r.exited ? undefined : 'zombie not exited'));
    await refused(name, 'typo in options', ARG, () => fn(zombie, { grace: 10 }));
    await refused(name, 'SIGSTOP step', ARG, () => fn(zombie, { steps: [{ signal: 'SIGSTOP', waitMs: 10 }] }));
  }
  for (const [pid, reason] of PROTECTED) {
    const h = sk.openProcess(pid);
    await refused('terminate', `handle of ${pid} (${reason})`, PROT, () => sk.terminate(h, fast));
    h.close();
  }
  await accepted('terminate', 'stale handle (pid reused)', () => sk.terminate(stale, fast), (r) => (r.steps.length === 0 ? undefined : `sent ${JSON.stringify(r.steps)}`));
  stale.close();
  for (const g of BAD_PGIDS) await refused('terminateGroup', describe(g), ARG, () => sk.terminateGroup(g, fast));
  for (const g of PROTECTED_GROUPS) await refused('terminateGroup', `${g} (ours)`, PROT, () => sk.terminateGroup(g, fast));
  await refused('terminateGroup', '1 SIGKILL first', ARG, () => sk.terminateGroup(1, { steps: [{ signal: 'SIGKILL', waitMs: 10 }] }));

  // --- matching: catch-all patterns refused; queries that match only protected processes send nothing ---
  const CATCH_ALL = [{}, { name: '' }, { cmdline: '' }, { name: /./ }, { cmdline: /./ }, { name: /.*/ }, { cmdline: /(?:)/ }, { name: /^/ }, { cmdline: /x*/ }, { name: undefined }];
  for (const q of CATCH_ALL) {
    await refused('killMatching', describe(q), ARG, () => sk.killMatching(q, 'SIGTERM'));
    await refused('killMatching', `${describe(q)} dryRun`, ARG, () => sk.killMatching(q, 'SIGTERM', { dryRun: true }));
    await refused('terminateMatching', describe(q), ARG, () => sk.terminateMatching(q, fast));
  }
  const onlyProtected = [{ name: 'node', ppid: ancestor }, { ppid: 0 }, { ppid: 1, name: /^safety-record/ }, { pgid: 1 }, { sid: 1 }];
  const nothingSent = (list) => (list.some((m) => m.signalled) ? `signalled ${JSON.stringify(list.filter((m) => m.signalled))}` : undefined);
  for (const q of onlyProtected) {
    await accepted('killMatching', describe(q), () => sk.killMatching(q, 'SIGKILL'), nothingSent);
    await accepted('terminateMatching', describe(q), () => sk.terminateMatching(q, fast), nothingSent);
  }

  // --- diagnosis sends nothing, whatever it is asked about; a ptrace observer of a protected
  // process re-injects and detaches, leaving it as it was ---
  for (const pid of BAD_PIDS) await refused('explainSignal', describe(pid), ARG, () => sk.explainSignal(pid, 'SIGKILL'));
  for (const [pid] of [...PROTECTED, [tid], [zombie], [rec.get('other-session').pid]]) {
    for (const sig of ['SIGKILL', 'SIGTERM', 'SIGSTOP', 'SIGRTMAX']) await accepted('explainSignal', `${pid}, ${sig}`, () => sk.explainSignal(pid, sig));
    await refused('explainSignal', `${pid}, 0`, ARG, () => sk.explainSignal(pid, 0));
  }
  for (const pid of BAD_PIDS) await refused('watchSignals', describe(pid), ARG, () => sk.watchSignals(pid));
  await refused('watchSignals', `self ${process.pid}`, /^(ERR_INVALID_ARG_VALUE|EPERM)$/, () => sk.watchSignals(process.pid));
  // Our own children are refused (their ptrace stops would reach libuv's waits);
  // an ancestor and PID 1 are protected (a stopped tracer would freeze them).
  await refused('watchSignals', 'own child', ARG, () => sk.watchSignals(rec.get('other-group').pid));
  for (const pid of [ancestor, 1]) await refused('watchSignals', `${pid} (protected)`, PROT, () => sk.watchSignals(pid));

  // --- ports: a port held by this process is protected; bad ports are refused ---
  const server = require('node:net').createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const ownPort = server.address().port;
  for (const port of [0, -1, 65536, NaN, 1.5, '80', null, 2 ** 31]) await refused('terminatePort', describe(port), ARG, () => sk.terminatePort(port, fast));
  await refused('terminatePort', `${ownPort} (held by this process)`, PROT, () => sk.terminatePort(ownPort, fast));
  await refused('terminatePort', `${ownPort} SIGKILL first`, PROT, () => sk.terminatePort(ownPort, { steps: [{ signal: 'SIGKILL', waitMs: 10 }] }));
  await refused('terminatePort', 'typo in options', ARG, () => sk.terminatePort(ownPort, { grace: 1 }));

  // --- cgroups: one that holds a protected process (this one, or the ancestor moved into a
  // cgroup the suite made) is refused; paths outside the hierarchy are refused ---
  const cgRoot = fs.existsSync('/sys/fs/cgroup/unified/cgroup.procs') ? '/sys/fs/cgroup/unified' : null;
  if (cgRoot) {
    for (const bad of ['/tmp', '/', `${cgRoot}/../..`, '', 42, null]) await refused('terminateCgroup', describe(bad), ARG, () => sk.terminateCgroup(bad, fast));
    const own = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::')).slice(3);
    await refused('terminateCgroup', `own cgroup ${own}`, PROT, () => sk.terminateCgroup(path.join(cgRoot, own), fast));
    await refused('terminateCgroup', 'the hierarchy root', PROT, () => sk.terminateCgroup(cgRoot, { steps: [{ signal: 'SIGKILL', waitMs: 10 }] }));
    const made = path.join(cgRoot, `sigkit-safety-${process.pid}-${Date.now()}`);
    fs.mkdirSync(made);
    const ancestorCg = fs.readFileSync(`/proc/${ancestor}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::')).slice(3);
    fs.writeFileSync(path.join(made, 'cgroup.procs'), String(ancestor));
    try {
      await refused('terminateCgroup', 'a cgroup holding the ancestor', PROT, () => sk.terminateCgroup(made, fast));
      await refused('terminateCgroup', 'a cgroup holding the ancestor, SIGKILL first', PROT, () => sk.terminateCgroup(made, { steps: [{ signal: 'SIGKILL', waitMs: 10 }] }));
    } finally {
      fs.writeFileSync(path.join(cgRoot, ancestorCg, 'cgroup.procs'), String(ancestor));
      fs.rmdirSync(made);
    }
  } else {
    failures.push('no cgroup2 mount at /sys/fs/cgroup/unified: terminateCgroup not exercised');
  }

  // --- the CLI ---
  for (const args of [['--term'], ['--kill'], []]) cliCase(['port', String(ownPort), ...args], args.length ? [1] : [0]);
  for (const p of ['0', '-1', '65536', 'x']) cliCase(['port', '--term', '--', p], [2]);
  for (const p of ['0', '-1', '--', '-5', '1.5', 'abc', '2147483648', `-${ownPgid}`]) cliCase(['send', '-s', 'TERM', ...(p === '--' ? ['--', '-1'] : [p])], [2]);
  for (const p of ['1', String(process.pid), String(ancestor)]) cliCase(['send', '-s', '0', p], [0]);
  for (const g of ['0', '1', '-1', '-5', `-${ownPgid}`]) cliCase(['send', '-s', 'TERM', '-g', g], [2]);
  for (const g of [String(ownPgid), String(ownSid), String(ancestor)]) cliCase(['send', '-s', 'TERM', '-g', g], [1]);
  cliCase(['send', '-s', '-1', String(process.pid)], [2]);
  cliCase(['send', '-g', '-5'], [2]);
  for (const args of [['0'], ['--', '-1'], ['1'], [String(process.pid)], [String(ancestor)], ['--tree', '1'], ['--tree', String(process.pid)], ['--tree', String(ancestor)]]) {
    cliCase(['term', '--grace', '50ms', ...args], args.includes('0') || args.includes('-1') ? [2] : [1]);
  }
  for (const g of ['0', '1', '-1']) cliCase(['term', '--group', '--grace', '50ms', '--', g], [2]);
  for (const g of [String(ownPgid), String(ancestor)]) cliCase(['term', '--group', '--grace', '50ms', g], [1]);
  cliCase(['term', String(process.pid), '--grace', '-1s'], [2]);
  cliCase(['term', String(tid), '--grace', '50ms'], [1]);
  for (const args of [[''], ['.'], ['.*'], ['-f', '.'], ['-f', ''], [], ['--signal', 'KILL', '^']]) cliCase(['pkill', ...args], [2]);
  for (const p of ['0', '-1', 'x', String(2 ** 31)]) cliCase(['explain', '--', p], [2]);
  for (const p of ['1', String(ancestor), String(process.pid)]) cliCase(['explain', p, 'KILL'], [0]);
  for (const p of ['0', '-1', 'x']) cliCase(['watch', '--', p], [2]);
  for (const p of ['1', String(ancestor)]) cliCase(['watch', p], [1]);
  // zombies --nudge sends SIGCHLD to parents that catch it: never a protected
  // one. This driver (the CLI's parent) becomes the parent of a zombie (a
  // subreaper that adopts an orphan libuv does not reap) and catches SIGCHLD:
  // a nudge would reach it as SI_USER, which the listener records.
  const nudges = [];
  const offChld = sk.onSignal('SIGCHLD', (e) => { if (e.code === 'SI_USER') nudges.push(e.pid); });
  sk.setChildSubreaper(true);
  const orphaner = spawn('sh', ['-c', 'sleep 0.01 & echo $!'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const orphan = await new Promise((r) => orphaner.stdout.once('data', (d) => r(Number(String(d).trim()))));
  await until('a zombie of this driver', () => (sk.isZombie(orphan) && sk.readProcess(orphan).ppid === process.pid ? true : undefined));
  for (const p of [[], ['-P', String(ancestor)], ['-P', String(process.pid)], ['-P', '1']]) cliCase(['zombies', '--nudge', ...p], [0]);
  note('cli zombies');
  // A nudge would already be in sigkit's ring (the handler ran during the
  // blocking CLI call); its dispatch needs the loop: a few turns, on a deadline.
  const seen = sk.signalStats('SIGCHLD').delivered;
  await until('the SIGCHLD events to be dispatched', () => (nudges.length > 0 || sk.signalStats('SIGCHLD').delivered === seen ? true : undefined), 2000).catch(() => {});
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  if (nudges.length) failures.push(`zombies --nudge signalled this driver (a protected ancestor of the CLI) from ${nudges.join(', ')}`);
  offChld();
  sk.waitpid(orphan); // ours now: reap it
  sk.setChildSubreaper(false);
  for (const p of ['0', '-1']) cliCase(['zombies', '--nudge', '-P', p], [2]);
  cliCase(['pkill', '--dry-run', '-P', '0'], [2]);
  // Everything with parent 1 here is the ancestor recorder: protected, skipped, nothing sent.
  cliCase(['pkill', '-S', 'KILL', '-P', '1'], [1]);
  cliCase(['pkill', '-S', 'KILL', '-P', String(ancestor)], [1]);

  // --- every export and command that can signal must be classified and exercised ---
  const SIGNALLING = ['kill', 'killpg', 'sigqueue', 'openProcess', 'terminate', 'terminateGroup', 'terminateTree', 'killMatching', 'terminateMatching',
    // Observers: they must send nothing (explain) or leave the process as it was (watch), checked above.
    'explainSignal', 'watchSignals', 'terminatePort', 'terminateCgroup'];
  // Exports that signal only processes they start themselves (spawnProcess's
  // child and its tree, checkShutdown's CMD and its leftovers), or this
  // process by design (shutdown re-raises its signal on itself).
  const OWN_ONLY = ['spawnProcess', 'checkShutdown', 'shutdown', 'onShutdown'];
  // Exports that send no signal to another process (they read, wait, install
  // handlers in this process, or reap its own children).
  const NON_SIGNALLING = new Set([
    'SyscallError', 'isSyscallError', 'Signal', 'signals', 'signalNumber', 'signalName', 'formatSignalList', 'isAlive',
    'readProcess', 'listProcesses', 'children', 'descendants', 'processTree', 'isZombie', 'findZombies', 'findProcesses',
    'onSignal', 'signalEvents', 'waitForSignal', 'signalStats', 'getDisposition', 'ProcessHandle', 'waitForExit', 'exitOf',
    'waitpid', 'reapChildren', 'setChildSubreaper', 'isChildSubreaper', 'startReaper', 'Reaper', 'SignalWatch',
    'findByPort', 'listSockets', 'waitForListen', 'processUsage', 'treeUsage', 'capabilities',
  ]);
  const unclassified = Object.keys(sk).filter((k) => !SIGNALLING.includes(k) && !NON_SIGNALLING.has(k) && !OWN_ONLY.includes(k));
  for (const k of SIGNALLING) if (!cases.has(k)) failures.push(`export ${k} was not exercised`);
  // CLI commands: the ones that signal a target given on the command line
  // are exercised above; init and demo only ever signal the child they start.
  const CLI_SIGNALLING = ['send', 'term', 'pkill', 'explain', 'watch', 'port', 'zombies'];
  // init and demo signal only the child they start; top is interactive: its
  // signal menu refuses protected targets (test/native/cli-top.test.ts, in tmux).
  const CLI_OWN_CHILD_ONLY = ['init', 'demo', 'top', 'check-shutdown'];
  const CLI_NON_SIGNALLING = ['list', 'ps', 'status', 'find', 'wait', 'trap', 'doctor'];
  for (const c of cliCommands) {
    if (CLI_SIGNALLING.includes(c)) {
      if (!cases.has(`cli ${c}`)) failures.push(`command ${c} was not exercised`);
    } else if (!CLI_OWN_CHILD_ONLY.includes(c) && !CLI_NON_SIGNALLING.includes(c)) {
      unclassified.push(`cli ${c}`);
    }
  }

  // --- sentinel: SIGRTMAX with a value to each recorder; anything pending is delivered before it ---
  const all = readyLines();
  const reachable = names.filter((n) => {
    try {
      sk.sigqueue(all.get(n).pid, 'SIGRTMAX', 4242); // ours: the suite started them
      return true;
    } catch (e) {
      failures.push(`recorder ${n} is gone (${e.code}): something killed it`);
      return false;
    }
  });
  await until('every sentinel', () => {
    const text = fs.readFileSync(log, 'utf8');
    return reachable.every((n) => text.includes(`${n} sig ${sk.Signal.SIGRTMAX} -1 ${process.pid} 4242`)) ? true : undefined;
  });
  const states = {};
  for (const n of names) {
    const pid = all.get(n).pid;
    states[n] = sk.isAlive(pid) ? sk.readProcess(pid).state : 'gone';
  }
  server.close();
  worker.terminate();
  zp.kill('SIGKILL');
  for (const c of started) c.kill('SIGKILL');
  clearTimeout(watchdog);
  console.log(JSON.stringify({
    entryPoints: cases.size,
    inputs,
    cases: Object.fromEntries(cases),
    failures,
    unclassified,
    recorders: Object.fromEntries(names.map((n) => [n, all.get(n)])),
    states,
    driver: { pid: process.pid, ppid: ancestor },
  }));
}

main().catch((e) => {
  console.log(JSON.stringify({ error: `${e.code ?? ''} ${e.stack ?? e}` }));
  process.exit(1);
});
