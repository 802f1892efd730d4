/**
 * The signal catalogue of this process: realtime range from the native layer
 * (never hard-coded 34/64), exported as plain functions.
 */
import { checkOptions } from './options.js';
import { native } from './native.js';
import { SignalCatalogue } from './signals.js';
import type { FormatSignalListOptions, SignalInfo, SignalLike } from './signals.js';

/** The catalogue of this process's libc and kernel. */
export const catalogue = new SignalCatalogue({ rtmin: native.sigrtmin, rtmax: native.sigrtmax });

/** The names of the classic signals, typed; `Signal` holds more (realtime, aliases). */
export type StandardSignalName =
  | 'SIGHUP' | 'SIGINT' | 'SIGQUIT' | 'SIGILL' | 'SIGTRAP' | 'SIGABRT' | 'SIGIOT' | 'SIGBUS'
  | 'SIGFPE' | 'SIGKILL' | 'SIGUSR1' | 'SIGSEGV' | 'SIGUSR2' | 'SIGPIPE' | 'SIGALRM' | 'SIGTERM'
  | 'SIGSTKFLT' | 'SIGCHLD' | 'SIGCLD' | 'SIGCONT' | 'SIGSTOP' | 'SIGTSTP' | 'SIGTTIN' | 'SIGTTOU'
  | 'SIGURG' | 'SIGXCPU' | 'SIGXFSZ' | 'SIGVTALRM' | 'SIGPROF' | 'SIGWINCH' | 'SIGIO' | 'SIGPOLL'
  | 'SIGPWR' | 'SIGSYS' | 'SIGRTMIN' | 'SIGRTMAX';

/**
 * Frozen map name -> number of every signal of this kernel and libc: the
 * classic ones and their aliases, `SIGRTMIN`, `SIGRTMAX` and every
 * `SIGRTMIN+n` / `SIGRTMAX-n` spelling.
 *
 * @example
 * kill(child.pid, Signal.SIGRTMIN + 2);
 */
export const Signal = catalogue.table as Readonly<Record<StandardSignalName, number>> & Readonly<Record<string, number>>;

/**
 * Every signal, 1 .. SIGRTMAX, with description, default action and flags.
 *
 * @example
 * signals().filter((s) => s.realtime && !s.reserved).length; // 31 with glibc
 */
export function signals(): SignalInfo[] {
  return catalogue.signals();
}

/**
 * A signal's number from any accepted spelling: `'SIGTERM'`, `'term'`,
 * `'SIGRTMIN+3'`, `'RTMAX-1'`, or a number 0 .. SIGRTMAX.
 *
 * @throws TypeError ERR_UNKNOWN_SIGNAL
 * @example
 * signalNumber('rtmin+1'); // 35 with glibc
 */
export function signalNumber(sig: SignalLike | string): number {
  return catalogue.number(sig);
}

/**
 * The canonical name of a signal number.
 *
 * @throws TypeError ERR_UNKNOWN_SIGNAL for 0 and unused numbers
 * @example
 * signalName(50); // 'SIGRTMAX-14'
 */
export function signalName(n: number): string {
  return catalogue.name(n);
}

/**
 * The `kill -l` table as bash prints it (same names and numbers), or with
 * `{ long: true }` one line per signal with default action and description.
 *
 * @example
 * process.stdout.write(formatSignalList());
 */
export function formatSignalList(opts?: FormatSignalListOptions): string {
  return catalogue.formatSignalList(checkOptions<FormatSignalListOptions>(opts, 'options', ['long']));
}
