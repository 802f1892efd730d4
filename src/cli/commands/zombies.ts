import { isSyscallError } from '../../errors.js';
import { isAlive, kill } from '../../kill.js';
import { findZombies, isZombie } from '../../proc.js';
import { protectedReason } from '../../protected.js';
import { CliError, EXIT, dim, green, json, parse, parsePid, printable, table, yellow, type Command } from '../io.js';

export const zombies: Command = {
  name: 'zombies',
  summary: 'zombies, the parent that must reap each, and a nudge',
  usage: `sigkit zombies [--nudge] [-P PPID]

  Every zombie (exited, not reaped) with its parent, and whether that parent
  has a SIGCHLD handler: only the parent can reap it (wait()), and a parent
  that handles SIGCHLD may do so when sent one.
  --nudge         send SIGCHLD to each parent that catches it (never to
                  sigkit itself, its ancestors or PID 1: those are listed
                  as skipped)
  -P, --parent P  only the zombies of parent P
  --json          the records
  Exit 0 (also when there are none); 1 when -P names no process.`,
  run(args, io) {
    const { values } = parse(args, { nudge: { type: 'boolean' }, parent: { type: 'string', short: 'P' } }, false);
    const parent = values.parent === undefined ? undefined : parsePid(values.parent, '--parent');
    if (parent !== undefined && !isAlive(parent) && !isZombie(parent)) throw new CliError(`--parent ${parent}: no such process`);
    const found = findZombies().filter((z) => parent === undefined || z.ppid === parent);
    const nudged: Array<{ ppid: number; ok: boolean; error?: string; skipped?: string }> = [];
    if (values.nudge) {
      for (const ppid of new Set(found.filter((z) => z.parentCatchesSIGCHLD && z.ppid > 1).map((z) => z.ppid))) {
        // The protected set: a nudge is still a signal sigkit sends on its own.
        const reason = protectedReason(ppid);
        if (reason) {
          nudged.push({ ppid, ok: false, skipped: reason });
          continue;
        }
        try {
          kill(ppid, 'SIGCHLD');
          nudged.push({ ppid, ok: true });
        } catch (e) {
          if (!isSyscallError(e)) throw e;
          nudged.push({ ppid, ok: false, error: e.code });
        }
      }
    }
    if (values.json) {
      json(io, values.nudge ? { zombies: found, nudged } : found);
      return EXIT.OK;
    }
    if (found.length === 0) {
      io.out('no zombies\n');
      return EXIT.OK;
    }
    io.out(table(io, ['PID', 'NAME', 'PARENT', 'PARENT NAME', 'CATCHES SIGCHLD', 'WHAT TO DO'], found.map((z) => [
      z.pid,
      printable(z.comm),
      z.ppid,
      z.parent ? printable(z.parent.comm) : '?',
      z.parentCatchesSIGCHLD ? 'yes' : 'no',
      z.parentCatchesSIGCHLD ? `kill -CHLD ${z.ppid} (sigkit zombies --nudge)` : `parent ${z.ppid} must wait(); ending it hands the zombie to init`,
    ])));
    for (const n of nudged) {
      io.out(n.ok ? green(io, `nudged ${n.ppid} with SIGCHLD\n`) : n.skipped ? yellow(io, `not nudged ${n.ppid}: protected (${n.skipped})\n`) : yellow(io, `could not nudge ${n.ppid}: ${n.error}\n`));
    }
    if (!values.nudge && found.some((z) => z.parentCatchesSIGCHLD)) io.out(dim(io, 'try --nudge to send SIGCHLD to the parents that catch it\n'));
    return EXIT.OK;
  },
};
