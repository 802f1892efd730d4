import { killMatching } from '../../match.js';
import { signalName } from '../../catalogue.js';
import { EXIT, dim, json, parse, parseSignal, printable, table, type Command } from '../io.js';
import { QUERY_HELP, QUERY_OPTIONS, buildQuery } from './find.js';

export const pkill: Command = {
  name: 'pkill',
  summary: 'signal the processes a pattern matches, with safety rails',
  usage: `sigkit pkill [PATTERN] [options] [-S SIG] [--dry-run]

  Sends SIG (default TERM) to every process matching all filters, never to
  sigkit itself, its ancestors, PID 1 or kernel threads (protected ones that
  match are listed as skipped). A pattern that matches everything ('', .,
  .*) is refused. Each target is
  pinned by a pidfd and checked against the start time it matched with, so a
  pid recycled in between is not hit.
${QUERY_HELP}
  -S, --signal SIG the signal
  --dry-run        list what would be signalled; send nothing
  --json           the results
  Exit 0 when something was signalled (or listed), 1 when nothing was.`,
  run(args, io) {
    const { values, positionals } = parse(args, { ...QUERY_OPTIONS, signal: { type: 'string', short: 'S' }, 'dry-run': { type: 'boolean' } });
    const sig = parseSignal(values.signal ?? 'TERM');
    const query = buildQuery(values, positionals);
    const results = killMatching(query, sig, { dryRun: values['dry-run'] === true });
    if (values.json) {
      json(io, results);
    } else if (results.length === 0) {
      io.err(dim(io, 'no process matched\n'));
    } else {
      const name = sig === 0 ? '0' : signalName(sig);
      io.out(table(io, ['PID', 'NAME', 'RESULT', 'COMMAND'], results.map((r) => [
        r.pid,
        printable(r.comm),
        r.skipped ? `skipped (protected: ${r.skipped})` : values['dry-run'] ? `would send ${name}` : r.signalled ? `sent ${name}` : `not sent: ${r.error}`,
        r.cmdline.join(' ').slice(0, 100),
      ])));
    }
    const acted = results.filter((r) => !r.skipped && (values['dry-run'] || r.signalled));
    return acted.length > 0 ? EXIT.OK : EXIT.FAILED;
  },
};
