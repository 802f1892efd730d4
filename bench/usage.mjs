// Resource usage beside pidusage, and the cost of one `sigkit top` refresh:
// processUsage of one pid (all fields, and without smaps_rollup) vs
// pidusage; treeUsage of a 50-process tree vs pidtree + pidusage; the CPU
// time of one top refresh (scan + model + frame) with ~300 processes.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import pidtree from 'pidtree';
import { fmt, median, machine, perCallMs, table } from './harness.mjs';

const require = createRequire(import.meta.url);
const pidusage = require('pidusage');
const { processUsage, treeUsage, listProcesses, descendants } = require('../lib/index.js');
const { TopModel } = require('../lib/top/model.js');
const { initialView, refresh } = require('../lib/cli/commands/top.js');
const TARGET_PROCESSES = 300;


/** Median of interleaved rounds, so that noise hits both sides alike. */
async function side(fns, rounds, calls) {
  const out = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) for (const [k, fn] of Object.entries(fns)) out[k].push(await perCallMs(fn, calls, r === 0 ? 5 : 0));
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, median(v)]));
}

export async function rows() {
  const started = [];
  try {
    const target = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000); setTimeout(() => process.exit(0), 600000)'], { stdio: 'ignore' });
    started.push(target);
    const tree = spawn('sh', ['-c', 'i=0; while [ $i -lt 49 ]; do sleep 600 & i=$((i+1)); done; wait'], { stdio: 'ignore', detached: true });
    started.push(tree);
    const have = listProcesses().length;
    for (let i = have + 51; i < TARGET_PROCESSES; i++) started.push(spawn('sleep', ['600'], { stdio: 'ignore' }));
    const deadline = Date.now() + 60_000;
    while (descendants(tree.pid).length < 49 || listProcesses().length < TARGET_PROCESSES - 5) {
      if (Date.now() > deadline) throw new Error(`the benchmark processes did not start (${descendants(tree.pid).length} of 49 in the tree, ${listProcesses().length} of ${TARGET_PROCESSES} in the table)`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300)); // the node target past its start-up
    const count = listProcesses().length;
    const one = await side({
      all: () => processUsage(target.pid, { intervalMs: 0 }),
      lean: () => processUsage(target.pid, { intervalMs: 0, smaps: false }),
      peer: () => pidusage(target.pid),
    }, 7, 30);
    const treeTimes = await side({
      all: () => treeUsage(tree.pid, { intervalMs: 0 }),
      lean: () => treeUsage(tree.pid, { intervalMs: 0, smaps: false }),
      peer: async () => pidusage([tree.pid, ...(await pidtree(tree.pid))]),
    }, 5, 5);
    pidusage.clear();
    // One top refresh: CPU time (user + system) of scan + model + frame.
    const model = new TopModel();
    const view = initialView(80, 24, true);
    for (let i = 0; i < 5; i++) refresh(model, view);
    const cpu = [];
    for (let i = 0; i < 30; i++) {
      const c0 = process.cpuUsage();
      refresh(model, view);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const topMs = median(cpu);
    const r = (benchmark, ms, peer, peerMs, target, ok) => ({ benchmark, sigkit: `${fmt(ms, 3)} ms`, peer, peerValue: `${fmt(peerMs, 3)} ms`, ratio: `${fmt(peerMs / ms, 1)}x faster`, target, ok });
    return [
      r('`processUsage(pid, { intervalMs: 0, smaps: false })` (a Node process)', one.lean, '`pidusage(pid)`', one.peer, '>= 2x', one.peer / one.lean >= 2),
      { ...r('`processUsage(pid, { intervalMs: 0 })`, PSS/USS from smaps_rollup', one.all, '`pidusage(pid)` (no PSS/USS)', one.peer, 'report'), ratio: `${fmt(one.peer / one.all, 2)}x (smaps_rollup walks the page tables)` },
      r('`treeUsage(pid, { intervalMs: 0, smaps: false })`, 50 processes', treeTimes.lean, '`pidtree` + `pidusage(pids)`', treeTimes.peer, '>= 5x', treeTimes.peer / treeTimes.lean >= 5),
      r('`treeUsage(pid, { intervalMs: 0 })`, 50 processes, with PSS/USS', treeTimes.all, '`pidtree` + `pidusage(pids)`', treeTimes.peer, '>= 5x', treeTimes.peer / treeTimes.all >= 5),
      { benchmark: `one \`sigkit top\` refresh (scan, model, 80x24 frame), ${count} processes`, sigkit: `${fmt(topMs, 2)} ms CPU`, peer: '-', peerValue: '-', ratio: '-', target: '< 5 ms CPU', ok: topMs < 5 },
    ];
  } finally {
    for (const c of started) {
      try {
        if (c === started[1]) process.kill(-c.pid, 'SIGKILL');
        else c.kill('SIGKILL');
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
