/**
 * What `sigkit top` shows, without any terminal: the processes of one scan,
 * their CPU since the previous scan, sorted, filtered, as a flat list or a
 * tree, with zombies tied to the parent that must reap them and the tags and
 * selection that survive refreshes. Pure: the caller passes the scan in.
 */
import type { ProcessSummary } from '../proc.js';

export type SortKey = 'cpu' | 'rss' | 'pid';

/** One line of the process list. */
export interface TopRow {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
  uid: number;
  threads: number;
  startTime: number;
  cpuTimeMs: number;
  /** CPU since the previous scan (100 = one CPU); 0 on the first. */
  cpuPercent: number;
  rssBytes: number;
  kernelThread: boolean;
  /** Depth in the tree view (0 in the flat view). */
  depth: number;
  /** Tree drawing before the name (`'├─ '`), empty in the flat view. */
  branch: string;
  /** For a zombie: the parent that must wait() for it. */
  reaper?: { pid: number; comm: string };
  tagged: boolean;
}

/** Identity of a process across scans: a recycled pid is another process. */
export const keyOf = (p: { pid: number; startTime: number }): string => `${p.pid}:${p.startTime}`;

export class TopModel {
  sort: SortKey = 'cpu';
  tree = false;
  filter = '';
  showKernel = false;
  /** Tagged processes, by {@link keyOf}. */
  readonly tags = new Set<string>();
  /** The selected process, by {@link keyOf}. */
  selected: string | undefined;
  procs: ProcessSummary[] = [];
  private cpu = new Map<string, number>();
  private readonly prevCpu = new Map<string, number>();
  private prevAt: number | undefined;
  private cached: TopRow[] | undefined;

  /** Takes a new scan taken at `nowMs` (a monotonic clock). */
  update(procs: ProcessSummary[], nowMs: number): void {
    const elapsed = this.prevAt === undefined ? 0 : nowMs - this.prevAt;
    const cpu = new Map<string, number>();
    for (const p of procs) {
      const k = keyOf(p);
      const before = this.prevCpu.get(k);
      cpu.set(k, elapsed > 0 && before !== undefined ? Math.max(0, ((p.cpuTimeMs - before) / elapsed) * 100) : 0);
    }
    this.prevCpu.clear();
    for (const p of procs) this.prevCpu.set(keyOf(p), p.cpuTimeMs);
    this.prevAt = nowMs;
    this.cpu = cpu;
    this.procs = procs;
    // Tags of processes that are gone are dropped: a recycled pid is never tagged.
    for (const t of this.tags) if (!cpu.has(t)) this.tags.delete(t);
    this.invalidate();
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private compare(a: TopRow, b: TopRow): number {
    if (this.sort === 'cpu') return b.cpuPercent - a.cpuPercent || b.cpuTimeMs - a.cpuTimeMs || a.pid - b.pid;
    if (this.sort === 'rss') return b.rssBytes - a.rssBytes || a.pid - b.pid;
    return a.pid - b.pid;
  }

  private matches(p: ProcessSummary): boolean {
    if (!this.showKernel && p.kernelThread) return false;
    if (this.filter === '') return true;
    const f = this.filter.toLowerCase();
    return p.comm.toLowerCase().includes(f) || String(p.pid) === f;
  }

  /** The rows to show, in order. */
  rows(): TopRow[] {
    if (this.cached) return this.cached;
    const byPid = new Map(this.procs.map((p) => [p.pid, p]));
    const flat: TopRow[] = [];
    for (const p of this.procs) {
      if (!this.matches(p)) continue;
      const k = keyOf(p);
      const row: TopRow = {
        pid: p.pid, ppid: p.ppid, state: p.state, comm: p.comm, uid: p.uid, threads: p.threads, startTime: p.startTime,
        cpuTimeMs: p.cpuTimeMs, cpuPercent: this.cpu.get(k) ?? 0, rssBytes: p.rssBytes, kernelThread: p.kernelThread,
        depth: 0, branch: '', tagged: this.tags.has(k),
      };
      if (p.state === 'Z') {
        const parent = byPid.get(p.ppid);
        row.reaper = { pid: p.ppid, comm: parent?.comm ?? '?' };
      }
      flat.push(row);
    }
    if (!this.tree) return (this.cached = flat.sort((a, b) => this.compare(a, b)));
    // Tree: children under their parent, siblings in sort order; a process
    // whose parent is filtered out (or gone) is a root.
    const shown = new Map(flat.map((r) => [r.pid, r]));
    const kids = new Map<number, TopRow[]>();
    const roots: TopRow[] = [];
    for (const r of flat) {
      const parent = shown.get(r.ppid);
      if (parent && parent !== r) {
        const list = kids.get(r.ppid);
        if (list) list.push(r);
        else kids.set(r.ppid, [r]);
      } else roots.push(r);
    }
    const out: TopRow[] = [];
    const walk = (r: TopRow, depth: number, prefix: string, last: boolean): void => {
      r.depth = depth;
      r.branch = depth === 0 ? '' : `${prefix}${last ? '└─ ' : '├─ '}`;
      out.push(r);
      const list = (kids.get(r.pid) ?? []).sort((a, b) => this.compare(a, b));
      const next = depth === 0 ? '' : `${prefix}${last ? '   ' : '│  '}`;
      list.forEach((c, i) => walk(c, depth + 1, next, i === list.length - 1));
    };
    roots.sort((a, b) => this.compare(a, b)).forEach((r) => walk(r, 0, '', true));
    return (this.cached = out);
  }

  /** Index of the selected row (the first row when the selection is gone). */
  selectedIndex(): number {
    const rows = this.rows();
    const i = this.selected === undefined ? -1 : rows.findIndex((r) => keyOf(r) === this.selected);
    return i < 0 ? 0 : i;
  }

  /** Moves the selection by `delta` rows (clamped). */
  move(delta: number): void {
    const rows = this.rows();
    if (rows.length === 0) return;
    const i = Math.max(0, Math.min(rows.length - 1, this.selectedIndex() + delta));
    this.selected = keyOf(rows[i]!);
  }

  selectedRow(): TopRow | undefined {
    return this.rows()[this.selectedIndex()];
  }

  toggleTag(): void {
    const r = this.selectedRow();
    if (!r) return;
    const k = keyOf(r);
    if (this.tags.has(k)) this.tags.delete(k);
    else this.tags.add(k);
    this.invalidate();
  }

  /** What an action applies to: the tagged processes, else the selected one. */
  targets(): TopRow[] {
    if (this.tags.size > 0) {
      const byKey = new Map(this.procs.map((p) => [keyOf(p), p]));
      return this.rowsFor([...this.tags].map((t) => byKey.get(t)).filter((p): p is ProcessSummary => p !== undefined));
    }
    const r = this.selectedRow();
    return r ? [r] : [];
  }

  private rowsFor(procs: ProcessSummary[]): TopRow[] {
    const all = new Map(this.rows().map((r) => [keyOf(r), r]));
    return procs.map((p) => all.get(keyOf(p)) ?? {
      pid: p.pid, ppid: p.ppid, state: p.state, comm: p.comm, uid: p.uid, threads: p.threads, startTime: p.startTime,
      cpuTimeMs: p.cpuTimeMs, cpuPercent: 0, rssBytes: p.rssBytes, kernelThread: p.kernelThread, depth: 0, branch: '', tagged: true,
    });
  }

  /** Counts for the header. */
  counts(): { total: number; running: number; zombies: number; stopped: number } {
    let running = 0;
    let zombies = 0;
    let stopped = 0;
    for (const p of this.procs) {
      if (p.state === 'R') running++;
      else if (p.state === 'Z') zombies++;
      else if (p.state === 'T' || p.state === 't') stopped++;
    }
    return { total: this.procs.length, running, zombies, stopped };
  }
}
