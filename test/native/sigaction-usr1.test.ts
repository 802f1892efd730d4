/**
 * SIGUSR1 starts Node's inspector by default. A sigkit listener takes it
 * over, as a process.on('SIGUSR1') listener does, and gives it back after.
 * Runs in a child process: it changes that process's signal state.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

describe('SIGUSR1 and the inspector', () => {
  it('a sigkit listener receives SIGUSR1 without starting the inspector; after it, the inspector handler is back', async () => {
    const script = `
      const s = require(${JSON.stringify(path.join(ROOT, 'lib', 'index.js'))});
      const before = s.getDisposition('SIGUSR1');
      const got = [];
      const off = s.onSignal('SIGUSR1', (e) => got.push(e.code), { ref: true });
      process.kill(process.pid, 'SIGUSR1');
      setTimeout(() => {
        off();
        console.log(JSON.stringify({ before, got, after: s.getDisposition('SIGUSR1') }));
      }, 200);
    `;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-e', script], { timeout: 10_000 });
    expect(JSON.parse(stdout)).toEqual({ before: 'handler', got: ['SI_USER'], after: 'handler' });
    expect(stderr).not.toMatch(/Debugger listening/);
  });
});
