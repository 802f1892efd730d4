/** Runs the sigkit CLI as a user would: `node lib/cli/main.js ...` in a child process. */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from './paths.js';

export const CLI = path.join(ROOT, 'lib', 'cli', 'main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function sigkit(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: opts.timeoutMs ?? 20_000, env: { ...process.env, NO_COLOR: '1', ...opts.env } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
