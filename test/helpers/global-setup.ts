/**
 * Runs once before any test file, so nothing below races a test:
 * 1. The addon in build/Release (what the suite loads), rebuilt with
 *    `npm run build:native` (node-gyp, this machine's compiler, -Werror)
 *    when missing, older than a native source, or configured without
 *    -Werror (`npm ci` builds it without, as a user's install does).
 * 2. The four prebuilds (`npm run prebuild:all`, Zig from the
 *    devDependency) when one is missing or stale and the toolchain runs
 *    here. Without it, prebuilds/ is used as found, or the tests that need
 *    it skip; test files read which through inject('prebuilds').
 * 3. Builds the C fixtures that report what a signal carried (si_code,
 *    sender, payload), which no Node process can see.
 * 3. Marks the run (test/helpers/teardown.ts) and returns the teardown that
 *    fails the run if a process it started or a temp dir it made remains.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { FIXTURE_BIN, FIXTURE_SRC, ROOT } from './paths.js';
import { checkRun, startRun } from './teardown.js';

/** What global setup did about prebuilds/, for the tests that need it. */
export interface PrebuildStatus {
  /** rebuilt now, up to date, used as found (no toolchain to rebuild), or none */
  state: 'rebuilt' | 'fresh' | 'found' | 'none';
  /** Why they were not built here (no toolchain); empty when they were. */
  reason: string;
  /** The files prebuild:all writes, relative to the project root. */
  expected: string[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    prebuilds: PrebuildStatus;
  }
}

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

function buildAddon(): void {
  const sources = Math.max(newest(path.join(ROOT, 'native')), mtime(path.join(ROOT, 'binding.gyp')));
  const addon = path.join(ROOT, 'build', 'Release', 'sigkit.node');
  let werror = false;
  try {
    werror = /-Werror\b/.test(readFileSync(path.join(ROOT, 'build', 'sigkit.target.mk'), 'utf8'));
  } catch {
    // not configured yet
  }
  if (werror && mtime(addon) >= sources) return;
  execFileSync('npm', ['run', '--silent', 'build:native'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function buildPrebuilds(): Promise<PrebuildStatus> {
  const script = path.join(ROOT, 'scripts', 'prebuild-all.mjs');
  const lib = await import(script);
  const expected: string[] = lib.expectedOutputs();
  const inputs = Math.max(...(lib.inputFiles() as string[]).map(mtime));
  const stale = expected.some((f) => mtime(path.join(ROOT, f)) < inputs);
  const { zig, reason } = lib.findZig() as { zig: string | null; reason: string | null };
  if (!stale) return { state: 'fresh', reason: '', expected };
  if (zig) {
    const started = Date.now();
    execFileSync(process.execPath, [script], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    process.stderr.write(`sigkit test setup: built ${expected.length} prebuilds (npm run prebuild:all) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return { state: 'rebuilt', reason: '', expected };
  }
  const found = expected.filter((f) => existsSync(path.join(ROOT, f)));
  const state = found.length === expected.length ? 'found' : 'none';
  process.stderr.write(`sigkit test setup: prebuilds not built here: ${reason}. ` +
    (state === 'found' ? 'Testing the prebuilds/ already present.\n' : 'The tests that need them skip.\n'));
  return { state, reason: reason ?? '', expected };
}

/** The part of vitest's TestProject used here. */
interface Project {
  provide(key: 'prebuilds', value: PrebuildStatus): void;
}

export default async function setup(project: Project): Promise<() => Promise<void>> {
  buildAddon();
  project.provide('prebuilds', await buildPrebuilds());
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
