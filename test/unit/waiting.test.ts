/**
 * raceEvent and its options: deadlines on the monotonic clock (a wall-clock
 * step changes nothing), aborts noticed at once wherever they are signalled,
 * and options checked like every other options bag.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { raceEvent, validateWaitOptions } from '../../src/waiting.js';
import { errorOf, rejectionOf } from '../helpers/errors.js';

afterEach(() => vi.restoreAllMocks());

/** An event source that never fires on its own, recording how it was disarmed. */
function source() {
  const s = { fire: (): void => {}, armed: 0, disarmed: 0 };
  const arm = (fire: () => void): (() => void) => {
    s.fire = fire;
    s.armed++;
    return () => void s.disarmed++;
  };
  return { s, arm };
}

describe('raceEvent deadlines are monotonic', () => {
  it('a wall clock stepped 60 s back during the wait does not delay the timeout', async () => {
    const { s, arm } = source();
    const real = Date.now.bind(Date);
    let offset = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => real() + offset);
    const t0 = performance.now();
    const wait = raceEvent(arm, { timeoutMs: 200, signal: undefined });
    setTimeout(() => (offset = -60_000), 50); // NTP step, VM resume, date -s
    expect(await wait).toBe('timeout');
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(195);
    // With Date.now() deadlines this waited another 60 s (issue 12). Generous: a loaded machine.
    expect(took).toBeLessThan(10_000);
    expect(s.disarmed).toBe(1);
  });

  it('a wall clock stepped 60 s forward does not end the wait early', async () => {
    const { arm } = source();
    const real = Date.now.bind(Date);
    let offset = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => real() + offset);
    const t0 = performance.now();
    const wait = raceEvent(arm, { timeoutMs: 150, signal: undefined });
    setTimeout(() => (offset = 60_000), 20);
    expect(await wait).toBe('timeout');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
  });

  it('reads the monotonic clock, never Date.now', async () => {
    const spy = vi.spyOn(Date, 'now');
    const { arm } = source();
    expect(await raceEvent(arm, { timeoutMs: 5, signal: undefined })).toBe('timeout');
    expect(spy).not.toHaveBeenCalled();
  });
});

describe('raceEvent aborts at once', () => {
  it('settles in the same turn as abort(), before any timer or I/O', async () => {
    const { s, arm } = source();
    const ac = new AbortController();
    let settled: string | undefined;
    raceEvent(arm, { timeoutMs: 10_000, signal: ac.signal }).then(
      () => (settled = 'resolved'),
      (e: { code?: string }) => (settled = e.code),
    );
    ac.abort();
    expect(s.disarmed).toBe(1); // disarmed synchronously inside abort()
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toBe('ABORT_ERR');
  });

  it('an abort signalled from inside another wait\'s event callback ends this wait at once', async () => {
    const first = source();
    const second = source();
    const ac = new AbortController();
    const a = raceEvent(first.arm, { timeoutMs: 10_000, signal: undefined }).then(() => ac.abort(new Error('stop')));
    const b = raceEvent(second.arm, { timeoutMs: 10_000, signal: ac.signal });
    first.s.fire();
    await a;
    const e = await rejectionOf(b);
    expect(e).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect((e.cause as Error).message).toBe('stop');
    expect(second.s.disarmed).toBe(1);
  });

  it('an abort signalled while arming settles the wait and disarms the source', async () => {
    const ac = new AbortController();
    let disarmed = 0;
    const wait = raceEvent(() => {
      ac.abort();
      return () => void disarmed++;
    }, { timeoutMs: 10_000, signal: ac.signal });
    expect(await rejectionOf(wait)).toMatchObject({ code: 'ABORT_ERR' });
    expect(disarmed).toBe(1);
  });

  it('an already aborted signal never arms the source', async () => {
    const { s, arm } = source();
    expect(await rejectionOf(raceEvent(arm, { timeoutMs: 10, signal: AbortSignal.abort() }))).toMatchObject({ code: 'ABORT_ERR' });
    expect(s.armed).toBe(0);
  });
});

describe('validateWaitOptions', () => {
  it('refuses unknown keys, naming the nearest known one', () => {
    expect(errorOf(() => validateWaitOptions({ timeout: 5 }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(errorOf(() => validateWaitOptions({ timeout: 5 })).message).toContain("'timeoutMs'");
    expect(errorOf(() => validateWaitOptions([]))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(errorOf(() => validateWaitOptions(null))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('accepts both known keys', () => {
    const signal = new AbortController().signal;
    expect(validateWaitOptions({ timeoutMs: 5, signal })).toEqual({ timeoutMs: 5, signal });
    expect(validateWaitOptions(undefined)).toEqual({ timeoutMs: Infinity, signal: undefined });
  });
});
