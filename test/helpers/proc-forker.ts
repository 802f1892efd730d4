/**
 * Builds the C fixtures of the /proc tests (test/fixtures/proc-*.c) into a
 * temp dir of their own, and starts proc-forker: N sleeping children in one
 * group, torn down (killpg + reaped by the forker itself) by closing its stdin.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FIXTURE_SRC } from './paths.js';
import { LineReader } from './procs.js';

/** Compiles test/fixtures/<name>.c; `cleanup` removes the temp dir. */
export function buildProcFixture(name: string): { bin: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'sigkit-proc-'));
  const bin = path.join(dir, name);
  execFileSync('cc', ['-O1', '-Wall', '-Wextra', '-Werror', '-o', bin, path.join(FIXTURE_SRC, `${name}.c`)], { stdio: 'inherit' });
  return { bin, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Forker {
  pid: number;
  /** The children's own group (the forker is not in it). */
  pgid: number;
  child: ChildProcess;
  /** Ends the children and waits until the forker has reaped them all. */
  stop(): Promise<void>;
}

/** Starts `count` sleeping children and waits (generous deadline) until all exist. */
export async function startForker(bin: string, count: number, timeoutMs = 60_000): Promise<Forker> {
  const child = spawn(bin, [String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new LineReader(child.stdout!).next(timeoutMs);
  const m = /^ready (\d+) (\d+)$/.exec(line);
  if (!m) {
    child.kill('SIGKILL');
    throw new Error(`proc-forker said ${JSON.stringify(line)}`);
  }
  const pgid = Number(m[1]);
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      child.stdin!.end();
      const timer = setTimeout(() => {
        // Only our own group, and only while the forker that made it is alive.
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          // gone already
        }
        child.kill('SIGKILL');
      }, 30_000);
      await exit;
      clearTimeout(timer);
    })());
  return { pid: child.pid!, pgid, child, stop };
}
