// /proc introspection beside its peers: descendants of a 50-child tree vs
// pidtree with the table as this machine has it (~100 processes) and filled to
// ~300; at ~300, listProcesses vs a pure-JS scan, ps-list and a C
// open/read/close loop, and findZombies vs a pure-JS scan. The processes are
// sleepers of test/fixtures/proc-forker.c, torn down with their group.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import psList from 'ps-list';
import pidtree from 'pidtree';
import { compareRates, fmt, median, perCallMs } from './harness.mjs';

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

const cacheDir = path.join(here, '..', 'node_modules', '.cache', 'sigkit-bench');

/** Compiles a C file once per change into node_modules/.cache/sigkit-bench; returns the binary. */
export function buildC(src, name) {
  mkdirSync(cacheDir, { recursive: true });
  const bin = path.join(cacheDir, name);
  const mtime = (f) => (existsSync(f) ? statSync(f).mtimeMs : 0);
  if (mtime(bin) < mtime(src)) execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', bin, src]);
  return bin;
}

/** Median microseconds of one C open/read/close pass over every /proc/<pid>/stat. */
export function cFloorUs(rounds = 300) {
  const bin = buildC(path.join(here, 'floor', 'proc-scan.c'), 'proc-scan');
  return Number(execFileSync(bin, [String(rounds)], { encoding: 'utf8' }).split(' ')[0]);
}

/**
 * N sleeping children of test/fixtures/proc-forker.c, in a group of their
 * own; `stop()` closes its stdin, and the forker kills its group and reaps
 * every child itself.
 */
export async function startForker(count, timeoutMs = 120_000) {
  const bin = buildC(path.join(here, '..', 'test', 'fixtures', 'proc-forker.c'), 'proc-forker');
  const child = spawn(bin, [String(count), '600'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const line = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`proc-forker ${count}: no answer in ${timeoutMs} ms`)), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      text += d;
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve(text.trim());
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`proc-forker ${count} exited: ${text}`));
    });
  });
  const m = /^ready (\d+) (\d+)$/.exec(line);
  if (!m) {
    child.kill('SIGKILL');
    throw new Error(`proc-forker said ${JSON.stringify(line)}`);
  }
  const pgid = Number(m[1]);
  let stopping;
  return {
    pid: child.pid,
    pgid,
    stop: () =>
      (stopping ??= (async () => {
        child.stdin.end();
        const timer = setTimeout(() => {
          // Our own group, while the forker that made it still holds it.
          try {
            process.kill(-pgid, 'SIGKILL');
          } catch {
            // gone already
          }
          child.kill('SIGKILL');
        }, 60_000);
        await exited;
        clearTimeout(timer);
      })()),
  };
}

/** Processes in the table now (by a bare readdir, independent of sigkit). */
export function tableSize() {
  return readdirSync('/proc').filter((n) => n.charCodeAt(0) >= 49 && n.charCodeAt(0) <= 57).length;
}

function row(benchmark, sigkitMs, peer, peerMs, target, ok) {
  return { benchmark, sigkit: `${fmt(sigkitMs, 3)} ms`, peer, peerValue: `${fmt(peerMs, 3)} ms`, ratio: `${fmt(peerMs / sigkitMs, 1)}x faster`, target, ok };
}

/** descendants(pid) beside pidtree(pid), interleaved, in this one run. */
async function treeVsPidtree(pid, expected) {
  const got = descendants(pid).length;
  const viaPidtree = (await pidtree(pid)).length;
  if (got !== expected || viaPidtree !== expected) throw new Error(`descendants ${got}, pidtree ${viaPidtree}, expected ${expected}`);
  const ours = [];
  const theirs = [];
  for (let round = 0; round < 9; round++) {
    ours.push(1000 / compareRates({ sigkit: () => descendants(pid) }, { rounds: 1, iterations: 100, warmup: round === 0 ? 50 : 5 }).sigkit);
    theirs.push(await perCallMs(() => pidtree(pid), 2));
  }
  return { sigkitMs: median(ours), pidtreeMs: median(theirs) };
}

export async function rows() {
  const forkers = [];
  try {
    const out = [];
    // 1. The table as this machine has it, plus a 50-child tree of ours.
    const tree = await startForker(50);
    forkers.push(tree);
    const small = tableSize();
    const t1 = await treeVsPidtree(tree.pid, 50);
    out.push(row(`\`descendants(pid)\`, 50-child tree, ${small} processes`, t1.sigkitMs, '`pidtree`', t1.pidtreeMs, '>= 10x', t1.pidtreeMs / t1.sigkitMs >= 10));

    // 2. The table filled to ~300 by sleepers of our own.
    const fill = TARGET_PROCESSES - tableSize();
    if (fill > 0) forkers.push(await startForker(fill));
    const count = listProcesses().length;
    const t2 = await treeVsPidtree(tree.pid, 50);
    out.push(row(`\`descendants(pid)\`, 50-child tree, ${count} processes`, t2.sigkitMs, '`pidtree`', t2.pidtreeMs, '>= 10x', t2.pidtreeMs / t2.sigkitMs >= 10));

    const scanRates = compareRates({ sigkit: () => listProcesses(), js: jsScan, nativeScan: () => native.procScan() }, { rounds: 15, iterations: 40, warmup: 20 });
    const nativeMs = 1000 / scanRates.nativeScan;
    const listMs = 1000 / scanRates.sigkit;
    const jsMs = 1000 / scanRates.js;
    const psListMs = await perCallMs(() => psList(), 15);
    const floorMs = cFloorUs() / 1000;
    const zRates = compareRates({ sigkit: () => findZombies(), js: jsZombies }, { rounds: 15, iterations: 40, warmup: 20 });
    out.push(
      row(`\`listProcesses()\`, ${count} processes`, listMs, 'pure-JS scan (readdirSync + readFileSync)', jsMs, '>= 2x', jsMs / listMs >= 2),
      row(`\`listProcesses()\`, ${count} processes`, listMs, '`ps-list`', psListMs, '>= 8x', psListMs / listMs >= 8),
      { ...row(`\`listProcesses()\`, ${count} processes`, listMs, 'C floor: open+read+close each stat', floorMs, 'report'), ratio: `${fmt(floorMs / listMs, 2)}x (JS objects included)` },
      { ...row(`its native scan alone (no JS objects), ${count} processes`, nativeMs, 'C floor: open+read+close each stat', floorMs, 'report'), ratio: `${fmt(floorMs / nativeMs, 2)}x (cached: fstat of /proc/<pid> + one pread each)` },
      row(`\`findZombies()\`, ${count} processes`, 1000 / zRates.sigkit, 'pure-JS scan', 1000 / zRates.js, '>= 1.5x', zRates.sigkit / zRates.js >= 1.5),
    );
    return out;
  } finally {
    for (const f of forkers.reverse()) await f.stop();
  }
}
