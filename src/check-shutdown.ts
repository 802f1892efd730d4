/**
 * checkShutdown: the test a CI job adds to prove that a service stops
 * cleanly. Start the command under a child subreaper, wait until it is
 * ready, send it the signal a supervisor would (docker stop, the kubelet,
 * systemd: SIGTERM), and check three things: it exits within the grace
 * period, the way it should (exit 0 or killed by that signal, or what
 * `expect` says), and it leaves nothing running behind (as a subreaper we
 * adopt every orphan of its tree, double forks and setsid daemons too).
 * Whatever is left is listed, then killed.
 */
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { createInterface } from 'node:readline';
import { catalogue } from './catalogue.js';
import { invalidArgType, invalidArgValue } from './errors.js';
import type { ExitInfo } from './exit-info.js';
import { checkOptions } from './options.js';
import { openProcess } from './pidfd.js';
import { children, descendants, type ProcessSummary } from './proc.js';
import type { SignalLike } from './signals.js';
import { terminateTree } from './terminate.js';
import { validateSendSignal } from './validate.js';
import { exitOf, isChildSubreaper, reapChildren, setChildSubreaper, startReaper } from './wait.js';
import { validateWaitOptions } from './waiting.js';

/** When the command counts as ready for the signal. */
export type ReadyCheck =
  /** A TCP connect to `host` (default 127.0.0.1) on `port` succeeds. */
  | { port: number; host?: string }
  /** A line of its stdout or stderr matches. */
  | { line: RegExp | string }
  /** A fixed delay after the start (default: 1000 ms). */
  | { delayMs: number };

/** Options of {@link checkShutdown}. */
export interface CheckShutdownOptions {
  /** The command and its arguments (no shell: use `['sh', '-c', '...']` for one). */
  cmd: string[];
  /** The signal to send (default SIGTERM). */
  signal?: SignalLike;
  /** How long it may take to exit after the signal (default 10000 ms, docker stop's). */
  graceMs?: number;
  /** When to send the signal (default `{ delayMs: 1000 }`). */
  ready?: ReadyCheck;
  /** How long to wait for readiness (default 30000 ms). */
  readyTimeoutMs?: number;
  /** The exit expected (default: code 0, or killed by the signal sent, or code 128+n for it). */
  expect?: { code: number } | { signal: SignalLike };
  /** After the exit, how long descendants may take to go (default 200 ms) before they count as left over. */
  settleMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Each line the command writes (stdout and stderr). */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** What {@link checkShutdown} found. */
export interface ShutdownReport {
  /** Everything held: ready, exited as expected within the grace, nothing left. */
  ok: boolean;
  cmd: string[];
  /** The command's pid (null when it could not start). */
  pid: number | null;
  signal: string;
  graceMs: number;
  /** ms from the start until it was ready (null: never ready). */
  readyAfterMs: number | null;
  /** ms from the signal until it exited (null: it had to be killed, or never got the signal). */
  exitedAfterMs: number | null;
  exit: ExitInfo | null;
  /** It outlived the grace and was SIGKILLed. */
  forced: boolean;
  /** Processes of its tree still running after it exited (they were killed afterwards). */
  leftovers: ProcessSummary[];
  /** One sentence per thing that did not hold. */
  problems: string[];
}

const KEYS = ['cmd', 'signal', 'graceMs', 'ready', 'readyTimeoutMs', 'expect', 'settleMs', 'env', 'cwd', 'onOutput'] as const;

function describeExit(e: ExitInfo): string {
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}

function timer(ms: number): { promise: Promise<'timeout'>; cancel: () => void } {
  let t: NodeJS.Timeout | undefined;
  const promise = new Promise<'timeout'>((resolve) => {
    t = setTimeout(() => resolve('timeout'), ms);
  });
  return { promise, cancel: () => clearTimeout(t) };
}

/** Resolves when a TCP connect succeeds (one try every 50 ms: a readiness probe, like Kubernetes' tcpSocket). */
function portOpen(port: number, host: string, stop: { stopped: boolean }): Promise<'ready'> {
  return new Promise((resolve) => {
    const attempt = (): void => {
      if (stop.stopped) return;
      const s = net.connect({ port, host });
      s.once('connect', () => {
        s.destroy();
        resolve('ready');
      });
      s.once('error', () => {
        s.destroy();
        setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * Starts `cmd`, waits until it is ready, sends `signal`, and checks that it
 * exits as expected within `graceMs`, leaving no descendant running. This
 * process is a child subreaper while it runs (restored after), so every
 * orphan of the command's tree is adopted, seen, and reaped; run it in a
 * process of its own (the `sigkit check-shutdown` CLI does), since other
 * children of this process started meanwhile would count as leftovers.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE, RangeError ERR_OUT_OF_RANGE, ERR_UNKNOWN_SIGNAL (bad options: the promise rejects)
 * @example
 * const r = await checkShutdown({ cmd: ['node', 'server.js'], ready: { port: 8080 }, graceMs: 5000 });
 * if (!r.ok) throw new Error(r.problems.join('\n'));
 */
export async function checkShutdown(opts: CheckShutdownOptions): Promise<ShutdownReport> {
  const o = checkOptions<CheckShutdownOptions>(opts, 'options', KEYS);
  if (!Array.isArray(o.cmd) || o.cmd.length === 0) throw invalidArgType('options.cmd', 'a non-empty array of strings', o.cmd);
  o.cmd.forEach((a, i) => {
    if (typeof a !== 'string') throw invalidArgType(`options.cmd[${i}]`, 'of type string', a);
  });
  if (o.cmd[0] === '') throw invalidArgValue('options.cmd[0]', '', 'must name a command');
  const sig = validateSendSignal(o.signal ?? 'SIGTERM', 'options.signal');
  if (sig <= 0) throw invalidArgValue('options.signal', o.signal, 'must be a signal (not 0)');
  const signalName = catalogue.name(sig);
  const graceMs = o.graceMs === undefined ? 10_000 : validateWaitOptions({ timeoutMs: o.graceMs }, 'options.graceMs').timeoutMs;
  const readyTimeoutMs = o.readyTimeoutMs === undefined ? 30_000 : validateWaitOptions({ timeoutMs: o.readyTimeoutMs }, 'options.readyTimeoutMs').timeoutMs;
  const settleMs = o.settleMs === undefined ? 200 : validateWaitOptions({ timeoutMs: o.settleMs }, 'options.settleMs').timeoutMs;
  const ready: ReadyCheck = o.ready ?? { delayMs: 1000 };
  if (ready === null || typeof ready !== 'object') throw invalidArgType('options.ready', 'of type object', ready);
  let readyLine: RegExp | undefined;
  if ('port' in ready) {
    checkOptions(ready, 'options.ready', ['port', 'host']);
    if (!Number.isInteger(ready.port) || ready.port < 1 || ready.port > 65535) throw invalidArgValue('options.ready.port', ready.port, 'must be a port number (1-65535)');
  } else if ('line' in ready) {
    checkOptions(ready, 'options.ready', ['line']);
    if (!(ready.line instanceof RegExp) && typeof ready.line !== 'string') throw invalidArgType('options.ready.line', 'a RegExp or string', ready.line);
    readyLine = ready.line instanceof RegExp ? ready.line : new RegExp(ready.line);
  } else if ('delayMs' in ready) {
    checkOptions(ready, 'options.ready', ['delayMs']);
    validateWaitOptions({ timeoutMs: ready.delayMs }, 'options.ready.delayMs');
  } else {
    throw invalidArgValue('options.ready', ready, 'must be { port }, { line } or { delayMs }');
  }
  let expectCode: number | undefined;
  let expectSignal: number | undefined;
  if (o.expect !== undefined) {
    if (o.expect === null || typeof o.expect !== 'object') throw invalidArgType('options.expect', 'of type object', o.expect);
    if ('code' in o.expect) {
      checkOptions(o.expect, 'options.expect', ['code']);
      if (!Number.isInteger(o.expect.code) || o.expect.code < 0 || o.expect.code > 255) throw invalidArgValue('options.expect.code', o.expect.code, 'must be an exit code (0-255)');
      expectCode = o.expect.code;
    } else if ('signal' in o.expect) {
      checkOptions(o.expect, 'options.expect', ['signal']);
      expectSignal = catalogue.number(o.expect.signal);
    } else {
      throw invalidArgValue('options.expect', o.expect, 'must be { code } or { signal }');
    }
  }
  if (o.onOutput !== undefined && typeof o.onOutput !== 'function') throw invalidArgType('options.onOutput', 'a function', o.onOutput);

  const report: ShutdownReport = { ok: false, cmd: [...o.cmd], pid: null, signal: signalName, graceMs, readyAfterMs: null, exitedAfterMs: null, exit: null, forced: false, leftovers: [], problems: [] };
  const wasSubreaper = isChildSubreaper();
  const before = new Set(children(process.pid).map((p) => p.pid));
  setChildSubreaper(true);
  const reaper = startReaper();
  const t0 = performance.now();
  try {
    const child = spawn(o.cmd[0]!, o.cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: o.env ?? process.env, ...(o.cwd ? { cwd: o.cwd } : {}), detached: true });
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    if (child.pid === undefined) {
      const e = (await spawnError) as NodeJS.ErrnoException;
      report.problems.push(`cannot run ${o.cmd[0]}: ${e.code ?? e.message}`);
      return report;
    }
    const pid = child.pid;
    report.pid = pid;
    const handle = openProcess(pid);
    const exit = exitOf(child);
    let sawLine!: () => void;
    const lineSeen = new Promise<'ready'>((resolve) => (sawLine = () => resolve('ready')));
    for (const [stream, name] of [[child.stdout!, 'stdout'], [child.stderr!, 'stderr']] as const) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        o.onOutput?.(line, name);
        if (readyLine?.test(line)) sawLine();
      });
    }
    try {
      // 1. Ready?
      const stop = { stopped: false };
      const readyWait = timer(readyTimeoutMs);
      const readyWhen = 'port' in ready ? portOpen(ready.port, ready.host ?? '127.0.0.1', stop) : 'line' in ready ? lineSeen : timer(ready.delayMs).promise.then(() => 'ready' as const);
      const first = await Promise.race([readyWhen, exit.then(() => 'exited' as const), readyWait.promise]);
      stop.stopped = true;
      readyWait.cancel();
      if (first === 'exited') {
        report.exit = await exit;
        report.problems.push(`exited before it was ready (${describeExit(report.exit)})`);
      } else if (first === 'timeout') {
        report.problems.push(`not ready within ${readyTimeoutMs} ms`);
        report.forced = true;
        await terminateTree(pid, { steps: [{ signal: 'SIGKILL', waitMs: 2000 }] });
        report.exit = await exit;
      } else {
        report.readyAfterMs = performance.now() - t0;
        // 2. The signal, as a supervisor sends it: to the process, not its group.
        const t1 = performance.now();
        handle.kill(sig);
        const grace = timer(graceMs);
        const end = await Promise.race([exit.then(() => 'exited' as const), grace.promise]);
        grace.cancel();
        if (end === 'timeout') {
          report.forced = true;
          report.problems.push(`still running ${graceMs} ms after ${signalName}: killed with SIGKILL (it ignores ${signalName}, or its shutdown takes too long)`);
          await terminateTree(pid, { steps: [{ signal: 'SIGKILL', waitMs: 2000 }] });
        } else {
          report.exitedAfterMs = performance.now() - t1;
        }
        report.exit = await exit;
        // 3. The exit it should have.
        if (!report.forced) {
          const e = report.exit;
          const okExit = expectCode !== undefined
            ? e.code === expectCode
            : expectSignal !== undefined
              ? e.signalNumber === expectSignal
              : e.code === 0 || e.signalNumber === sig || e.code === 128 + sig;
          if (!okExit) {
            const wanted = expectCode !== undefined ? `exit code ${expectCode}` : expectSignal !== undefined ? `killed by ${catalogue.name(expectSignal)}` : `exit code 0 or killed by ${signalName}`;
            report.problems.push(`${describeExit(e)} after ${signalName}, expected ${wanted}`);
          }
        }
      }
    } finally {
      handle.close();
    }
    // 4. Nothing left behind: every orphan of its tree is now our child.
    const leftovers = (): ProcessSummary[] => {
      const out: ProcessSummary[] = [];
      for (const c of children(process.pid)) {
        if (before.has(c.pid) || c.state === 'Z') continue;
        out.push(c, ...descendants(c.pid).filter((d) => d.state !== 'Z'));
      }
      return out;
    };
    const settleUntil = performance.now() + settleMs;
    let left = leftovers();
    // A bounded settle window: a tree whose members end a moment after their
    // parent (a killOnExit guard, a worker finishing) is not a leftover.
    for (let delay = 2; left.length > 0 && performance.now() < settleUntil; delay = Math.min(delay * 2, 50)) {
      await new Promise((r) => setTimeout(r, delay));
      left = leftovers();
    }
    report.leftovers = left;
    if (left.length > 0) {
      report.problems.push(`left ${left.length} process${left.length === 1 ? '' : 'es'} running after it exited: ${left.map((p) => `${p.pid} (${p.comm})`).join(', ')}; ${left.length === 1 ? 'it was' : 'they were'} killed`);
      const roots = left.filter((p) => !left.some((q) => q.pid === p.ppid));
      await Promise.all(roots.map((p) => terminateTree(p.pid, { steps: [{ signal: 'SIGKILL', waitMs: 2000 }] }).catch(() => undefined)));
    }
    report.ok = report.problems.length === 0;
    return report;
  } finally {
    reapChildren(); // the last orphans that ended (leftovers killed just now)
    reaper.close();
    if (!wasSubreaper) setChildSubreaper(false);
  }
}
