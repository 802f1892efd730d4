import { spawn, type ChildProcess } from 'node:child_process';
import { isSyscallError } from '../../errors.js';
import { killpg } from '../../kill.js';
import { openProcess, type ProcessHandle } from '../../pidfd.js';
import { onSignal, type SignalEvent } from '../../sigaction.js';
import { exitOf, reapChildren, setChildSubreaper, startReaper, type ExitInfo } from '../../wait.js';
import { CliError, EXIT, humanMs, parse, parseDuration, usageError, type Command } from '../io.js';

/** Signals `init` passes on to the child (or its group). */
export const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;
/** Forwarded signals that mean "shut down": after them, SIGKILL follows the grace period. */
export const SHUTDOWN: ReadonlySet<string> = new Set(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT']);
/** Default grace period between a forwarded shutdown signal and SIGKILL: terminate()'s, below docker stop's 10 s. */
export const DEFAULT_GRACE_MS = 5000;

/** The exit code a shell would give: the child's code, or 128+n when signal n killed it. */
export function exitCodeOf(exit: ExitInfo): number {
  return exit.code ?? 128 + (exit.signalNumber ?? 0);
}

/** What `init` logs (stderr, with --verbose; JSON lines with --json). */
type LogRecord =
  | { event: 'start'; pid: number; pgid?: number; cmd: string[]; init: number; pid1: boolean; graceMs: number }
  | { event: 'forward'; signal: string; from: number; code: string; to: number; group: boolean; error?: string }
  | { event: 'escalate'; signal: 'SIGKILL'; to: number; group: boolean; graceMs: number; error?: string }
  | { event: 'reap'; pid: number; code: number | null; signal: string | null }
  | { event: 'exit'; pid: number; code: number | null; signal: string | null; exitCode: number; reaped: number };

/** An argument as bash would need it quoted, on one line (control bytes as $'\n'), for the log. */
function quote(arg: string): string {
  if (/^[\w@%+=:,./-]+$/.test(arg)) return arg;
  if (!/[\x00-\x1f\x7f]/.test(arg)) return `'${arg.replace(/'/g, `'\\''`)}'`;
  const escaped = arg.replace(/[\\'\x00-\x1f\x7f]/g, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\\' || c === "'" ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `$'${escaped}'`;
}

function describe(r: LogRecord): string {
  const target = (to: number, group: boolean) => (group ? `group ${to}` : `${to}`);
  const how = (code: number | null, signal: string | null) => (signal ? `killed by ${signal}` : `exit ${code}`);
  switch (r.event) {
    case 'start':
      return `${r.pid1 ? 'PID 1, ' : ''}subreaper; started ${r.pid}${r.pgid ? ` in its own group ${r.pgid}` : ''}: ${r.cmd.map(quote).join(' ')}`;
    case 'forward':
      return `forwarded ${r.signal} (from pid ${r.from}, ${r.code}) to ${target(r.to, r.group)}${r.error ? `: ${r.error}` : ''}`;
    case 'escalate':
      return `still running ${humanMs(r.graceMs)} after the shutdown signal: SIGKILL to ${target(r.to, r.group)}${r.error ? `: ${r.error}` : ''}`;
    case 'reap':
      return `reaped orphan ${r.pid} (${how(r.code, r.signal)})`;
    case 'exit':
      return `child ${r.pid} ${how(r.code, r.signal)}; exiting ${r.exitCode} (${r.reaped} orphan${r.reaped === 1 ? '' : 's'} reaped)`;
  }
}

/** Spawns CMD; rejects with a CliError (127 not found, 126 not executable) when it cannot start. */
function start(cmd: string[], group: boolean): Promise<ChildProcess> {
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: 'inherit', detached: group });
  if (child.pid !== undefined) return Promise.resolve(child);
  return new Promise((_, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      const code = e.code === 'ENOENT' ? 127 : e.code === 'EACCES' ? 126 : EXIT.FAILED;
      reject(new CliError(`cannot run '${cmd[0]}': ${e.code === 'ENOENT' ? 'command not found' : e.message} (${e.code})`, code));
    });
  });
}

export const init: Command = {
  name: 'init',
  summary: 'a tini-style PID 1: run CMD, forward signals, reap zombies',
  usage: `sigkit init [--group] [--grace T] [-v] [--json] -- CMD [ARGS...]

  A minimal init for containers (docker run --init, tini, dumb-init): it
  becomes a child subreaper, starts CMD with the same stdin/stdout/stderr,
  forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to it, reaps
  every orphan that is re-parented to it, and exits with CMD's exit code, or
  128+n when signal n killed CMD (realtime signals too: SIGRTMIN+2 -> 164).
  As PID 1 the kernel drops signals that have no handler; init handles these
  six, so "docker stop" reaches CMD.
  After a forwarded SIGTERM, SIGINT, SIGHUP or SIGQUIT, CMD gets SIGKILL if it
  is still running when the grace period ends.
  -g, --group       start CMD in a new session and process group (setsid) and
                    forward to the whole group (killpg); SIGKILL the group too
  --grace T         grace before SIGKILL (default 5s; 500ms, 5s, 2m)
  -v, --verbose     log on stderr what init does: start, forward, reap, exit
  --json            the same log as JSON lines on stderr (stdout is CMD's)
  The -- is required: everything after it is CMD, options included.

  Exit: CMD's code, or 128+n; 127 when CMD is not found, 126 when it cannot
  be executed; 2 on bad usage (nothing started).
  Orphans still running when CMD exits are left alone (as PID 1, the kernel
  ends them with the namespace).`,
  async run(args, io) {
    const dashes = args.indexOf('--');
    if (dashes < 0) throw usageError(args.length === 0 ? 'missing -- CMD' : `put -- before the command: sigkit init [options] -- ${args.join(' ')}`);
    const { values } = parse(args.slice(0, dashes), {
      group: { type: 'boolean', short: 'g' },
      grace: { type: 'string' },
      verbose: { type: 'boolean', short: 'v' },
    }, false);
    const cmd = args.slice(dashes + 1);
    if (cmd.length === 0 || cmd[0] === '') throw usageError('missing CMD after --');
    const graceMs = values.grace === undefined ? DEFAULT_GRACE_MS : parseDuration(values.grace, '--grace');
    const group = values.group === true;
    const log = (r: LogRecord): void => {
      if (values.json) io.err(`${JSON.stringify(r)}\n`);
      else if (values.verbose) io.err(`sigkit init: ${describe(r)}\n`);
    };

    setChildSubreaper(true);
    let reaped = 0;
    const reaper = startReaper({
      onExit: (info) => {
        reaped++;
        log({ event: 'reap', pid: info.pid, code: info.code, signal: info.signal });
      },
    });

    // Handlers first, then spawn: the spawn is synchronous, and a signal
    // that lands in between is dispatched on a later loop turn, when the
    // child exists. Unref'd: the child keeps the loop alive, not them.
    let child: ChildProcess | undefined;
    let handle: ProcessHandle | undefined;
    let exited = false;
    let escalation: NodeJS.Timeout | undefined;
    // SIGUSR1 with no JS listener makes Node start its inspector, and sigkit
    // chains to the handler that was there before it: a process.on listener
    // puts libuv's (harmless) handler there instead.
    const noop = (): void => {};
    process.on('SIGUSR1', noop);

    const send = (sig: number): string | undefined => {
      try {
        if (group) killpg(child!.pid!, sig);
        else handle!.kill(sig);
        return undefined;
      } catch (e) {
        if (isSyscallError(e)) return e.code === 'ESRCH' ? 'already gone (ESRCH)' : `${e.syscall} ${e.code}`;
        throw e;
      }
    };
    const forward = (e: SignalEvent): void => {
      if (child === undefined || exited) return;
      const error = send(e.number);
      log({ event: 'forward', signal: e.signal, from: e.pid, code: e.code, to: child.pid!, group, ...(error ? { error } : {}) });
      if (SHUTDOWN.has(e.signal) && escalation === undefined) {
        escalation = setTimeout(() => {
          if (exited) return;
          const err = send(9);
          log({ event: 'escalate', signal: 'SIGKILL', to: child!.pid!, group, graceMs, ...(err ? { error: err } : {}) });
        }, graceMs);
        escalation.unref();
      }
    };
    for (const sig of FORWARDED) onSignal(sig, forward);

    child = await start(cmd, group);
    handle = openProcess(child.pid!);
    const exitP = exitOf(child);
    log({ event: 'start', pid: child.pid!, ...(group ? { pgid: child.pid! } : {}), cmd, init: process.pid, pid1: process.pid === 1, graceMs });

    const exit = await exitP;
    exited = true;
    if (escalation !== undefined) clearTimeout(escalation);
    handle.close();
    // Orphans that exited in the last moments: one more pass, then stop.
    for (const info of reapChildren()) {
      reaped++;
      log({ event: 'reap', pid: info.pid, code: info.code, signal: info.signal });
    }
    reaper.close();
    const exitCode = exitCodeOf(exit);
    log({ event: 'exit', pid: exit.pid, code: exit.code, signal: exit.signal, exitCode, reaped });
    return exitCode;
  },
};
