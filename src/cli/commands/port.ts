import { isSyscallError } from '../../errors.js';
import { findByPort, terminatePort, type SocketInfo } from '../../ports.js';
import type { TerminateStep } from '../../terminate.js';
import { CliError, EXIT, dim, green, json, parse, parseDuration, printable, red, table, usageError, type Command, type Io } from '../io.js';

function parsePort(text: string | undefined): number {
  if (text === undefined) throw usageError('missing PORT');
  const m = /^:?([0-9]{1,5})$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= 1 && n <= 65535)) throw usageError(`PORT must be a number from 1 to 65535, not '${text}'`);
  return n;
}

function rows(list: SocketInfo[]): Array<Array<string | number>> {
  return list.map((s) => [s.pid ?? '-', s.comm === null ? '?' : printable(s.comm), s.protocol, s.state, `${s.localAddress}:${s.localPort}`, s.remotePort ? `${s.remoteAddress}:${s.remotePort}` : '*', s.inode]);
}

const HEADER = ['PID', 'COMMAND', 'PROTO', 'STATE', 'LOCAL', 'REMOTE', 'INODE'];

export const port: Command = {
  name: 'port',
  summary: 'who listens on a port (no lsof or ss needed); --term/--kill ends it',
  usage: `sigkit port PORT [--all] [--tcp | --udp] [--term [--grace 5s] | --kill] [--json]

  The processes holding a listening socket (TCP LISTEN, bound UDP) on PORT,
  IPv4 and IPv6, read from /proc. PID '-' means a socket whose holder we may
  not inspect (another user's, without root).
  --all      every socket on the local port, not only listening ones
  --tcp      TCP only          --udp   UDP only
  --term     end each holder: SIGTERM, wait --grace, then SIGKILL
  --kill     end each holder with SIGKILL at once
  Never this process, its ancestors or PID 1 (refused, nothing sent).
  Exit 0 found (or ended), 1 nothing listens / something still runs, 2 usage.`,
  async run(args, io: Io) {
    const { values, positionals } = parse(args, {
      all: { type: 'boolean', short: 'a' },
      tcp: { type: 'boolean' },
      udp: { type: 'boolean' },
      term: { type: 'boolean' },
      kill: { type: 'boolean' },
      grace: { type: 'string' },
    });
    if (positionals.length !== 1) throw usageError(positionals.length ? 'give one PORT' : 'missing PORT');
    const p = parsePort(positionals[0]);
    if (values.term && values.kill) throw usageError('give --term or --kill, not both');
    if (values.tcp && values.udp) throw usageError('give --tcp or --udp, not both (neither means both)');
    if (values.all && (values.term || values.kill)) throw usageError('--all lists; --term/--kill end listeners only');
    if (values.grace !== undefined && !values.term) throw usageError('--grace goes with --term');
    const protocol = values.tcp ? 'tcp' : values.udp ? 'udp' : 'any';
    if (values.term || values.kill) {
      const steps: TerminateStep[] = values.kill
        ? [{ signal: 'SIGKILL', waitMs: 2000 }]
        : [{ signal: 'SIGTERM', waitMs: parseDuration(values.grace ?? '5s', '--grace') }, { signal: 'SIGKILL', waitMs: 2000 }];
      let r;
      try {
        r = await terminatePort(p, { protocol, steps });
      } catch (e) {
        if (isSyscallError(e)) throw new CliError(`${e.syscall}: ${e.code}`);
        throw e;
      }
      if (values.json) json(io, r);
      else if (r.notFound) io.err(`nothing listens on port ${p}\n`);
      else {
        for (const res of r.results) {
          io.out(`${res.pid}: ${res.exited ? green(io, res.forced ? 'killed (SIGKILL)' : 'exited') : red(io, 'still running')}${res.exitedAfterMs !== null ? dim(io, ` after ${Math.round(res.exitedAfterMs)} ms`) : ''}\n`);
        }
        const hidden = r.sockets.filter((s) => s.pid === null).length;
        if (hidden) io.err(`${hidden} socket(s) on port ${p} have a holder we may not inspect (try as root)\n`);
      }
      if (r.notFound) return EXIT.FAILED;
      return r.exited ? EXIT.OK : EXIT.FAILED;
    }
    const list = findByPort(p, { protocol, state: values.all ? 'any' : 'listen' });
    if (values.json) json(io, list);
    else if (list.length === 0) io.err(`nothing ${values.all ? 'uses' : 'listens on'} port ${p}\n`);
    else io.out(table(io, HEADER, rows(list)));
    return list.length ? EXIT.OK : EXIT.FAILED;
  },
};
