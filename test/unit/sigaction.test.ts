/**
 * The handler policy against a fake binding: refusals before any native
 * call, one native subscription per signal and thread, ref counting,
 * dispatch order, errors, timeouts and aborts.
 */
import type { SignalLike } from '../../src/signals.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
// vi.mock below is hoisted above this import by vitest.
import { SyscallError } from '../../src/errors.js';
import { getDisposition, onSignal, signalEvents, signalStats, waitForSignal } from '../../src/sigaction.js';
import type { SignalEvent } from '../../src/sigaction.js';
import { errorOf } from '../helpers/errors.js';

const fake = vi.hoisted(() => ({
  calls: [] as string[],
  dispatch: undefined as ((count: number) => void) | undefined,
  buffer: undefined as Int32Array | undefined,
  results: { init: 0, subscribe: 0, unsubscribe: 0, query: 0, stats: [0, 0] as [number, number] | number },
}));

vi.mock('../../src/native.js', () => ({
  native: {
    platformSupported: true,
    sigrtmin: 34,
    sigrtmax: 64,
    nsig: 65,
    sigactionRingCapacity: 65536,
    sigactionEventInts: 6,
    kill: () => 0,
    killpg: () => 0,
    sigqueue: () => 0,
    procState: () => 'S'.charCodeAt(0),
    sigactionInit: (dispatch: (count: number) => void, buffer: Int32Array) => {
      fake.calls.push('init');
      if (fake.results.init < 0) return fake.results.init;
      fake.dispatch = dispatch;
      fake.buffer = buffer;
      return 0;
    },
    sigactionSubscribe: (sig: number) => (fake.calls.push(`subscribe ${sig}`), fake.results.subscribe),
    sigactionUnsubscribe: (sig: number) => (fake.calls.push(`unsubscribe ${sig}`), fake.results.unsubscribe),
    sigactionReassert: (sig: number) => (fake.calls.push(`reassert ${sig}`), 0),
    sigactionRef: (on: boolean) => void fake.calls.push(`ref ${on}`),
    sigactionStats: (sig: number) => (fake.calls.push(`stats ${sig}`), fake.results.stats),
    sigactionQuery: (sig: number) => (fake.calls.push(`query ${sig}`), fake.results.query),
    sigactionSlotsInUse: () => 1,
  },
}));

/** Delivers events the way the native layer does: rows in the buffer, then dispatch(count). */
function deliver(...rows: Array<[signo: number, code: number, pid: number, uid: number, value: number, status: number]>): void {
  rows.forEach((row, i) => fake.buffer!.set(row, i * 6));
  fake.dispatch!(rows.length);
}


const offs: Array<() => void> = [];
beforeEach(() => {
  fake.calls.length = 0;
  Object.assign(fake.results, { init: 0, subscribe: 0, unsubscribe: 0, query: 0, stats: [0, 0] });
});
afterEach(() => {
  for (const off of offs.splice(0)) off();
  vi.useRealTimers();
  vi.restoreAllMocks();
});
const listen = (...a: Parameters<typeof onSignal>) => {
  const off = onSignal(...a);
  offs.push(off);
  return off;
};

describe('signals that are refused before any native call', () => {
  const refused: Array<[unknown, string]> = [
    ['SIGKILL', 'ERR_INVALID_ARG_VALUE'], [9, 'ERR_INVALID_ARG_VALUE'], ['kill', 'ERR_INVALID_ARG_VALUE'],
    ['SIGSTOP', 'ERR_INVALID_ARG_VALUE'], [19, 'ERR_INVALID_ARG_VALUE'],
    [32, 'ERR_INVALID_ARG_VALUE'], [33, 'ERR_INVALID_ARG_VALUE'],
    ['SIGSEGV', 'ERR_INVALID_ARG_VALUE'], [11, 'ERR_INVALID_ARG_VALUE'], ['SIGBUS', 'ERR_INVALID_ARG_VALUE'],
    ['SIGFPE', 'ERR_INVALID_ARG_VALUE'], ['SIGILL', 'ERR_INVALID_ARG_VALUE'], ['sigill', 'ERR_INVALID_ARG_VALUE'],
    [0, 'ERR_UNKNOWN_SIGNAL'], [65, 'ERR_UNKNOWN_SIGNAL'], [-1, 'ERR_UNKNOWN_SIGNAL'], [1.5, 'ERR_UNKNOWN_SIGNAL'],
    ['SIGFOO', 'ERR_UNKNOWN_SIGNAL'], ['SIGRTMIN+31', 'ERR_UNKNOWN_SIGNAL'],
    [null, 'ERR_INVALID_ARG_TYPE'], [undefined, 'ERR_INVALID_ARG_TYPE'], [{}, 'ERR_INVALID_ARG_TYPE'], [12n, 'ERR_INVALID_ARG_TYPE'],
  ];
  describe.each([
    ['onSignal', (s: unknown) => onSignal(s as SignalLike, () => {})],
    ['signalEvents', (s: unknown) => signalEvents(s as SignalLike)],
    ['waitForSignal', (s: unknown) => waitForSignal(s as SignalLike)],
  ])('%s', (_name, call) => {
    it.each(refused)('%s -> %s', (sig, code) => {
      const e = errorOf(() => call(sig));
      expect(e.code).toBe(code);
      expect(e.name).toBe('TypeError');
      expect(fake.calls).toEqual([]);
    });
  });

  it('the message says why', () => {
    expect(errorOf(() => onSignal('SIGKILL', () => {}))).toMatchObject({ message: expect.stringMatching(/cannot be caught/) });
    expect(errorOf(() => onSignal(32, () => {}))).toMatchObject({ message: expect.stringMatching(/libc reserves/) });
    expect(errorOf(() => onSignal('SIGSEGV', () => {}))).toMatchObject({ message: expect.stringMatching(/V8 and Node/) });
  });
});

describe('argument checks', () => {
  it.each([
    [() => onSignal('SIGUSR2', 'nope' as never), 'ERR_INVALID_ARG_TYPE'],
    [() => onSignal('SIGUSR2', () => {}, 5 as never), 'ERR_INVALID_ARG_TYPE'],
    [() => onSignal('SIGUSR2', () => {}, null as never), 'ERR_INVALID_ARG_TYPE'],
    [() => onSignal('SIGUSR2', () => {}, { ref: 'yes' as never }), 'ERR_INVALID_ARG_TYPE'],
    [() => onSignal('SIGUSR2', () => {}, { signal: {} as never }), 'ERR_INVALID_ARG_TYPE'],
    [() => signalEvents('SIGUSR2', { ref: 1 as never }), 'ERR_INVALID_ARG_TYPE'],
    [() => waitForSignal('SIGUSR2', { timeoutMs: '5' as never }), 'ERR_INVALID_ARG_TYPE'],
    [() => waitForSignal('SIGUSR2', { timeoutMs: -1 }), 'ERR_OUT_OF_RANGE'],
    [() => waitForSignal('SIGUSR2', { timeoutMs: NaN }), 'ERR_OUT_OF_RANGE'],
    [() => waitForSignal('SIGUSR2', { timeoutMs: Infinity }), 'ERR_OUT_OF_RANGE'],
    [() => waitForSignal('SIGUSR2', { timeoutMs: 2 ** 31 }), 'ERR_OUT_OF_RANGE'],
    [() => signalStats('SIGFOO' as SignalLike), 'ERR_UNKNOWN_SIGNAL'],
    [() => getDisposition(99), 'ERR_UNKNOWN_SIGNAL'],
    [() => getDisposition(null as never), 'ERR_INVALID_ARG_TYPE'],
  ])('%#: %s, before any native call', (call, code) => {
    expect(errorOf(call).code).toBe(code);
    expect(fake.calls).toEqual([]);
  });
});

describe('subscriptions', () => {
  it('one native subscription per signal per thread; the last listener unsubscribes', () => {
    const a = listen('SIGUSR2', () => {});
    const b = listen(12, () => {});
    expect(fake.calls).toEqual(['init', 'subscribe 12']);
    a();
    a(); // idempotent
    expect(fake.calls).toEqual(['init', 'subscribe 12']);
    b();
    expect(fake.calls).toEqual(['init', 'subscribe 12', 'unsubscribe 12']);
    listen('SIGRTMIN+1', () => {});
    expect(fake.calls.slice(3)).toEqual(['subscribe 35']); // init only once per thread
  });

  it('keeps the loop alive only while a { ref: true } listener exists', () => {
    const plain = listen('SIGUSR2', () => {});
    const r1 = listen('SIGUSR2', () => {}, { ref: true });
    const r2 = listen('SIGHUP', () => {}, { ref: true });
    expect(fake.calls.filter((c) => c.startsWith('ref'))).toEqual(['ref true']);
    r1();
    plain();
    expect(fake.calls.filter((c) => c.startsWith('ref'))).toEqual(['ref true']);
    r2();
    expect(fake.calls.filter((c) => c.startsWith('ref'))).toEqual(['ref true', 'ref false']);
  });

  it('an aborted signal unsubscribes; an already aborted one subscribes nothing', () => {
    const ac = new AbortController();
    listen('SIGUSR2', () => {}, { signal: ac.signal });
    ac.abort();
    expect(fake.calls.slice(-1)).toEqual(['unsubscribe 12']);
    fake.calls.length = 0;
    listen('SIGUSR2', () => {}, { signal: AbortSignal.abort() });
    expect(fake.calls).toEqual([]);
  });

  it('native failures are typed errors and leave nothing subscribed', () => {
    fake.results.subscribe = -22;
    expect(errorOf(() => onSignal('SIGHUP', () => {}))).toMatchObject({ name: 'SyscallError', code: 'EINVAL', errno: -22, syscall: 'sigaction', signal: 'SIGHUP' });
    fake.results.subscribe = 0;
    listen('SIGHUP', () => {});
    expect(fake.calls.filter((c) => c === 'subscribe 1')).toHaveLength(2);
  });

  it('re-asserts its handler when process listeners for a managed signal change', () => {
    const hook = () => (process as NodeJS.EventEmitter).listeners('newListener').find((f) => f.name === 'onProcessListenerChange') as ((e: string) => void) | undefined;
    expect(hook()).toBeUndefined();
    const off = listen('SIGUSR2', () => {});
    // Called directly: emitting on the real process would make Node install
    // a libuv handler in the test runner.
    hook()!('SIGUSR2');
    hook()!('SIGHUP'); // not managed by this thread
    hook()!('data');
    expect(fake.calls.filter((c) => c.startsWith('reassert'))).toEqual(['reassert 12']);
    expect((process as NodeJS.EventEmitter).listeners('removeListener').some((f) => f.name === 'onProcessListenerChange')).toBe(true);
    off();
    expect(hook()).toBeUndefined();
    expect((process as NodeJS.EventEmitter).listeners('removeListener').some((f) => f.name === 'onProcessListenerChange')).toBe(false);
  });
});

describe('dispatch', () => {
  it('hands events to listeners in the order the handlers ran, listeners in subscription order', () => {
    const seen: string[] = [];
    listen('SIGUSR2', (e) => seen.push(`a ${e.code} ${e.pid}`));
    listen('SIGRTMIN+1', (e) => seen.push(`rt ${e.value}`));
    listen('SIGUSR2', (e) => seen.push(`b ${e.code} ${e.pid}`));
    deliver([12, 0, 100, 0, 0, 0], [35, -1, 101, 0, 7, 7], [12, -6, 102, 0, 0, 0], [35, -1, 101, 0, 8, 8]);
    expect(seen).toEqual(['a SI_USER 100', 'b SI_USER 100', 'rt 7', 'a SI_TKILL 102', 'b SI_TKILL 102', 'rt 8']);
  });

  it('drops events of signals nobody listens to any more', () => {
    const seen: number[] = [];
    listen('SIGUSR2', (e) => seen.push(e.number));
    deliver([1, 0, 100, 0, 0, 0], [12, 0, 100, 0, 0, 0]);
    expect(seen).toEqual([12]);
  });

  it('a listener unsubscribed during a dispatch is not called again, not even for the same batch', () => {
    const seen: string[] = [];
    let offB: () => void = () => {};
    listen('SIGUSR2', () => {
      seen.push('a');
      offB();
    });
    offB = listen('SIGUSR2', () => seen.push('b'));
    deliver([12, 0, 1, 0, 0, 0], [12, 0, 1, 0, 0, 0]);
    expect(seen).toEqual(['a', 'a']);
  });

  it('a throwing listener does not stop the others; its error is rethrown on the next tick', () => {
    const boom = new Error('boom');
    const ticks: unknown[][] = [];
    const realNextTick = process.nextTick;
    vi.spyOn(process, 'nextTick').mockImplementation(((fn: (...a: unknown[]) => void, ...a: unknown[]) => {
      if (a[0] === boom) ticks.push([fn, ...a]);
      else realNextTick(fn, ...a);
    }) as typeof process.nextTick);
    const seen: string[] = [];
    listen('SIGUSR2', () => {
      throw boom;
    });
    listen('SIGUSR2', () => seen.push('second'));
    deliver([12, 0, 1, 0, 0, 0]);
    expect(seen).toEqual(['second']);
    expect(ticks).toHaveLength(1);
    const [fn, arg] = ticks[0] as [(e: unknown) => void, unknown];
    expect(arg).toBe(boom);
    expect(() => fn(arg)).toThrow(boom);
  });
});

describe('waitForSignal', () => {
  it('resolves with the next event and unsubscribes', async () => {
    const p = waitForSignal('SIGRTMIN+1');
    deliver([35, -1, 9, 0, 42, 42]);
    await expect(p).resolves.toEqual({ signal: 'SIGRTMIN+1', number: 35, code: 'SI_QUEUE', pid: 9, uid: 0, value: 42, attested: false });
    expect(fake.calls.slice(-1)).toEqual(['unsubscribe 35']);
  });

  it('rejects with ERR_SIGKIT_TIMEOUT after timeoutMs and unsubscribes', async () => {
    vi.useFakeTimers();
    const p = waitForSignal('SIGUSR2', { timeoutMs: 100 });
    const check = expect(p).rejects.toMatchObject({ name: 'TimeoutError', code: 'ERR_SIGKIT_TIMEOUT', signal: 'SIGUSR2', timeoutMs: 100 });
    vi.advanceTimersByTime(99);
    expect(fake.calls.slice(-1)).toEqual(['subscribe 12']);
    vi.advanceTimersByTime(1);
    await check;
    expect(fake.calls.slice(-1)).toEqual(['unsubscribe 12']);
  });

  it('rejects with an AbortError when aborted, or at once when already aborted', async () => {
    const ac = new AbortController();
    const p = waitForSignal('SIGUSR2', { signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(p).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: new Error('stop') });
    expect(fake.calls.slice(-1)).toEqual(['unsubscribe 12']);
    fake.calls.length = 0;
    await expect(waitForSignal('SIGUSR2', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(fake.calls).toEqual([]);
  });

  it('passes ref on to the native handle', async () => {
    const p = waitForSignal('SIGUSR2', { ref: true });
    expect(fake.calls.slice(-1)).toEqual(['ref true']);
    deliver([12, 0, 1, 0, 0, 0]);
    await p;
    expect(fake.calls.slice(-2)).toEqual(['ref false', 'unsubscribe 12']);
  });
});

describe('signalEvents', () => {
  it('queues events from the call on and yields them in order', async () => {
    const it = signalEvents('SIGRTMIN+1');
    deliver([35, -1, 1, 0, 1, 1], [35, -1, 1, 0, 2, 2]);
    const pending = it.next();
    const values: number[] = [];
    values.push((await pending).value!.value!);
    values.push((await it.next()).value!.value!);
    const waiting = it.next();
    deliver([35, -1, 1, 0, 3, 3]);
    values.push((await waiting).value!.value!);
    expect(values).toEqual([1, 2, 3]);
    await it.return!();
    expect(fake.calls.slice(-1)).toEqual(['unsubscribe 35']);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('ends when aborted: pending next() resolves done, the subscription goes', async () => {
    const ac = new AbortController();
    const got: SignalEvent[] = [];
    const loop = (async () => {
      for await (const e of signalEvents('SIGUSR2', { signal: ac.signal })) got.push(e);
    })();
    await Promise.resolve();
    deliver([12, 0, 5, 0, 0, 0]);
    await new Promise((r) => setImmediate(r));
    ac.abort();
    await loop;
    expect(got.map((e) => e.pid)).toEqual([5]);
    expect(fake.calls.slice(-1)).toEqual(['unsubscribe 12']);
  });

  it('breaking out of for await unsubscribes; an already aborted signal yields nothing', async () => {
    const events = signalEvents('SIGHUP');
    deliver([1, 0, 5, 0, 0, 0], [1, 0, 6, 0, 0, 0]);
    for await (const e of events) {
      expect(e.pid).toBe(5);
      break;
    }
    expect(fake.calls.slice(-1)).toEqual(['unsubscribe 1']);
    expect(await events.next()).toEqual({ value: undefined, done: true }); // the queued one is discarded
    fake.calls.length = 0;
    const it = signalEvents('SIGHUP', { signal: AbortSignal.abort() });
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(fake.calls).toEqual([]);
  });
});

describe('bounded queue and aborts', () => {
  it('a stalled signalEvents consumer holds highWaterMark events; the rest are dropped and counted in signalStats', async () => {
    fake.results.stats = [0, 0];
    const before = signalStats('SIGRTMIN+2').dropped;
    const events = signalEvents('SIGRTMIN+2', { highWaterMark: 3 });
    for (let v = 1; v <= 10; v++) deliver([36, -1, 1, 0, v, 0]);
    expect(signalStats('SIGRTMIN+2').dropped - before).toBe(7);
    const got: number[] = [];
    for (let i = 0; i < 3; i++) got.push((await events.next()).value!.value!);
    expect(got).toEqual([1, 2, 3]); // the oldest are kept, the newest dropped
    // Room again: the next event is queued, not dropped.
    deliver([36, -1, 1, 0, 11, 0]);
    expect((await events.next()).value!.value).toBe(11);
    expect(signalStats('SIGRTMIN+2').dropped - before).toBe(7);
    await events.return!();
  });

  it('the default highWaterMark is 65,536', async () => {
    const events = signalEvents('SIGRTMIN+3');
    const before = signalStats('SIGRTMIN+3').dropped;
    const rows = 1024;
    for (let batch = 0; batch < 65_536 / rows + 1; batch++) {
      for (let i = 0; i < rows; i++) fake.buffer!.set([37, -1, 1, 0, batch * rows + i, 0], i * 6);
      fake.dispatch!(rows);
    }
    expect(signalStats('SIGRTMIN+3').dropped - before).toBe(1024);
    await events.return!();
  });

  it.each([
    [{ highWaterMark: 0 }, 'ERR_OUT_OF_RANGE'], [{ highWaterMark: 1.5 }, 'ERR_OUT_OF_RANGE'], [{ highWaterMark: 2 ** 31 }, 'ERR_OUT_OF_RANGE'],
    [{ highWaterMark: '5' }, 'ERR_INVALID_ARG_TYPE'], [{ highWatermark: 5 }, 'ERR_INVALID_ARG_VALUE'], [[], 'ERR_INVALID_ARG_TYPE'],
  ])('signalEvents options %j -> %s, before any native call', (opts, code) => {
    fake.calls.length = 0;
    expect(errorOf(() => signalEvents('SIGUSR2', opts as never)).code).toBe(code);
    expect(fake.calls).toEqual([]);
  });

  it('unknown option keys are refused by every call, naming the nearest known one', () => {
    expect(errorOf(() => onSignal('SIGUSR2', () => {}, { timeoutMs: 5 } as never))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(errorOf(() => waitForSignal('SIGUSR2', { timeout: 5 } as never))).toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(/timeoutMs/),
    });
    expect(errorOf(() => signalEvents('SIGUSR2', { highWaterMark: 5, sginal: undefined } as never)).code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('an abort signalled from inside a listener is noticed at once: not even the rest of the same batch arrives', async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    listen('SIGUSR2', (e) => {
      seen.push(e.pid);
      if (e.pid === 2) ac.abort();
    }, { signal: ac.signal });
    deliver([12, 0, 1, 0, 0, 0], [12, 0, 2, 0, 0, 0], [12, 0, 3, 0, 0, 0]);
    expect(seen).toEqual([1, 2]);
    expect(fake.calls.slice(-1)).toEqual(['unsubscribe 12']);

    // signalEvents: an abort from another listener of the same batch drops
    // what the iterator had queued and ends it in the same turn.
    const ac2 = new AbortController();
    const events = signalEvents('SIGHUP', { signal: ac2.signal });
    listen('SIGHUP', (e) => {
      if (e.pid === 2) ac2.abort();
    });
    deliver([1, 0, 1, 0, 0, 0], [1, 0, 2, 0, 0, 0], [1, 0, 3, 0, 0, 0]);
    expect(await events.next()).toEqual({ value: undefined, done: true });

    // waitForSignal: rejects in the same turn as the abort, before any timer.
    const ac3 = new AbortController();
    const p = waitForSignal('SIGTERM', { signal: ac3.signal, timeoutMs: 60_000 });
    let settled = false;
    p.catch(() => (settled = true));
    ac3.abort();
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toBe(true);
    await expect(p).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  });
});

describe('background paths never throw', () => {
  it('a failing unsubscribe from a timer, an abort or a listener is a warning, not an uncaught exception', async () => {
    const warnings: Error[] = [];
    vi.spyOn(process, 'emitWarning').mockImplementation(((w: Error) => void warnings.push(w)) as never);
    fake.results.unsubscribe = -22;
    // The timeout fires in a timer callback.
    await expect(waitForSignal('SIGUSR1', { timeoutMs: 1 })).rejects.toMatchObject({ code: 'ERR_SIGKIT_TIMEOUT' });
    // The abort listener.
    const ac = new AbortController();
    onSignal('SIGHUP', () => {}, { signal: ac.signal });
    ac.abort();
    // A signal listener (waitForSignal resolves from inside dispatch).
    const got = waitForSignal('SIGTERM');
    deliver([15, 0, 1, 0, 0, 0]);
    await got;
    expect(warnings.map((w) => (w as { code?: string }).code)).toEqual(['EINVAL', 'EINVAL', 'EINVAL']);
    // An explicit off() still throws: the caller is there to catch it.
    fake.results.unsubscribe = 0;
    const off = onSignal('SIGWINCH', () => {});
    fake.results.unsubscribe = -22;
    expect(errorOf(off)).toMatchObject({ name: 'SyscallError', code: 'EINVAL' });
    fake.results.unsubscribe = 0;
  });
});

describe('queries', () => {
  it('getDisposition maps sigaction(2) to default / ignore / handler', () => {
    const want = ['default', 'ignore', 'handler', 'handler'];
    for (let r = 0; r < 4; r++) {
      fake.results.query = r;
      expect(getDisposition('SIGTERM')).toBe(want[r]);
    }
    fake.results.query = -22;
    expect(errorOf(() => getDisposition(32))).toMatchObject({ name: 'SyscallError', code: 'EINVAL', syscall: 'sigaction', signal: 'SIG32' });
  });

  it('signalStats', () => {
    fake.results.stats = [10, 3];
    expect(signalStats('SIGRTMIN+1')).toEqual({ delivered: 10, dropped: 3 });
    expect(fake.calls).toEqual(['stats 35']);
    fake.results.stats = -22;
    expect(errorOf(() => signalStats(1))).toBeInstanceOf(SyscallError);
  });

  it('a thread past the native slot table gets ERR_SIGKIT_TOO_MANY_THREADS', async () => {
    // The module initialises once per thread, and this one already has: a
    // fresh module instance stands for a new thread.
    vi.resetModules();
    const fresh = await import('../../src/sigaction.js');
    fake.results.init = -24;
    expect(errorOf(() => fresh.onSignal('SIGUSR2', () => {}))).toMatchObject({ name: 'Error', code: 'ERR_SIGKIT_TOO_MANY_THREADS' });
    fake.results.init = -12;
    expect(errorOf(() => fresh.onSignal('SIGUSR2', () => {}))).toMatchObject({ name: 'SyscallError', code: 'ENOMEM', syscall: 'sigaction' });
    expect(fake.calls).toEqual(['init', 'init']);
  });
});
