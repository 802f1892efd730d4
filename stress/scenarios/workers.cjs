// 4 worker threads at a time load the addon, subscribe, receive and end
// (half terminated by the main thread, half exit by themselves), in a loop,
// while a C sender queues realtime signals to this process. The main thread
// listens to the same signal the whole time and must lose nothing:
// received = sent, dropped 0. Nothing may crash.
'use strict';
const { spawn } = require('node:child_process');
const { Worker } = require('node:worker_threads');
const { sigkit: s, sigsender, watchdog, until, fmt, report } = require('../common.cjs');

const SIG = 'SIGRTMIN+3';
const SIGNALS = Number(process.env.STRESS_WORKER_SIGNALS || 10_000);
const PAUSE_US = 100;
const PARALLEL = 4;
const lib = process.argv[2];
let mainGot = 0;
let lifecycles = 0;
watchdog(60_000, () => ({ mainGot, lifecycles }));

const workerCode = `
const { parentPort, workerData } = require('node:worker_threads');
const s = require(workerData.lib);
let n = 0;
s.onSignal(workerData.sig, () => {
  if (n++ === 0) {
    parentPort.postMessage('got');
    if (workerData.exitSelf) process.exit(0);
  }
}, { ref: true });
parentPort.postMessage('ready');
`;

(async () => {
  let repeated = 0;
  const seen = new Uint8Array(SIGNALS);
  s.onSignal(SIG, (e) => {
    mainGot++;
    if (e.value >= 0 && e.value < SIGNALS && seen[e.value]++ !== 0) repeated++;
  });
  const signo = s.signalNumber(SIG);
  const sender = spawn(sigsender, ['queue', String(process.pid), String(signo), String(SIGNALS), '0', String(PAUSE_US)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let senderDone = false;
  let senderOk = false;
  sender.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  sender.once('close', (code) => {
    senderDone = true;
    senderOk = code === 0;
  });
  const t0 = Date.now();
  let errors = 0;
  const badExits = [];
  let received = 0;
  let cutShort = 0; // still waiting for a signal when the sender finished
  const live = new Set();
  sender.once('close', () => {
    for (const w of live) {
      w.cutShort = true;
      void w.terminate();
    }
  });
  const one = (k) =>
    new Promise((resolve) => {
      const exitSelf = k % 2 === 1;
      const w = new Worker(workerCode, { eval: true, workerData: { lib, sig: SIG, exitSelf } });
      let got = false;
      live.add(w);
      const timer = setTimeout(() => w.terminate(), 10_000);
      w.on('message', (m) => {
        if (m === 'got') {
          got = true;
          received++;
          if (!exitSelf) void w.terminate();
        }
      });
      w.once('error', () => errors++);
      w.once('exit', (code) => {
        clearTimeout(timer);
        live.delete(w);
        lifecycles++;
        // terminate() ends a worker with code 1; process.exit(0) with 0.
        if (w.cutShort) cutShort++;
        else if (!got || code !== (exitSelf ? 0 : 1)) badExits.push({ k, got, code, exitSelf });
        resolve();
      });
    });
  let k = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (!senderDone) await one(k++);
    }),
  );
  const m = /sent (\d+)/.exec(out);
  const sent = m ? Number(m[1]) : -1;
  await until(() => mainGot >= sent, 10_000);
  const st = s.signalStats(SIG);
  const ms = Date.now() - t0;
  report('workers', [
    { check: `${PARALLEL} workers at a time load sigkit, subscribe, receive, end`, figure: `${fmt(lifecycles)} worker lifecycles in ${fmt(ms)} ms (${fmt(received)} received; ${cutShort} ended by the sender's end), ${errors} errors, ${badExits.length} bad exits${badExits.length ? ` ${JSON.stringify(badExits.slice(0, 3))}` : ''}`, ok: lifecycles >= PARALLEL * 10 && errors === 0 && badExits.length === 0 && received + cutShort >= lifecycles && cutShort <= PARALLEL },
    { check: 'main thread loses nothing meanwhile', figure: `sent ${fmt(sent)}, main received ${fmt(mainGot)} (delivered ${fmt(st.delivered)}, dropped ${fmt(st.dropped)}, ${repeated} repeated)`, ok: senderOk && sent === SIGNALS && mainGot === sent && st.delivered === sent && st.dropped === 0 && repeated === 0 },
  ]);
})().catch((e) => {
  console.log(JSON.stringify({ error: String(e && e.stack), progress: { mainGot, lifecycles } }));
  process.exitCode = 1;
});
