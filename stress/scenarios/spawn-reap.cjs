// 1,000 spawn-and-reap cycles with startReaper running (SIGCHLD-driven: its
// safety timer is off) while this process is a child subreaper. Each cycle
// spawns a child_process child with a random exit code; every other one is a
// shell that leaves an orphan behind, which re-parents here and must be
// reaped by the reaper with its own code. Checks: every child_process child
// emits `exit` with its code (no exit stolen), every orphan is reaped with
// its code, nothing else is reaped, and no zombie (no child at all) is left.
'use strict';
const { spawn } = require('node:child_process');
const { sigkit: s, watchdog, childrenOfMine, until, fmt, report } = require('../common.cjs');

const COUNT = Number(process.env.STRESS_SPAWNS || 1_000);
const CONCURRENCY = 20;
const progress = { exits: 0, orphansReaped: 0 };
watchdog(60_000, () => progress);
const randomCode = () => Math.floor(Math.random() * 256);

(async () => {
  s.setChildSubreaper(true);
  const orphanExits = new Map();
  const reaper = s.startReaper({
    intervalMs: 0,
    onExit: (info) => {
      orphanExits.set(info.pid, info);
      progress.orphansReaped++;
    },
  });
  const expectedOrphans = new Map();
  const mismatches = [];
  const t0 = Date.now();
  const runOne = (i) =>
    new Promise((resolve, reject) => {
      const code = randomCode();
      const makesOrphan = i % 2 === 0;
      const orphanCode = randomCode();
      const script = makesOrphan ? `(sleep 0.0$((${i} % 5 + 1)); exit ${orphanCode}) >/dev/null & echo $!; exit ${code}` : `exit ${code}`;
      const child = spawn('sh', ['-c', script], { stdio: ['ignore', makesOrphan ? 'pipe' : 'ignore', 'inherit'] });
      let text = '';
      let exited = false;
      let ended = !makesOrphan;
      const done = () => exited && ended && resolve();
      if (makesOrphan) child.stdout.setEncoding('utf8').on('data', (d) => (text += d));
      child.once('error', reject);
      child.once('exit', (got, signal) => {
        progress.exits++;
        if (got !== code || signal !== null) mismatches.push({ i, pid: child.pid, want: code, got, signal });
        exited = true;
        done();
      });
      if (makesOrphan) {
        child.stdout.once('end', () => {
          const pid = Number(text.trim());
          if (pid > 0) expectedOrphans.set(pid, orphanCode);
          else mismatches.push({ i, orphan: 'no pid', text });
          ended = true;
          done();
        });
      }
    });
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < COUNT) await runOne(next++);
    }),
  );
  const spawnMs = Date.now() - t0;
  const allReaped = await until(() => [...expectedOrphans.keys()].every((pid) => orphanExits.has(pid)), 20_000);
  const ms = Date.now() - t0;
  const wrongOrphans = [...expectedOrphans].filter(([pid, code]) => orphanExits.get(pid)?.code !== code).length;
  const unexpected = [...orphanExits.keys()].filter((pid) => !expectedOrphans.has(pid)).length;
  // Nothing left: no zombie and no child at all (every orphan has exited).
  await until(() => childrenOfMine().length === 0, 5_000);
  const left = childrenOfMine();
  const zombies = left.filter((c) => c.state === 'Z').length;
  const reaped = reaper.reaped;
  reaper.close();
  s.setChildSubreaper(false);
  report('spawn-reap', [
    { check: `${fmt(COUNT)} child_process children, ${CONCURRENCY} at a time, reaper running: no lost exit`, figure: `${fmt(progress.exits)} exit events, ${mismatches.length} wrong or missing, in ${fmt(spawnMs)} ms`, ok: progress.exits === COUNT && mismatches.length === 0 },
    { check: 'every orphan reaped by startReaper with its code', figure: `${fmt(orphanExits.size)}/${fmt(expectedOrphans.size)} orphans reaped (reaper.reaped ${fmt(reaped)}), ${wrongOrphans} wrong code, ${unexpected} unexpected, ${fmt(ms)} ms in all`, ok: allReaped && expectedOrphans.size === Math.ceil(COUNT / 2) && wrongOrphans === 0 && unexpected === 0 && reaped === expectedOrphans.size },
    { check: 'no zombie left', figure: `${zombies} zombies, ${left.length} children left`, ok: left.length === 0 },
  ]);
})().catch((e) => {
  console.log(JSON.stringify({ error: String(e && e.stack), progress }));
  process.exitCode = 1;
});
