import { signalName } from '../../catalogue.js';
import { isSyscallError } from '../../errors.js';
import { kill, killpg, sigqueue } from '../../kill.js';
import { assertGroupNotProtected } from '../../protected.js';
import { validatePgid } from '../../validate.js';
import { CliError, EXIT, json, parse, parsePid, parseSignal, usageError, type Command } from '../io.js';

export const send: Command = {
  name: 'send',
  summary: 'send a signal to processes or a process group',
  usage: `sigkit send [-s SIG] [-q VALUE] PID...
sigkit send [-s SIG] -g PGID

  Sends SIG (default TERM) to each PID, or to every member of process group
  PGID. Names (TERM, SIGTERM, RTMIN+3) and numbers are accepted.
  -s, --signal SIG   the signal
  -q, --queue VALUE  sigqueue with this int32 payload (the receiver sees SI_QUEUE)
  -g, --group PGID   killpg: the whole process group (never 0 or 1, never
                     sigkit's own group or one holding its ancestors)
  --json             one result per target

  Every argument is checked before anything is sent. Exit 0 when every target
  got the signal, 1 when one failed (it says why), 2 on bad usage.`,
  run(args, io) {
    const { values, positionals } = parse(args, {
      signal: { type: 'string', short: 's' },
      queue: { type: 'string', short: 'q' },
      group: { type: 'string', short: 'g' },
    });
    const sig = parseSignal(values.signal ?? 'TERM');
    let value: number | undefined;
    if (values.queue !== undefined) {
      if (!/^-?[0-9]{1,10}$/.test(values.queue) || (Number(values.queue) | 0) !== Number(values.queue)) {
        throw usageError(`--queue VALUE must be a 32-bit integer, not '${values.queue}'`);
      }
      value = Number(values.queue);
    }
    if (values.group !== undefined && positionals.length > 0) throw usageError('give either PIDs or -g PGID, not both');
    if (values.group !== undefined && value !== undefined) throw usageError('--queue cannot be sent to a group');
    const targets = values.group !== undefined ? [parsePid(values.group, 'PGID')] : positionals.map((p) => parsePid(p));
    if (targets.length === 0) throw usageError('missing PID (or -g PGID)');
    const name = sig === 0 ? '0' : signalName(sig);
    const results: Array<{ target: number; group: boolean; signal: string; ok: boolean; error?: string }> = [];
    for (const target of targets) {
      try {
        // A group is a high-level target: never our own group, or one that
        // holds an ancestor (the shell's job) or PID 1 (protected.ts).
        if (values.group !== undefined) {
          validatePgid(target); // 1 is kill(-1): a usage error before any other check
          assertGroupNotProtected(target);
          killpg(target, sig);
        }
        else if (value !== undefined) sigqueue(target, sig, value);
        else kill(target, sig);
        results.push({ target, group: values.group !== undefined, signal: name, ok: true });
      } catch (e) {
        if (!isSyscallError(e)) throw e;
        const why = e.code === 'ESRCH' ? 'no such process' : e.code === 'EPERM' ? 'not permitted' : e.code === 'EAGAIN' ? 'its signal queue is full' : e.code;
        results.push({ target, group: values.group !== undefined, signal: name, ok: false, error: `${e.syscall} ${target}: ${why} (${e.code})` });
      }
    }
    if (values.json) json(io, results);
    const failed = results.filter((r) => !r.ok);
    if (failed.length === 0) return EXIT.OK;
    if (!values.json) for (const f of failed.slice(0, -1)) io.err(`sigkit: ${f.error}\n`);
    throw new CliError(failed.at(-1)!.error!);
  },
};
