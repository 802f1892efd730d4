/** How a process ended, from the kernel's wait status (shared by wait.ts and pidfd.ts). */
import { catalogue } from './catalogue.js';
import type { NativeExit } from './native.js';

/**
 * How a process ended.
 * @example
 * { pid: 4711, code: null, signal: 'SIGRTMIN+6', signalNumber: 40, coreDumped: false }
 * { pid: 4712, code: 3, signal: null, signalNumber: null, coreDumped: false }
 */
export interface ExitInfo {
  pid: number;
  /** The exit code when it exited by itself, else `null`. */
  code: number | null;
  /** The canonical name of the signal that killed it (`'SIGTERM'`, `'SIGRTMIN+6'`), else `null`. */
  signal: string | null;
  /** The number of that signal, else `null`. */
  signalNumber: number | null;
  /** True when it dumped core. */
  coreDumped: boolean;
}

function signalNameOf(n: number): string {
  try {
    return catalogue.name(n);
  } catch {
    return `SIG${n}`;
  }
}

export function toExitInfo(exit: NativeExit, pid: number): ExitInfo {
  return {
    pid,
    code: exit.code,
    signal: exit.signal === null ? null : signalNameOf(exit.signal),
    signalNumber: exit.signal,
    coreDumped: exit.core,
  };
}

