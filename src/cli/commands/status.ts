import { isSyscallError } from '../../errors.js';
import { readProcess } from '../../proc.js';
import { CliError, EXIT, bold, dim, humanMs, json, parse, parsePid, printable, usageError, type Command } from '../io.js';

export const status: Command = {
  name: 'status',
  summary: 'one process: state, family, and what it does with each signal',
  usage: `sigkit status PID

  State, parent, group, session, owner, start, command line, and which
  signals it blocks, ignores, catches and has pending.
  --json   the whole record`,
  run(args, io) {
    const { values, positionals } = parse(args, {});
    if (positionals.length !== 1) throw usageError(positionals.length ? 'give one PID' : 'missing PID');
    const pid = parsePid(positionals[0]);
    let p;
    try {
      p = readProcess(pid);
    } catch (e) {
      if (isSyscallError(e, 'ESRCH')) throw new CliError(`no process ${pid}`);
      throw e;
    }
    if (values.json) {
      json(io, p);
      return EXIT.OK;
    }
    const list = (names: string[]) => (names.length ? names.join(' ') : dim(io, '-'));
    const lines: Array<[string, string]> = [
      ['pid', String(p.pid)],
      ['name', printable(p.comm) + (p.kernelThread ? dim(io, ' (kernel thread)') : '')],
      ['state', `${p.state} (${p.stateName})`],
      ['parent', String(p.ppid)],
      ['group', String(p.pgid)],
      ['session', String(p.sid)],
      ['tty', p.tty ?? '-'],
      ['uid/gid', `${p.uid}/${p.gid}`],
      ['threads', String(p.threads)],
      ['started', `${p.startedAt.toISOString()} (${humanMs(Date.now() - p.startedAt.getTime())} ago)`],
      ['cpu time', humanMs(p.cpuTimeMs)],
      ['memory', `${(p.rssBytes / 1048576).toFixed(1)} MiB resident`],
      ['command', p.cmdline.length ? p.cmdline.map((a) => (/[\s"'\\]/.test(a) || a === '' ? JSON.stringify(a) : a)).join(' ') : dim(io, '-')],
      ['blocked', list(p.signals.blocked)],
      ['ignored', list(p.signals.ignored)],
      ['caught', list(p.signals.caught)],
      ['pending', list([...new Set([...p.signals.pending, ...p.signals.shared])])],
    ];
    if (p.state === 'Z') lines.push(['note', `exited; parent ${p.ppid} has not reaped it (see sigkit zombies)`]);
    const width = Math.max(...lines.map(([k]) => k.length));
    io.out(lines.map(([k, v]) => `${bold(io, k.padEnd(width))}  ${v}`).join('\n') + '\n');
    return EXIT.OK;
  },
};
