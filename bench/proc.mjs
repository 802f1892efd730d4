// /proc introspection beside its peers, with ~300 processes in the table:
// listProcesses vs a pure-JS scan, ps-list and a C open/read/close loop;
// descendants of a 50-child tree vs pidtree; findZombies vs a pure-JS scan.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import psList from 'ps-list';
import pidtree from 'pidtree';
import { compareRates, fmt, median } from './harness.mjs';

const require = createRequire(import.meta.url);
const { listProcesses, descendants, findZombies } = require('../lib/index.js');
const { native } = require('../lib/native.js');
const here = path.dirname(fileURLToPath(import.meta.url));
const TARGET_PROCESSES = 300;

// The pure-JS scan the issue names: readdirSync('/proc') + readFileSync of
// each stat, parsed just enough (state and ppid after the last ')').
function jsScan() {
  const out = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 49 || c > 57) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const rest = stat.slice(close + 2).split(' ');
    out.push({ pid: Number(name), comm: stat.slice(stat.indexOf('(') + 1, close), state: rest[0], ppid: Number(rest[1]) });
  }
  return out;
}

function jsZombies() {
  return jsScan().filter((p) => p.state === 'Z');
}

async function perCallMs(fn, calls) {
  const times = [];
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

function cFloorUs() {
  const dir = path.join(here, '..', 'node_modules', '.cache', 'sigkit-bench');
  mkdirSync(dir, { recursive: true });
  const bin = path.join(dir, 'proc-scan');
  execFileSync('cc', ['-O2', '-o', bin, path.join(here, 'floor', 'proc-scan.c')]);
  return Number(execFileSync(bin, ['300'], { encoding: 'utf8' }).split(' ')[0]);
}

function row(benchmark, sigkitMs, peer, peerMs, target, ok) {
  return { benchmark, sigkit: `${fmt(sigkitMs, 3)} ms`, peer, peerValue: `${fmt(peerMs, 3)} ms`, ratio: `${fmt(peerMs / sigkitMs, 1)}x faster`, target, ok };
}

export async function rows() {
  const started = [];
  try {
    // Fill the table to ~300 processes with sleeps of our own.
    const have = listProcesses().length;
    for (let i = have; i < TARGET_PROCESSES - 52; i++) started.push(spawn('sleep', ['300'], { stdio: 'ignore' }));
    // A 50-child tree for descendants().
    const tree = spawn('sh', ['-c', 'i=0; while [ $i -lt 50 ]; do sleep 300 & i=$((i+1)); done; wait'], { stdio: 'ignore', detached: true });
    started.push(tree);
    const deadline = Date.now() + 10_000;
    while (descendants(tree.pid).length < 50 || listProcesses().length < TARGET_PROCESSES - 5) {
      if (Date.now() > deadline) throw new Error('the benchmark processes did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    const count = listProcesses().length;

    const scanRates = compareRates({ sigkit: () => listProcesses(), js: jsScan, nativeScan: () => native.procScan() }, { rounds: 15, iterations: 40, warmup: 20 });
    const nativeMs = 1000 / scanRates.nativeScan;
    const listMs = 1000 / scanRates.sigkit;
    const jsMs = 1000 / scanRates.js;
    const psListMs = await perCallMs(() => psList(), 15);
    const floorMs = cFloorUs() / 1000;
    const treeRates = compareRates({ sigkit: () => descendants(tree.pid) }, { rounds: 9, iterations: 200, warmup: 50 });
    const descMs = 1000 / treeRates.sigkit;
    const pidtreeMs = await perCallMs(() => pidtree(tree.pid), 15);
    const zRates = compareRates({ sigkit: () => findZombies(), js: jsZombies }, { rounds: 15, iterations: 40, warmup: 20 });

    return [
      row(`\`listProcesses()\`, ${count} processes`, listMs, 'pure-JS scan (readdirSync + readFileSync)', jsMs, '>= 2x', jsMs / listMs >= 2),
      row(`\`listProcesses()\`, ${count} processes`, listMs, '`ps-list`', psListMs, '>= 8x', psListMs / listMs >= 8),
      { ...row(`\`listProcesses()\`, ${count} processes`, listMs, 'C floor: open+read+close each stat', floorMs, 'report'), ratio: `${fmt(floorMs / listMs, 2)}x (JS objects included)` },
      { ...row(`its native scan alone (no JS objects), ${count} processes`, nativeMs, 'C floor: open+read+close each stat', floorMs, 'report'), ratio: `${fmt(floorMs / nativeMs, 2)}x (fds kept open: one pread each)` },
      row('`descendants(pid)`, 50-child tree', descMs, '`pidtree`', pidtreeMs, '>= 10x', pidtreeMs / descMs >= 10),
      row(`\`findZombies()\`, ${count} processes`, 1000 / zRates.sigkit, 'pure-JS scan', 1000 / zRates.js, '>= 1.5x', zRates.sigkit / zRates.js >= 1.5),
    ];
  } finally {
    for (const c of started) {
      try {
        if (c === started.at(-1)) process.kill(-c.pid, 'SIGKILL');
        else c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
