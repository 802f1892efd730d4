/** The addon in worker threads: it loads per thread and works there. */
import { once } from 'node:events';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';
import { exited, start, stopAll } from '../helpers/procs.js';

afterEach(() => stopAll());

describe('worker threads', () => {
  it('four workers load the addon, signal a child and report SyscallErrors', async () => {
    const child = start('sleep', ['30']);
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const s = require(workerData.lib);
      s.kill(workerData.pid, 0);
      let code;
      try { s.kill(2147483647, 0); } catch (e) { code = e.code; }
      parentPort.postMessage({ rtmin: s.Signal.SIGRTMIN, alive: s.isAlive(workerData.pid), code });
    `;
    const workers = Array.from({ length: 4 }, () => new Worker(code, { eval: true, workerData: { lib: path.join(ROOT, 'lib', 'index.js'), pid: child.pid } }));
    const exits = workers.map((w) => once(w, 'exit'));
    const results = await Promise.all(workers.map(async (w) => (await once(w, 'message'))[0]));
    for (const r of results) expect(r).toEqual({ rtmin: expect.any(Number), alive: true, code: 'ESRCH' });
    expect((await Promise.all(exits)).map(([code]) => code)).toEqual([0, 0, 0, 0]);
    // The last worker signals the child for real.
    const killer = new Worker(`require(${JSON.stringify(path.join(ROOT, 'lib', 'index.js'))}).kill(${child.pid}, 'SIGUSR1')`, { eval: true });
    expect((await once(killer, 'exit'))[0]).toBe(0);
    expect(await exited(child)).toEqual({ code: null, signal: 'SIGUSR1' });
  });
});
