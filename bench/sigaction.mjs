// Signal handlers: sigkit's onSignal (SA_SIGINFO, siginfo carried to JS)
// against Node's process.on, in this one process run.
//
// - Round trip: kill(own pid, SIGUSR2) -> listener called, one at a time;
//   the same signal for both sides, never both subscribed at once,
//   interleaved rounds, median of the round medians.
// - Cross-process rate of queued realtime signals: a child process
//   sigqueues SIGRTMIN+1 as fast as the kernel takes them (retrying
//   EAGAIN); rate between the first and the last event received here.
//   process.on cannot receive realtime signals at all.
// - A self-sent burst of 10,000 while JavaScript is busy: listener calls.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { fmt, median } from './harness.mjs';

const require = createRequire(import.meta.url);
const sigkit = require('../lib/index.js');
const { onSignal, signalStats, kill, sigqueue, signalNumber } = sigkit;
const LIB = fileURLToPath(new URL('../lib/index.js', import.meta.url));
const QUEUED = 50_000;

async function roundTrips(subscribe, send, n) {
  let wake;
  const unsubscribe = subscribe(() => wake());
  const times = [];
  for (let i = 0; i < n; i++) {
    const arrived = new Promise((resolve) => (wake = resolve));
    const t0 = process.hrtime.bigint();
    send();
    await arrived;
    times.push(Number(process.hrtime.bigint() - t0));
  }
  unsubscribe();
  return median(times);
}

async function roundTrip({ rounds = 15, perRound = 500 } = {}) {
  const node = (fn) => {
    process.on('SIGUSR2', fn);
    return () => process.removeListener('SIGUSR2', fn);
  };
  const mine = (fn) => onSignal('SIGUSR2', fn);
  const sendNode = () => process.kill(process.pid, 'SIGUSR2');
  const sendMine = () => kill(process.pid, 'SIGUSR2');
  // Warm-up both paths.
  await roundTrips(node, sendNode, 200);
  await roundTrips(mine, sendMine, 200);
  const samples = { node: [], sigkit: [] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? ['sigkit', 'node'] : ['node', 'sigkit'];
    for (const side of order) {
      samples[side].push(side === 'node' ? await roundTrips(node, sendNode, perRound) : await roundTrips(mine, sendMine, perRound));
    }
  }
  return { node: median(samples.node), sigkit: median(samples.sigkit) };
}

async function crossProcessRate(count) {
  const sig = signalNumber('SIGRTMIN+1');
  let received = 0;
  let first = 0n;
  let last = 0n;
  let done;
  const all = new Promise((resolve) => (done = resolve));
  let max = -1;
  let outOfOrder = 0;
  const before = signalStats('SIGRTMIN+1');
  const off = onSignal('SIGRTMIN+1', (e) => {
    const now = process.hrtime.bigint();
    // Arrived after a value sent later: handlers on two threads finished in the other order.
    if (e.value < max) outOfOrder++;
    else max = e.value;
    if (received === 0) first = now;
    last = now;
    if (++received === count) done();
  });
  const senderCode = `
    const { sigqueue } = require(${JSON.stringify(LIB)});
    const [pid, sig, count] = process.argv.slice(1).map(Number);
    let eagain = 0;
    for (let i = 0; i < count; i++) {
      for (;;) {
        try { sigqueue(pid, sig, i); break; } catch (e) { if (e.code !== 'EAGAIN') throw e; eagain++; }
      }
    }
    process.stdout.write(String(eagain));
  `;
  const child = spawn(process.execPath, ['-e', senderCode, String(process.pid), String(sig), String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const timeout = setTimeout(() => done(), 20_000); // a loss shows as received < count
  await all;
  clearTimeout(timeout);
  await exited;
  off();
  const after = signalStats('SIGRTMIN+1');
  return {
    received,
    dropped: after.dropped - before.dropped,
    perSecond: (received - 1) / (Number(last - first) / 1e9),
    outOfOrder,
    eagain: Number(out) || 0,
  };
}

async function burst(count) {
  let mine = 0;
  const off = onSignal('SIGRTMIN+2', () => mine++);
  for (let i = 0; i < count; i++) sigqueue(process.pid, 'SIGRTMIN+2', i);
  while (mine < count) await new Promise((resolve) => setTimeout(resolve, 1));
  off();

  let node = 0;
  let sentinel = false;
  const onUsr2 = () => node++;
  const onWinch = () => (sentinel = true);
  process.on('SIGUSR2', onUsr2);
  process.on('SIGWINCH', onWinch);
  for (let i = 0; i < count; i++) process.kill(process.pid, 'SIGUSR2');
  while (node === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  await new Promise((resolve) => setImmediate(resolve)); // libuv drains its pipe in one go
  process.kill(process.pid, 'SIGWINCH');
  while (!sentinel) await new Promise((resolve) => setTimeout(resolve, 1));
  process.removeListener('SIGUSR2', onUsr2);
  process.removeListener('SIGWINCH', onWinch);
  return { sigkit: mine, node };
}

export async function rows() {
  // Neither side's listener holds the loop open: this timer does.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    const rt = await roundTrip();
    const ratio = rt.sigkit / rt.node;
    const rates = [];
    // 50,000 a run: within one ring (65,536), so a run measures the rate,
    // not how far a flood may outrun the JS thread (see the README).
    for (let i = 0; i < 5; i++) rates.push(await crossProcessRate(QUEUED));
    const rate = rates.sort((a, b) => a.perSecond - b.perSecond)[2];
    const allArrived = rates.every((r) => r.received === QUEUED && r.dropped === 0);
    const outOfOrder = median(rates.map((r) => r.outOfOrder));
    const b = await burst(10_000);
    return [
      {
        benchmark: 'signal round trip (kill own pid -> listener), median µs',
        sigkit: fmt(rt.sigkit / 1000, 1),
        peer: '`process.on` (no siginfo)',
        peerValue: fmt(rt.node / 1000, 1),
        ratio: `${fmt(ratio, 2)}x the time`,
        target: '<= 1.5x',
        ok: ratio <= 1.5,
      },
      {
        benchmark: 'queued SIGRTMIN+1 from another process, received/s',
        sigkit: `${fmt(rate.perSecond)} (median of 5 runs of ${fmt(QUEUED)}; ${allArrived ? 'all arrived, 0 dropped' : 'LOSS'}; ${fmt(outOfOrder)} out of order)`,
        peer: '`process.on`',
        peerValue: 'cannot receive realtime signals',
        ratio: 'n/a',
        target: 'reported',
        ok: allArrived,
      },
      {
        benchmark: 'self-sent burst of 10,000 while JS is busy, listener calls',
        sigkit: fmt(b.sigkit),
        peer: '`process.on`',
        peerValue: fmt(b.node),
        ratio: `${fmt(b.sigkit / b.node, 2)}x`,
        target: 'all 10,000',
        ok: b.sigkit === 10_000,
      },
    ];
  } finally {
    clearInterval(keepAlive);
  }
}
