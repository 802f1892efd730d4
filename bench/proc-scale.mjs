// The /proc reader at scale (not part of npm test: it fills the process table
// to 10,000): `node bench/proc-scale.mjs [TOTAL=10000] [TREE=2000]`.
//
// Starts two proc-forker groups of sleepers of its own (TREE children under
// one parent, and enough more to bring the table to TOTAL), then in this one
// run:
// - listProcesses(): complete (every one of our children listed), sigkit's
//   fds within the budget, time beside a C open/read/close loop over every
//   /proc/<pid>/stat (bench/floor/proc-scan.c), interleaved rounds;
// - descendants() of the TREE-child tree beside one full listProcesses().
// Both groups are torn down by their forkers (killpg of their own group, then
// each child reaped) before it exits. Prints a Markdown table and exits 1 if
// a check fails.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { freemem } from 'node:os';
import { buildC, startForker, tableSize } from './proc.mjs';
import { fmt, machine, median, table } from './harness.mjs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const require = createRequire(import.meta.url);
const { listProcesses, descendants } = require('../lib/index.js');
const { readTree } = require('../lib/proc.js');
const { native } = require('../lib/native.js');
const here = path.dirname(fileURLToPath(import.meta.url));

const TOTAL = Number(process.argv[2] ?? 10_000);
const TREE = Number(process.argv[3] ?? 2_000);
// Kernel memory of one sleeping forked child here: ~130 KiB (measured with 1,000).
const BYTES_PER_CHILD = 256 * 1024;

function limit(name) {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
  const soft = line?.slice(name.length).trim().split(/\s+/)[0];
  return soft === 'unlimited' ? Infinity : Number(soft);
}

function fdCount() {
  return readdirSync('/proc/self/fd').length - 1;
}

/** Median ms of one C open/read/close pass, over `rounds` passes in one run of the binary. */
function cLoopMs(bin, rounds) {
  return Number(execFileSync(bin, [String(rounds)], { encoding: 'utf8' }).split(' ')[0]) / 1000;
}

function timeMs(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const have = tableSize();
const fill = TOTAL - have - TREE - 2;
const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
const nproc = limit('Max processes');
const problems = [];
if (fill < 0) problems.push(`the table already has ${have} processes`);
if (TOTAL + 4_000 > pidMax) problems.push(`pid_max ${pidMax} leaves too little room beside ${TOTAL} processes`);
if (process.getuid() !== 0 && have + TREE + fill + 100 > nproc) problems.push(`ulimit -u ${nproc} is too low`);
if ((TREE + fill) * BYTES_PER_CHILD > freemem() / 2) problems.push(`${Math.round(freemem() / 2 ** 20)} MiB free is too little`);
if (problems.length) {
  console.error(`proc-scale: not run: ${problems.join('; ')}`);
  process.exit(2);
}

const forkers = [];
const rows = [];
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  return ok;
};
try {
  const floorBin = buildC(path.join(here, 'floor', 'proc-scan.c'), 'proc-scan');
  const t0 = Date.now();
  const tree = await startForker(TREE);
  forkers.push(tree);
  const rest = await startForker(fill);
  forkers.push(rest);
  const startMs = Date.now() - t0;
  const count = tableSize();

  // Completeness and fds, first call (cold cache) and a warm one.
  const before = fdCount();
  const [budget] = native.procFdBudget();
  const ours = (list) => list.filter((p) => (p.ppid === tree.pid && p.pgid === tree.pgid) || (p.ppid === rest.pid && p.pgid === rest.pgid)).length;
  const first = listProcesses();
  const heldCold = fdCount() - before;
  const second = listProcesses();
  const heldWarm = fdCount() - before;
  const cachedByNative = native.procFdBudget()[1];
  check(ours(first) === TREE + fill && ours(second) === TREE + fill, 'listProcesses() complete');
  check(heldCold <= budget && heldWarm <= budget, 'fds within the budget');
  const desc = descendants(tree.pid);
  check(desc.length === TREE, 'descendants() complete');

  // Interleaved rounds: sigkit's listProcesses, the C loop, descendants.
  const samples = { list: [], c: [], desc: [], walk: [], scan: [] };
  const runs = {
    list: () => listProcesses(),
    desc: () => descendants(tree.pid),
    walk: () => readTree(tree.pid, 0, 1),
    scan: () => readTree(tree.pid, 0, 2),
  };
  for (let round = 0; round < 9; round++) {
    const names = Object.keys(samples);
    for (const what of round % 2 ? names.reverse() : names) {
      if (what === 'c') samples.c.push(cLoopMs(floorBin, 3));
      else for (let i = 0; i < 3; i++) samples[what].push(timeMs(runs[what]));
    }
  }
  const listMs = median(samples.list);
  const loopMs = median(samples.c);
  const descMs = median(samples.desc);
  const okList = check(listMs <= 1.5 * loopMs, 'listProcesses() within 1.5x of the C loop');
  const okDesc = check(descMs <= listMs, `descendants() of ${TREE} no slower than listProcesses()`);
  rows.push(
    {
      benchmark: `\`listProcesses()\`, ${fmt(count)} processes (${fmt(ours(second))} ours, all listed)`,
      sigkit: `${fmt(listMs, 1)} ms`,
      peer: 'C loop: open+read+close each stat',
      peerValue: `${fmt(loopMs, 1)} ms`,
      ratio: `${fmt(listMs / loopMs, 2)}x its time`,
      target: '<= 1.5x',
      ok: okList,
    },
    {
      benchmark: `\`descendants(pid)\`, ${fmt(TREE)}-child tree, ${fmt(count)} processes`,
      sigkit: `${fmt(descMs, 1)} ms`,
      peer: 'one `listProcesses()`',
      peerValue: `${fmt(listMs, 1)} ms`,
      ratio: `${fmt(descMs / listMs, 2)}x its time`,
      target: '<= 1x',
      ok: okDesc,
    },
    {
      benchmark: `the two ways it chooses from, same tree: children files / one scan`,
      sigkit: `${fmt(median(samples.walk), 1)} ms / ${fmt(median(samples.scan), 1)} ms`,
      peer: '',
      peerValue: '',
      ratio: '',
      target: 'report',
    },
    {
      benchmark: `fds sigkit holds after a scan (budget ${budget}: min(1024, soft RLIMIT_NOFILE ${limit('Max open files')} / 8))`,
      sigkit: `${heldCold} cold, ${heldWarm} warm (native count ${cachedByNative})`,
      peer: '',
      peerValue: '',
      ratio: '',
      target: `<= ${budget}`,
      ok: heldCold <= budget && heldWarm <= budget,
    },
  );
  console.log(`Machine: ${machine()}; ${fmt(TREE + fill)} sleepers started in ${fmt(startMs)} ms\n`);
  console.log(table(rows));
} finally {
  for (const f of forkers.reverse()) await f.stop();
}
const left = tableSize();
console.log(`\nAfter teardown: ${left} processes in the table (${have} before).`);
if (failures.length) {
  console.log(`Failed: ${failures.join(', ')}`);
  process.exitCode = 1;
}
