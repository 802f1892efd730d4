/**
 * A suite that leaves nothing behind, checked at the end of every run.
 *
 * At global setup, `startRun()` marks the run: `SIGKIT_TEST_RUN=<random>` in
 * the environment of the test runner, inherited by every process the suite
 * starts (test files, fixtures, shells, their children and orphans), and a
 * private TMPDIR (`<tmpdir>/sigkit-run-<random>`), so that every temp dir a
 * test makes with `os.tmpdir()` lands inside it, apart from other suites that
 * run on this machine at the same time.
 *
 * At teardown, `checkRun()` fails the run (exit code 1) when
 * - a process with the marker is still alive (our own uid only, read from
 *   /proc/<pid>/environ: the kernel's copy of the environment it was started
 *   with). It waits a little for processes that are already on their way
 *   out, then reports each survivor (pid, ppid, state, comm, cmdline) and ends
 *   it with SIGKILL through a pidfd opened and re-checked first, so nothing
 *   without the marker, and no recycled pid, is ever signalled;
 * - a `sigkit-*` temp dir remains in the run's TMPDIR (reported, then removed
 *   with the run dir).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const RUN_ENV = 'SIGKIT_TEST_RUN';

export interface Survivor {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
  cmdline: string;
  startTime: string;
}

/** Marks this run; returns its id. Call once, in the global setup, before any test starts. */
export function startRun(): string {
  const id = randomBytes(8).toString('hex');
  const dir = path.join(tmpdir(), `sigkit-run-${id}`);
  mkdirSync(dir, { mode: 0o700 });
  process.env[RUN_ENV] = id;
  process.env.SIGKIT_TEST_TMPDIR = dir;
  process.env.TMPDIR = dir;
  return id;
}

function read(file: string, encoding: BufferEncoding = 'latin1'): string | undefined {
  try {
    return readFileSync(file, encoding);
  } catch {
    return undefined;
  }
}

/** stat fields after the comm: [state, ppid, ..., starttime at index 19]. */
function statOf(pid: number): { comm: string; state: string; ppid: number; startTime: string } | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const close = stat.lastIndexOf(')');
  const rest = stat.slice(close + 2).split(' ');
  return { comm: stat.slice(stat.indexOf('(') + 1, close), state: rest[0]!, ppid: Number(rest[1]), startTime: rest[19]! };
}

function hasMarker(pid: number, marker: string): boolean {
  const env = read(`/proc/${pid}/environ`);
  return env !== undefined && env.split('\0').includes(marker);
}

/**
 * Every live process of our uid started with this run's marker (zombies have
 * no environ and are not listed), except children of `skipChildrenOf`.
 */
export function survivors(id: string, skipChildrenOf?: number): Survivor[] {
  const marker = `${RUN_ENV}=${id}`;
  const uid = process.getuid!();
  const out: Survivor[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      if (statSync(`/proc/${pid}`).uid !== uid) continue; // only our own uid's processes
    } catch {
      continue; // gone
    }
    if (!hasMarker(pid, marker)) continue;
    const st = statOf(pid);
    if (st === undefined || st.state === 'Z' || st.state === 'X') continue;
    // vitest runs the global teardown before it closes its pool: its own
    // workers (children of this process) are still there, and are not leaks.
    if (skipChildrenOf !== undefined && st.ppid === skipChildrenOf) continue;
    const cmdline = (read(`/proc/${pid}/cmdline`, 'utf8') ?? '').split('\0').filter(Boolean).join(' ');
    out.push({ pid, ppid: st.ppid, state: st.state, comm: st.comm, cmdline, startTime: st.startTime });
  }
  return out;
}

/** The `sigkit-*` entries left in the run's TMPDIR. */
export function leftoverTempDirs(): string[] {
  const dir = process.env.SIGKIT_TEST_TMPDIR;
  if (!dir) return [];
  try {
    return readdirSync(dir).filter((f) => f.startsWith('sigkit-')).map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/**
 * Ends a survivor: a pidfd first (it pins the process), then the marker and
 * start time are checked again, then SIGKILL through the pidfd. Returns
 * whether it was signalled.
 */
async function endSurvivor(s: Survivor, id: string): Promise<boolean> {
  const { openProcess } = await import('../../src/index.js');
  let handle: ReturnType<typeof openProcess> | undefined;
  try {
    handle = openProcess(s.pid);
    // The pidfd names the process we saw only if it is still the one with
    // this start time and this marker.
    if (statOf(s.pid)?.startTime !== s.startTime || !hasMarker(s.pid, `${RUN_ENV}=${id}`)) return false;
    handle.kill('SIGKILL');
    return true;
  } catch {
    return false; // gone meanwhile
  } finally {
    handle?.close();
  }
}

/** Waits up to `graceMs` for survivors to go on their own (processes already exiting). */
async function settle(id: string, graceMs: number): Promise<Survivor[]> {
  const deadline = Date.now() + graceMs;
  let left = survivors(id, process.pid);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = survivors(id, process.pid);
  }
  return left;
}

/**
 * The end-of-run check: throws (failing `npm test`) when a process of this
 * run is still alive or a sigkit-* temp dir remains; ends such processes and
 * removes the run's TMPDIR either way.
 */
export async function checkRun(id: string, graceMs = 3000): Promise<void> {
  const left = await settle(id, graceMs);
  const dirs = leftoverTempDirs();
  const lines: string[] = [];
  for (const s of left) {
    const ended = await endSurvivor(s, id);
    lines.push(`  pid ${s.pid} (ppid ${s.ppid}, state ${s.state}) ${s.comm}: ${s.cmdline}${ended ? '  [ended: SIGKILL]' : ''}`);
  }
  const runDir = process.env.SIGKIT_TEST_TMPDIR;
  if (runDir) rmSync(runDir, { recursive: true, force: true });
  const problems: string[] = [];
  if (left.length > 0) problems.push(`${left.length} process(es) started by the suite outlived it:\n${lines.join('\n')}`);
  if (dirs.length > 0) problems.push(`${dirs.length} temp dir(s) left behind (removed now):\n${dirs.map((d) => `  ${d}`).join('\n')}`);
  if (problems.length > 0) {
    // vitest logs a teardown error but keeps its exit code: set it ourselves.
    process.exitCode = 1;
    throw new Error(`the suite left things behind (test/helpers/teardown.ts)\n${problems.join('\n')}`);
  }
}
