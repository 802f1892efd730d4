/**
 * Compile-time checks of SignalLike (run by `npm test`'s typecheck step):
 * every spelling the catalogue accepts compiles, a misspelt literal does not.
 * Each @ts-expect-error fails the typecheck if the line ever compiles.
 * Never executed: the calls are inside a function nobody calls.
 */
import { kill, killpg, onSignal, openProcess, signalNumber, terminate, type SignalLike } from '../../src/index.js';

export function neverCalled(pid: number, fromArgv: string): void {
  const ok: SignalLike[] = ['SIGTERM', 'TERM', 'sigterm', 'term', 'SIGRTMIN+3', 'RTMIN+3', 'SIGRTMAX-1', 'rtmax-2', 'SIGIOT', 'SIGCLD', 15, 0];
  for (const sig of ok) kill(pid, sig);
  onSignal('SIGUSR2', () => {});
  void terminate(pid, { steps: [{ signal: 'SIGINT', waitMs: 10 }, { signal: 9, waitMs: 10 }] });
  // Text from outside goes through signalNumber, which takes any string.
  kill(pid, signalNumber(fromArgv));

  // @ts-expect-error a misspelt literal does not compile
  kill(pid, 'SIGTREM');
  // @ts-expect-error not a signal at all
  killpg(pid, 'TERMINATE');
  // @ts-expect-error misspelt in a handle
  openProcess(pid).kill('SIGKIL');
  // @ts-expect-error misspelt in a ladder step
  void terminate(pid, { steps: [{ signal: 'SIGTRM', waitMs: 10 }] });
  // @ts-expect-error an unknown option key is a compile error too
  void terminate(pid, { grace: 100 });
  // @ts-expect-error a plain string variable must be parsed first (signalNumber)
  kill(pid, fromArgv);
}
