import { spawn, type ChildProcess } from 'node:child_process';
import { signalName, signals } from '../../catalogue.js';
import { isSyscallError } from '../../errors.js';
import { killpg } from '../../kill.js';
import { native } from '../../native.js';
import { openProcess, type ProcessHandle } from '../../pidfd.js';
import { children } from '../../proc.js';
import { onSignal, type SignalEvent } from '../../sigaction.js';
import { terminateTree } from '../../terminate.js';
import { exitOf, reapChildren, setChildSubreaper, startReaper, type ExitInfo } from '../../wait.js';
import { CliError, EXIT, humanMs, parse, parseDuration, parseSignal, usageError, type Command } from '../io.js';

/**
 * Signals `init` does not forward, as tini: the uncatchable ones, SIGCHLD
 * (its own: the reaper's), the synchronous faults a process raises for
 * itself (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS), and
 * the terminal's job control for background reads/writes (SIGTTIN, SIGTTOU).
 */
const NOT_FORWARDED: ReadonlySet<string> = new Set(['SIGKILL', 'SIGSTOP', 'SIGCHLD', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGABRT', 'SIGTRAP', 'SIGSYS', 'SIGTTIN', 'SIGTTOU']);

/** Signals `init` passes on to the child (or its group): every catchable one (realtime too) but those above. */
export function forwardedSignals(): number[] {
  return signals().filter((s) => s.catchable && !s.reserved && !NOT_FORWARDED.has(s.name)).map((s) => s.number);
}
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
  | { event: 'forward'; signal: string; rewrittenFrom?: string; from: number; code: string; to: number; group: boolean; error?: string }
  | { event: 'drop'; signal: string; from: number; code: string }
  | { event: 'escalate'; signal: 'SIGKILL'; to: number; group: boolean; graceMs: number; error?: string }
  | { event: 'reap'; pid: number; code: number | null; signal: string | null }
  | { event: 'orphans'; pids: number[]; signal: 'SIGTERM' }
  | { event: 'exit'; pid: number; code: number | null; signal: string | null; exitCode: number; reaped: number; remapped?: number };

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
      return `forwarded ${r.rewrittenFrom ? `${r.rewrittenFrom} as ` : ''}${r.signal} (from pid ${r.from}, ${r.code}) to ${target(r.to, r.group)}${r.error ? `: ${r.error}` : ''}`;
    case 'escalate':
      return `still running ${humanMs(r.graceMs)} after the shutdown signal: SIGKILL to ${target(r.to, r.group)}${r.error ? `: ${r.error}` : ''}`;
    case 'drop':
      return `dropped ${r.signal} (from pid ${r.from}, ${r.code}): --rewrite to 0`;
    case 'reap':
      return `reaped orphan ${r.pid} (${how(r.code, r.signal)})`;
    case 'orphans':
      return `--kill-orphans: ${r.signal} to ${r.pids.join(', ')}`;
    case 'exit':
      return `child ${r.pid} ${how(r.code, r.signal)}; exiting ${r.exitCode}${r.remapped !== undefined ? ` (-e ${r.remapped})` : ''} (${r.reaped} orphan${r.reaped === 1 ? '' : 's'} reaped)`;
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
  usage: `sigkit init [-g] [--grace T] [--rewrite FROM:TO]... [-e CODE]... [-p SIG]
            [--kill-orphans] [-v] [--json] -- CMD [ARGS...]

  A minimal init for containers (docker run --init, tini, dumb-init): it
  becomes a child subreaper, starts CMD with the same stdin/stdout/stderr
  and every signal at its default (realtime ones too), forwards every
  catchable signal to it (all but SIGCHLD, the faults SIGSEGV SIGBUS SIGFPE
  SIGILL SIGABRT SIGTRAP SIGSYS, and SIGTTIN SIGTTOU), reaps every orphan
  that is re-parented to it, and exits with CMD's exit code, or 128+n when
  signal n killed CMD (realtime signals too: SIGRTMIN+2 -> 164).
  As PID 1 the kernel drops signals that have no handler; init handles them
  all, so "docker stop" reaches CMD.
  After a forwarded SIGTERM, SIGINT, SIGHUP or SIGQUIT, CMD gets SIGKILL if it
  is still running when the grace period ends.
  -g, --group       start CMD in a new session and process group (setsid) and
                    forward to the whole group (killpg); SIGKILL the group too
  --grace T         grace before SIGKILL (default 5s; 500ms, 5s, 2m)
  --rewrite F:T     forward signal F as T (dumb-init); T 0 drops F. Names or
                    numbers: --rewrite 15:3, --rewrite TERM:QUIT. Repeatable
  -e CODE           exit 0 when CMD's exit code (or 128+n) is CODE (tini).
                    Repeatable
  -p SIG            init's own parent-death signal (tini): SIG when the
                    process that started init dies (it is then forwarded)
  --kill-orphans    when CMD exits, SIGTERM the orphans still running, then
                    SIGKILL them after the grace (default: left alone; as
                    PID 1 the kernel ends them with the namespace)
  -v, --verbose     log on stderr what init does: start, forward, reap, exit
  --json            the same log as JSON lines on stderr (stdout is CMD's)
  The -- is required: everything after it is CMD, options included.

  Exit: CMD's code, or 128+n (0 for an -e CODE); 127 when CMD is not found,
  126 when it cannot be executed; 2 on bad usage (nothing started).`,
  async run(args, io) {
    const dashes = args.indexOf('--');
    if (dashes < 0) throw usageError(args.length === 0 ? 'missing -- CMD' : `put -- before the command: sigkit init [options] -- ${args.join(' ')}`);
    // The repeatable options, taken out first (parse() knows single values only).
    const own = args.slice(0, dashes);
    const rewrites = new Map<number, number>();
    const remap = new Set<number>();
    const rest: string[] = [];
    for (let i = 0; i < own.length; i++) {
      const a = own[i]!;
      const m = /^(--rewrite|-e)(?:=(.*))?$/.exec(a);
      if (!m) {
        rest.push(a);
        continue;
      }
      const value = m[2] ?? own[++i];
      if (value === undefined) throw usageError(`${m[1]} needs a value`);
      if (m[1] === '-e') {
        if (!/^[0-9]{1,3}$/.test(value) || Number(value) > 255) throw usageError(`-e takes an exit code (0-255), not '${value}'`);
        remap.add(Number(value));
      } else {
        const rw = /^([^:]+):([^:]+)$/.exec(value);
        if (!rw) throw usageError(`--rewrite takes FROM:TO (e.g. 15:3 or TERM:QUIT), not '${value}'`);
        const from = parseSignal(rw[1]!);
        const to = parseSignal(rw[2]!);
        if (from === 0 || !forwardedSignals().includes(from)) throw usageError(`--rewrite: init does not forward ${from === 0 ? 'signal 0' : signalName(from)}`);
        rewrites.set(from, to);
      }
    }
    const { values } = parse(rest, {
      group: { type: 'boolean', short: 'g' },
      grace: { type: 'string' },
      verbose: { type: 'boolean', short: 'v' },
      'kill-orphans': { type: 'boolean' },
      'parent-death-signal': { type: 'string', short: 'p' },
    }, false);
    const pdeath = values['parent-death-signal'] === undefined ? 0 : parseSignal(values['parent-death-signal']);
    if (values['parent-death-signal'] !== undefined && pdeath === 0) throw usageError('-p: signal 0 is not a signal');
    const cmd = args.slice(dashes + 1);
    if (cmd.length === 0 || cmd[0] === '') throw usageError('missing CMD after --');
    const graceMs = values.grace === undefined ? DEFAULT_GRACE_MS : parseDuration(values.grace, '--grace');
    const group = values.group === true;
    const log = (r: LogRecord): void => {
      if (values.json) io.err(`${JSON.stringify(r)}\n`);
      else if (values.verbose) io.err(`sigkit init: ${describe(r)}\n`);
    };

    if (pdeath !== 0) {
      const parent = process.ppid;
      const r = native.prctlSetPdeathsig(pdeath);
      if (r < 0) throw new CliError(`-p: prctl(PR_SET_PDEATHSIG) failed (${r})`);
      // The parent may have died before the prctl: then the signal never comes.
      if (process.ppid !== parent) process.kill(process.pid, pdeath);
    }
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
      const to = rewrites.get(e.number) ?? e.number;
      if (to === 0) {
        log({ event: 'drop', signal: e.signal, from: e.pid, code: e.code });
        return;
      }
      const error = send(to);
      log({ event: 'forward', signal: signalName(to), ...(to !== e.number ? { rewrittenFrom: e.signal } : {}), from: e.pid, code: e.code, to: child.pid!, group, ...(error ? { error } : {}) });
      if (SHUTDOWN.has(e.signal) && escalation === undefined) {
        escalation = setTimeout(() => {
          if (exited) return;
          const err = send(9);
          log({ event: 'escalate', signal: 'SIGKILL', to: child!.pid!, group, graceMs, ...(err ? { error: err } : {}) });
        }, graceMs);
        escalation.unref();
      }
    };
    for (const sig of forwardedSignals()) onSignal(sig, forward);

    child = await start(cmd, group);
    handle = openProcess(child.pid!);
    const exitP = exitOf(child);
    log({ event: 'start', pid: child.pid!, ...(group ? { pgid: child.pid! } : {}), cmd, init: process.pid, pid1: process.pid === 1, graceMs });

    const exit = await exitP;
    exited = true;
    if (escalation !== undefined) clearTimeout(escalation);
    handle.close();
    if (values['kill-orphans']) {
      // Every child left is an orphan of CMD's tree (init starts nothing else).
      const orphans = children(process.pid).filter((p) => p.state !== 'Z').map((p) => p.pid);
      if (orphans.length > 0) {
        log({ event: 'orphans', pids: orphans, signal: 'SIGTERM' });
        await Promise.all(orphans.map((pid) => terminateTree(pid, { graceMs }).catch(() => undefined)));
      }
    }
    // Orphans that exited in the last moments: one more pass, then stop.
    for (const info of reapChildren()) {
      reaped++;
      log({ event: 'reap', pid: info.pid, code: info.code, signal: info.signal });
    }
    reaper.close();
    const childCode = exitCodeOf(exit);
    const exitCode = remap.has(childCode) ? 0 : childCode;
    log({ event: 'exit', pid: exit.pid, code: exit.code, signal: exit.signal, exitCode, reaped, ...(exitCode !== childCode ? { remapped: childCode } : {}) });
    return exitCode;
  },
};
