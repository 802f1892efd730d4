/**
 * The sending policy against a fake binding: bad arguments are refused
 * before any syscall, and errno becomes SyscallError.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
// vi.mock below is hoisted above this import by vitest.
import { SyscallError } from '../../src/errors.js';
import { isAlive, kill, killpg, sigqueue } from '../../src/kill.js';
import { errorOf } from '../helpers/errors.js';

const { calls, results } = vi.hoisted(() => ({
  calls: [] as string[],
  results: { kill: 0, killpg: 0, sigqueue: 0, procState: 'S'.charCodeAt(0), killAgain: undefined as number | undefined },
}));

vi.mock('../../src/native.js', () => ({
  native: {
    platformSupported: true,
    sigrtmin: 34,
    sigrtmax: 64,
    nsig: 65,
    kill: (pid: number, sig: number) => {
      calls.push(`kill ${pid} ${sig}`);
      if (results.killAgain !== undefined && calls.filter((c) => c.startsWith('kill')).length > 1) return results.killAgain;
      return results.kill;
    },
    killpg: (pgid: number, sig: number) => (calls.push(`killpg ${pgid} ${sig}`), results.killpg),
    sigqueue: (pid: number, sig: number, v: number) => (calls.push(`sigqueue ${pid} ${sig} ${v}`), results.sigqueue),
    procState: (pid: number) => (calls.push(`procState ${pid}`), results.procState),
  },
}));



beforeEach(() => {
  calls.length = 0;
  Object.assign(results, { kill: 0, killpg: 0, sigqueue: 0, procState: 'S'.charCodeAt(0), killAgain: undefined });
});

const badPids: Array<[unknown, string]> = [
  [0, 'ERR_INVALID_ARG_VALUE'],
  [-1, 'ERR_INVALID_ARG_VALUE'],
  [-1234, 'ERR_INVALID_ARG_VALUE'],
  [NaN, 'ERR_OUT_OF_RANGE'],
  [Infinity, 'ERR_OUT_OF_RANGE'],
  [-Infinity, 'ERR_OUT_OF_RANGE'],
  [1.5, 'ERR_OUT_OF_RANGE'],
  [2 ** 31, 'ERR_OUT_OF_RANGE'],
  [Number.MAX_SAFE_INTEGER, 'ERR_OUT_OF_RANGE'],
  ['1234', 'ERR_INVALID_ARG_TYPE'],
  [1234n, 'ERR_INVALID_ARG_TYPE'],
  [null, 'ERR_INVALID_ARG_TYPE'],
  [undefined, 'ERR_INVALID_ARG_TYPE'],
  [{ valueOf: () => 1234 }, 'ERR_INVALID_ARG_TYPE'],
];

describe.each([
  ['kill', (p: unknown) => kill(p as number, 'SIGTERM')],
  ['killpg', (p: unknown) => killpg(p as number, 'SIGTERM')],
  ['sigqueue', (p: unknown) => sigqueue(p as number, 'SIGRTMIN', 1)],
  ['isAlive', (p: unknown) => isAlive(p as number)],
])('%s pid guards', (_name, call) => {
  it.each(badPids)('refuses %s with %s before any syscall', (pid, code) => {
    const e = errorOf(() => call(pid));
    expect(e.code).toBe(code);
    expect(e.name).toBe(code === 'ERR_OUT_OF_RANGE' ? 'RangeError' : 'TypeError');
    expect(calls).toEqual([]);
  });
});

describe('signal argument of sending calls', () => {
  it('names are parsed, defaults to SIGTERM', () => {
    kill(100);
    kill(100, 'usr1');
    kill(100, 'SIGRTMIN+2');
    killpg(200);
    expect(calls).toEqual(['kill 100 15', 'kill 100 10', 'kill 100 36', 'killpg 200 15']);
  });

  it('integer numbers go to the kernel as process.kill sends them (it judges 65)', () => {
    kill(100, 65);
    kill(100, 0);
    expect(calls).toEqual(['kill 100 65', 'kill 100 0']);
  });

  it.each([
    ['SIGFOO', 'ERR_UNKNOWN_SIGNAL'],
    [1.5, 'ERR_UNKNOWN_SIGNAL'],
    [NaN, 'ERR_UNKNOWN_SIGNAL'],
    [null, 'ERR_INVALID_ARG_TYPE'],
    [15n, 'ERR_INVALID_ARG_TYPE'],
    [{}, 'ERR_INVALID_ARG_TYPE'],
  ])('refuses signal %s with %s before any syscall', (sig, code) => {
    expect(errorOf(() => kill(100, sig as never)).code).toBe(code);
    expect(errorOf(() => killpg(100, sig as never)).code).toBe(code);
    expect(errorOf(() => sigqueue(100, sig as never, 0)).code).toBe(code);
    expect(calls).toEqual([]);
  });
});

describe('sigqueue value', () => {
  it('passes an int32 payload', () => {
    sigqueue(100, 'SIGRTMIN+1', -2147483648);
    sigqueue(100, 'SIGRTMIN+1', 2147483647);
    expect(calls).toEqual(['sigqueue 100 35 -2147483648', 'sigqueue 100 35 2147483647']);
  });

  it.each([
    [2 ** 31, 'ERR_OUT_OF_RANGE'],
    [-(2 ** 31) - 1, 'ERR_OUT_OF_RANGE'],
    [0.5, 'ERR_OUT_OF_RANGE'],
    [NaN, 'ERR_OUT_OF_RANGE'],
    ['1', 'ERR_INVALID_ARG_TYPE'],
    [undefined, 'ERR_INVALID_ARG_TYPE'],
  ])('refuses %s with %s', (v, code) => {
    expect(errorOf(() => sigqueue(100, 'SIGRTMIN', v as number)).code).toBe(code);
    expect(calls).toEqual([]);
  });
});

describe('errno becomes SyscallError', () => {
  it.each([
    ['kill', () => kill(100, 'SIGTERM'), 'kill', 3, 'ESRCH'],
    ['killpg', () => killpg(100, 'SIGHUP'), 'killpg', 1, 'EPERM'],
    ['sigqueue', () => sigqueue(100, 'SIGRTMIN', 7), 'sigqueue', 11, 'EAGAIN'],
  ])('%s', (_n, call, syscall, errno, code) => {
    results.kill = results.killpg = results.sigqueue = -errno;
    const e = errorOf(call) as unknown as SyscallError;
    expect(e).toBeInstanceOf(SyscallError);
    expect(e).toMatchObject({ code, errno: -errno, syscall, message: `${syscall} ${code}` });
  });

  it('names the signal and pid in the context', () => {
    results.kill = -3;
    expect(errorOf(() => kill(100, 36))).toMatchObject({ pid: 100, signal: 'SIGRTMIN+2' });
    expect(errorOf(() => kill(100, 65))).toMatchObject({ pid: 100, signal: 65 });
    results.killpg = -3;
    expect(errorOf(() => killpg(7, 'TERM'))).toMatchObject({ pgid: 7, signal: 'SIGTERM' });
  });
});

describe('isAlive policy', () => {
  it('ESRCH: false without reading /proc', () => {
    results.kill = -3;
    expect(isAlive(100)).toBe(false);
    expect(calls).toEqual(['kill 100 0']);
  });

  it('a zombie or dead state is not alive', () => {
    results.procState = 'Z'.charCodeAt(0);
    expect(isAlive(100)).toBe(false);
    results.procState = 'X'.charCodeAt(0);
    expect(isAlive(100)).toBe(false);
  });

  it('EPERM still means alive', () => {
    results.kill = -1;
    expect(isAlive(100)).toBe(true);
  });

  it('a /proc entry that vanished is asked again with kill', () => {
    results.procState = -2;
    results.killAgain = -3;
    expect(isAlive(100)).toBe(false);
    results.killAgain = -1; // hidden by hidepid, still there
    expect(isAlive(100)).toBe(true);
  });
});
