/**
 * The signal catalogue: names, numbers, descriptions and default actions.
 *
 * Pure: the realtime range is a constructor argument, because glibc and musl
 * reserve different numbers at the bottom of the kernel's realtime range and
 * `SIGRTMIN` is a function call in libc. `catalogue.ts` builds the instance
 * for this process from the native layer's values.
 */
import { unknownSignal } from './errors.js';

/** What the kernel does with a signal that has no handler (signal(7)). */
export type DefaultAction = 'terminate' | 'core' | 'ignore' | 'stop' | 'continue';

/** The classic signal names without their `SIG` prefix, and the aliases. */
type BaseSignalName =
  | 'HUP' | 'INT' | 'QUIT' | 'ILL' | 'TRAP' | 'ABRT' | 'IOT' | 'BUS' | 'FPE' | 'KILL' | 'USR1' | 'SEGV'
  | 'USR2' | 'PIPE' | 'ALRM' | 'TERM' | 'STKFLT' | 'CHLD' | 'CLD' | 'CONT' | 'STOP' | 'TSTP' | 'TTIN'
  | 'TTOU' | 'URG' | 'XCPU' | 'XFSZ' | 'VTALRM' | 'PROF' | 'WINCH' | 'IO' | 'POLL' | 'PWR' | 'SYS'
  | 'RTMIN' | 'RTMAX' | `RTMIN+${number}` | `RTMAX-${number}`;

/**
 * Every spelling of a signal name the type system can check: `'SIGTERM'`,
 * `'TERM'`, `'sigterm'`, `'term'`, `'SIGRTMIN+3'`, `'RTMAX-1'`. A misspelt
 * literal (`'SIGTREM'`) fails to compile. At run time names are
 * case-insensitive in any mix; text from outside (argv, config) goes through
 * {@link SignalCatalogue.number} / `signalNumber(text)`, which takes any
 * string and throws ERR_UNKNOWN_SIGNAL.
 */
export type SignalName = `${'SIG' | 'sig' | ''}${BaseSignalName | Lowercase<BaseSignalName>}`;

/**
 * A signal name or number: `'SIGTERM'`, `'term'`, `'SIGRTMIN+3'`, `'RTMAX-1'`, `15`.
 * Numbers are checked at run time (0 .. SIGRTMAX).
 */
export type SignalLike = SignalName | number;

/** One entry of {@link SignalCatalogue.signals}. */
export interface SignalInfo {
  /** Canonical name: `'SIGTERM'`, `'SIGRTMIN+3'`, `'SIGRTMAX-1'`. */
  readonly name: string;
  readonly number: number;
  /** Other spellings of the same number (`SIGIOT`, `SIGRTMIN+16`...). */
  readonly aliases: readonly string[];
  /** As strsignal(3) words it: `'Terminated'`, `'Real-time signal 3'`. */
  readonly description: string;
  readonly defaultAction: DefaultAction;
  /** False for SIGKILL and SIGSTOP. */
  readonly catchable: boolean;
  /** In the kernel's realtime range (32 and up): queued, never coalesced. */
  readonly realtime: boolean;
  /**
   * Owned by someone else in a Node process: libc's thread signals (32, 33
   * with glibc) and the synchronous fault signals V8 handles (SIGSEGV,
   * SIGBUS, SIGFPE, SIGILL). sigkit refuses to install handlers for them.
   */
  readonly reserved: boolean;
}

/** The realtime range of this libc: `SIGRTMIN`, `SIGRTMAX` at run time. */
export interface RealtimeRange {
  readonly rtmin: number;
  readonly rtmax: number;
}

type Standard = readonly [number, string, DefaultAction, string, (readonly string[])?];

// The classic signals, numbered as on x86-64 and arm64 (asm-generic), with
// glibc's descriptions and signal(7)'s default actions.
const STANDARD: readonly Standard[] = [
  [1, 'SIGHUP', 'terminate', 'Hangup'],
  [2, 'SIGINT', 'terminate', 'Interrupt'],
  [3, 'SIGQUIT', 'core', 'Quit'],
  [4, 'SIGILL', 'core', 'Illegal instruction'],
  [5, 'SIGTRAP', 'core', 'Trace/breakpoint trap'],
  [6, 'SIGABRT', 'core', 'Aborted', ['SIGIOT']],
  [7, 'SIGBUS', 'core', 'Bus error'],
  [8, 'SIGFPE', 'core', 'Floating point exception'],
  [9, 'SIGKILL', 'terminate', 'Killed'],
  [10, 'SIGUSR1', 'terminate', 'User defined signal 1'],
  [11, 'SIGSEGV', 'core', 'Segmentation fault'],
  [12, 'SIGUSR2', 'terminate', 'User defined signal 2'],
  [13, 'SIGPIPE', 'terminate', 'Broken pipe'],
  [14, 'SIGALRM', 'terminate', 'Alarm clock'],
  [15, 'SIGTERM', 'terminate', 'Terminated'],
  [16, 'SIGSTKFLT', 'terminate', 'Stack fault'],
  [17, 'SIGCHLD', 'ignore', 'Child exited', ['SIGCLD']],
  [18, 'SIGCONT', 'continue', 'Continued'],
  [19, 'SIGSTOP', 'stop', 'Stopped (signal)'],
  [20, 'SIGTSTP', 'stop', 'Stopped'],
  [21, 'SIGTTIN', 'stop', 'Stopped (tty input)'],
  [22, 'SIGTTOU', 'stop', 'Stopped (tty output)'],
  [23, 'SIGURG', 'ignore', 'Urgent I/O condition'],
  [24, 'SIGXCPU', 'core', 'CPU time limit exceeded'],
  [25, 'SIGXFSZ', 'core', 'File size limit exceeded'],
  [26, 'SIGVTALRM', 'terminate', 'Virtual timer expired'],
  [27, 'SIGPROF', 'terminate', 'Profiling timer expired'],
  [28, 'SIGWINCH', 'ignore', 'Window changed'],
  [29, 'SIGIO', 'terminate', 'I/O possible', ['SIGPOLL']],
  [30, 'SIGPWR', 'terminate', 'Power failure'],
  [31, 'SIGSYS', 'core', 'Bad system call'],
];

/** The kernel's first realtime signal; libc may reserve some above it. */
const KERNEL_RTMIN = 32;
const UNCATCHABLE = new Set([9, 19]);
const FAULTS = new Set([4, 7, 8, 11]);
// Only ASCII letters, digits and the RT offset signs may appear in a name:
// toUpperCase() would otherwise turn 'ſigterm' (long s) into 'SIGTERM'.
const NAME_SHAPE = /^[A-Za-z][A-Za-z0-9]*(?:[+-][0-9]{1,4})?$/;
const RT_NAME = /^RT(MIN|MAX)(?:([+-])([0-9]{1,4}))?$/;

/** Options of {@link SignalCatalogue.formatSignalList}. */
export interface FormatSignalListOptions {
  /**
   * `false` (default): the `kill -l` table of bash, five per row.
   * `true`: one signal a line with its default action and description.
   */
  long?: boolean;
}

/**
 * Every signal of one realtime layout. Use the process-wide instance through
 * `signalNumber`, `signalName`, `signals` and `Signal`.
 */
export class SignalCatalogue {
  readonly rtmin: number;
  readonly rtmax: number;
  /** name (canonical or alias) -> number, frozen. */
  readonly table: Readonly<Record<string, number>>;
  private readonly infos: readonly SignalInfo[];
  private readonly byNumber: ReadonlyMap<number, SignalInfo>;
  // Upper-case name without 'SIG' -> number; and a cache of exact inputs.
  private readonly lookup = new Map<string, number>();
  private readonly parsed = new Map<string, number>();

  constructor(range: RealtimeRange) {
    const { rtmin, rtmax } = range;
    if (!Number.isInteger(rtmin) || !Number.isInteger(rtmax) || rtmin < KERNEL_RTMIN || rtmax < rtmin || rtmax > 127) {
      throw new RangeError(`invalid realtime signal range ${rtmin}..${rtmax}`);
    }
    this.rtmin = rtmin;
    this.rtmax = rtmax;
    const infos: SignalInfo[] = [];
    for (const [number, name, defaultAction, description, aliases = []] of STANDARD) {
      infos.push(Object.freeze({
        name,
        number,
        aliases: Object.freeze([...aliases]),
        description,
        defaultAction,
        catchable: !UNCATCHABLE.has(number),
        realtime: false,
        reserved: FAULTS.has(number),
      }));
    }
    for (let n = KERNEL_RTMIN; n < rtmin; n++) {
      // Below SIGRTMIN: libc's own (glibc: cancellation and setxid), no name.
      infos.push(Object.freeze({
        name: `SIG${n}`,
        number: n,
        aliases: Object.freeze([]),
        description: `Real-time signal ${n - KERNEL_RTMIN} (reserved by libc)`,
        defaultAction: 'terminate',
        catchable: true,
        realtime: true,
        reserved: true,
      }));
    }
    for (let n = rtmin; n <= rtmax; n++) {
      const names = rtNames(n, rtmin, rtmax);
      infos.push(Object.freeze({
        name: names[0]!,
        number: n,
        aliases: Object.freeze(names.slice(1)),
        description: `Real-time signal ${n - rtmin}`,
        defaultAction: 'terminate',
        catchable: true,
        realtime: true,
        reserved: false,
      }));
    }
    this.infos = Object.freeze(infos);
    this.byNumber = new Map(infos.map((i) => [i.number, i]));
    const table: Record<string, number> = {};
    for (const info of infos) {
      for (const name of [info.name, ...info.aliases]) {
        table[name] = info.number;
        this.lookup.set(name.slice(3), info.number);
      }
    }
    table.SIGRTMIN = rtmin;
    table.SIGRTMAX = rtmax;
    this.table = Object.freeze(table);
  }

  /** Every signal, in number order (1 .. SIGRTMAX). */
  signals(): SignalInfo[] {
    return [...this.infos];
  }

  /** The entry for a signal, by any accepted spelling. */
  info(sig: SignalLike | string): SignalInfo {
    const n = this.number(sig);
    const info = this.byNumber.get(n);
    if (!info) throw unknownSignal(sig);
    return info;
  }

  /**
   * Parses a {@link SignalLike} to its number. Numbers 0 .. SIGRTMAX (0 is
   * the existence probe); names case-insensitive, with or without `SIG`.
   * @throws TypeError ERR_UNKNOWN_SIGNAL for anything else.
   */
  number(sig: SignalLike | string): number {
    if (typeof sig === 'number') {
      if (Number.isInteger(sig) && sig >= 0 && sig <= this.rtmax) return sig;
      throw unknownSignal(sig);
    }
    if (typeof sig !== 'string') throw unknownSignal(sig);
    const cached = this.parsed.get(sig);
    if (cached !== undefined) return cached;
    const n = this.parseName(sig);
    if (n === undefined) throw unknownSignal(sig);
    if (this.parsed.size < 1024) this.parsed.set(sig, n);
    return n;
  }

  /**
   * The canonical name of a signal number (`'SIGTERM'`, `'SIGRTMIN+3'`).
   * @throws TypeError ERR_UNKNOWN_SIGNAL for 0 and numbers with no signal.
   */
  name(n: number): string {
    const info = typeof n === 'number' ? this.byNumber.get(n) : undefined;
    if (!info) throw unknownSignal(n);
    return info.name;
  }

  /** The `kill -l` table (see {@link FormatSignalListOptions}). */
  formatSignalList(opts: FormatSignalListOptions = {}): string {
    // bash lists only the signals that have names: not libc's reserved ones.
    const listed = this.infos.filter((i) => !(i.realtime && i.reserved));
    if (opts.long) {
      const width = Math.max(...listed.map((i) => i.name.length));
      return listed
        .map((i) => `${String(i.number).padStart(2)}) ${i.name.padEnd(width)}  ${i.defaultAction.padEnd(9)}  ${i.description}\n`)
        .join('');
    }
    // bash's layout: "%2d) %s", a tab after each entry but every fifth,
    // which ends its row with a newline; a partial last row ends "\t\n".
    let out = '';
    listed.forEach((info, i) => {
      out += `${String(info.number).padStart(2)}) ${info.name}${(i + 1) % 5 === 0 ? '\n' : '\t'}`;
    });
    if (listed.length % 5 !== 0) out += '\n';
    return out;
  }

  private parseName(input: string): number | undefined {
    if (!NAME_SHAPE.test(input)) return undefined;
    let s = input.toUpperCase();
    if (s.startsWith('SIG')) s = s.slice(3);
    const direct = this.lookup.get(s);
    if (direct !== undefined) return direct;
    const rt = RT_NAME.exec(s);
    if (!rt) return undefined;
    const offset = rt[3] === undefined ? 0 : Number(rt[3]);
    let n: number;
    if (rt[1] === 'MIN') {
      if (rt[2] === '-' && offset !== 0) return undefined;
      n = this.rtmin + offset;
    } else {
      if (rt[2] === '+' && offset !== 0) return undefined;
      n = this.rtmax - offset;
    }
    return n >= this.rtmin && n <= this.rtmax ? n : undefined;
  }
}

// bash's naming: SIGRTMIN+n for the lower half of the range (rounded
// down), SIGRTMAX-n above it; the other spelling is kept as an alias.
function rtNames(n: number, rtmin: number, rtmax: number): string[] {
  const up = n - rtmin;
  const down = rtmax - n;
  const fromMin = up === 0 ? 'SIGRTMIN' : `SIGRTMIN+${up}`;
  const fromMax = down === 0 ? 'SIGRTMAX' : `SIGRTMAX-${down}`;
  if (n === rtmin) return down === 0 ? [fromMin] : [fromMin, fromMax];
  if (n === rtmax) return [fromMax, fromMin];
  return up <= Math.floor((rtmax - rtmin) / 2) ? [fromMin, fromMax] : [fromMax, fromMin];
}
