import { findProcesses, type ProcessInfo, type ProcessQuery, type ProcessState } from '../../proc.js';
import { EXIT, dim, json, parse, type Parsed, parseDuration, parsePid, printable, table, usageError, type Command, type Io } from '../io.js';

/** The pgrep-style options shared by `find` and `pkill`. */
export const QUERY_OPTIONS = {
  full: { type: 'boolean', short: 'f' },
  exact: { type: 'boolean', short: 'x' },
  uid: { type: 'string', short: 'u' },
  parent: { type: 'string', short: 'P' },
  pgroup: { type: 'string', short: 'g' },
  session: { type: 'string', short: 's' },
  state: { type: 'string' },
  older: { type: 'string', short: 'o' },
  newer: { type: 'string', short: 'n' },
} as const;

export const QUERY_HELP = `  PATTERN          a regular expression matched against the process name
                   (comm), or with -f against the whole command line
  -f, --full       match PATTERN against the command line (like pkill -f)
  -x, --exact      PATTERN is the exact name, not a regular expression
  -u, --uid UID    effective uid
  -P, --parent PID parent pid
  -g, --pgroup ID  process group
  -s, --session ID session
  --state LETTERS  states, e.g. Z or ST
  -o, --older DUR  started more than DUR ago (500ms, 5s, 2m)
  -n, --newer DUR  started less than DUR ago`;

type QueryValues = Parsed<typeof QUERY_OPTIONS>['values'];

/** Builds a ProcessQuery from PATTERN and the pgrep-style options; usage errors for bad values. */
export function buildQuery(values: QueryValues, positionals: string[]): ProcessQuery {
  if (positionals.length > 1) throw usageError('give one PATTERN (quote it if it has spaces)');
  const q: ProcessQuery = {};
  const pattern = positionals[0];
  if (pattern !== undefined) {
    let re: RegExp | undefined;
    if (!values.exact) {
      try {
        re = new RegExp(pattern);
      } catch (e) {
        throw usageError(`PATTERN is not a valid regular expression: ${(e as Error).message}`);
      }
    }
    if (values.full) q.cmdline = re ?? pattern;
    else q.name = re ?? pattern;
  } else if (values.full || values.exact) {
    throw usageError('-f and -x need a PATTERN');
  }
  if (values.uid !== undefined) {
    if (!/^[0-9]{1,10}$/.test(values.uid)) throw usageError(`--uid must be a number, not '${values.uid}'`);
    q.uid = Number(values.uid);
  }
  if (values.parent !== undefined) q.ppid = parsePid(values.parent, '--parent');
  if (values.pgroup !== undefined) q.pgid = parsePid(values.pgroup, '--pgroup');
  if (values.session !== undefined) q.sid = parsePid(values.session, '--session');
  if (values.state !== undefined) {
    if (!/^[RSDZTtXxIKWP]+$/.test(values.state)) throw usageError(`--state takes state letters (R S D Z T t X I), not '${values.state}'`);
    q.state = [...values.state] as ProcessState[];
  }
  if (values.older !== undefined) q.olderThanMs = parseDuration(values.older, '--older');
  if (values.newer !== undefined) q.newerThanMs = parseDuration(values.newer, '--newer');
  if (Object.keys(q).length === 0) throw usageError('give a PATTERN or at least one filter (an empty query would match every process)');
  return q;
}

export function matchTable(io: Io, procs: ProcessInfo[]): string {
  return table(io, ['PID', 'PPID', 'UID', 'S', 'NAME', 'COMMAND'], procs.map((p) => [
    p.pid, p.ppid, p.uid, p.state, printable(p.comm), p.cmdline.length ? p.cmdline.join(' ').slice(0, 120) : `[${printable(p.comm)}]`,
  ]));
}

export const find: Command = {
  name: 'find',
  summary: 'pgrep: processes matching a pattern and filters',
  usage: `sigkit find [PATTERN] [options]

  Lists the processes that match every filter given (never sigkit itself).
${QUERY_HELP}
  --json           the full records
  Exit 0 when something matched, 1 when nothing did (as pgrep).`,
  run(args, io) {
    const { values, positionals } = parse(args, QUERY_OPTIONS);
    const found = findProcesses(buildQuery(values, positionals));
    if (values.json) json(io, found);
    else if (found.length) io.out(matchTable(io, found));
    else io.err(dim(io, 'no process matched\n'));
    return found.length ? EXIT.OK : EXIT.FAILED;
  },
};
