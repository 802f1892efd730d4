import { isSyscallError } from '../../errors.js';
import { descendants, listProcesses, processTree, readProcess, type ProcessSummary, type ProcessTree } from '../../proc.js';
import { humanBytes } from '../../top/render.js';
import { CliError, EXIT, dim, humanMs, json, parse, parsePid, printable, table, usageError, type Command, type Io } from '../io.js';

/** CPU percent over the process's lifetime, as ps(1) computes %CPU. */
function lifetimeCpu(p: ProcessSummary, now: number): number {
  const age = now - p.startedAt.getTime();
  return age > 0 ? (p.cpuTimeMs / age) * 100 : 0;
}

function row(p: ProcessSummary, indent = '', now = Date.now()): Array<string | number> {
  return [p.pid, p.ppid, p.pgid, p.sid, p.state, p.tty ?? '-', lifetimeCpu(p, now).toFixed(1), humanBytes(p.rssBytes), humanMs(p.cpuTimeMs), `${indent}${p.kernelThread ? `[${printable(p.comm)}]` : printable(p.comm)}`];
}

const HEADER = ['PID', 'PPID', 'PGID', 'SID', 'S', 'TTY', '%CPU', 'RSS', 'TIME', 'COMMAND'];

const SORTS = {
  pid: (a: ProcessSummary, b: ProcessSummary) => a.pid - b.pid,
  rss: (a: ProcessSummary, b: ProcessSummary) => b.rssBytes - a.rssBytes || a.pid - b.pid,
  cpu: (now: number) => (a: ProcessSummary, b: ProcessSummary) => lifetimeCpu(b, now) - lifetimeCpu(a, now) || a.pid - b.pid,
};

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
  usage: `sigkit ps [--tree] [--sort cpu|rss|pid] [PID]

  Every process, or PID and its descendants.
  --tree   draw parent/child lines (siblings in --sort order)
  --sort   cpu (highest first), rss (largest first) or pid (default)
  --json   the records (pid, ppid, pgid, sid, state, comm, cpuTimeMs, rssBytes, ...)
  Columns: PID PPID PGID SID S(state) TTY %CPU(over its lifetime, as ps) RSS TIME(cpu)
  COMMAND ([name] = kernel thread). For CPU over the last seconds: sigkit top.`,
  run(args, io: Io) {
    const { values, positionals } = parse(args, { tree: { type: 'boolean', short: 't' }, sort: { type: 'string', short: 's' } });
    const sortKey = values.sort ?? 'pid';
    if (sortKey !== 'cpu' && sortKey !== 'rss' && sortKey !== 'pid') throw usageError(`--sort takes cpu, rss or pid, not '${sortKey}'`);
    const now = Date.now();
    const order = sortKey === 'cpu' ? SORTS.cpu(now) : SORTS[sortKey];
    if (positionals.length > 1) throw new CliError('give at most one PID', EXIT.USAGE);
    const pid = positionals.length ? parsePid(positionals[0]) : undefined;
    try {
      if (values.tree) {
        const roots = pid !== undefined ? [processTree(pid)] : forest(listProcesses());
        const sortTree = (nodes: ProcessTree[]): void => {
          nodes.sort(order);
          for (const n of nodes) sortTree(n.children);
        };
        sortTree(roots);
        if (values.json) {
          json(io, roots);
          return EXIT.OK;
        }
        const rows: Array<Array<string | number>> = [];
        for (const r of roots) treeRows(r, '', true, true, rows);
        io.out(table(io, HEADER, rows));
        return EXIT.OK;
      }
      const procs = (pid !== undefined ? [readProcess(pid), ...descendants(pid)] : listProcesses()).sort(order);
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
