// Measurement helpers shared by the bench suites. Each suite measures sigkit
// and its peer side by side in this one process run, interleaving rounds so
// that machine noise hits both alike, and reports medians.
import { cpus, release } from 'node:os';

/** Median of a list of numbers. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Calls per second of each function, measured in `rounds` interleaved rounds
 * of `iterations` calls after a warm-up. Returns the median rate per name.
 */
/** Median ms of `calls` awaited calls of `fn`, after `warmup` unmeasured ones. */
export async function perCallMs(fn, calls, warmup = 0) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

export function compareRates(fns, { rounds = 15, iterations = 100_000, warmup = 50_000 } = {}) {
  const names = Object.keys(fns);
  for (const name of names) {
    const fn = fns[name];
    for (let i = 0; i < warmup; i++) fn();
  }
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    // Alternate the order so neither side always runs second.
    const order = r % 2 ? [...names].reverse() : names;
    for (const name of order) {
      const fn = fns[name];
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) fn();
      const ns = Number(process.hrtime.bigint() - t0);
      samples[name].push((iterations * 1e9) / ns);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(samples[n])]));
}

/** One line naming the machine the figures come from. */
export function machine() {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  return `${cpu}, ${cpus().length} cores, Linux ${release()}, Node ${process.version}`;
}

/** Formats a number with thousands separators and `digits` decimals. */
export function fmt(n, digits = 0) {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Renders rows { benchmark, sigkit, peer, peerValue, ratio, target } as a Markdown table. */
export function table(rows) {
  const head = ['benchmark', 'sigkit', 'peer', 'peer result', 'sigkit vs peer', 'target'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${[r.benchmark, r.sigkit, r.peer, r.peerValue, r.ratio, r.target ?? ''].join(' | ')} |`);
  return lines.join('\n');
}
