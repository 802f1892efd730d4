/**
 * Errors thrown by sigkit, shaped like Node's own.
 *
 * - A failed system call throws {@link SyscallError}: `code`, negative `errno`
 *   and `syscall` exactly as Node's errno errors carry them (`process.kill`
 *   throws `kill ESRCH` with `errno: -3`), plus context (`pid`, `signal`...).
 * - A bad argument throws a `TypeError`/`RangeError` with Node's `ERR_*` code
 *   before any system call is made.
 *
 * This module is pure: it never loads the native addon.
 */
import { constants as osConstants } from 'node:os';
import { inspect } from 'node:util';

/** An `Error` with a Node-style `code`. */
export interface CodedError extends Error {
  code: string;
}

// errno number -> first name in os.constants.errno (EAGAIN before EWOULDBLOCK).
// util.getSystemErrorName is not used: it does not know every code (ECHILD).
const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(osConstants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** The symbolic name (`'ESRCH'`) of a positive or negative errno. */
export function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `Unknown system error ${-Math.abs(errno)}`;
}

/** Context a {@link SyscallError} may carry about what was being done. */
export interface SyscallErrorContext {
  pid?: number;
  pgid?: number;
  signal?: string | number;
  path?: string;
}

/**
 * A failed system call. Field for field like Node's errno errors:
 * `message` is `"<syscall> <CODE>"`, `errno` is negative.
 *
 * @example
 * try { kill(pid, 'SIGTERM'); } catch (e) { if (isSyscallError(e) && e.code === 'ESRCH') gone(); }
 */
export class SyscallError extends Error implements CodedError {
  /** `'ESRCH'`, `'EPERM'`, `'EAGAIN'`... */
  readonly code: string;
  /** Negative errno, as in Node (`-3` for ESRCH). */
  readonly errno: number;
  /** The system call that failed (`'kill'`, `'killpg'`, `'sigqueue'`...). */
  readonly syscall: string;
  pid?: number;
  pgid?: number;
  signal?: string | number;
  path?: string;

  /** @param errno the error number, positive or negative. */
  constructor(syscall: string, errno: number, context: SyscallErrorContext = {}) {
    const code = errnoName(errno);
    super(`${syscall} ${code}`);
    this.name = 'SyscallError';
    this.code = code;
    this.errno = -Math.abs(errno);
    this.syscall = syscall;
    if (context.pid !== undefined) this.pid = context.pid;
    if (context.pgid !== undefined) this.pgid = context.pgid;
    if (context.signal !== undefined) this.signal = context.signal;
    if (context.path !== undefined) this.path = context.path;
    Error.captureStackTrace?.(this, SyscallError);
  }
}

/** True when `e` is a {@link SyscallError} (optionally with the given `code`). */
export function isSyscallError(e: unknown, code?: string): e is SyscallError {
  return e instanceof SyscallError && (code === undefined || e.code === code);
}

function coded<E extends Error>(error: E, code: string, caller?: Function): E & CodedError {
  const e = error as E & CodedError;
  e.code = code;
  if (caller) Error.captureStackTrace?.(e, caller);
  return e;
}

/** Describes a received value the way Node's ERR_INVALID_ARG_TYPE does. */
function describeReceived(value: unknown): string {
  if (value === null || value === undefined) return `Received ${String(value)}`;
  if (typeof value === 'function') return `Received function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor?.name;
    return ctor ? `Received an instance of ${ctor}` : `Received ${inspect(value, { depth: -1 })}`;
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `Received type ${typeof value} (${shown})`;
}

/** `TypeError [ERR_INVALID_ARG_TYPE]`: the argument has the wrong type. */
export function invalidArgType(name: string, expected: string, value: unknown): TypeError & CodedError {
  return coded(
    new TypeError(`The "${name}" argument must be ${expected}. ${describeReceived(value)}`),
    'ERR_INVALID_ARG_TYPE',
    invalidArgType,
  );
}

/** `TypeError [ERR_INVALID_ARG_VALUE]`: right type, unacceptable value. */
export function invalidArgValue(name: string, value: unknown, reason: string): TypeError & CodedError {
  return coded(
    new TypeError(`The argument '${name}' ${reason}. Received ${inspect(value)}`),
    'ERR_INVALID_ARG_VALUE',
    invalidArgValue,
  );
}

/** `RangeError [ERR_OUT_OF_RANGE]`: a number outside what is accepted. */
export function outOfRange(name: string, range: string, value: unknown): RangeError & CodedError {
  return coded(
    new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${inspect(value)}`),
    'ERR_OUT_OF_RANGE',
    outOfRange,
  );
}

/** `TypeError [ERR_UNKNOWN_SIGNAL]`, as `process.kill(pid, 'SIGFOO')` throws. */
export function unknownSignal(value: unknown): TypeError & CodedError {
  const shown = typeof value === 'string' ? value : inspect(value);
  return coded(new TypeError(`Unknown signal: ${shown}`), 'ERR_UNKNOWN_SIGNAL', unknownSignal);
}

/** `Error [ERR_SIGKIT_UNSUPPORTED_PLATFORM]`: sigkit only runs on Linux. */
export function unsupportedPlatform(platform: string): Error & CodedError {
  return coded(
    new Error(`sigkit supports Linux only (glibc or musl, x64 or arm64); this is ${platform}`),
    'ERR_SIGKIT_UNSUPPORTED_PLATFORM',
    unsupportedPlatform,
  );
}
