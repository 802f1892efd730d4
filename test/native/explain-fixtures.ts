/**
 * Shared by the explain and watch tests: builds their C fixtures into a
 * sigkit-* temp dir, and starts them as children that report over stdout.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { FIXTURE_SRC } from '../helpers/paths.js';
import { LineReader, start, stopAll } from '../helpers/procs.js';

export interface Built {
  dir: string;
  target: string;
  counter: string;
  remove(): void;
}

export function buildFixtures(): Built {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sigkit-explain-'));
  const cc = (name: string, extra: string[] = []) => {
    const out = path.join(dir, name);
    execFileSync('cc', ['-O1', '-Wall', '-Wextra', '-Werror', ...extra, '-o', out, path.join(FIXTURE_SRC, `${name}.c`)], { stdio: 'inherit' });
    return out;
  };
  return {
    dir,
    target: cc('explain-target', ['-pthread']),
    counter: cc('watch-counter'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Started {
  child: ChildProcess;
  pid: number;
  lines: LineReader;
  /** Waits for a line matching `re` (other lines are skipped). */
  expect(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

// Fixtures that report another pid than the child's (a grandchild under sh,
// a namespace init under unshare): [pid, start time] to end in stopFixtures.
const others: Array<[number, string]> = [];

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Also end `pid` (a grandchild the test found) in stopFixtures. */
export function remember(pid: number): void {
  const st = startTimeOf(pid);
  if (st !== undefined) others.push([pid, st]);
}

/** SIGKILLs every process startFixture saw that is not a direct child (still the same process), then stopAll(). */
export function stopFixtures(): void {
  for (const [pid, start] of others.splice(0)) {
    if (startTimeOf(pid) === start) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  stopAll();
}

/** Starts `file args` (optionally under a prefix command) and waits for "ready <pid>". */
export async function startFixture(file: string, args: string[], opts: { prefix?: string[]; detached?: boolean } = {}): Promise<Started> {
  const argv = [...(opts.prefix ?? []), file, ...args];
  const child = start(argv[0]!, argv.slice(1), { detached: opts.detached ?? false });
  const lines = new LineReader(child.stdout!);
  const expect = async (re: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = await lines.next(Math.max(1, deadline - Date.now()));
      const m = re.exec(line);
      if (m) return m;
    }
  };
  const m = await expect(/^ready (\d+)$/);
  const pid = Number(m[1]);
  if (pid !== child.pid && pid !== 1) {
    const st = startTimeOf(pid);
    if (st !== undefined) others.push([pid, st]);
  }
  return { child, pid, lines, expect };
}

/** A field of /proc/<pid>/status, or undefined when gone. */
export function statusField(pid: number, key: string): string | undefined {
  try {
    const m = new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1]?.trim();
  } catch {
    return undefined;
  }
}

/** Whether signal n is pending for the process or any of its threads' main (ShdPnd | SigPnd). */
export function isPending(pid: number, n: number): boolean {
  const bit = 1n << BigInt(n - 1);
  const mask = (k: string) => BigInt(`0x${statusField(pid, k) ?? '0'}`);
  return ((mask('ShdPnd') | mask('SigPnd')) & bit) !== 0n;
}
