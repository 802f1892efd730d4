// node bench/spawn.mjs [runs]: how soon a spawnProcess tree is gone after
// SIGKILL of its Node parent (test/fixtures/sup-parent.cjs: sh with two
// grandchildren), per option set; pidfd exit events, ms. Not part of
// `npm run bench` (no peer does this), run on its own.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const lib = path.join(root, 'lib', 'index.js');
const fixture = path.join(root, 'test', 'fixtures', 'sup-parent.cjs');
const s = createRequire(import.meta.url)(lib);
const runs = Number(process.argv[2] ?? 20);

async function once(opts, daemon) {
  const p = spawn(process.execPath, [fixture, lib, JSON.stringify(opts), 'main'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...(daemon ? { SUP_DAEMON: '1' } : {}) } });
  const info = JSON.parse(await new Promise((r) => p.stdout.once('data', (d) => r(String(d)))));
  let kids = [];
  while (kids.length < 2) {
    kids = s.descendants(info.pid).filter((x) => x.comm === 'sleep');
    await new Promise((r) => setTimeout(r, 2));
  }
  const hs = [info.pid, ...kids.map((k) => k.pid)].map((x) => s.openProcess(x));
  const t0 = performance.now();
  p.kill('SIGKILL');
  const all = await Promise.all(hs.map((h) => h.exited({ timeoutMs: 5000 }).then(() => performance.now() - t0, () => Infinity)));
  for (const h of hs) {
    if (h.isAlive()) h.kill('SIGKILL');
    h.close();
  }
  return Math.max(...all);
}

const pct = (xs, q) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];
for (const [name, opts, daemon] of [
  ['dieWithParent + killOnExit (group)', { dieWithParent: true, killOnExit: true }, false],
  ['killOnExit (group, setsid daemon)', { killOnExit: true }, true],
  ['dieWithParent + cgroup + killOnExit (setsid daemon)', { dieWithParent: 'SIGTERM', cgroup: true, killOnExit: true }, true],
]) {
  const xs = [];
  for (let i = 0; i < runs; i++) xs.push(await once(opts, daemon));
  xs.sort((a, b) => a - b);
  console.log(`${name.padEnd(52)} median ${pct(xs, 0.5).toFixed(1)} ms  p90 ${pct(xs, 0.9).toFixed(1)} ms  max ${xs.at(-1).toFixed(1)} ms  (${runs} runs)`);
}
