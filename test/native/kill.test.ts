/**
 * kill, killpg, sigqueue and isAlive against real processes this test starts.
 * The C sigreceiver reports si_code, sender and payload of what arrived.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Signal, isAlive, isSyscallError, kill, killpg, sigqueue, signalNumber } from '../../src/index.js';
import { readFileSync } from 'node:fs';
import { SIGRECEIVER } from '../helpers/paths.js';
import { LineReader, exited, makeZombies, parseReceived, start, startReceiver, stopAll, waitUntil } from '../helpers/procs.js';

const SI_USER = 0;
const SI_QUEUE = -1;

afterEach(() => stopAll());

describe('kill', () => {
  it('delivers the signal with SI_USER, our pid and uid', async () => {
    const r = await startReceiver(['2']);
    kill(r.pid, 'SIGUSR1');
    expect(parseReceived(await r.lines.next())).toEqual({ signo: 10, code: SI_USER, pid: process.pid, uid: process.getuid!(), value: 0 });
    kill(r.pid, 'SIGRTMIN+2');
    expect(parseReceived(await r.lines.next()).signo).toBe(Signal.SIGRTMIN + 2);
    expect(await exited(r.child)).toEqual({ code: 0, signal: null });
  });

  it('terminates a process with the default SIGTERM', async () => {
    const child = start('sleep', ['30']);
    await waitUntil('spawn', () => child.pid);
    kill(child.pid!);
    expect(await exited(child)).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('signal 0 probes without sending, and fails with ESRCH once the process is reaped', async () => {
    const child = start('sleep', ['30']);
    const pid = child.pid!;
    kill(pid, 0);
    expect(child.exitCode).toBeNull();
    kill(pid, 'SIGKILL');
    await exited(child);
    let error: unknown;
    try {
      kill(pid, 0);
    } catch (e) {
      error = e;
    }
    expect(isSyscallError(error, 'ESRCH')).toBe(true);
    expect(error).toMatchObject({ errno: -3, syscall: 'kill', pid, signal: 0 });
  });
});

describe('killpg', () => {
  it('reaches every member of a detached group, grandchildren included', async () => {
    const group = start('sh', ['-c', `"$0" 1 & "$0" 1 & wait`, SIGRECEIVER], { detached: true });
    const lines = new LineReader(group.stdout!);
    const ready = [await lines.next(), await lines.next()];
    const pids = ready.map((l) => Number(l.split(' ')[1]));
    expect(pids.every((p) => p !== group.pid)).toBe(true);
    killpg(group.pid!, 'SIGUSR2');
    const got = [parseReceived(await lines.next()), parseReceived(await lines.next())];
    for (const g of got) expect(g).toMatchObject({ signo: 12, code: SI_USER, pid: process.pid });
    // The shell leading the group got it too, and has no handler for it.
    expect(await exited(group)).toEqual({ code: null, signal: 'SIGUSR2' });
  });

  it('fails with ESRCH for a group that no longer exists', async () => {
    const child = start('sleep', ['30'], { detached: true });
    const pgid = child.pid!;
    killpg(pgid, 'SIGKILL');
    await exited(child);
    let error: unknown;
    try {
      killpg(pgid, 'SIGTERM');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'ESRCH', errno: -3, syscall: 'killpg', pgid, signal: 'SIGTERM' });
  });
});

describe('sigqueue', () => {
  it('delivers its payload with SI_QUEUE', async () => {
    const r = await startReceiver(['3']);
    sigqueue(r.pid, 'SIGRTMIN+1', 42);
    sigqueue(r.pid, 'SIGRTMIN+1', -7);
    sigqueue(r.pid, 'SIGUSR1', 2147483647);
    const got = [parseReceived(await r.lines.next()), parseReceived(await r.lines.next()), parseReceived(await r.lines.next())];
    const me = { code: SI_QUEUE, pid: process.pid, uid: process.getuid!() };
    // SIGUSR1 may be taken before or after the realtime ones (the receiver is
    // already waiting when the first arrives); realtime ones keep their order.
    expect(got.filter((g) => g.signo === 10)).toEqual([{ signo: 10, ...me, value: 2147483647 }]);
    expect(got.filter((g) => g.signo !== 10)).toEqual([
      { signo: signalNumber('SIGRTMIN+1'), ...me, value: 42 },
      { signo: signalNumber('SIGRTMIN+1'), ...me, value: -7 },
    ]);
  });

  it('maps a full receiver queue to EAGAIN', async () => {
    const limit = 8;
    const r = await startReceiver(['hold', String(limit)]);
    let error: unknown;
    let sent = 0;
    for (; sent < 10_000; sent++) {
      try {
        sigqueue(r.pid, 'SIGRTMIN+3', sent);
      } catch (e) {
        error = e;
        break;
      }
    }
    expect(error).toMatchObject({ code: 'EAGAIN', errno: -11, syscall: 'sigqueue', pid: r.pid, signal: 'SIGRTMIN+3' });
    // The limit counts the user's pending signals across processes: at most `limit` got in.
    expect(sent).toBeLessThanOrEqual(limit);
    const pending = /SigQ:\s+(\d+)\//.exec(readFileSync(`/proc/${r.pid}/status`, 'utf8'))!;
    expect(Number(pending[1])).toBeGreaterThanOrEqual(sent);
  });
});

describe('isAlive', () => {
  it('is true for a running process and false once it is reaped', async () => {
    const child = start('sleep', ['30']);
    expect(isAlive(child.pid!)).toBe(true);
    child.kill('SIGKILL');
    await exited(child);
    expect(isAlive(child.pid!)).toBe(false);
  });

  it('is false for a zombie, which process.kill(pid, 0) calls alive', async () => {
    const { zombies: [zombie] } = await makeZombies();
    if (zombie === undefined) throw new Error('no zombie');
    expect(() => process.kill(zombie, 0)).not.toThrow();
    expect(isAlive(zombie)).toBe(false);
  });

  it('is true for a stopped process', async () => {
    const child = start('sleep', ['30']);
    kill(child.pid!, 'SIGSTOP');
    await waitUntil('stopped', () => (readFileSync(`/proc/${child.pid}/stat`, 'utf8').match(/\) T /) ? true : undefined));
    expect(isAlive(child.pid!)).toBe(true);
  });
});
