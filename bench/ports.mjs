// Ports beside their peers, with ~300 processes and ~200 listening sockets
// that this suite starts itself (and ends): findByPort vs find-process
// (spawns ss, then ps) and kill-port's lookup (spawns lsof -i -P, then
// lsof -i tcp:PORT | grep | awk; the kill itself is left out), plus the same
// owner scan done in pure JS (why the scan is native).
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { compareRates, fmt, median, machine, perCallMs, table } from './harness.mjs';

const require = createRequire(import.meta.url);
const { findByPort, listProcesses } = require('../lib/index.js');
const findProcess = require('find-process').default;
const sh = require('shell-exec');
const TARGET_PROCESSES = 300;
const LISTENERS = 4;
const SOCKETS_EACH = 50;

// The owner scan through node:fs: what findByPort would cost without native/ports.cc.
function jsOwners(inodes) {
  const want = new Set(inodes.map((i) => `socket:[${i}]`));
  const out = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 49 || c > 57) continue;
    let fds;
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (want.has(readlinkSync(`/proc/${name}/fd/${fd}`))) out.push(Number(name));
      } catch {
        // closed meanwhile
      }
    }
  }
  return out;
}

const LISTENER = `
const net = require('node:net');
const ports = [];
let n = 0;
for (let i = 0; i < ${SOCKETS_EACH}; i++) net.createServer().listen(0, '127.0.0.1', function () { ports.push(this.address().port); if (++n === ${SOCKETS_EACH}) console.log(ports.join(' ')); });
setTimeout(() => process.exit(0), 600000).unref();
setInterval(() => {}, 100000);`;

export async function rows() {
  const started = [];
  try {
    const listeners = [];
    for (let i = 0; i < LISTENERS; i++) {
      const c = spawn(process.execPath, ['-e', LISTENER], { stdio: ['ignore', 'pipe', 'inherit'] });
      started.push(c);
      listeners.push(new Promise((resolve) => c.stdout.once('data', (d) => resolve(d.toString().trim().split(' ').map(Number)))));
    }
    const ports = (await Promise.all(listeners)).flat();
    const have = listProcesses().length;
    for (let i = have; i < TARGET_PROCESSES; i++) started.push(spawn('sleep', ['600'], { stdio: 'ignore' }));
    const deadline = Date.now() + 60_000;
    while (listProcesses().length < TARGET_PROCESSES - 5) {
      if (Date.now() > deadline) throw new Error('the benchmark processes did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    const count = listProcesses().length;
    const port = ports[Math.floor(ports.length / 2)];
    const owner = started[Math.floor(ports.length / 2 / SOCKETS_EACH)].pid;
    // All three must name the same process before any is timed.
    const ours = findByPort(port);
    const theirs = await findProcess('port', port);
    if (ours[0]?.pid !== owner || theirs[0]?.pid !== owner) throw new Error(`lookups disagree: ${ours[0]?.pid} ${theirs[0]?.pid} ${owner}`);
    const inodes = ours.map((s) => s.inode);
    if (!jsOwners(inodes).includes(owner)) throw new Error('the JS scan did not find the owner');

    const r = compareRates({ sigkit: () => findByPort(port), js: () => jsOwners(inodes) }, { rounds: 9, iterations: 10, warmup: 5 });
    const oursMs = 1000 / r.sigkit;
    const jsMs = 1000 / r.js;
    const fpMs = await perCallMs(() => findProcess('port', port), 9);
    const kpMs = await perCallMs(async () => {
      await sh('lsof -i -P');
      return sh(`lsof -i tcp:${port} | grep LISTEN | awk '{print $2}'`);
    }, 5);
    const sockets = ports.length;
    const row = (peer, ms, target, ok) => ({ benchmark: `\`findByPort(port)\`, ${count} processes, ${sockets} listening sockets`, sigkit: `${fmt(oursMs, 2)} ms`, peer, peerValue: `${fmt(ms, 2)} ms`, ratio: `${fmt(ms / oursMs, 1)}x faster`, target, ok });
    return [
      row('`find-process` (spawns ss -tunlp, then ps)', fpMs, '>= 20x', fpMs / oursMs >= 20),
      row("kill-port's lookup (spawns lsof -i -P, then lsof | grep | awk)", kpMs, '>= 20x', kpMs / oursMs >= 20),
      row('the same owner scan in pure JS (readdirSync + readlinkSync)', jsMs, 'report (why native)'),
    ];
  } finally {
    for (const c of started) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await rows();
  console.log(`Machine: ${machine()}\n\n${table(r)}`);
}
