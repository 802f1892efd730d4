import { isSyscallError } from '../../errors.js';
import { descendants, listProcesses, processTree, readProcess, type ProcessSummary, type ProcessTree } from '../../proc.js';
import { CliError, EXIT, dim, humanMs, json, parse, parsePid, printable, table, type Command, type Io } from '../io.js';

function row(p: ProcessSummary, indent = ''): Array<string | number> {
  return [p.pid, p.ppid, p.pgid, p.sid, p.state, p.tty ?? '-', humanMs(p.cpuTimeMs), `${indent}${p.kernelThread ? `[${printable(p.comm)}]` : printable(p.comm)}`];
}

const HEADER = ['PID', 'PPID', 'PGID', 'SID', 'S', 'TTY', 'TIME', 'COMMAND'];

function treeRows(node: ProcessTree, prefix: string, last: boolean, top: boolean, out: Array<Array<string | number>>): void {
  out.push(row(node, top ? '' : `${prefix}${last ? '└─ ' : '├─ '}`));
  const next = top ? '' : `${prefix}${last ? '   ' : '│  '}`;
  node.children.forEach((c, i) => treeRows(c, next, i === node.children.length - 1, false, out));
}

function forest(all: ProcessSummary[]): ProcessTree[] {
  const nodes = new Map<number, ProcessTree>(all.map((p) => [p.pid, { ...p, children: [] }]));
  const roots: ProcessTree[] = [];
  for (const n of nodes.values()) {
    const parent = nodes.get(n.ppid);
    if (parent && parent !== n) parent.children.push(n);
    else roots.push(n);
  }
  return roots;
}

export const ps: Command = {
  name: 'ps',
  summary: 'list processes from /proc (no ps spawned)',
  usage: `sigkit ps [--tree] [PID]

  Every process, or PID and its descendants.
  --tree   draw parent/child lines
  --json   the records (pid, ppid, pgid, sid, state, comm, ...)
  Columns: PID PPID PGID SID S(state) TTY TIME(cpu) COMMAND ([name] = kernel thread).`,
  run(args, io: Io) {
    const { values, positionals } = parse(args, { tree: { type: 'boolean', short: 't' } });
    if (positionals.length > 1) throw new CliError('give at most one PID', EXIT.USAGE);
    const pid = positionals.length ? parsePid(positionals[0]) : undefined;
    try {
      if (values.tree) {
        const roots = pid !== undefined ? [processTree(pid)] : forest(listProcesses());
        if (values.json) {
          json(io, roots);
          return EXIT.OK;
        }
        const rows: Array<Array<string | number>> = [];
        for (const r of roots) treeRows(r, '', true, true, rows);
        io.out(table(io, HEADER, rows));
        return EXIT.OK;
      }
      const procs = pid !== undefined ? [readProcess(pid), ...descendants(pid)] : listProcesses();
      if (values.json) json(io, procs);
      else {
        io.out(table(io, HEADER, procs.map((p) => row(p))));
        io.err(dim(io, `${procs.length} processes\n`));
      }
      return EXIT.OK;
    } catch (e) {
      if (isSyscallError(e, 'ESRCH')) throw new CliError(`no process ${pid}`);
      throw e;
    }
  },
};
