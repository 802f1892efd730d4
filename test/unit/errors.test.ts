/** SyscallError's shape and the Node-style argument errors. */
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { SyscallError, errnoName, invalidArgType, isSyscallError, outOfRange, unknownSignal } from '../../src/errors.js';
import { assertSupportedPlatform } from '../../src/platform.js';

describe('SyscallError', () => {
  it('carries code, negative errno, syscall and context like a Node errno error', () => {
    const e = new SyscallError('kill', -constants.errno.ESRCH, { pid: 1234, signal: 'SIGTERM' });
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ code: 'ESRCH', errno: -3, syscall: 'kill', pid: 1234, signal: 'SIGTERM', message: 'kill ESRCH', name: 'SyscallError' });
    expect(isSyscallError(e)).toBe(true);
    expect(isSyscallError(e, 'ESRCH')).toBe(true);
    expect(isSyscallError(e, 'EPERM')).toBe(false);
    expect(isSyscallError(new Error('kill ESRCH'))).toBe(false);
  });

  it('accepts a positive errno and normalises it to negative', () => {
    expect(new SyscallError('waitid', constants.errno.ECHILD).errno).toBe(-constants.errno.ECHILD);
  });

  it('maps errno to the first name in os.constants.errno (EAGAIN, not EWOULDBLOCK; ECHILD known)', () => {
    expect(errnoName(constants.errno.EAGAIN)).toBe('EAGAIN');
    expect(errnoName(-constants.errno.ECHILD)).toBe('ECHILD');
    expect(errnoName(constants.errno.ENOSYS)).toBe('ENOSYS');
    expect(errnoName(99999)).toMatch(/^Unknown system error/);
  });
});

describe('argument errors', () => {
  it('are TypeError/RangeError with Node codes', () => {
    expect(invalidArgType('pid', 'of type number', '12')).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(invalidArgType('pid', 'of type number', '12').message).toBe('The "pid" argument must be of type number. Received type string (\'12\')');
    expect(outOfRange('pid', 'an integer', 1.5)).toBeInstanceOf(RangeError);
    expect(unknownSignal('SIGFOO').message).toBe('Unknown signal: SIGFOO');
  });
});

describe('platform check', () => {
  it.each(['darwin', 'win32', 'freebsd', 'aix'])('refuses %s with ERR_SIGKIT_UNSUPPORTED_PLATFORM', (platform) => {
    let error: unknown;
    try {
      assertSupportedPlatform(platform);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: 'ERR_SIGKIT_UNSUPPORTED_PLATFORM' });
    expect((error as Error).message).toContain(platform);
  });

  it('accepts linux', () => {
    expect(() => assertSupportedPlatform('linux')).not.toThrow();
  });
});
