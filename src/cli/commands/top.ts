/**
 * `sigkit top`: a live process monitor on a plain ANSI terminal (no curses,
 * no terminal UI library: see docs). One /proc scan per refresh; the screen
 * is redrawn line by line, only the lines that changed, so it stays light
 * over ssh. The terminal is restored on every way out: q, F10, Ctrl-C,
 * SIGTERM/SIGHUP/SIGINT/SIGQUIT from outside, and an uncaught error.
 */
import { readFileSync, writeSync } from 'node:fs';
import { loadavg } from 'node:os';
import { catalogue } from '../../catalogue.js';
import { openProcess, type ProcessHandle } from '../../pidfd.js';
import { listSockets } from '../../ports.js';
import { listProcesses } from '../../proc.js';
import { protectedReason, type ProtectedReason } from '../../protected.js';
import { terminate } from '../../terminate.js';
import { parseKeys } from '../../top/keys.js';
import { TopModel, type SortKey, type TopRow } from '../../top/model.js';
import { render, type MenuSignal, type View } from '../../top/render.js';
import { CliError, EXIT, parse, parseDuration, usageError, type Command, type Io } from '../io.js';

const WHY: Record<ProtectedReason, string> = {
  self: 'this sigkit process',
  ancestor: 'an ancestor of sigkit (its shell or terminal)',
  init: 'PID 1',
  'own-group': "sigkit's own process group",
};

function users(): Map<number, string> {
  const out = new Map<number, string>();
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && /^[0-9]+$/.test(f[2]!)) out.set(Number(f[2]), f[0]!);
    }
  } catch {
    // no passwd: uids are shown as numbers
  }
  return out;
}

/** The menu: every signal of the catalogue, 1 .. SIGRTMAX, realtime included. */
export function menuSignals(): MenuSignal[] {
  return catalogue.signals().filter((s) => s.number >= 1).map((s) => ({ number: s.number, name: s.name, description: s.description }));
}

/** A view for `model`, as the interactive loop and `--once` start it. */
export function initialView(width: number, height: number, color: boolean): View {
  const signals = menuSignals();
  return {
    width, height, color, paused: false, mode: 'list', input: '', signals,
    menuIndex: Math.max(0, signals.findIndex((s) => s.name === 'SIGTERM')), ports: null, message: '', escalations: [],
    nowMs: performance.now(), loadavg: loadavg() as [number, number, number], users: users(),
  };
}

/**
 * One refresh, as the interactive loop does it: one scan, the model updated,
 * the frame drawn. Exported for bench/usage.mjs (the CPU of one refresh).
 * @throws SyscallError when /proc cannot be read
 * @example
 * const lines = refresh(model, view);
 */
export function refresh(model: TopModel, view: View): string[] {
  model.update(listProcesses(), performance.now());
  view.nowMs = performance.now();
  view.loadavg = loadavg() as [number, number, number];
  return render(model, view);
}

const USAGE = `sigkit top [--delay 1.5s] [--sort cpu|rss|pid] [--tree] [--filter TEXT] [--grace 5s] [--once]

  A live process monitor (one /proc scan per refresh; works in 80x24, over
  ssh, and with NO_COLOR). Keys (htop's where htop has one):
    Up/Down PgUp/PgDn Home/End   select a process
    Space        tag / untag (k and e then act on every tagged process); U untags all
    k or F9      signal menu: every signal, realtime included (digits jump to a
                 number, Enter sends, Esc cancels)
    e            end the process: SIGTERM, wait (--grace), then SIGKILL, with a countdown
    l            its TCP/UDP sockets
    / or F4      filter by name or pid (Esc clears)
    t or F5      tree / flat view
    P  M  N      sort by CPU, memory, pid (F6: next)
    K            show kernel threads
    z            pause / resume the refresh
    h F1 ?       help
    q F10 Ctrl-C quit
  Zombies are shown with the parent that must reap them. Protected processes
  (sigkit itself, its ancestors, PID 1) are refused, never signalled; every
  signal goes through a pidfd opened on the process shown, so a recycled pid
  is never hit.
  --once   print one frame (two scans --delay apart) and exit: for scripts and non-terminals`;

export const top: Command = {
  name: 'top',
  summary: 'live process monitor: tree, sort, filter, sockets, signal menu',
  usage: USAGE,
  async run(args, io: Io) {
    const { values } = parse(args, {
      delay: { type: 'string', short: 'd' },
      sort: { type: 'string', short: 's' },
      tree: { type: 'boolean', short: 't' },
      filter: { type: 'string' },
      grace: { type: 'string' },
      once: { type: 'boolean' },
    }, false);
    const delayMs = parseDuration(values.delay ?? '1.5s', '--delay');
    if (delayMs < 100) throw usageError('--delay must be at least 100ms');
    const graceMs = parseDuration(values.grace ?? '5s', '--grace');
    const sort = (values.sort ?? 'cpu') as SortKey;
    if (!['cpu', 'rss', 'pid'].includes(sort)) throw usageError(`--sort takes cpu, rss or pid, not '${values.sort}'`);
    const model = new TopModel();
    model.sort = sort;
    model.tree = Boolean(values.tree);
    model.filter = values.filter ?? '';
    const interactive = !values.once && !values.json && process.stdin.isTTY && process.stdout.isTTY;
    if (!interactive) {
      if (!values.once && !values.json) throw usageError('top needs a terminal; use --once (or --json) for one frame');
      const width = process.stdout.columns || Number(process.env.COLUMNS) || 80;
      const height = process.stdout.rows || Number(process.env.LINES) || 24;
      const view = initialView(width, height, io.color);
      model.update(listProcesses(), performance.now());
      await new Promise((r) => setTimeout(r, Math.min(delayMs, 1000)));
      const lines = refresh(model, view);
      if (values.json) io.out(`${JSON.stringify(model.rows().map(({ branch: _b, depth: _d, ...r }) => r), null, 2)}\n`);
      else io.out(`${lines.map((l) => l.trimEnd()).join('\n')}\n`);
      return EXIT.OK;
    }
    return interactiveTop(model, delayMs, graceMs, io);
  },
};

function interactiveTop(model: TopModel, delayMs: number, graceMs: number, io: Io): Promise<number> {
  const stdin = process.stdin;
  const stdout = process.stdout;
  const view = initialView(stdout.columns || 80, stdout.rows || 24, io.color);
  let previous: string[] = [];
  let restored = false;
  let timer: NodeJS.Timeout | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let soon: NodeJS.Timeout | undefined;
  let digits = '';
  let digitsAt = 0;
  const open = new Set<ProcessHandle>();

  // Alternate screen, cursor hidden, no auto-wrap (a full last line must not scroll).
  const ENTER = '\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[H\x1b[2J';
  const LEAVE = '\x1b[0m\x1b[?7h\x1b[?25h\x1b[?1049l';
  const restore = (): void => {
    if (restored) return;
    restored = true;
    try {
      stdin.setRawMode(false);
    } catch {
      // stdin already gone
    }
    try {
      writeSync(stdout.fd, LEAVE);
    } catch {
      // stdout already gone
    }
  };

  return new Promise<number>((resolve) => {
    const signalNames = ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT'] as const;
    const onSignal = (sig: NodeJS.Signals): void => finish(128 + catalogue.number(sig));
    const onCrash = (e: unknown): void => {
      restore();
      process.stderr.write(`sigkit top: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(EXIT.FAILED);
    };
    const finish = (code: number): void => {
      if (timer) clearInterval(timer);
      if (ticker) clearInterval(ticker);
      if (soon) clearTimeout(soon);
      stdin.off('data', onData);
      stdout.off('resize', onResize);
      for (const s of signalNames) process.off(s, onSignal);
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
      process.off('exit', restore);
      restore();
      stdin.pause();
      for (const h of open) h.close();
      resolve(code);
    };

    const draw = (): void => {
      view.nowMs = performance.now();
      const lines = render(model, view);
      let buf = '';
      for (let i = 0; i < lines.length; i++) if (lines[i] !== previous[i]) buf += `\x1b[${i + 1};1H${lines[i]}`;
      previous = lines;
      if (buf) stdout.write(buf);
    };
    const scan = (): void => {
      if (view.paused) return;
      model.update(listProcesses(), performance.now());
      view.loadavg = loadavg() as [number, number, number];
      draw();
    };
    // A scan a moment after an action shows its effect without waiting for the next refresh.
    const scanSoon = (): void => {
      if (soon) clearTimeout(soon);
      soon = setTimeout(scan, 150);
    };
    const onResize = (): void => {
      view.width = stdout.columns || 80;
      view.height = stdout.rows || 24;
      previous = [];
      stdout.write('\x1b[2J');
      draw();
    };

    /** Pins `t` with a pidfd and checks it is still the process shown; else a reason. */
    const pin = (t: TopRow): ProcessHandle | string => {
      const reason = protectedReason(t.pid);
      if (reason) return `${t.pid} is ${WHY[reason]}: refused`;
      let h: ProcessHandle;
      try {
        h = openProcess(t.pid);
      } catch (e) {
        return `${t.pid}: ${(e as { code?: string }).code === 'ESRCH' ? 'gone' : (e as { code?: string }).code}`;
      }
      if (h.startTime !== t.startTime) {
        h.close();
        return `${t.pid} now names another process: not signalled`;
      }
      return h;
    };
    // Every tagged (or the selected) target, pinned; why the others were not, in `problems`.
    const pinTargets = (problems: string[]): Array<[TopRow, ProcessHandle]> => {
      const out: Array<[TopRow, ProcessHandle]> = [];
      for (const t of model.targets()) {
        const h = pin(t);
        if (typeof h === 'string') problems.push(h);
        else out.push([t, h]);
      }
      return out;
    };

    const send = (sig: MenuSignal): void => {
      const sent: number[] = [];
      const problems: string[] = [];
      for (const [t, h] of pinTargets(problems)) {
        try {
          h.kill(sig.number);
          sent.push(t.pid);
        } catch (e) {
          problems.push(`${t.pid}: ${(e as { code?: string }).code ?? String(e)}`);
        } finally {
          h.close();
        }
      }
      view.message = `${sent.length ? `${sig.name} -> ${sent.join(' ')}` : 'nothing sent'}${problems.length ? `; ${problems.join('; ')}` : ''}`;
      scanSoon();
    };

    const escalate = (): void => {
      const problems: string[] = [];
      for (const [t, h] of pinTargets(problems)) {
        open.add(h);
        const entry: View['escalations'][number] = { pid: t.pid, comm: t.comm, signal: 'SIGTERM', nextSignal: 'SIGKILL', nextAtMs: performance.now() + graceMs };
        view.escalations.push(entry);
        terminate(h, {
          steps: [{ signal: 'SIGTERM', waitMs: graceMs }, { signal: 'SIGKILL', waitMs: 2000 }],
          onStep: (s) => {
            entry.signal = s.signal;
            if (s.signal === 'SIGKILL') {
              entry.nextSignal = null;
              entry.nextAtMs = null;
            } else entry.nextAtMs = performance.now() + graceMs;
          },
        }).then((r) => {
          view.message = `${t.pid} ${r.exited ? (r.forced ? 'killed by SIGKILL' : 'exited on SIGTERM') : 'still running after SIGKILL'}${r.exitedAfterMs !== null ? ` after ${(r.exitedAfterMs / 1000).toFixed(1)} s` : ''}`;
        }, (e: unknown) => {
          view.message = `${t.pid}: ${(e as { code?: string }).code ?? String(e)}`;
        }).finally(() => {
          h.close();
          open.delete(h);
          view.escalations.splice(view.escalations.indexOf(entry), 1);
          if (view.escalations.length === 0 && ticker) {
            clearInterval(ticker);
            ticker = undefined;
          }
          if (!restored) scanSoon();
        });
      }
      if (problems.length) view.message = problems.join('; ');
      // The countdown redraws (no scan) five times a second while it runs.
      if (view.escalations.length > 0 && !ticker) ticker = setInterval(draw, 200);
    };

    const SORTS: SortKey[] = ['cpu', 'rss', 'pid'];
    const listKey = (k: string): void => {
      const page = Math.max(1, view.height - 5);
      switch (k) {
        case 'q': case 'f10': case 'ctrl-c': return finish(EXIT.OK);
        case 'up': model.move(-1); break;
        case 'down': model.move(1); break;
        case 'pgup': model.move(-page); break;
        case 'pgdn': model.move(page); break;
        case 'home': model.move(-1e9); break;
        case 'end': model.move(1e9); break;
        case 'space': model.toggleTag(); model.move(1); break;
        case 'U': model.tags.clear(); model.invalidate(); break;
        case 'k': case 'f9':
          if (model.targets().length === 0) view.message = 'no process selected';
          else view.mode = 'signal';
          break;
        case 'e': escalate(); break;
        case 'l': {
          const r = model.selectedRow();
          if (!r) break;
          let sockets: ReturnType<typeof listSockets> | string;
          try {
            sockets = listSockets(r.pid);
          } catch (e) {
            sockets = `cannot read its fds: ${(e as { code?: string }).code ?? String(e)}`;
          }
          view.ports = { pid: r.pid, comm: r.comm, sockets };
          view.mode = 'ports';
          break;
        }
        case '/': case 'f4': view.mode = 'filter'; view.input = model.filter; break;
        case 't': case 'f5': model.tree = !model.tree; model.invalidate(); break;
        case 'P': model.sort = 'cpu'; model.invalidate(); break;
        case 'M': model.sort = 'rss'; model.invalidate(); break;
        case 'N': model.sort = 'pid'; model.invalidate(); break;
        case 'f6': model.sort = SORTS[(SORTS.indexOf(model.sort) + 1) % SORTS.length]!; model.invalidate(); break;
        case 'K': model.showKernel = !model.showKernel; model.invalidate(); break;
        case 'z': case 'Z': view.paused = !view.paused; if (!view.paused) scan(); break;
        case 'h': case 'f1': case '?': view.mode = 'help'; break;
        case 'escape': view.message = ''; break;
        default: return;
      }
    };
    const filterKey = (k: string): void => {
      if (k === 'enter') view.mode = 'list';
      else if (k === 'escape') {
        view.input = '';
        view.mode = 'list';
      } else if (k === 'backspace') view.input = view.input.slice(0, -1);
      else if (k === 'space') view.input += ' ';
      else if (k.length === 1) view.input += k;
      else if (k === 'ctrl-c') return finish(EXIT.OK);
      model.filter = view.input;
      model.invalidate();
    };
    const menuKey = (k: string): void => {
      const n = view.signals.length;
      const page = Math.max(1, view.height - 8);
      if (k === 'up') view.menuIndex = Math.max(0, view.menuIndex - 1);
      else if (k === 'down') view.menuIndex = Math.min(n - 1, view.menuIndex + 1);
      else if (k === 'pgup') view.menuIndex = Math.max(0, view.menuIndex - page);
      else if (k === 'pgdn') view.menuIndex = Math.min(n - 1, view.menuIndex + page);
      else if (k === 'home') view.menuIndex = 0;
      else if (k === 'end') view.menuIndex = n - 1;
      else if (k === 'escape' || k === 'q') view.mode = 'list';
      else if (k === 'ctrl-c') return finish(EXIT.OK);
      else if (k === 'enter') {
        view.mode = 'list';
        send(view.signals[view.menuIndex]!);
      } else if (/^[0-9]$/.test(k)) {
        const now = performance.now();
        digits = now - digitsAt < 1500 ? digits + k : k;
        digitsAt = now;
        const i = view.signals.findIndex((s) => s.number === Number(digits));
        if (i >= 0) view.menuIndex = i;
      }
    };
    const onData = (data: string): void => {
      for (const k of parseKeys(data)) {
        if (restored) return;
        if (view.mode === 'list') listKey(k);
        else if (view.mode === 'filter') filterKey(k);
        else if (view.mode === 'signal') menuKey(k);
        else if (k === 'ctrl-c') return finish(EXIT.OK);
        else view.mode = 'list';
      }
      if (!restored) draw();
    };

    for (const s of signalNames) process.on(s, onSignal);
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    process.on('exit', restore);
    try {
      stdin.setRawMode(true);
    } catch (e) {
      finish(EXIT.FAILED);
      throw new CliError(`cannot put the terminal in raw mode: ${(e as Error).message}`);
    }
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
    stdin.resume();
    stdout.on('resize', onResize);
    stdout.write(ENTER);
    scan();
    timer = setInterval(scan, delayMs);
  });
}
