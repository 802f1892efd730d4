// 100,000 onSignal subscribe/unsubscribe cycles, alternating SIGUSR2 and a
// realtime signal (each cycle installs and removes the handler and libuv's
// guard): RSS grows by less than 2 MiB, no fd is left, the handler still
// receives every 10,000 cycles, and both signals are back at SIG_DFL.
// Run with --expose-gc --single-threaded-gc --max-semi-space-size=1: V8
// grows and shrinks its young generation in 2 MiB steps with the allocation
// rate (a full GC shrinks it, the next 100,000 cycles grow it back), which
// RSS would show as growth; pinned, RSS measures retention.
'use strict';
const { sigkit: s, watchdog, fdCount, rssKiB, until, fmt, report } = require('../common.cjs');

const CYCLES = Number(process.env.STRESS_CYCLES || 100_000);
const SIGS = ['SIGUSR2', 'SIGRTMIN+2'];
let i = 0;
watchdog(60_000, () => ({ cycles: i }));

const settle = async () => {
  for (let k = 0; k < 3; k++) {
    global.gc();
    await new Promise((r) => setImmediate(r));
  }
};

(async () => {
  const noop = () => {};
  // Warm-up: code paths compiled, the slot's ring mapped, caches filled.
  for (let k = 0; k < 20_000; k++) s.onSignal(SIGS[k & 1], noop)();
  await settle();
  const rss0 = rssKiB();
  const heap0 = process.memoryUsage();
  const fd0 = fdCount();
  const t0 = Date.now();
  let probes = 0;
  let probesOk = 0;
  for (i = 0; i < CYCLES; i++) {
    const off = s.onSignal(SIGS[i & 1], noop);
    off();
    if (i % 10_000 === 9_999) {
      // Still working: subscribe, send ourselves one, receive it.
      const got = [];
      const off2 = s.onSignal('SIGRTMIN+2', (e) => got.push(e.value));
      s.sigqueue(process.pid, 'SIGRTMIN+2', i);
      probes++;
      if (await until(() => got.length === 1 && got[0] === i, 5_000)) probesOk++;
      off2();
    }
  }
  const ms = Date.now() - t0;
  await settle();
  const rss1 = rssKiB();
  const heap1 = process.memoryUsage();
  const kib = (k) => `${(heap1[k] - heap0[k]) / 1024 >= 0 ? '+' : ''}${fmt(Math.round((heap1[k] - heap0[k]) / 1024))}`;
  const fd1 = fdCount();
  const dispositions = SIGS.map((sig) => s.getDisposition(sig));
  report('subscribe-churn', [
    { check: `${fmt(CYCLES)} onSignal subscribe/unsubscribe cycles`, figure: `${fmt(CYCLES)} cycles in ${fmt(ms)} ms; ${probesOk}/${probes} probe signals received`, ok: probesOk === probes && probes > 0 },
    { check: 'RSS growth < 2 MiB', figure: `RSS ${fmt(rss0)} -> ${fmt(rss1)} KiB (${rss1 - rss0 >= 0 ? '+' : ''}${fmt(rss1 - rss0)} KiB); V8 heap used ${kib('heapUsed')} KiB, reserved ${kib('heapTotal')} KiB`, ok: rss1 - rss0 < 2048 },
    { check: 'no fd growth', figure: `fds ${fd0} -> ${fd1}`, ok: fd1 <= fd0 },
    { check: 'dispositions restored', figure: SIGS.map((sig, k) => `${sig} ${dispositions[k]}`).join(', '), ok: dispositions.every((d) => d === 'default') },
  ]);
})().catch((e) => {
  console.log(JSON.stringify({ error: String(e && e.stack), progress: { cycles: i } }));
  process.exitCode = 1;
});
