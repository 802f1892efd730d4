// Shared by the stress scenarios (each runs in its own process, started by
// stress/run.mjs): measurements from /proc, bounded waits, the result line.
'use strict';
const { readdirSync, readFileSync } = require('node:fs');

const [, , lib, sigsender] = process.argv;
const sigkit = require(lib);

// Nothing outlives a scenario that hangs: the runner kills the whole group
// too, this is the scenario's own watchdog.
function watchdog(ms, progress) {
  setTimeout(() => {
    console.log(JSON.stringify({ error: `watchdog after ${ms} ms`, progress: progress() }));
    process.exit(3);
  }, ms).unref();
}

const fdCount = () => readdirSync('/proc/self/fd').length;
const rssKiB = () => Number(/VmRSS:\s*(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);

// Every process whose parent is this one, with its state letter.
function childrenOfMine() {
  const out = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const text = readFileSync(`/proc/${n}/stat`, 'latin1');
      const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === process.pid) out.push({ pid: Number(n), state: rest[0] });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn() until it is true or `ms` pass; returns the last value of fn().
async function until(fn, ms) {
  const end = Date.now() + ms;
  let ok = fn();
  while (!ok && Date.now() < end) {
    await sleep(5);
    ok = fn();
  }
  return ok;
}

const fmt = (n) => n.toLocaleString('en-US');

// Least-squares fit y = a + slope * x: growth as a trend over many samples,
// so that one noisy sample (a GC, an allocator returning pages) decides nothing.
function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = 0; k < n; k++) {
    sxy += (xs[k] - mx) * (ys[k] - my);
    sxx += (xs[k] - mx) ** 2;
    syy += (ys[k] - my) ** 2;
  }
  const b = sxx === 0 ? 0 : sxy / sxx;
  return { slope: b, intercept: my - b * mx, r2: sxx === 0 || syy === 0 ? 0 : (sxy * sxy) / (sxx * syy) };
}

// The one line the runner reads: { scenario, rows: [{ check, figure, ok }] }.
function report(scenario, rows, extra = {}) {
  console.log(JSON.stringify({ scenario, rows, ...extra }));
  process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
}

module.exports = { sigkit, sigsender, watchdog, fdCount, rssKiB, childrenOfMine, tick, sleep, until, fmt, report, slope };
