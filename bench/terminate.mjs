// Escalation beside its peers, on processes this benchmark starts:
//  - reaction: terminate(pid) (SIGTERM, then resolve on the exit) minus the
//    moment the target says it exited, vs fkill(pid, { waitForExit });
//  - a SIGTERM-ignoring process with a 500 ms grace: call to resolve, vs
//    fkill's forceAfterTimeout: 500;
//  - terminateTree of a bash with 20 sleeping children: call to "all 21
//    confirmed gone", vs tree-kill's callback (which does not wait).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fmt, median } from './harness.mjs';
import { FACTORY, lineWaiter } from './wait.mjs';

const require = createRequire(import.meta.url);
const { terminate, terminateTree, descendants } = require('../lib/index.js');
const treeKill = require('tree-kill');

const ms = (ns) => Number(ns) / 1e6;
const sleep = (t) => new Promise((r) => setTimeout(r, t));

async function until(check, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('benchmark setup timed out');
    await sleep(5);
  }
}

async function reaction(fkill) {
  const factory = spawn('python3', ['-c', FACTORY], { stdio: ['pipe', 'pipe', 'inherit'] });
  const from = lineWaiter(factory);
  const samples = { sigkit: [], fkill: [] };
  try {
    for (let round = 0; round < 16; round++) {
      factory.stdin.write('go\n');
      const pid = await from('pid');
      const stamp = from(`exit ${pid}`);
      await sleep(20);
      if (round % 2 === 0) {
        const done = terminate(pid, { graceMs: 5000 }).then(() => process.hrtime.bigint());
        const [s, d] = await Promise.all([stamp, done]);
        samples.sigkit.push(ms(d - s));
      } else {
        const done = fkill(pid, { waitForExit: 5000 }).then(() => process.hrtime.bigint());
        const [s, d] = await Promise.all([stamp, done]);
        samples.fkill.push(ms(d - s));
      }
    }
  } finally {
    factory.stdin.end();
    await once(factory, 'exit');
  }
  return { sigkit: median(samples.sigkit), fkill: median(samples.fkill) };
}

function stubborn() {
  const child = spawn('sh', ['-c', "trap '' TERM; echo ready; while :; do sleep 0.05; done"], { stdio: ['ignore', 'pipe', 'ignore'] });
  return once(child.stdout, 'data').then(() => child);
}

async function grace(fkill) {
  const samples = { sigkit: [], fkill: [] };
  for (let round = 0; round < 4; round++) {
    for (const who of ['sigkit', 'fkill']) {
      const child = await stubborn();
      const t0 = performance.now();
      if (who === 'sigkit') await terminate(child.pid, { steps: [{ signal: 'SIGTERM', waitMs: 500 }, { signal: 'SIGKILL', waitMs: 2000 }] });
      else await fkill(child.pid, { forceAfterTimeout: 500, waitForExit: 5000 });
      samples[who].push(performance.now() - t0);
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    }
  }
  return { sigkit: median(samples.sigkit), fkill: median(samples.fkill) };
}

async function tree() {
  const samples = { sigkit: [], treeKill: [] };
  for (let round = 0; round < 6; round++) {
    for (const who of ['sigkit', 'treeKill']) {
      const root = spawn('bash', ['-c', 'for i in $(seq 20); do sleep 300 & done; wait'], { stdio: 'ignore', detached: true });
      await until(() => descendants(root.pid).length === 20);
      const t0 = performance.now();
      if (who === 'sigkit') {
        const r = await terminateTree(root.pid, { graceMs: 2000 });
        if (!r.exited || r.members.length !== 21) throw new Error('terminateTree did not confirm 21 exits');
      } else {
        await new Promise((resolve, reject) => treeKill(root.pid, 'SIGTERM', (e) => (e ? reject(e) : resolve())));
      }
      samples[who].push(performance.now() - t0);
      try {
        process.kill(-root.pid, 'SIGKILL'); // leave nothing behind (our own group)
      } catch {
        // all gone
      }
    }
  }
  return { sigkit: median(samples.sigkit), treeKill: median(samples.treeKill) };
}

export async function rows() {
  const { default: fkill } = await import('fkill');
  const r = await reaction(fkill);
  const g = await grace(fkill);
  const t = await tree();
  return [
    {
      benchmark: '`terminate(pid)` reaction to the exit (resolve minus exit), median',
      sigkit: `${fmt(r.sigkit, 2)} ms`,
      peer: 'fkill 10 `{ waitForExit }`',
      peerValue: `${fmt(r.fkill, 2)} ms`,
      ratio: `${fmt(r.fkill / r.sigkit, 0)}x sooner`,
      target: '<= 2.5 ms',
      ok: r.sigkit <= 2.5,
    },
    {
      benchmark: 'SIGTERM-ignoring process, 500 ms grace: call to resolve, median',
      sigkit: `${fmt(g.sigkit, 1)} ms`,
      peer: 'fkill `{ forceAfterTimeout: 500 }`',
      peerValue: `${fmt(g.fkill, 1)} ms`,
      ratio: `${fmt(g.fkill - g.sigkit, 0)} ms sooner`,
      target: '<= 520 ms',
      ok: g.sigkit <= 520,
    },
    {
      benchmark: '`terminateTree` of bash + 20 sleeping children, all 21 confirmed gone, median',
      sigkit: `${fmt(t.sigkit, 2)} ms`,
      peer: 'tree-kill (callback; does not wait)',
      peerValue: `${fmt(t.treeKill, 2)} ms`,
      ratio: `${fmt(t.treeKill / t.sigkit, 0)}x sooner`,
      target: '<= 10 ms',
      ok: t.sigkit <= 10,
    },
  ];
}
