/**
 * -Werror is the project's, not the user's: binding.gyp as published
 * compiles without it (a newer compiler's new warning must not break
 * `npm install`), and the gyp variable `werror` turns it on for the
 * developers' builds (`npm run build:native`), the test setup and CI.
 * Checked in the Makefile node-gyp generates.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

const work = mkdtempSync(path.join(tmpdir(), 'sigkit-werror-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** node-gyp's directory of Node headers, as npm is configured (nodedir) or beside this node. */
function nodedir(): string {
  return process.env.npm_config_nodedir || path.resolve(process.execPath, '..', '..');
}

/** The compiler flags node-gyp configure writes for binding.gyp with `args`, per target (the addon, the exec helper). */
function flagsByTarget(args: string[]): string[] {
  const dir = mkdtempSync(path.join(work, 'gyp-'));
  copyFileSync(path.join(ROOT, 'binding.gyp'), path.join(dir, 'binding.gyp'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const gyp = path.join(ROOT, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'npm_config_werror'));
  execFileSync(process.execPath, [gyp, 'configure', `--nodedir=${nodedir()}`, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  // Every target's makefile: the addon's and the exec helper's.
  return ['sigkit.target.mk', 'sigkit-exec.target.mk'].map((name) => {
    const mk = readFileSync(path.join(dir, 'build', name), 'utf8');
    return (/^CFLAGS_CC_Release := \\\n([\s\S]*?)\n\n/m.exec(mk)?.[1] ?? '') + (/^CFLAGS_Release := \\\n([\s\S]*?)\n\n/m.exec(mk)?.[1] ?? '');
  });
}

function configuredFlags(args: string[]): string {
  return flagsByTarget(args).join('\n');
}

describe('-Werror is opt-in', () => {
  it('binding.gyp as a user\'s npm install configures it: -Wall -Wextra, no -Werror', () => {
    const flags = configuredFlags([]);
    expect(flags).toContain('-Wextra');
    expect(flags).not.toContain('-Werror');
  }, 150_000);

  it('--werror=true (npm run build:native) adds it, to the exec helper too', () => {
    for (const flags of flagsByTarget(['--werror=true'])) expect(flags).toContain('-Werror');
  }, 150_000);

  it('the build the test suite loads was configured with it', () => {
    const scripts = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts;
    expect(scripts['build:native']).toContain('--werror=true');
    expect(readFileSync(path.join(ROOT, 'build', 'sigkit.target.mk'), 'utf8')).toMatch(/-Werror\b/);
  });
});
