/**
 * What a signal carried, decoded: si_code names, whether the kernel vouches
 * for the sender, and the {@link SignalEvent} built from one row of the
 * native event buffer.
 *
 * Pure: never loads the native addon, so the decoding is unit-tested on
 * its own. The si_code values are the kernel's (include/uapi/asm-generic/siginfo.h).
 */

/** `si_code` values that mean the same for every signal (<= 0, and SI_KERNEL). */
const GENERIC_CODES: ReadonlyMap<number, string> = new Map([
  [0, 'SI_USER'],
  [0x80, 'SI_KERNEL'],
  [-1, 'SI_QUEUE'],
  [-2, 'SI_TIMER'],
  [-3, 'SI_MESGQ'],
  [-4, 'SI_ASYNCIO'],
  [-5, 'SI_SIGIO'],
  [-6, 'SI_TKILL'],
]);

const SIGTRAP = 5;
const SIGCHLD = 17;
const SIGIO = 29;
const SI_USER = 0;
const SI_QUEUE = -1;
const SI_TIMER = -2;
const SI_MESGQ = -3;
const SI_ASYNCIO = -4;
const SI_TKILL = -6;

/** Positive `si_code` values are per signal (the kernel filled the siginfo). */
const SIGNAL_CODES: ReadonlyMap<number, readonly string[]> = new Map([
  [SIGCHLD, ['CLD_EXITED', 'CLD_KILLED', 'CLD_DUMPED', 'CLD_TRAPPED', 'CLD_STOPPED', 'CLD_CONTINUED']],
  [SIGIO, ['POLL_IN', 'POLL_OUT', 'POLL_MSG', 'POLL_ERR', 'POLL_PRI', 'POLL_HUP']],
  [SIGTRAP, ['TRAP_BRKPT', 'TRAP_TRACE', 'TRAP_BRANCH', 'TRAP_HWBKPT']],
]);

/**
 * The name of an `si_code`: `'SI_USER'` (kill), `'SI_QUEUE'` (sigqueue),
 * `'SI_TKILL'` (tgkill), `'SI_KERNEL'`, `'SI_TIMER'`, ... and for SIGCHLD
 * `'CLD_EXITED'` .. `'CLD_CONTINUED'`; `'UNKNOWN(n)'` for anything else.
 */
export type SignalCode =
  | 'SI_USER' | 'SI_KERNEL' | 'SI_QUEUE' | 'SI_TIMER' | 'SI_MESGQ' | 'SI_ASYNCIO' | 'SI_SIGIO' | 'SI_TKILL'
  | 'CLD_EXITED' | 'CLD_KILLED' | 'CLD_DUMPED' | 'CLD_TRAPPED' | 'CLD_STOPPED' | 'CLD_CONTINUED'
  | 'POLL_IN' | 'POLL_OUT' | 'POLL_MSG' | 'POLL_ERR' | 'POLL_PRI' | 'POLL_HUP'
  | 'TRAP_BRKPT' | 'TRAP_TRACE' | 'TRAP_BRANCH' | 'TRAP_HWBKPT'
  | `UNKNOWN(${number})`;

/** One delivery of a signal to this process, as its handler saw it. */
export interface SignalEvent {
  /** Canonical name: `'SIGUSR2'`, `'SIGRTMIN+1'`. */
  readonly signal: string;
  /** The signal number. */
  readonly number: number;
  /** How it was sent: see {@link SignalCode}. */
  readonly code: SignalCode;
  /**
   * The sender's pid (for SIGCHLD: the child's). 0 when the kernel names no
   * sender (SI_KERNEL, SI_TIMER, fault/poll codes) or when the sender lives in
   * an ancestor pid namespace. Only trustworthy when {@link attested}.
   */
  readonly pid: number;
  /** The sender's real uid (for SIGCHLD: the child's). Only trustworthy when {@link attested}. */
  readonly uid: number;
  /** The int payload (`sival_int`) of SI_QUEUE, SI_TIMER, SI_MESGQ and SI_ASYNCIO. */
  readonly value?: number;
  /** SIGCHLD only: the exit code (CLD_EXITED) or the signal number (other CLD_* codes). */
  readonly status?: number;
  /**
   * True when the kernel filled in `pid`/`uid` itself: SI_USER (kill),
   * SI_TKILL (tgkill) and kernel codes (SI_KERNEL, CLD_*, ...). False for
   * SI_QUEUE and the other negative codes, whose sender writes its own
   * pid/uid and may lie.
   */
  readonly attested: boolean;
}

/**
 * The name of an si_code for a signal. Never throws: unknown codes are
 * `'UNKNOWN(n)'`.
 *
 * @example
 * signalCodeName(17, 1); // 'CLD_EXITED'
 * signalCodeName(12, -1); // 'SI_QUEUE'
 */
export function signalCodeName(signo: number, code: number): SignalCode {
  const generic = GENERIC_CODES.get(code);
  if (generic !== undefined) return generic as SignalCode;
  if (code > 0) {
    const names = SIGNAL_CODES.get(signo);
    const name = names?.[code - 1];
    if (name !== undefined) return name as SignalCode;
  }
  return `UNKNOWN(${code})`;
}

/**
 * Whether the kernel vouches for `pid`/`uid`: any code >= 0 (SI_USER, the
 * kernel's own codes) and SI_TKILL. rt_sigqueueinfo(2) lets a process send
 * any other negative code to another process with the pid/uid it likes
 * (NODE-LINUX-FACTS.md item 17).
 *
 * @example
 * isAttested(0);  // true: SI_USER, kill(2) filled in by the kernel
 * isAttested(-1); // false: SI_QUEUE, the sender wrote its own pid/uid
 */
export function isAttested(code: number): boolean {
  return code >= SI_USER || code === SI_TKILL;
}

function carriesValue(code: number): boolean {
  return code === SI_QUEUE || code === SI_TIMER || code === SI_MESGQ || code === SI_ASYNCIO;
}

/** Where pid/uid are not a sender: the siginfo union holds other fields there. */
function namesSender(signo: number, code: number): boolean {
  if (code === SI_TIMER) return false; // timer id and overrun count
  if (code > 0 && code !== 0x80) return signo === SIGCHLD; // poll/trap/fault layouts
  return true;
}

/** Number of int32 fields per event row: signo, code, pid, uid, value, status. */
export const EVENT_INTS = 6;

/**
 * Builds the event of one row of the native buffer (`EVENT_INTS` int32s
 * starting at `offset`). `nameOf` turns the signal number into its name.
 *
 * @throws whatever `nameOf` throws for the row's signal number
 * @example
 * decodeSignalEvent(new Int32Array([35, -1, 4242, 1000, 7, 7]), 0, signalName);
 * // { signal: 'SIGRTMIN+1', number: 35, code: 'SI_QUEUE', pid: 4242, uid: 1000, value: 7, attested: false }
 */
export function decodeSignalEvent(row: ArrayLike<number>, offset: number, nameOf: (n: number) => string): SignalEvent {
  const number = row[offset]!;
  const code = row[offset + 1]!;
  const sender = namesSender(number, code);
  const event: {
    signal: string;
    number: number;
    code: SignalCode;
    pid: number;
    uid: number;
    value?: number;
    status?: number;
    attested: boolean;
  } = {
    signal: nameOf(number),
    number,
    code: signalCodeName(number, code),
    pid: sender ? row[offset + 2]! : 0,
    // si_uid is unsigned (uid_t): the row holds its bits as an int32.
    uid: sender ? row[offset + 3]! >>> 0 : 0,
    attested: isAttested(code),
  };
  if (carriesValue(code)) event.value = row[offset + 4]!;
  if (number === SIGCHLD && code > 0 && code !== 0x80) event.status = row[offset + 5]!;
  return event;
}
