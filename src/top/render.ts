/**
 * Draws `sigkit top` as plain lines of exactly the terminal's width: a
 * header, the process list and a footer, with an overlay (signal menu,
 * ports, help) on top. Pure: the terminal code writes only the lines that
 * changed. Colour is SGR attributes only, and none at all without `color`
 * (NO_COLOR): the selection is then marked with `>` alone.
 */
import type { SocketInfo } from '../ports.js';
import { keyOf, type TopModel, type TopRow } from './model.js';

/** A signal as the menu lists it. */
export interface MenuSignal {
  number: number;
  name: string;
  description: string;
}

/** Everything on screen besides the model. */
export interface View {
  width: number;
  height: number;
  color: boolean;
  paused: boolean;
  mode: 'list' | 'filter' | 'signal' | 'ports' | 'help';
  /** The filter being typed (mode 'filter'). */
  input: string;
  /** The signal menu: its entries and cursor. */
  signals: MenuSignal[];
  menuIndex: number;
  /** The sockets shown by the ports overlay, with whose they are. */
  ports: { pid: number; comm: string; sockets: SocketInfo[] | string } | null;
  /** One-line message in the footer (result of the last action). */
  message: string;
  /** Escalations under way, for the countdown. */
  escalations: Array<{ pid: number; comm: string; signal: string; nextSignal: string | null; nextAtMs: number | null }>;
  nowMs: number;
  loadavg: [number, number, number];
  users: Map<number, string>;
}

/** Only printable ASCII reaches the terminal: a process's name is its own choice, escapes included. */
export function safe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

function fit(text: string, width: number): string {
  return text.length >= width ? text.slice(0, width) : text + ' '.repeat(width - text.length);
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['K', 'M', 'G', 'T'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)}${units[i]}`;
}

function humanTime(ms: number): string {
  const s = ms / 1000;
  if (s < 3600) return `${Math.floor(s / 60)}:${(s % 60).toFixed(2).padStart(5, '0')}`;
  const h = Math.floor(s / 3600);
  if (h < 100) return `${h}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d`;
}

// Two marker columns (selection '>', tag '*'), then pids up to 7 digits (pid_max 4194304).
const HEADER = '      PID USER     S  CPU%   RSS     TIME THR COMMAND';

/** One process row in `width` columns; a zombie keeps the pid of the parent that must reap it visible. */
function rowText(r: TopRow, users: Map<number, string>, width: number): string {
  const user = safe(users.get(r.uid) ?? String(r.uid)).slice(0, 8).padEnd(8);
  let name = r.kernelThread ? `[${safe(r.comm)}]` : safe(r.comm);
  const head = `${String(r.pid).padStart(7)} ${user} ${r.state} ${r.cpuPercent.toFixed(1).padStart(5)} ${humanBytes(r.rssBytes).padStart(5)} ${humanTime(r.cpuTimeMs).padStart(8)} ${String(r.threads).padStart(3)} ${r.branch}`;
  if (r.reaper) {
    // What must be seen is who reaps it: drop the reaper's name, then
    // shorten the zombie's own, before the reaper's pid is cut.
    const room = width - head.length;
    const full = ` <defunct> reap: ${r.reaper.pid} (${safe(r.reaper.comm)})`;
    const short = ` <defunct> reap: ${r.reaper.pid}`;
    if (name.length + full.length <= room) name += full;
    else if (name.length + short.length <= room) name += short;
    else name = name.slice(0, Math.max(1, room - short.length)) + short;
  }
  return head + name;
}

const sgr = (on: boolean, code: string, text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text);

/** Draws a box of `lines` centred over `frame`. */
function overlay(frame: string[], plain: string[], title: string, lines: string[], v: View): void {
  const w = Math.min(v.width - 2, Math.max(title.length + 4, ...lines.map((l) => l.length + 4)));
  const h = Math.min(v.height - 2, lines.length + 2);
  const top = Math.max(1, Math.floor((v.height - h) / 2));
  const left = Math.max(0, Math.floor((v.width - w) / 2));
  const put = (y: number, text: string, styled?: string) => {
    const base = plain[y] ?? ' '.repeat(v.width);
    plain[y] = base.slice(0, left) + text + base.slice(left + text.length);
    frame[y] = v.color ? base.slice(0, left) + (styled ?? text) + base.slice(left + text.length) : plain[y]!;
  };
  const inner = w - 2;
  const head = `- ${title} `.slice(0, inner);
  put(top, `+${head}${'-'.repeat(inner - head.length)}+`);
  for (let i = 0; i < h - 2; i++) {
    const text = fit(` ${lines[i] ?? ''}`, inner);
    const selected = lines[i]?.startsWith('>');
    put(top + 1 + i, `|${text}|`, selected ? `|${sgr(true, '7', text)}|` : undefined);
  }
  put(top + h - 1, `+${'-'.repeat(inner)}+`);
}

/** The signal menu's lines: `visible` entries around the cursor. */
function menuLines(v: View, visible: number): string[] {
  const n = v.signals.length;
  const start = Math.max(0, Math.min(n - visible, v.menuIndex - Math.floor(visible / 2)));
  const out: string[] = [];
  for (let i = start; i < Math.min(n, start + visible); i++) {
    const s = v.signals[i]!;
    out.push(`${i === v.menuIndex ? '>' : ' '}${String(s.number).padStart(3)} ${s.name.padEnd(13)} ${s.description}`);
  }
  return out;
}

export const HELP_LINES = [
  'Up/Down PgUp/PgDn Home/End  select',
  'Space        tag / untag (actions apply to tagged)',
  'k or F9      signal menu (every signal, realtime too)',
  'e            end: SIGTERM, wait 5 s, then SIGKILL',
  'l            sockets of the selected process',
  '/ or F4      filter by name (Esc clears)',
  't or F5      tree / flat view',
  'P M N  F6    sort by CPU, memory, pid / next sort',
  'K            show kernel threads',
  'z            pause / resume the refresh',
  'q F10 Ctrl-C quit',
];

/**
 * The frame: `height` lines of exactly `width` visible characters.
 * @throws never
 * @example
 * const lines = render(model, { ...view, width: 80, height: 24 });
 */
export function render(model: TopModel, v: View): string[] {
  const { width, height, color } = v;
  const c = model.counts();
  const plain: string[] = [];
  const frame: string[] = [];
  // `style`: the SGR attributes of the whole line (ignored without colour).
  const push = (text: string, style?: string) => {
    const p = fit(text, width);
    plain.push(p);
    frame.push(sgr(color && style !== undefined, style ?? '', p));
  };
  const load = v.loadavg.map((x) => x.toFixed(2)).join(' ');
  const title = `sigkit top  ${c.total} processes, ${c.running} running, ${c.zombies} zombie${c.zombies === 1 ? '' : 's'}, ${c.stopped} stopped  load ${load}`;
  push(title, '1');
  const flags = [`sort: ${model.sort}`, model.tree ? 'tree' : 'flat', model.filter ? `filter: ${safe(model.filter)}` : '', model.tags.size ? `${model.tags.size} tagged` : '', v.paused ? 'PAUSED' : '']
    .filter(Boolean).join('  ');
  push(flags, v.paused ? '1;33' : undefined);
  push(HEADER, '7');
  const rows = model.rows();
  const listHeight = Math.max(1, height - 4);
  const sel = model.selectedIndex();
  const first = Math.max(0, Math.min(sel - Math.floor(listHeight / 2), rows.length - listHeight));
  for (let i = 0; i < listHeight; i++) {
    const r = rows[first + i];
    if (!r) {
      push('');
      continue;
    }
    const selected = first + i === sel;
    const text = `${selected ? '>' : ' '}${r.tagged ? '*' : ' '}${rowText(r, v.users, width - 2)}`;
    push(text, selected ? '7' : r.state === 'Z' ? '31' : r.tagged ? '33' : r.state === 'R' ? '32' : undefined);
  }
  const esc = v.escalations[0];
  const countdown = esc
    ? `${esc.signal} -> ${esc.pid} ${safe(esc.comm)}${esc.nextAtMs !== null ? `: ${esc.nextSignal} in ${Math.max(0, (esc.nextAtMs - v.nowMs) / 1000).toFixed(1)} s` : ''}${v.escalations.length > 1 ? ` (+${v.escalations.length - 1} more)` : ''}  `
    : '';
  let footer: string;
  if (v.mode === 'filter') footer = `Filter: ${safe(v.input)}_   (Enter apply, Esc clear)`;
  else if (v.message || countdown) footer = `${countdown}${safe(v.message)}`;
  else footer = 'q quit  / filter  t tree  P/M/N sort  space tag  k signal  e end  l ports  z pause  h help';
  push(footer, v.mode === 'filter' || !(v.message || countdown) ? undefined : '1');
  // The frame is exactly `height` lines even on a tiny terminal.
  while (plain.length > height) {
    plain.splice(plain.length - 2, 1);
    frame.splice(frame.length - 2, 1);
  }
  if (v.mode === 'signal') {
    const targets = model.targets();
    const who = targets.length === 1 ? `${targets[0]!.pid} ${safe(targets[0]!.comm)}` : `${targets.length} tagged`;
    overlay(frame, plain, `Send to ${who} (Enter send, Esc cancel, digits jump)`, menuLines(v, Math.max(1, height - 6)), v);
  } else if (v.mode === 'ports' && v.ports) {
    const s = v.ports.sockets;
    const lines = typeof s === 'string'
      ? [s]
      : s.length === 0
        ? ['no TCP or UDP sockets']
        : s.map((x) => `${x.protocol.padEnd(4)} ${x.state.padEnd(11)} ${x.localAddress}:${x.localPort}${x.remotePort ? ` -> ${x.remoteAddress}:${x.remotePort}` : ''}`);
    overlay(frame, plain, `Sockets of ${v.ports.pid} ${safe(v.ports.comm)} (any key closes)`, lines.slice(0, Math.max(1, height - 4)), v);
  } else if (v.mode === 'help') {
    overlay(frame, plain, 'sigkit top keys (any key closes)', HELP_LINES, v);
  }
  return frame;
}

/** For tests and the README capture: the frame without any escape. */
export function renderPlain(model: TopModel, v: View): string[] {
  return render(model, { ...v, color: false });
}

export { keyOf };
