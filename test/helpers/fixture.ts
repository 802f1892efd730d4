/**
 * Runs a Node fixture from test/fixtures in its own process and parses the
 * one JSON line it prints. Fixtures that change process-wide state (the
 * subreaper bit, SIGCHLD) run this way so that the test runner never does.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { FIXTURE_SRC, ROOT } from './paths.js';

export const LIB = path.join(ROOT, 'lib', 'index.js');

/**
 * `prefix` runs the fixture under another command (e.g. `unshare ...`);
 * `nodeArgs` go to node itself (e.g. `--expose-gc`).
 */
export function runFixture<T>(name: string, args: string[] = [], opts: { prefix?: string[]; nodeArgs?: string[]; timeoutMs?: number } = {}): Promise<T> {
  const { prefix = [], nodeArgs = [], timeoutMs = 60_000 } = opts;
  const argv = [...prefix, process.execPath, ...nodeArgs, path.join(FIXTURE_SRC, name), LIB, ...args];
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      let parsed: T & { error?: string };
      try {
        parsed = JSON.parse(line) as T & { error?: string };
      } catch {
        reject(new Error(`${name} printed no JSON (${error?.message ?? 'exit 0'}): ${stdout}${stderr}`));
        return;
      }
      if (parsed.error !== undefined) reject(new Error(`${name}: ${parsed.error}\n${stderr}`));
      else if (error) reject(new Error(`${name}: ${error.message}\n${stderr}`));
      else resolve(parsed);
    });
  });
}
