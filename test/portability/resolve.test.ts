/**
 * node-gyp-build (the package's loader) picks the prebuild for this libc
 * and arch. It decides musl by /etc/alpine-release (fs.existsSync, once,
 * when it is first required) or the LIBC variable, and the arch by
 * npm_config_arch or os.arch(). Each case runs in a child node, over a
 * package tree holding the four prebuild names (empty files: only the
 * choice is under test here; loading is test/native/package.test.ts's).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

const pkg = mkdtempSync(path.join(tmpdir(), 'sigkit-resolve-'));
afterAll(() => rmSync(pkg, { recursive: true, force: true }));

writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'sigkit', version: '0.0.0' }));
for (const dir of ['linux-x64', 'linux-arm64']) {
  mkdirSync(path.join(pkg, 'prebuilds', dir), { recursive: true });
  for (const libc of ['glibc', 'musl']) writeFileSync(path.join(pkg, 'prebuilds', dir, `sigkit.${libc}.node`), '');
}

/** Where node-gyp-build resolves `pkg` to, in a child with `env`, after `preamble` ran. */
function resolved(env: Record<string, string>, preamble = ''): string {
  const script = `${preamble}\nprocess.stdout.write(require(${JSON.stringify(require.resolve('node-gyp-build', { paths: [ROOT] }))}).resolve(${JSON.stringify(pkg)}));`;
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['LIBC', 'npm_config_arch', 'npm_config_platform', 'SIGKIT_PREBUILD'].includes(k)));
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...clean, PREBUILDS_ONLY: '1', ...env } });
  return path.relative(pkg, out);
}

/** Makes node-gyp-build see /etc/alpine-release, as on Alpine, without touching the host's /etc. */
const FAKE_ALPINE = [
  "const fs = require('fs'); const real = fs.existsSync;",
  "fs.existsSync = (p) => p === '/etc/alpine-release' || real(p);",
].join('\n');

describe('node-gyp-build picks the prebuild', () => {
  const host = process.arch;

  it('glibc on this (glibc) machine', () => {
    expect(resolved({})).toBe(path.join('prebuilds', `linux-${host}`, 'sigkit.glibc.node'));
  });

  it('musl when /etc/alpine-release exists', () => {
    expect(resolved({}, FAKE_ALPINE)).toBe(path.join('prebuilds', `linux-${host}`, 'sigkit.musl.node'));
  });

  it('musl or glibc as LIBC says, which wins over /etc/alpine-release', () => {
    expect(resolved({ LIBC: 'musl' })).toBe(path.join('prebuilds', `linux-${host}`, 'sigkit.musl.node'));
    expect(resolved({ LIBC: 'glibc' }, FAKE_ALPINE)).toBe(path.join('prebuilds', `linux-${host}`, 'sigkit.glibc.node'));
  });

  it.each([
    ['arm64', 'glibc'], ['arm64', 'musl'], ['x64', 'glibc'], ['x64', 'musl'],
  ])('linux-%s %s for that arch and libc', (arch, libc) => {
    expect(resolved({ npm_config_arch: arch, LIBC: libc })).toBe(path.join('prebuilds', `linux-${arch}`, `sigkit.${libc}.node`));
  });

  it('none for an arch without a prebuild (the check above can fail)', () => {
    expect(() => resolved({ npm_config_arch: 'riscv64' })).toThrow(/No native build was found for platform=linux arch=riscv64/);
  });
});
