/**
 * Builds the C fixtures once per test run into build/fixtures (git-ignored).
 * They report what a signal carried (si_code, sender, payload), which no
 * Node process can see.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { FIXTURE_BIN, FIXTURE_SRC } from './paths.js';

export default function setup(): void {
  mkdirSync(FIXTURE_BIN, { recursive: true });
  for (const name of ['sigreceiver']) {
    const src = `${FIXTURE_SRC}/${name}.c`;
    const out = `${FIXTURE_BIN}/${name}`;
    let fresh = false;
    try {
      fresh = statSync(out).mtimeMs >= statSync(src).mtimeMs;
    } catch {
      fresh = false;
    }
    if (!fresh) execFileSync('cc', ['-O1', '-Wall', '-Wextra', '-Werror', '-o', out, src], { stdio: 'inherit' });
  }
}
