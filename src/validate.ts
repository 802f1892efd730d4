/**
 * Argument checks shared by every public function. Each returns the value it
 * accepted or throws a Node-style `ERR_*` error before any system call.
 * The accepting branch comes first and is cheap: `kill()` runs it per call.
 */
import { catalogue } from './catalogue.js';
import { invalidArgType, invalidArgValue, outOfRange, unknownSignal } from './errors.js';

const INT32_MAX = 0x7fffffff;

/**
 * A process id: a safe positive integer <= 2^31-1. 0, -1 and other negative
 * numbers mean "my group", "everyone" and "a group" to kill(2), so they are
 * refused here with a pointer to killpg().
 */
export function validatePid(pid: unknown, name = 'pid'): number {
  if (typeof pid === 'number' && pid > 0 && pid <= INT32_MAX && Number.isInteger(pid)) return pid;
  if (typeof pid !== 'number') throw invalidArgType(name, 'of type number', pid);
  if (!Number.isInteger(pid)) throw outOfRange(name, 'an integer', pid);
  if (pid === 0) throw invalidArgValue(name, pid, 'must be a positive pid (0 means "my process group": use killpg())');
  if (pid === -1) throw invalidArgValue(name, pid, 'must be a positive pid (-1 means "every process I may signal")');
  if (pid < 0) throw invalidArgValue(name, pid, 'must be a positive pid (a negative pid names a process group: use killpg())');
  throw outOfRange(name, `>= 1 and <= ${INT32_MAX}`, pid);
}

/**
 * A process group id: an integer > 1 and <= 2^31-1. 1 is refused with 0 and
 * negatives: glibc's (and musl's) killpg(1, sig) is kill(-1, sig), "every
 * process I may signal" (NODE-LINUX-FACTS.md item 24).
 */
export function validatePgid(pgid: unknown, name = 'pgid'): number {
  if (typeof pgid === 'number' && pgid > 1 && pgid <= INT32_MAX && Number.isInteger(pgid)) return pgid;
  if (typeof pgid !== 'number') throw invalidArgType(name, 'of type number', pgid);
  if (!Number.isInteger(pgid)) throw outOfRange(name, 'an integer', pgid);
  if (pgid === 1) throw invalidArgValue(name, pgid, 'must not be 1 (killpg(1) is kill(-1): every process this one may signal)');
  if (pgid <= 0) throw invalidArgValue(name, pgid, 'must be a process group id > 1');
  throw outOfRange(name, `>= 2 and <= ${INT32_MAX}`, pgid);
}

/**
 * The signal of a sending call. Names go through the catalogue; an integer
 * number is passed to the kernel as `process.kill` passes it, so the kernel
 * judges it (65 fails with EINVAL exactly as it does for `process.kill`).
 */
export function validateSendSignal(sig: unknown, name = 'signal'): number {
  if (typeof sig === 'number') {
    if ((sig | 0) === sig) return sig;
    throw unknownSignal(sig);
  }
  if (typeof sig === 'string') return catalogue.number(sig);
  throw invalidArgType(name, 'of type string or number', sig);
}

/** An int32, e.g. the sigqueue payload. */
export function validateInt32(value: unknown, name: string): number {
  if (typeof value === 'number' && (value | 0) === value) return value;
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  throw outOfRange(name, `>= ${-INT32_MAX - 1} and <= ${INT32_MAX}`, value);
}

/** The name to put in an error's context: canonical when known, else the number. */
export function signalForContext(sig: number): string | number {
  try {
    return sig === 0 ? 0 : catalogue.name(sig);
  } catch {
    return sig;
  }
}
