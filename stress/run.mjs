// npm run stress: storms and churn against the real addon, bounded in time.
// Each scenario runs in its own process (they change signal state, the
// subreaper bit and SIGCHLD), in its own process group so that anything it
// started can be ended with it. Prints each scenario's figures, then a
// Markdown summary table; exits 1 if any check fails.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LIB = path.join(ROOT, 'lib', 'index.js');
const BIN = path.join(ROOT, 'node_modules', '.cache', 'sigkit-test-fixtures');
const SENDER = path.join(BIN, 'sigsender');
const BUDGET_MS = 170_000; // the whole run stays under 3 minutes
const started = Date.now();

const mtime = (f) => (existsSync(f) ? statSync(f).mtimeMs : 0);
if (!existsSync(LIB)) throw new Error('lib/ is missing: run npm run build:ts');
const src = path.join(ROOT, 'test', 'fixtures', 'sigsender.c');
if (mtime(SENDER) < mtime(src)) {
  mkdirSync(BIN, { recursive: true });
  execFileSync('cc', ['-O1', '-Wall', '-Wextra', '-Werror', '-o', SENDER, src], { stdio: 'inherit' });
}

const scenarios = [
  { name: 'rt-flood', title: '100,000 realtime signals from 4 senders, JS busy', timeoutMs: 60_000 },
  { name: 'subscribe-churn', title: '200,000 onSignal subscribe/unsubscribe (RSS as a least-squares slope)', timeoutMs: 40_000, nodeArgs: ['--expose-gc', '--single-threaded-gc', '--max-semi-space-size=1'] },
  { name: 'pidfd-churn', title: '10,000 openProcess/close', timeoutMs: 30_000, nodeArgs: ['--expose-gc'] },
  { name: 'spawn-reap', title: '1,000 spawn-and-reap cycles with startReaper', timeoutMs: 40_000 },
  { name: 'workers', title: '4 workers loading/unloading sigkit while signals arrive', timeoutMs: 40_000 },
];

// Processes still in group `pgid` (the scenario and anything it started).
function groupMembers(pgid) {
  const out = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const text = readFileSync(`/proc/${n}/stat`, 'latin1');
      const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[2]) === pgid && rest[0] !== 'Z') out.push(Number(n));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function run(sc) {
  return new Promise((resolve) => {
    const left = BUDGET_MS - (Date.now() - started);
    const timeoutMs = Math.max(1_000, Math.min(sc.timeoutMs, left));
    const t0 = Date.now();
    const child = spawn(process.execPath, [...(sc.nodeArgs ?? []), path.join(ROOT, 'stress', 'scenarios', `${sc.name}.cjs`), LIB, SENDER], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true, // its own process group: ended as a whole on timeout
    });
    let out = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Date.now() - t0;
      // Nothing the scenario started may outlive it.
      const stragglers = groupMembers(child.pid);
      if (stragglers.length > 0) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      let result;
      try {
        result = JSON.parse(out.trim().split('\n').pop());
      } catch {
        result = { error: `no result line (exit ${code ?? signal})` };
      }
      const rows = result.rows ?? [{ check: 'scenario finished', figure: result.error ?? 'no rows', ok: false }];
      if (timedOut) rows.push({ check: 'finished within its time', figure: `killed after ${timeoutMs} ms`, ok: false });
      if (code !== 0 && !timedOut && rows.every((r) => r.ok)) rows.push({ check: 'exit status', figure: `exit ${code ?? signal}`, ok: false });
      rows.push({ check: 'nothing left running', figure: `${stragglers.length} processes left in its group`, ok: stragglers.length === 0 });
      resolve({ ...sc, rows, ms });
    });
  });
}

const results = [];
for (const sc of scenarios) {
  process.stdout.write(`== ${sc.name}: ${sc.title}\n`);
  const r = await run(sc);
  for (const row of r.rows) process.stdout.write(`   ${row.ok ? 'ok  ' : 'FAIL'} ${row.check}: ${row.figure}\n`);
  process.stdout.write(`   (${(r.ms / 1000).toFixed(1)} s)\n`);
  results.push(r);
}

const total = ((Date.now() - started) / 1000).toFixed(1);
const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU';
const cores = readFileSync('/proc/cpuinfo', 'utf8').match(/^processor\s*:/gm)?.length ?? '?';
const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
const esc = (s) => String(s).replace(/\|/g, '\\|');
console.log(`\n## sigkit stress: Node ${process.version}, Linux ${kernel}, ${cores} x ${cpu}, ${total} s in all\n`);
console.log('| Scenario | Check | Figure | Result |');
console.log('| --- | --- | --- | --- |');
let failed = 0;
for (const r of results) {
  for (const row of r.rows) {
    if (!row.ok) failed++;
    console.log(`| ${r.name} | ${esc(row.check)} | ${esc(row.figure)} | ${row.ok ? 'pass' : '**FAIL**'} |`);
  }
}
console.log(`\n${failed === 0 ? 'All checks passed' : `${failed} check(s) failed`}.`);
process.exitCode = failed === 0 ? 0 : 1;
