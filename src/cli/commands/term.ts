import { isSyscallError } from '../../errors.js';
import { terminate, terminateGroup, terminateTree, type TerminateStep } from '../../terminate.js';
import { CliError, EXIT, dim, green, humanMs, json, parse, parseDuration, parsePid, parseSignal, red, usageError, yellow, type Command, type Io } from '../io.js';

/** `TERM:5s,KILL:2s` -> steps. */
export function parseSteps(text: string): TerminateStep[] {
  return text.split(',').map((part) => {
    const m = /^([^:]+):(.+)$/.exec(part.trim());
    if (!m) throw usageError(`--steps takes SIGNAL:DURATION,... (e.g. TERM:5s,KILL:2s), not '${text}'`);
    const sig = parseSignal(m[1]!);
    if (sig === 0 || sig === 19) throw usageError(`--steps: ${m[1]} cannot end a process`);
    return { signal: sig, waitMs: parseDuration(m[2], '--steps duration') };
  });
}

const stamp = (io: Io, ms: number) => dim(io, `+${ms.toFixed(1).padStart(7)} ms`);

export const term: Command = {
  name: 'term',
  summary: 'SIGTERM, wait, then SIGKILL: processes, a tree or a group',
  usage: `sigkit term PID... [--grace 5s] [--steps TERM:5s,KILL:2s] [--tree | --group]

  Sends each step's signal (SIGCONT after each polite one, so a stopped
  process can act on it), waits for the exit, escalates. Prints a timeline:
  when each signal went and when each process exited. Pids are pinned with
  pidfds: a recycled pid is never signalled.
  --grace DUR     SIGTERM, wait DUR, then SIGKILL (wait 2s)   (default 5s)
  --steps LIST    the whole ladder, e.g. TERM:5s,INT:2s,KILL:1s
  --tree          PID and all its descendants (frozen first, so forks cannot escape)
  --group         PID is a process group id: every member
  --json          the results
  Never this process, its ancestors, PID 1 or (--group) sigkit's own group:
  those are refused before anything is sent (ERR_SIGKIT_PROTECTED).
  Exit 0 when everything exited, 1 when something is still running, was
  not found or was refused.`,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      grace: { type: 'string' },
      steps: { type: 'string' },
      tree: { type: 'boolean' },
      group: { type: 'boolean', short: 'g' },
    });
    if (values.tree && values.group) throw usageError('give --tree or --group, not both');
    if (values.grace !== undefined && values.steps !== undefined) throw usageError('give --grace or --steps, not both');
    const pids = positionals.map((p) => parsePid(p, values.group ? 'PGID' : 'PID'));
    if (pids.length === 0) throw usageError(`missing ${values.group ? 'PGID' : 'PID'}`);
    const steps: TerminateStep[] = values.steps !== undefined
      ? parseSteps(values.steps)
      : [{ signal: 'SIGTERM', waitMs: parseDuration(values.grace ?? '5s', '--grace') }, { signal: 'SIGKILL', waitMs: 2000 }];
    const live = !values.json;
    const onStep = (target: number) => (s: { signal: string; sentAtMs: number; pids: number[] }) => {
      if (live) io.out(`${stamp(io, s.sentAtMs)}  ${s.signal === 'SIGKILL' ? red(io, s.signal) : yellow(io, s.signal)} -> ${values.group ? `group ${target}` : s.pids.length > 1 ? `${s.pids.length} processes` : s.pids[0]}\n`);
    };
    const onExit = (e: { pid: number; exitedAfterMs: number }) => {
      if (live) io.out(`${stamp(io, e.exitedAfterMs)}  ${green(io, `${e.pid} exited`)}\n`);
    };
    const results = await Promise.all(pids.map(async (pid) => {
      const opts = { steps, onStep: onStep(pid), onExit };
      try {
        if (values.tree) return { pid, ...(await terminateTree(pid, opts)) };
        if (values.group) return { pid, ...(await terminateGroup(pid, opts)) };
        return await terminate(pid, opts);
      } catch (e) {
        if (isSyscallError(e)) return { pid, exited: false, error: `${e.syscall} ${pid}: ${e.code === 'ESRCH' ? 'no such process or group' : e.code === 'EPERM' ? 'not permitted' : e.code} (${e.code})` };
        // A protected target (this process, an ancestor, PID 1, our own group): refused, nothing sent.
        if ((e as { code?: string }).code === 'ERR_SIGKIT_PROTECTED') return { pid, exited: false, error: `${(e as Error).message} (ERR_SIGKIT_PROTECTED)` };
        throw e;
      }
    }));
    if (values.json) json(io, results);
    let failed = 0;
    for (const r of results) {
      const res = r as { pid: number; exited: boolean; steps?: unknown[]; forced?: boolean; exitedAfterMs?: number | null; error?: string; zombie?: boolean; ppid?: number; notFound?: boolean; exit?: { code: number | null; signal: string | null }; members?: unknown[] };
      if (res.error) {
        failed++;
        if (!values.json) io.err(`sigkit term: ${res.error}\n`);
        continue;
      }
      // "No such process" fails in every command, as in send: exit 1, one line.
      if (res.notFound) {
        failed++;
        if (!values.json) io.err(`sigkit term: ${values.group ? 'process group ' : ''}${res.pid}: no such ${values.group ? 'process group' : 'process'}\n`);
        continue;
      }
      if (!res.exited) failed++;
      if (values.json) continue;
      const ended = `${res.forced ? red(io, 'killed (forced)') : green(io, 'exited gracefully')} after ${humanMs(res.exitedAfterMs ?? 0)}${res.exit ? ` (${res.exit.signal ?? `code ${res.exit.code}`})` : ''}`;
      const how = !res.exited
          ? red(io, 'still running after the last step')
          : res.zombie
            ? `${res.steps?.length ? ended : 'had already exited'}; a zombie until its parent ${res.ppid} reaps it`
            : ended;
      io.out(`${values.group ? 'group ' : ''}${res.pid}${res.members ? ` (${res.members.length} processes)` : ''}: ${how}\n`);
    }
    // Each failure above printed its own line; a summary only when several targets were given.
    if (failed > 0 && (values.json || results.length === 1)) return EXIT.FAILED;
    if (failed > 0) throw new CliError(`${failed} of ${results.length} did not exit`);
    return EXIT.OK;
  },
};
