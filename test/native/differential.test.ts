/**
 * Differential test: for the same inputs, sigkit's kill() and Node's
 * process.kill() throw errors with identical code, errno, syscall and message.
 */
import type { SignalLike } from '../../src/signals.js';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kill } from '../../src/index.js';
import { FIXTURE_SRC, ROOT } from '../helpers/paths.js';
import { exited, start, stopAll } from '../helpers/procs.js';

afterEach(() => stopAll());

interface Fields {
  code?: string;
  errno?: number;
  syscall?: string;
  message: string;
}

function fields(fn: () => unknown): Fields | null {
  try {
    fn();
    return null;
  } catch (e) {
    const { code, errno, syscall, message } = e as Fields;
    return { code, errno, syscall, message };
  }
}

function both(pid: number, sig: string | number): { sigkit: Fields | null; node: Fields | null } {
  return { sigkit: fields(() => kill(pid, sig as SignalLike)), node: fields(() => process.kill(pid, sig)) };
}

describe('kill() vs process.kill()', () => {
  it('ESRCH on a reaped pid', async () => {
    const child = start('sleep', ['30']);
    child.kill('SIGKILL');
    await exited(child);
    const { sigkit, node } = both(child.pid!, 'SIGTERM');
    expect(node).toEqual({ code: 'ESRCH', errno: -3, syscall: 'kill', message: 'kill ESRCH' });
    expect(sigkit).toEqual(node);
  });

  it('EINVAL on signal 65', () => {
    const child = start('sleep', ['30']);
    const { sigkit, node } = both(child.pid!, 65);
    expect(node).toEqual({ code: 'EINVAL', errno: -22, syscall: 'kill', message: 'kill EINVAL' });
    expect(sigkit).toEqual(node);
    expect(child.exitCode).toBeNull();
  });

  it('ERR_UNKNOWN_SIGNAL on an unknown name', () => {
    const child = start('sleep', ['30']);
    const { sigkit, node } = both(child.pid!, 'SIGFOO');
    expect(node).toMatchObject({ code: 'ERR_UNKNOWN_SIGNAL', message: 'Unknown signal: SIGFOO' });
    expect(sigkit).toEqual(node);
  });

  it.runIf(process.getuid!() === 0)('EPERM: an unprivileged process signalling ours', () => {
    // A sleep of ours (root) is the target; the sender runs as nobody and
    // is refused, so nothing is delivered.
    const target = start('sleep', ['30']);
    const out = execFileSync(process.execPath, [path.join(FIXTURE_SRC, 'differential.cjs'), path.join(ROOT, 'lib', 'index.js'), String(target.pid), 'SIGTERM'], {
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
    });
    const { sigkit, node, isAlive } = JSON.parse(out) as { sigkit: Fields; node: Fields; isAlive: boolean };
    expect(node).toEqual({ code: 'EPERM', errno: -1, syscall: 'kill', message: 'kill EPERM' });
    expect(sigkit).toEqual(node);
    // EPERM still means the process exists: isAlive is true for the sender.
    expect(isAlive).toBe(true);
    expect(target.exitCode).toBeNull();
    expect(target.signalCode).toBeNull();
  });
});
