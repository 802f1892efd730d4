/**
 * The terminate functions' supervisor options on processes this test starts:
 * preStop (awaited before the first signal) and terminateTree's
 * mode: 'mixed' (systemd KillMode=mixed: the polite signal to the root only).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { descendants, spawnProcess, terminate, terminateGroup, terminateTree } from '../../src/index.js';
import { rejectionOf } from '../helpers/errors.js';
import { LineReader, start, stopAll, waitUntil } from '../helpers/procs.js';

afterEach(() => stopAll());

/** A root that exits on TERM, with a child that only reports TERM and keeps running. */
const MIXED_SCRIPT = [
  `sh -c 'trap "echo child got TERM" TERM; while :; do sleep 0.01; done' &`,
  `trap 'echo root got TERM; exit 0' TERM`,
  'echo up',
  'while :; do sleep 0.01; done',
].join('\n');

describe('preStop', () => {
  it('terminate: awaited before the signal, with the target still running and unsignalled', async () => {
    const child = start('sh', ['-c', `trap 'echo TERM; exit 0' TERM; echo up; while :; do sleep 0.01; done`]);
    const out = new LineReader(child.stdout!);
    await out.next();
    const events: string[] = [];
    const r = await terminate(child.pid!, {
      preStop: async (ctx) => {
        events.push(`preStop ${ctx.kind} ${ctx.target}`);
        await new Promise((res) => setTimeout(res, 50));
        events.push(`running ${child.exitCode === null}`);
      },
      onStep: (s) => events.push(`step ${s.signal}`),
    });
    expect(events).toEqual([`preStop process ${child.pid}`, 'running true', 'step SIGTERM']);
    expect(await out.next()).toBe('TERM');
    expect(r).toMatchObject({ exited: true, forced: false, preStop: { timedOut: false } });
  });

  it('terminateGroup and terminateTree: a preStop that throws is reported, and the ladder still runs', async () => {
    const boom = new Error('drain failed');
    const g = spawnProcess('sleep', ['30']);
    await g.ready;
    const rg = await terminateGroup(g.pid, { preStop: () => { throw boom; } });
    expect(rg).toMatchObject({ exited: true, preStop: { timedOut: false, error: boom } });
    const t = start('sleep', ['30']);
    const rt = await terminateTree(t.pid!, { preStopTimeoutMs: 50, preStop: () => new Promise(() => {}) });
    expect(rt).toMatchObject({ exited: true, preStop: { timedOut: true } });
  });

  it('bad preStop options are refused before anything is sent', async () => {
    const t = start('sleep', ['30']);
    expect(await rejectionOf(terminate(t.pid!, { preStop: 'x' as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(await rejectionOf(terminate(t.pid!, { preStopTimeoutMs: -1 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(await rejectionOf(terminate(t.pid!, { preStopTimeout: 5 } as never))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(t.exitCode).toBeNull();
  });
});

describe("terminateTree mode: 'mixed'", () => {
  async function tree() {
    const root = start('sh', ['-c', MIXED_SCRIPT]);
    const out = new LineReader(root.stdout!);
    expect(await out.next()).toBe('up');
    await waitUntil('the child loop', () => (descendants(root.pid!).some((p) => p.comm === 'sh') ? true : undefined));
    return { root, out };
  }

  it('the polite signal goes to the root alone; the rest get SIGKILL once the root is gone', async () => {
    const { root, out } = await tree();
    const steps: Array<{ signal: string; pids: number[] }> = [];
    const r = await terminateTree(root.pid!, { mode: 'mixed', graceMs: 2000, onStep: (s) => steps.push({ signal: s.signal, pids: s.pids }) });
    expect(r).toMatchObject({ exited: true, forced: true });
    expect(steps[0]).toEqual({ signal: 'SIGTERM', pids: [root.pid] });
    expect(steps[1]!.signal).toBe('SIGKILL');
    expect(steps[1]!.pids).not.toContain(root.pid);
    const lines: string[] = [];
    for (;;) {
      try {
        lines.push(await out.next(2000));
      } catch {
        break;
      }
    }
    expect(lines).toEqual(['root got TERM']); // the child never saw SIGTERM
  });

  it("mode 'all' (the default) sends it to every member: the child reports it", async () => {
    const { root, out } = await tree();
    const r = await terminateTree(root.pid!, { graceMs: 300 });
    expect(r).toMatchObject({ exited: true, forced: true });
    const lines = [await out.next(), await out.next()].sort();
    expect(lines).toEqual(['child got TERM', 'root got TERM']);
  });

  it('a bad mode, or mode on terminate(), is refused', async () => {
    const t = start('sleep', ['30']);
    expect(await rejectionOf(terminateTree(t.pid!, { mode: 'cgroup' as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(await rejectionOf(terminate(t.pid!, { mode: 'mixed' } as never))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(t.exitCode).toBeNull();
  });
});
