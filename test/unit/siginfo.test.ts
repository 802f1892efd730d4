/** si_code names, attestation and event decoding: pure, no addon. */
import { describe, expect, it } from 'vitest';
import { EVENT_INTS, decodeSignalEvent, isAttested, signalCodeName } from '../../src/siginfo.js';

const nameOf = (n: number) => ({ 5: 'SIGTRAP', 12: 'SIGUSR2', 17: 'SIGCHLD', 29: 'SIGIO', 35: 'SIGRTMIN+1' })[n] ?? `SIG${n}`;

function decode(signo: number, code: number, pid: number, uid: number, value: number, status: number) {
  const row = new Int32Array([0, 0, 0, 0, 0, 0, signo, code, pid, uid, value, status]);
  return decodeSignalEvent(row, EVENT_INTS, nameOf);
}

describe('signalCodeName', () => {
  it.each([
    [12, 0, 'SI_USER'],
    [12, 0x80, 'SI_KERNEL'],
    [35, -1, 'SI_QUEUE'],
    [35, -2, 'SI_TIMER'],
    [35, -3, 'SI_MESGQ'],
    [35, -4, 'SI_ASYNCIO'],
    [29, -5, 'SI_SIGIO'],
    [12, -6, 'SI_TKILL'],
    [17, 1, 'CLD_EXITED'],
    [17, 2, 'CLD_KILLED'],
    [17, 3, 'CLD_DUMPED'],
    [17, 4, 'CLD_TRAPPED'],
    [17, 5, 'CLD_STOPPED'],
    [17, 6, 'CLD_CONTINUED'],
    [29, 1, 'POLL_IN'],
    [29, 6, 'POLL_HUP'],
    [5, 1, 'TRAP_BRKPT'],
  ])('signal %i code %i is %s', (signo, code, name) => {
    expect(signalCodeName(signo, code)).toBe(name);
  });

  it.each([
    [17, 7],
    [17, 0x7f],
    [12, 1], // a positive code means nothing for SIGUSR2
    [12, -7],
    [12, -60],
    [12, 2147483647],
  ])('signal %i code %i is UNKNOWN(code)', (signo, code) => {
    expect(signalCodeName(signo, code)).toBe(`UNKNOWN(${code})`);
  });
});

describe('isAttested', () => {
  it('trusts the kernel: SI_USER, SI_TKILL and positive codes', () => {
    for (const code of [0, -6, 0x80, 1, 2, 6]) expect(isAttested(code), String(code)).toBe(true);
  });
  it('does not trust codes a sender may forge with rt_sigqueueinfo', () => {
    for (const code of [-1, -2, -3, -4, -5, -7, -60]) expect(isAttested(code), String(code)).toBe(false);
  });
});

describe('decodeSignalEvent', () => {
  it('kill: sender, no value', () => {
    expect(decode(12, 0, 4242, 1000, 99, 99)).toEqual({
      signal: 'SIGUSR2', number: 12, code: 'SI_USER', pid: 4242, uid: 1000, attested: true,
    });
  });

  it('sigqueue: the value, not attested', () => {
    expect(decode(35, -1, 4242, 1000, -7, -7)).toEqual({
      signal: 'SIGRTMIN+1', number: 35, code: 'SI_QUEUE', pid: 4242, uid: 1000, value: -7, attested: false,
    });
  });

  it('SIGCHLD: the child and its status', () => {
    expect(decode(17, 1, 777, 0, 0, 3)).toEqual({
      signal: 'SIGCHLD', number: 17, code: 'CLD_EXITED', pid: 777, uid: 0, status: 3, attested: true,
    });
    expect(decode(17, 2, 777, 0, 0, 9)).toMatchObject({ code: 'CLD_KILLED', status: 9 });
    // SIGCHLD sent by kill(1) is no child event: no status.
    expect(decode(17, 0, 55, 0, 0, 0)).not.toHaveProperty('status');
  });

  it('uid is unsigned: the int32 row holds its bits', () => {
    expect(decode(12, 0, 1, -2, 0, 0).uid).toBe(4294967294);
  });

  it('where the siginfo union holds no sender, pid and uid are 0', () => {
    expect(decode(35, -2, 12, 3, 5, 5)).toMatchObject({ code: 'SI_TIMER', pid: 0, uid: 0, value: 5, attested: false });
    expect(decode(29, 1, 12, 3, 0, 0)).toMatchObject({ code: 'POLL_IN', pid: 0, uid: 0 });
    expect(decode(12, 0x80, 0, 0, 0, 0)).toMatchObject({ code: 'SI_KERNEL', pid: 0, uid: 0, attested: true });
  });
});
