/**
 * watchSignals checked against the kernel and beside strace: a program that
 * counts its signals and is stopped and continued must report the same
 * counts traced and untraced, and the events must be what strace -e signal
 * shows for the same senders (one tracer after the other).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { kill, signalName, sigqueue, watchSignals, type WatchEvent } from '../../src/index.js';
import { LIB } from '../helpers/fixture.js';
import { procStateOf, start, waitUntil } from '../helpers/procs.js';
import { codeOf, errorOf } from '../helpers/errors.js';
import { buildFixtures, stopFixtures, isPending, startFixture, statusField, type Built, type Started } from './explain-fixtures.js';

let fx: Built;
const haveStrace = spawnSync('strace', ['-V']).status === 0;

beforeAll(() => {
  fx = buildFixtures();
});
afterEach(() => stopFixtures());
afterAll(() => fx?.remove());

/** The counter as a grandchild (its parent is sh, which reports its exit): never our own child. */
async function counter(): Promise<Started> {
  return startFixture('sh', ['-c', `${fx.counter} & wait $!; echo "status $?"`]);
}

const tracer = (pid: number) => Number(statusField(pid, 'TracerPid') ?? -1);

/** The same senders for every run: kill, sigqueue with payloads, stop and continue, then SIGTERM. */
async function scenario(t: Started): Promise<string> {
  for (let i = 1; i <= 5; i++) {
    kill(t.pid, 'SIGUSR2');
    await t.expect(new RegExp(`^usr2 ${i}$`));
  }
  for (let v = 1; v <= 20; v++) sigqueue(t.pid, 'SIGRTMIN+1', v);
  kill(t.pid, 'SIGUSR1');
  kill(t.pid, 'SIGSTOP');
  // Untraced it shows T. Traced, every signal-delivery-stop shows t, and so
  // does the group-stop the tracer LISTENs to: wait until SIGSTOP itself has
  // been taken (no longer pending), so that SIGCONT cannot discard it first.
  await waitUntil('stopped', () => (['T', 't'].includes(procStateOf(t.pid) ?? '') && !isPending(t.pid, 19) ? true : undefined));
  kill(t.pid, 'SIGCONT');
  await waitUntil('running again', () => (procStateOf(t.pid) === 'S' || procStateOf(t.pid) === 'R' ? true : undefined));
  kill(t.pid, 'SIGUSR2');
  await t.expect(/^usr2 6$/);
  kill(t.pid, 'SIGTERM');
  const counts = (await t.expect(/^counts (.*)$/))[1]!;
  const status = (await t.expect(/^status (\d+)$/))[1]!;
  return `${counts} exit=${status}`;
}

const EXPECTED = 'usr1=1 usr2=6 cont=1 rt=20 rtsum=210 exit=0';

/** [signal, code, pid, value] per event, in order. */
function rowsOf(events: WatchEvent[]): string[] {
  return events.map((e) => (e.type === 'signal' ? `${e.signal} ${e.code} ${e.pid} ${e.uid}${e.value !== undefined ? ` ${e.value}` : ''}` : e.exit.signal === null ? `exit ${e.exit.code}` : `killed ${e.exit.signal}`));
}

function parseStrace(text: string): string[] {
  const rows: string[] = [];
  for (const line of text.split('\n')) {
    const sig = /^--- (SIG\w+) \{si_signo=\w+, si_code=(\w+), si_pid=(\d+), si_uid=(\d+)(?:, si_int=(-?\d+), si_ptr=\w+)?\} ---$/.exec(line);
    if (sig) {
      // strace numbers realtime signals from the kernel's SIGRTMIN (32): SIGRT_3 is 35.
      const rt = /^SIGRT_(\d+)$/.exec(sig[1]!);
      const name = rt ? signalName(32 + Number(rt[1])) : sig[1]!;
      rows.push(`${name} ${sig[2]} ${sig[3]} ${sig[4]}${sig[5] !== undefined ? ` ${sig[5]}` : ''}`);
    }
    const ex = /^\+\+\+ exited with (\d+) \+\+\+$/.exec(line);
    if (ex) rows.push(`exit ${ex[1]}`);
    const killed = /^\+\+\+ killed by (SIG\w+)/.exec(line);
    if (killed) rows.push(`killed ${killed[1]}`);
  }
  return rows;
}

describe('watchSignals', () => {
  it('a counting, stopped and continued program behaves exactly as untraced; every signal is reported', async () => {
    const untraced = await counter();
    expect(await scenario(untraced)).toBe(EXPECTED);

    const t = await counter();
    const w = watchSignals(t.pid);
    expect(tracer(t.pid)).toBeGreaterThan(0);
    const events: WatchEvent[] = [];
    const done = (async () => {
      for await (const e of w) events.push(e);
    })();
    expect(await scenario(t)).toBe(EXPECTED);
    await done;
    expect(w.closed).toBe(true);
    const rows = rowsOf(events);
    const me = `${process.pid} ${process.getuid!()}`;
    // The kernel delivers pending signals lowest number first, not in the
    // order sent: compare as sets, and realtime ones (which queue) in order.
    expect(rows.filter((r) => r.startsWith('SIGRTMIN+1'))).toEqual(Array.from({ length: 20 }, (_, i) => `SIGRTMIN+1 SI_QUEUE ${me} ${i + 1}`));
    expect(rows.at(-1)).toBe('exit 0');
    expect([...rows].sort()).toEqual([
      ...Array.from({ length: 5 }, () => `SIGUSR2 SI_USER ${me}`),
      ...Array.from({ length: 20 }, (_, i) => `SIGRTMIN+1 SI_QUEUE ${me} ${i + 1}`),
      `SIGUSR1 SI_USER ${me}`,
      `SIGSTOP SI_USER ${me}`,
      `SIGCONT SI_USER ${me}`,
      `SIGUSR2 SI_USER ${me}`,
      `SIGTERM SI_USER ${me}`,
      'exit 0',
    ].sort());
    const exit = events.at(-1)!;
    expect(exit).toEqual({ type: 'exit', exit: { pid: t.pid, code: 0, signal: null, signalNumber: null, coreDumped: false } });
  });

  it.skipIf(!haveStrace)('reports what strace -e signal -p reports for the same senders (one after the other)', async () => {
    const s = await counter();
    const strace = spawn('strace', ['-e', 'trace=none', '-e', 'signal=all', '-p', String(s.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let straceOut = '';
    strace.stderr!.on('data', (d: Buffer) => (straceOut += d.toString()));
    await waitUntil('strace to attach', () => (tracer(s.pid) > 0 ? true : undefined), 10_000);
    // While strace holds it, a second tracer is refused at once, never hangs.
    const busy = errorOf(() => watchSignals(s.pid));
    expect(busy).toMatchObject({ name: 'SyscallError', code: 'EPERM', errno: -1, syscall: 'ptrace', pid: s.pid, reason: 'traced' });
    expect(busy.tracerPid).toBe(strace.pid);
    expect(await scenario(s)).toBe(EXPECTED);
    await new Promise((r) => strace.once('exit', r));

    const t = await counter();
    const w = watchSignals(t.pid);
    const events: WatchEvent[] = [];
    const done = (async () => {
      for await (const e of w) events.push(e);
    })();
    expect(await scenario(t)).toBe(EXPECTED);
    await done;
    const fromStrace = parseStrace(straceOut);
    expect(fromStrace.length, straceOut).toBe(31);
    expect([...rowsOf(events)].sort()).toEqual([...fromStrace].sort());
    const rtOf = (rows: string[]) => rows.filter((r) => r.startsWith('SIGRTMIN+1'));
    expect(rtOf(rowsOf(events))).toEqual(rtOf(fromStrace));
  });

  it('close() detaches and leaves a running process running and a stopped one stopped', async () => {
    const t = await counter();
    const w = watchSignals(t.pid);
    kill(t.pid, 'SIGUSR2');
    await t.expect(/^usr2 1$/);
    w.close();
    expect(tracer(t.pid)).toBe(0);
    expect(w.closed).toBe(true);
    expect(await w.next()).toEqual({ value: undefined, done: true });
    kill(t.pid, 'SIGUSR2');
    await t.expect(/^usr2 2$/);

    kill(t.pid, 'SIGSTOP');
    await waitUntil('T', () => (procStateOf(t.pid) === 'T' ? true : undefined));
    const w2 = watchSignals(t.pid);
    await waitUntil('the group-stop to be LISTENed', () => (procStateOf(t.pid) === 't' ? true : undefined));
    w2.close();
    expect(tracer(t.pid)).toBe(0);
    // Detached from a group-stop, it wakes and stops again at once, untraced.
    await waitUntil('T again', () => (procStateOf(t.pid) === 'T' ? true : undefined));
    kill(t.pid, 'SIGUSR2'); // stays pending while stopped
    await waitUntil('SIGUSR2 pending', () => ((BigInt(`0x${statusField(t.pid, 'ShdPnd')}`) & (1n << 11n)) !== 0n ? true : undefined));
    expect(procStateOf(t.pid)).toBe('T');
    kill(t.pid, 'SIGCONT');
    await t.expect(/^usr2 3$/);
  });

  it('reports a death by signal, and the real parent still gets the true status', async () => {
    const t = await counter();
    const w = watchSignals(t.pid);
    kill(t.pid, 'SIGUSR1');
    kill(t.pid, 'SIGKILL');
    const events: WatchEvent[] = [];
    for await (const e of w) events.push(e);
    expect(events.at(-1)).toEqual({ type: 'exit', exit: { pid: t.pid, code: null, signal: 'SIGKILL', signalNumber: 9, coreDumped: false } });
    // sh (the parent) reaped it itself: 128 + 9.
    expect((await t.expect(/^status (\d+)$/))[1]).toBe('137');
  });

  it('an AbortSignal closes it; a worker ending mid-watch detaches', async () => {
    const t = await counter();
    const ac = new AbortController();
    const w = watchSignals(t.pid, { signal: ac.signal });
    const it = w[Symbol.asyncIterator]();
    const pending = it.next();
    ac.abort();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(tracer(t.pid)).toBe(0);

    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const { watchSignals } = require(workerData.lib);
       const w = watchSignals(workerData.pid);
       (async () => { for await (const e of w) parentPort.postMessage(e.signal ?? 'exit'); })();
       parentPort.postMessage('attached');`,
      { eval: true, workerData: { lib: LIB, pid: t.pid } },
    );
    const seen: string[] = [];
    await new Promise<void>((resolve) => worker.on('message', (m: string) => (seen.push(m), m === 'attached' && resolve())));
    kill(t.pid, 'SIGUSR2');
    await t.expect(/^usr2 1$/);
    await waitUntil('the worker to see it', () => (seen.includes('SIGUSR2') ? true : undefined));
    await worker.terminate();
    expect(tracer(t.pid)).toBe(0);
    kill(t.pid, 'SIGUSR2');
    await t.expect(/^usr2 2$/);
  });

  it('refuses what it cannot or must not trace, with clear errors and no hang', async () => {
    expect(codeOf(() => watchSignals(process.pid))).toBe('ERR_INVALID_ARG_VALUE');
    const own = start(fx.target, []);
    await waitUntil('started', () => (procStateOf(own.pid!) === 'S' ? true : undefined));
    const e = errorOf(() => watchSignals(own.pid!));
    expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(e.message).toMatch(/child of this process/);
    expect(tracer(own.pid!)).toBe(0);
    expect(errorOf(() => watchSignals(99_999_999))).toMatchObject({ code: 'ESRCH', syscall: 'ptrace' });
    const t = await counter();
    const first = watchSignals(t.pid);
    const second = errorOf(() => watchSignals(t.pid));
    expect(second).toMatchObject({ code: 'EPERM', syscall: 'ptrace', reason: 'traced' });
    first.close();
    expect(codeOf(() => watchSignals(t.pid, { sginal: 1 } as never))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => watchSignals(t.pid, { signal: 1 } as never))).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => watchSignals(0))).toBe('ERR_INVALID_ARG_VALUE');
  });
});
