/**
 * Every options bag refuses unknown keys, naming the key and the nearest
 * known one (issue 11: `waitForExit(pid, { timeout: 10 })` used to wait
 * forever, `terminate(pid, { grace: 100 })` kept the 5 s default). All of
 * these throw before any system call, so the pid is a child-free dummy that
 * is never reached.
 */
import { describe, expect, it } from 'vitest';
import {
  formatSignalList, killMatching, listProcesses, onSignal, openProcess, reapChildren, signalEvents, startReaper, terminate,
  terminateGroup, terminateMatching, terminateTree, waitForExit, waitForSignal, waitpid,
} from '../../src/index.js';
import { checkOptions, nearestKey } from '../../src/options.js';
import { errorOf, rejectionOf } from '../helpers/errors.js';

const DUMMY = 0x7ffffffe; // never a live pid here (above pid_max): nothing can be reached

describe('checkOptions', () => {
  it('accepts known keys and undefined, refuses non-objects', () => {
    expect(checkOptions(undefined, 'options', ['a'])).toEqual({});
    expect(checkOptions({ a: 1 }, 'options', ['a'])).toEqual({ a: 1 });
    for (const bad of [null, 1, 'x', [], true]) expect(errorOf(() => checkOptions(bad, 'options', ['a']))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('a typo names the key and the nearest known one; a key set to undefined is still a typo', () => {
    const e = errorOf(() => checkOptions({ timeout: undefined }, 'options', ['timeoutMs', 'signal']));
    expect(e).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(e.message).toContain("options.timeout");
    expect(e.message).toContain("did you mean 'timeoutMs'");
    expect(nearestKey('grace', ['steps', 'graceMs'])).toBe('graceMs');
    expect(nearestKey('sgnal', ['steps', 'signal'])).toBe('signal');
    expect(nearestKey('zzzzzzzz', ['steps', 'signal'])).toBeUndefined();
  });
});

describe('every public options bag refuses unknown keys', () => {
  const sync: Array<[string, () => unknown, string]> = [
    ['listProcesses', () => listProcesses({ detail: true } as never), 'details'],
    ['killMatching', () => killMatching({ name: 'x' }, 'SIGTERM', { dryrun: true } as never), 'dryRun'],
    ['onSignal', () => onSignal('SIGUSR2', () => {}, { reff: true } as never), 'ref'],
    ['signalEvents', () => signalEvents('SIGUSR2', { sigal: undefined } as never), 'signal'],
    ['waitpid', () => waitpid(DUMMY, { nohang: true } as never), 'noHang'],
    ['reapChildren', () => reapChildren({ excludes: [] } as never), 'exclude'],
    ['startReaper', () => startReaper({ onexit: () => {} } as never), 'onExit'],
    ['formatSignalList', () => formatSignalList({ lng: true } as never), 'long'],
    ['findProcesses via killMatching query', () => killMatching({ nmae: 'x' } as never), 'name'],
  ];
  it.each(sync)('%s', (_name, call, near) => {
    const e = errorOf(call);
    expect(e).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(e.message).toContain(`'${near}'`);
  });

  const async: Array<[string, () => Promise<unknown>, string]> = [
    ['waitForExit', () => waitForExit(DUMMY, { timeout: 10 } as never), 'timeoutMs'],
    ['waitForSignal', () => waitForSignal('SIGUSR2', { timeOutMs: 10 } as never), 'timeoutMs'],
    ['terminate', () => terminate(DUMMY, { grace: 100 } as never), 'graceMs'],
    ['terminateGroup', () => terminateGroup(DUMMY, { onstep: () => {} } as never), 'onStep'],
    ['terminateTree', () => terminateTree(DUMMY, { steps: [{ signal: 'SIGTERM', waitMS: 1 }] } as never), 'waitMs'],
    ['terminateMatching', () => terminateMatching({ name: 'x' }, { graceMS: 1 } as never), 'graceMs'],
  ];
  it.each(async)('%s', async (_name, call, near) => {
    // waitForSignal checks its arguments synchronously (it always has); the others reject.
    let e: Awaited<ReturnType<typeof rejectionOf>>;
    try {
      e = await rejectionOf(call());
    } catch (thrown) {
      e = thrown as typeof e;
    }
    expect(e).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(e.message).toContain(`'${near}'`);
  });

  it('ProcessHandle.exited', async () => {
    using h = openProcess(process.pid);
    const e = await rejectionOf(h.exited({ timeout: 1 } as never));
    expect(e).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });
});
