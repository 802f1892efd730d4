/**
 * Runs once before any test file, so nothing below races a test:
 * 1. `npm run prebuildify` when the prebuild is missing or older than a
 *    native source. It runs `node-gyp rebuild` and moves the result into
 *    prebuilds/; the same binary is copied back to build/Release so that
 *    both load paths hold the current C++.
 * 2. Builds the C fixtures that report what a signal carried (si_code,
 *    sender, payload), which no Node process can see.
 * 3. Marks the run (test/helpers/teardown.ts) and returns the teardown that
 *    fails the run if a process it started or a temp dir it made remains.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { FIXTURE_BIN, FIXTURE_SRC, PREBUILD_DIR, ROOT } from './paths.js';
import { checkRun, startRun } from './teardown.js';

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function newest(dir: string, filter: (f: string) => boolean = () => true): number {
  if (!existsSync(dir)) return 0;
  return Math.max(0, ...readdirSync(dir).filter(filter).map((f) => mtime(path.join(dir, f))));
}

export default function setup(): () => Promise<void> {
  const sources = Math.max(newest(path.join(ROOT, 'native')), mtime(path.join(ROOT, 'binding.gyp')));
  if (newest(PREBUILD_DIR, (f) => f.endsWith('.node')) < sources) {
    execFileSync('npm', ['run', '--silent', 'prebuildify'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    const built = readdirSync(PREBUILD_DIR).find((f) => f.endsWith('.node'));
    if (built) {
      mkdirSync(path.join(ROOT, 'build', 'Release'), { recursive: true });
      copyFileSync(path.join(PREBUILD_DIR, built), path.join(ROOT, 'build', 'Release', 'sigkit.node'));
    }
  }
  mkdirSync(FIXTURE_BIN, { recursive: true });
  for (const name of ['sigreceiver', 'zombie-parent', 'named', 'sigsender', 'safety-recorder', 'seccomp-launcher']) {
    const src = path.join(FIXTURE_SRC, `${name}.c`);
    const out = path.join(FIXTURE_BIN, name);
    if (mtime(out) < mtime(src)) execFileSync('cc', ['-O1', '-Wall', '-Wextra', '-Werror', '-o', out, src], { stdio: 'inherit' });
  }
  // Last: the builds above are not the suite's processes.
  const run = startRun();
  return () => checkRun(run);
}
