import { isSyscallError } from '../../errors.js';
import { watchSignals, type WatchError, type WatchEvent } from '../../watch.js';
import { CliError, EXIT, parse, parsePid, usageError, type Command, type Io } from '../io.js';

/** One event as `strace -e signal` prints it. */
export function straceLine(e: WatchEvent): string {
  if (e.type === 'exit') {
    const x = e.exit;
    return x.signal === null ? `+++ exited with ${x.code} +++` : `+++ killed by ${x.signal}${x.coreDumped ? ' (core dumped)' : ''} +++`;
  }
  const fields = [`si_signo=${e.signal}`, `si_code=${e.code}`];
  if (e.status !== undefined) fields.push(`si_pid=${e.pid}`, `si_uid=${e.uid}`, `si_status=${e.status}`);
  else if (e.code === 'SI_USER' || e.code === 'SI_TKILL' || e.code === 'SI_QUEUE' || e.code === 'SI_KERNEL' || e.pid !== 0) fields.push(`si_pid=${e.pid}`, `si_uid=${e.uid}`);
  if (e.value !== undefined) fields.push(`si_int=${e.value}`);
  return `--- ${e.signal} {${fields.join(', ')}} ---`;
}

function refusalText(pid: number, e: WatchError): string {
  if (e.code === 'ESRCH') return `no process ${pid}`;
  if (e.reason === 'traced') return `ptrace EPERM: ${pid} is already traced by ${e.tracerPid} (strace, gdb...): only one tracer at a time`;
  if (e.reason === 'yama') return `ptrace EPERM: kernel.yama.ptrace_scope is ${e.ptraceScope}: only root (CAP_SYS_PTRACE) or, at 1, an ancestor may trace ${pid}`;
  if (e.code === 'EPERM') return `ptrace EPERM: may not trace ${pid} (another uid, no CAP_SYS_PTRACE, or not dumpable)`;
  return e.message;
}

export const watch: Command = {
  name: 'watch',
  summary: 'show every signal another process receives, like strace -e signal',
  usage: `sigkit watch PID

  Attaches with ptrace(PTRACE_SEIZE) and prints one line per signal
  delivered to PID, as strace -e signal -p PID does ("--- SIGUSR1
  {si_signo=SIGUSR1, si_code=SI_USER, si_pid=..., si_uid=...} ---"), and
  how it ended ("+++ exited with 0 +++", "+++ killed by SIGTERM +++").
  The process keeps running: every signal is re-injected unchanged, and
  stops and continues pass through. Ctrl-C (or SIGTERM) detaches and
  leaves it as it was. One tracer at a time: not beside strace or gdb.
  --json   one JSON object per line per event

  Exit 0 when the process ended or was detached, 1 when it cannot be
  watched (no such process, already traced, not permitted), 2 on bad usage.`,
  async run(args, io: Io) {
    const { values, positionals } = parse(args, {});
    if (positionals.length !== 1) throw usageError(positionals.length ? 'give one PID' : 'missing PID');
    const pid = parsePid(positionals[0]);
    let w;
    try {
      w = watchSignals(pid);
    } catch (e) {
      if (isSyscallError(e)) throw new CliError(refusalText(pid, e as WatchError));
      if ((e as { code?: string }).code === 'ERR_INVALID_ARG_VALUE') throw new CliError(`cannot watch ${pid}: ${(e as Error).message}`);
      throw e;
    }
    const stop = () => w.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    io.err(`sigkit watch: attached to ${pid} (Ctrl-C detaches)\n`);
    let exited = false;
    try {
      for await (const e of w) {
        if (e.type === 'exit') exited = true;
        io.out(values.json ? `${JSON.stringify(e)}\n` : `${straceLine(e)}\n`);
      }
    } finally {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      w.close();
    }
    if (!exited) io.err(`sigkit watch: detached from ${pid}\n`);
    return EXIT.OK;
  },
};
