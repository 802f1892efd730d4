/**
 * Sending signals: kill(2), killpg(3), sigqueue(3), and a zombie-aware
 * liveness check. Thin native calls plus the policy: argument checks before
 * any syscall, errno -> SyscallError.
 */
import { SyscallError } from './errors.js';
import { native } from './native.js';
import type { SignalLike } from './signals.js';
import { signalForContext, validateInt32, validatePgid, validatePid, validateSendSignal } from './validate.js';

const SIGTERM = 15;
const ENOENT = 2;
const ESRCH = 3;
const EPERM = 1;
const ZOMBIE = 'Z'.charCodeAt(0);
const DEAD = 'X'.charCodeAt(0);

/**
 * Sends a signal to one process: kill(2). Signal `0` only checks that the
 * process exists and may be signalled (a zombie passes: see {@link isAlive}).
 *
 * `pid` must be a positive integer: 0, -1 and negative pids mean "my group",
 * "everyone" and "a group" to the kernel, so they are refused (use
 * {@link killpg}). A number signal is passed to the kernel as `process.kill`
 * passes it; a name is parsed by {@link signalNumber}.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_UNKNOWN_SIGNAL
 * @throws RangeError ERR_OUT_OF_RANGE
 * @throws SyscallError ESRCH (no such process), EPERM (not allowed), EINVAL (no such signal)
 * @example
 * kill(child.pid, 'SIGTERM');
 * kill(child.pid, 'SIGRTMIN+2');
 */
export function kill(pid: number, signal: SignalLike = SIGTERM): void {
  const p = validatePid(pid);
  const sig = validateSendSignal(signal);
  const r = native.kill(p, sig);
  if (r !== 0) throw new SyscallError('kill', r, { pid: p, signal: signalForContext(sig) });
}

/**
 * Sends a signal to every process of a process group: killpg(3). Start the
 * group leader with `spawn(..., { detached: true })` to give it its own
 * group; `killpg(child.pid)` then reaches the grandchildren too.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_UNKNOWN_SIGNAL
 * @throws RangeError ERR_OUT_OF_RANGE
 * @throws SyscallError ESRCH (no such group), EPERM, EINVAL
 * @example
 * const child = spawn('sh', ['-c', 'sleep 60 & sleep 60'], { detached: true });
 * killpg(child.pid, 'SIGTERM'); // both sleeps and the shell
 */
export function killpg(pgid: number, signal: SignalLike = SIGTERM): void {
  const g = validatePgid(pgid);
  const sig = validateSendSignal(signal);
  const r = native.killpg(g, sig);
  if (r !== 0) throw new SyscallError('killpg', r, { pgid: g, signal: signalForContext(sig) });
}

/**
 * Queues a signal with an int32 payload: sigqueue(3). The receiver sees
 * `si_code` SI_QUEUE and `value`. Realtime signals queue (each delivery
 * counts); classic ones coalesce while pending.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_UNKNOWN_SIGNAL
 * @throws RangeError ERR_OUT_OF_RANGE (value not an int32)
 * @throws SyscallError EAGAIN (the receiver's queue is full: RLIMIT_SIGPENDING), ESRCH, EPERM, EINVAL
 * @example
 * sigqueue(worker.pid, 'SIGRTMIN+1', 42);
 */
export function sigqueue(pid: number, signal: SignalLike, value: number): void {
  const p = validatePid(pid);
  const sig = validateSendSignal(signal);
  const v = validateInt32(value, 'value');
  const r = native.sigqueue(p, sig, v);
  if (r !== 0) throw new SyscallError('sigqueue', r, { pid: p, signal: signalForContext(sig) });
}

/**
 * True while the process exists and has not exited. Unlike
 * `process.kill(pid, 0)`, a zombie (exited, not yet reaped by its parent)
 * is not alive; a process we may not signal (EPERM) is; a thread id (not a
 * thread-group leader) is not a process, so false.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE
 * @throws RangeError ERR_OUT_OF_RANGE
 * @example
 * if (!isAlive(pid)) console.log('gone (or a zombie)');
 */
export function isAlive(pid: number): boolean {
  const p = validatePid(pid);
  const r = native.kill(p, 0);
  if (r === -ESRCH) return false;
  if (r !== 0 && r !== -EPERM) throw new SyscallError('kill', r, { pid: p, signal: 0 });
  const state = native.procState(p);
  if (state === ZOMBIE || state === DEAD) return false;
  if (state >= 0) return true;
  // A thread id that is not a thread-group leader: kill(2) accepts it, but it
  // is not a process (procState says ESRCH), so it is not "alive".
  if (state === -ESRCH) return false;
  if (state === -ENOENT) {
    // Gone between the two calls, or hidden by /proc's hidepid: ask again.
    const again = native.kill(p, 0);
    return again === 0 || again === -EPERM;
  }
  return true;
}
