import { isSyscallError } from '../../errors.js';
import { readProcess } from '../../proc.js';
import { waitForExit } from '../../wait.js';
import { CliError, EXIT, humanMs, json, parse, parseDuration, parsePid, printable, usageError, type Command } from '../io.js';

/** What `sigkit wait --json` prints. */
export interface WaitRecord {
  pid: number;
  /** True when the process is no longer running: it exited (a zombie counts), or no such pid exists. */
  exited: boolean;
  /** True when it was already gone (or a zombie) when the wait started. */
  alreadyExited: boolean;
  /** True when it is a zombie now: exited, but its parent has not reaped it yet. */
  zombie: boolean;
  /** The parent that must reap the zombie. */
  parent?: { pid: number; comm: string };
  /** True when the pid named no process at all (never existed, or exited and was reaped). */
  notFound: boolean;
  waitedMs: number;
  timeoutMs?: number;
}

/** The state of `pid` right now: `'gone'`, `'zombie'` (with its parent) or `'running'`. */
function stateOf(pid: number): { state: 'gone' } | { state: 'zombie'; parent: { pid: number; comm: string } } | { state: 'running' } {
  let info;
  try {
    info = readProcess(pid);
  } catch (e) {
    if (isSyscallError(e) && e.code === 'ESRCH') return { state: 'gone' };
    throw e;
  }
  if (info.state !== 'Z' && info.state !== 'X') return { state: 'running' };
  let comm = '?';
  try {
    comm = readProcess(info.ppid).comm;
  } catch {
    // the parent went away between the two reads
  }
  return { state: 'zombie', parent: { pid: info.ppid, comm } };
}

export const wait: Command = {
  name: 'wait',
  summary: 'wait until a process exits (any process, not only a child)',
  usage: `sigkit wait PID [--timeout T]

  Waits until PID exits, without polling: a pidfd wakes it at the exit
  itself. Works for any process, not only children of the caller.
  A zombie (exited, not yet reaped by its parent) counts as exited, and
  the output says so and names the parent that must reap it. A PID that
  names no process (or a thread id) fails at once with exit 1, "no such
  process", as in every sigkit command.
  -t, --timeout T   give up after T (500ms, 5s, 2m; a bare number is seconds)
  --json            one record: { pid, exited, alreadyExited, zombie, parent?,
                    notFound, waitedMs, timeoutMs? }

  Exit 0 once PID is not running, 1 when there is no such process or the
  timeout passed first (it is still running), 2 on bad usage. The exit status of a process that is not
  your child is not shown: only its parent can read it.`,
  async run(args, io) {
    const { values, positionals } = parse(args, { timeout: { type: 'string', short: 't' } });
    if (positionals.length > 1) throw usageError(`give one PID, not ${positionals.length}`);
    const pid = parsePid(positionals[0]);
    if (pid === process.pid) throw usageError(`PID ${pid} is this sigkit process itself`);
    const timeoutMs = values.timeout === undefined ? undefined : parseDuration(values.timeout, '--timeout');
    const before = stateOf(pid);
    const t0 = performance.now();
    let exited = before.state !== 'running';
    if (!exited) {
      try {
        exited = await waitForExit(pid, timeoutMs === undefined ? undefined : { timeoutMs });
      } catch (e) {
        if (isSyscallError(e) && (e.code === 'EINVAL' || e.code === 'ENOENT')) {
          // pidfd_open refuses a thread id; a dying pid was re-checked by waitForExit.
          throw new CliError(`cannot wait for ${pid}: ${stateOf(pid).state === 'gone' ? 'no such process' : 'it is a thread, not a process'} (${e.code})`);
        }
        throw e;
      }
    }
    const waitedMs = Math.round(performance.now() - t0);
    const after = exited ? stateOf(pid) : before;
    const record: WaitRecord = {
      pid,
      exited,
      alreadyExited: before.state !== 'running',
      zombie: after.state === 'zombie',
      ...(after.state === 'zombie' ? { parent: after.parent } : {}),
      notFound: before.state === 'gone',
      waitedMs,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    };
    if (values.json) json(io, record);
    if (record.notFound) {
      if (values.json) return EXIT.FAILED;
      throw new CliError(`pid ${pid}: no such process`);
    }
    if (!exited) throw new CliError(`pid ${pid} is still running after ${humanMs(timeoutMs!)} (timeout)`);
    if (values.json) return EXIT.OK;
    const zombieNote = after.state === 'zombie'
      ? `it is a zombie: exited, not yet reaped by its parent ${after.parent.pid} (${printable(after.parent.comm)})`
      : '';
    if (before.state === 'zombie') io.out(`pid ${pid} has already exited: ${zombieNote}\n`);
    else io.out(`pid ${pid} exited after ${humanMs(waitedMs)}${zombieNote ? `; ${zombieNote}` : ''}\n`);
    return EXIT.OK;
  },
};
