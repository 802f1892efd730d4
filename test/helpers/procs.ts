/**
 * Helpers for tests that start real processes. Every process a test starts
 * goes through `start()` so that `stopAll()` can end it; nothing here ever
 * signals a process the test did not start.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SIGRECEIVER, ZOMBIE_PARENT } from './paths.js';

const started = new Map<ChildProcess, { detached: boolean }>();

/** spawn(), remembered so that stopAll() ends it. */
export function start(cmd: string, args: string[] = [], opts: SpawnOptions = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  started.set(child, { detached: opts.detached === true });
  child.once('exit', () => started.delete(child));
  return child;
}

/**
 * SIGKILLs every process started through start() that has not exited, and
 * the whole group of a detached one (its own group, led by a live leader we
 * started, so the group id cannot name anyone else's).
 */
export function stopAll(): void {
  for (const [child, { detached }] of started) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(detached ? -child.pid : child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  started.clear();
}

/** Polls `check` until it returns a value other than undefined, or throws after timeoutMs. */
export async function waitUntil<T>(what: string, check: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves with the child's exit (Node's view), or rejects after timeoutMs. */
export function exited(child: ChildProcess, timeoutMs = 5000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pid ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/** Reads a child's stdout line by line; `next()` waits (with a deadline) for the next line. */
export class LineReader {
  private buffer = '';
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;

  constructor(stream: NodeJS.ReadableStream) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        this.lines.push(this.buffer.slice(0, nl));
        this.buffer = this.buffer.slice(nl + 1);
      }
      this.waiter?.();
    });
    stream.on('end', () => {
      this.ended = true;
      this.waiter?.();
    });
  }

  /** Every line left on the stream, until it ends (each within `timeoutMs`). */
  async rest(timeoutMs = 5000): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      try {
        out.push(await this.next(timeoutMs));
      } catch (e) {
        if (/stream ended/.test((e as Error).message)) return out;
        throw e;
      }
    }
  }

  async next(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.ended) throw new Error('stream ended before a line arrived');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.lines.shift()!;
  }
}

/** What sigreceiver printed for one signal. */
export interface Received {
  signo: number;
  code: number;
  pid: number;
  uid: number;
  value: number;
}

export function parseReceived(line: string): Received {
  const [signo, code, pid, uid, value] = line.trim().split(' ').map(Number);
  return { signo: signo!, code: code!, pid: pid!, uid: uid!, value: value! };
}

/** Starts the C sigreceiver fixture and waits until its signals are blocked. */
export async function startReceiver(args: string[], opts: SpawnOptions = {}): Promise<{ child: ChildProcess; pid: number; lines: LineReader }> {
  const child = start(SIGRECEIVER, args, opts);
  const lines = new LineReader(child.stdout!);
  const ready = await lines.next();
  const m = /^ready (\d+)$/.exec(ready);
  if (!m) throw new Error(`sigreceiver said ${JSON.stringify(ready)}`);
  return { child, pid: Number(m[1]), lines };
}

/** The state letter from /proc/<pid>/stat (parsed after the last ')'), or undefined when gone. */
export function procStateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.charAt(stat.lastIndexOf(')') + 2);
  } catch {
    return undefined;
  }
}

/**
 * Makes real zombies: the C zombie-parent forks `count` children that exit
 * with status 7 and never waits for them; it reports their pids once all
 * have exited. Ending `parent` hands the zombies to init, which reaps them.
 */
export async function makeZombies(count = 1, opts: { catchSigchld?: boolean } = {}): Promise<{ parent: ChildProcess; zombies: number[] }> {
  const parent = start(ZOMBIE_PARENT, [String(count), ...(opts.catchSigchld ? ['catch'] : [])]);
  const line = await new LineReader(parent.stdout!).next();
  const m = /^zombies((?: \d+)+)$/.exec(line);
  if (!m) throw new Error(`zombie-parent said ${JSON.stringify(line)}`);
  const zombies = m[1]!.trim().split(' ').map(Number);
  for (const z of zombies) if (procStateOf(z) !== 'Z') throw new Error(`pid ${z} is not a zombie`);
  return { parent, zombies };
}
