// 10,000 openProcess/kill(0)/isAlive/close cycles on a child, then 1,000
// handles dropped without close() and collected: the fd count is unchanged.
// Run with --expose-gc.
'use strict';
const { spawn } = require('node:child_process');
const { sigkit: s, watchdog, fdCount, tick, fmt, report } = require('../common.cjs');

const CYCLES = Number(process.env.STRESS_OPEN_CYCLES || 10_000);
const DROPPED = 1_000;
let i = 0;
watchdog(60_000, () => ({ cycles: i }));

(async () => {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  await new Promise((r, j) => child.once('spawn', r).once('error', j));
  const exit = s.exitOf(child);
  s.openProcess(child.pid).close(); // warm-up
  const fd0 = fdCount();
  const t0 = Date.now();
  let alive = 0;
  for (i = 0; i < CYCLES; i++) {
    const h = s.openProcess(child.pid);
    h.kill(0);
    if (h.isAlive()) alive++;
    h.close();
  }
  const ms = Date.now() - t0;
  const fd1 = fdCount();
  for (let k = 0; k < DROPPED; k++) s.openProcess(child.pid);
  const fdDropped = fdCount();
  let fd2 = fdDropped;
  for (let k = 0; k < 20 && fd2 > fd0; k++) {
    global.gc();
    await tick();
    fd2 = fdCount();
  }
  child.kill('SIGKILL');
  const info = await exit;
  report('pidfd-churn', [
    { check: `${fmt(CYCLES)} openProcess/close cycles: fd count unchanged`, figure: `${fmt(CYCLES)} cycles in ${fmt(ms)} ms, fds ${fd0} -> ${fd1}, alive ${fmt(alive)}/${fmt(CYCLES)}`, ok: fd1 === fd0 && alive === CYCLES },
    { check: `${fmt(DROPPED)} handles dropped without close(): closed by GC`, figure: `fds ${fd0} -> ${fdDropped} (dropped) -> ${fd2} (after GC)`, ok: fdDropped === fd0 + DROPPED && fd2 === fd0 },
    { check: 'the child is ours to end', figure: `exitOf: ${info.signal}`, ok: info.signal === 'SIGKILL' },
  ]);
})().catch((e) => {
  console.log(JSON.stringify({ error: String(e && e.stack), progress: { cycles: i } }));
  process.exitCode = 1;
});
