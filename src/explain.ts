/**
 * "Why didn't my signal work?": what the kernel will do with a signal sent
 * to a process now, and why, read from /proc without sending anything.
 *
 * Every answer is in the kernel's own records: the state letter, the masks
 * of `status` (SigBlk per thread, SigIgn, SigCgt, SigPnd per thread, ShdPnd),
 * the Uid line against our credentials (kill(2)'s permission rule), NSpid
 * (a pid-namespace init), TracerPid, and wchan. The rules applied are those
 * of kernel/signal.c (prepare_signal, sig_task_ignored, complete_signal).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { catalogue } from './catalogue.js';
import { SyscallError, invalidArgValue } from './errors.js';
import { native } from './native.js';
import { readProcess, type ProcessState, type ProcessSummary } from './proc.js';
import { STATE_NAMES, maskToNumbers, parseStatus } from './proc-parse.js';
import { protectedReason, type ProtectedReason } from './protected.js';
import type { SignalLike } from './signals.js';
import { validatePid } from './validate.js';

const ENOENT = 2;
const ESRCH = 3;
const SIGKILL = 9;
const SIGCHLD = 17;
const SIGCONT = 18;
const SIGSTOP = 19;
const CAP_KILL = 5;

/** What will happen, in one word. */
export type Verdict =
  | 'no-such-process'
  | 'not-a-process'
  | 'not-permitted'
  | 'zombie'
  | 'stopped'
  | 'uninterruptible'
  | 'ignored'
  | 'blocked'
  | 'caught'
  | 'default'
  | 'namespace-init'
  | 'protected';

/** What the verdict rests on, as read from /proc (null fields: there is no process). */
export interface SignalEvidence {
  /** The state letter of `status` (`'S'`, `'T'`, `'Z'`, `'D'`...), null when there is no process. */
  state: ProcessState | null;
  stateName: string | null;
  /** Its effective uid, and whether kill(2)'s uid rule lets this process signal it (root aside). */
  owner: { uid: number; ours: boolean } | null;
  /** Every thread blocks this signal (a process-directed signal goes to any thread that does not). */
  blocked: boolean;
  /** Its disposition is SIG_IGN. */
  ignored: boolean;
  /** It has a handler for it. */
  caught: boolean;
  /** Already pending: for the process (ShdPnd) or for one of its threads (SigPnd). */
  pending: boolean;
  /** It is PID 1 of its pid namespace (the last NSpid is 1). */
  namespaceInit: boolean;
  /** The parent (zombies: the process that must reap it). */
  parent?: ProcessSummary;
  /** Where it sleeps (D state): /proc/PID/wchan, when the kernel names it (it may answer 0). */
  wchan?: string;
}

/** The answer of {@link explainSignal}. */
export interface SignalExplanation {
  pid: number;
  /** Canonical name of the signal asked about. */
  signal: string;
  verdict: Verdict;
  /** Will the process end because of this signal, now: true, false, or null (it decides, or it depends). */
  willEnd: boolean | null;
  /** Why, one fact per line, most decisive first. */
  reasons: string[];
  evidence: SignalEvidence;
  /** What to do instead, or null. */
  suggestion: string | null;
}

interface Status {
  text: string;
  state: ProcessState;
  tgid: number;
  ppid: number;
  tracerPid: number;
  uids: [number, number, number, number];
  nspid: number[];
  masks: ReturnType<typeof parseStatus>['masks'];
}

function field(text: string, key: string): string | undefined {
  const m = new RegExp(`^${key}:[ \\t]*(.*)$`, 'm').exec(text);
  return m ? m[1]!.trim() : undefined;
}

/** /proc/<pid>/status parsed, or null when there is no such pid (thread ids included). */
function readStatus(pid: number): Status | null {
  const text = native.procReadFile(pid, 'status');
  if (typeof text === 'number') {
    if (text === -ENOENT || text === -ESRCH) return null;
    throw new SyscallError('open', text, { pid, path: `/proc/${pid}/status` });
  }
  const parsed = parseStatus(text);
  const state = (field(text, 'State') ?? '?').charAt(0) as ProcessState;
  return {
    text,
    state,
    tgid: Number(field(text, 'Tgid') ?? pid),
    ppid: Number(field(text, 'PPid') ?? 0),
    tracerPid: Number(field(text, 'TracerPid') ?? 0),
    uids: parsed.uids ?? [0, 0, 0, 0],
    nspid: (field(text, 'NSpid') ?? String(pid)).split(/\s+/).map(Number),
    masks: parsed.masks,
  };
}

function has(mask: string | undefined, n: number): boolean {
  return maskToNumbers(mask).includes(n);
}

/** The thread ids of a process (its task directory), [] when it vanished. */
function threadIds(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return [];
  }
}

interface Masks {
  blocked: boolean;
  /** A thread that does not block it (shown in the reasons), or null. */
  openThread: number | null;
  threads: number;
  pending: boolean;
}

/**
 * Blocked for the process only if every thread blocks it: the kernel hands
 * a process-directed signal to any thread that does not (complete_signal).
 * SigBlk and SigPnd are per thread (task/<tid>/status); ShdPnd is shared.
 */
function threadMasks(pid: number, main: Status, n: number): Masks {
  let blocked = true;
  let openThread: number | null = null;
  let pending = has(main.masks.ShdPnd, n);
  let seen = 0;
  for (const tid of threadIds(pid)) {
    const t = tid === pid ? main : readStatus(tid);
    if (!t || t.tgid !== pid) continue; // exited meanwhile
    seen++;
    if (has(t.masks.SigPnd, n)) pending = true;
    if (!has(t.masks.SigBlk, n)) {
      blocked = false;
      if (openThread === null || tid === pid) openThread = tid;
    }
  }
  if (seen === 0) {
    blocked = has(main.masks.SigBlk, n);
    pending = pending || has(main.masks.SigPnd, n);
    openThread = blocked ? null : pid;
    seen = 1;
  }
  return { blocked, openThread, threads: seen, pending };
}

interface Self {
  ruid: number;
  euid: number;
  capKill: boolean;
  nsDepth: number;
}

function self(): Self {
  const text = native.procReadFile(process.pid, 'status');
  const s = typeof text === 'string' ? text : '';
  const cap = field(s, 'CapEff') ?? '0';
  // CapEff is 64-bit hex; CAP_KILL is bit 5, in the low word.
  const low = parseInt(cap.slice(-8), 16) || 0;
  return {
    ruid: process.getuid?.() ?? 0,
    euid: process.geteuid?.() ?? 0,
    capKill: (low & (1 << CAP_KILL)) !== 0,
    nsDepth: (field(s, 'NSpid') ?? '').split(/\s+/).filter(Boolean).length || 1,
  };
}

/** kill(2)'s rule: CAP_KILL, or our real or effective uid is its real or saved uid (or SIGCONT in our session). */
function permission(me: Self, target: Status, n: number, pid: number): { ok: boolean; byUid: boolean; how: string } {
  const [ruid, , suid] = target.uids;
  const byUid = me.ruid === ruid || me.ruid === suid || me.euid === ruid || me.euid === suid;
  if (byUid) return { ok: true, byUid, how: 'our uid matches its real or saved uid' };
  if (me.capKill) return { ok: true, byUid, how: 'this process has CAP_KILL (root)' };
  if (n === SIGCONT) {
    try {
      if (readProcess(pid).sid === readProcess(process.pid).sid) return { ok: true, byUid, how: 'SIGCONT within our own session' };
    } catch {
      // gone: judged later
    }
  }
  return { ok: false, byUid, how: '' };
}

const PROTECTED_WHY: Record<ProtectedReason, string> = {
  self: 'this process itself',
  ancestor: 'an ancestor of this process (its parent, or the parent of one)',
  init: 'PID 1, the init of this pid namespace',
  'own-group': "in this process's own process group",
};

function summaryOf(pid: number): ProcessSummary | undefined {
  try {
    const { cmdline: _c, signals: _s, ...summary } = readProcess(pid);
    return summary;
  } catch {
    return undefined;
  }
}

function afterwards(n: number, name: string, ignored: boolean, caught: boolean): { text: string; willEnd: boolean | null } {
  if (ignored) return { text: `it is ignored (SIG_IGN) and discarded`, willEnd: false };
  if (caught) return { text: `its handler for ${name} runs and the process decides`, willEnd: null };
  const action = catalogue.info(n).defaultAction;
  switch (action) {
    case 'terminate':
      return { text: `its default action (terminate) ends it`, willEnd: true };
    case 'core':
      return { text: `its default action (core) ends it and dumps core`, willEnd: true };
    case 'stop':
      return { text: `its default action (stop) stops it (state T) until SIGCONT`, willEnd: false };
    case 'continue':
      return { text: `its default action (continue) continues it if stopped, and does nothing else`, willEnd: false };
    default:
      return { text: `its default action is to ignore it: nothing happens`, willEnd: false };
  }
}

function emptyEvidence(): SignalEvidence {
  return { state: null, stateName: null, owner: null, blocked: false, ignored: false, caught: false, pending: false, namespaceInit: false };
}

function pidMax(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim());
  } catch {
    return 4194304;
  }
}

function noSuchProcess(pid: number, name: string, me: Self): SignalExplanation {
  const reasons = [`there is no process ${pid} in this pid namespace (no /proc/${pid}): kill(2) fails with ESRCH`];
  const max = pidMax();
  if (pid >= max) reasons.push(`${pid} is not below pid_max (${max}): no process can have this number here, so it is a typo or from another machine`);
  else reasons.push('it has exited and been reaped, or the number is mistyped');
  reasons.push("a process that exists but belongs to someone else answers EPERM, not ESRCH: 'No such process' means it is really not there");
  if (me.nsDepth > 1) reasons.push('this process runs inside a pid namespace (a container): processes outside it are invisible and have other numbers here');
  return { pid, signal: name, verdict: 'no-such-process', willEnd: false, reasons, evidence: emptyEvidence(), suggestion: 'look it up again by name (sigkit find NAME, pgrep) instead of reusing an old pid' };
}

function explainProcess(pid: number, n: number, name: string, st: Status, me: Self): SignalExplanation {
  const masks = threadMasks(pid, st, n);
  const ignored = has(st.masks.SigIgn, n);
  const caught = has(st.masks.SigCgt, n);
  const perm = permission(me, st, n, pid);
  const namespaceInit = st.nspid[st.nspid.length - 1] === 1;
  const fromOutside = st.nspid.length > me.nsDepth;
  const evidence: SignalEvidence = {
    state: st.state,
    stateName: STATE_NAMES[st.state] ?? 'unknown',
    owner: { uid: st.uids[1], ours: perm.byUid },
    blocked: masks.blocked,
    ignored,
    caught,
    pending: masks.pending,
    namespaceInit,
  };
  const out = (verdict: Verdict, willEnd: boolean | null, reasons: string[], suggestion: string | null): SignalExplanation => ({
    pid,
    signal: name,
    verdict,
    willEnd,
    reasons,
    evidence,
    suggestion,
  });
  const uidText = `uid ${st.uids[0]} (real), ${st.uids[1]} (effective), ${st.uids[2]} (saved)`;

  // 1. Exited: nothing reaches it any more.
  if (st.state === 'Z' || st.state === 'X' || st.state === 'x') {
    const parent = st.ppid > 0 ? summaryOf(st.ppid) : undefined;
    if (parent) evidence.parent = parent;
    const parentStatus = st.ppid > 0 ? readStatus(st.ppid) : null;
    const parentCatches = parentStatus !== null && has(parentStatus.masks.SigCgt, SIGCHLD);
    const reasons = [
      `${pid} has exited: it is a zombie, an exit status waiting for its parent to collect it with wait()`,
      `no signal reaches a process that has exited, not even SIGKILL (kill(2) succeeds and does nothing)`,
    ];
    let suggestion: string;
    if (parent) {
      reasons.push(`its parent is ${st.ppid} (${parent.comm}), which must reap it`);
      if (parentCatches) {
        reasons.push(`the parent catches SIGCHLD: a nudge (kill -CHLD ${st.ppid}) may make it reap`);
        suggestion = `kill -CHLD ${st.ppid}; if it still stays, end or fix the parent ${st.ppid} (init then reaps the zombie)`;
      } else {
        reasons.push(`the parent does not catch SIGCHLD: only its own code, or its end (which hands the zombie to init), will reap it`);
        suggestion = `end or fix the parent ${st.ppid} (${parent.comm}); init then reaps the zombie`;
      }
    } else {
      suggestion = 'nothing to do: whoever adopted it should reap it shortly';
    }
    if (!perm.ok) reasons.push(`and kill(2) would fail with EPERM anyway: it belongs to ${uidText}`);
    return out('zombie', false, reasons, suggestion);
  }

  // 2. kill(2)'s permission check comes before anything is queued.
  if (!perm.ok) {
    return out('not-permitted', false, [
      `kill(2) fails with EPERM: ${pid} belongs to ${uidText}; this process is uid ${me.ruid} (effective ${me.euid}) without CAP_KILL`,
      `root (CAP_KILL), or a process whose real or effective uid is ${st.uids[0]}${st.uids[2] !== st.uids[0] ? ` or ${st.uids[2]}` : ''}, may signal it`,
    ], `run it as uid ${st.uids[0]} or as root (sudo kill -${name.replace(/^SIG/, '')} ${pid})`);
  }

  const fatalDefault = !caught && !ignored && (n === SIGKILL || ['terminate', 'core'].includes(catalogue.info(n).defaultAction));
  const reasons: string[] = [];
  let result: SignalExplanation | undefined;

  // 3. A pid-namespace init drops every signal it has no handler for, unless
  //    SIGKILL/SIGSTOP come from an ancestor namespace (sig_task_ignored).
  const unkillable = namespaceInit && !caught && !ignored;
  const forced = (n === SIGKILL || n === SIGSTOP) && fromOutside;
  const nsText = `${pid} is PID 1 of ${fromOutside ? 'a child' : 'this'} pid namespace (NSpid ${st.nspid.join(' ')})`;
  if (unkillable && !forced) {
    const rs = [nsText, `the kernel drops every signal a namespace init has no handler for${n === SIGKILL || n === SIGSTOP ? `, ${name} included` : ''}: kill(2) succeeds and nothing happens`];
    if (fromOutside) rs.push('from an ancestor namespace (like this one) only SIGKILL and SIGSTOP get through, and SIGKILL ends the whole namespace');
    else if (st.nspid.length === 1 && pid === 1 && initialPidNamespace()) rs.push("this is the machine's own init: even SIGKILL is dropped, from anywhere");
    else rs.push('only a process in an ancestor namespace (the host, or whoever started this container) can SIGKILL it');
    if (masks.blocked) rs.push(`it also blocks ${name}; unblocked, it is still dropped`);
    // Signals it handles that ask something of it (not the faults its runtime traps).
    const caughtList = maskToNumbers(st.masks.SigCgt)
      .filter((s) => s <= catalogue.rtmax && !catalogue.info(s).reserved && !catalogue.info(s).realtime && s !== SIGCHLD)
      .map((s) => catalogue.name(s));
    const suggestion = fromOutside
      ? `SIGKILL from here ends it and every process of its namespace`
      : caughtList.length > 0
        ? `send a signal it handles (${caughtList.slice(0, 6).join(', ')}${caughtList.length > 6 ? ', ...' : ''}), or SIGKILL it from the parent namespace`
        : 'it handles no signal: SIGKILL it from the parent namespace (docker kill, or the host), or make it exit by itself';
    result = out('namespace-init', false, rs, suggestion);
  } else if (namespaceInit) {
    reasons.push(forced ? `${nsText}: from an ancestor namespace ${name} reaches it, and ends every process of its namespace` : `${nsText}; it has a disposition of its own for ${name}, so the kernel delivers it`);
  }

  if (!result) {
    const then = afterwards(n, name, ignored, caught);
    if (n === SIGCONT && (st.state === 'T' || st.state === 't')) reasons.push('SIGCONT continues a stopped process at once, whatever its disposition or mask');
    if (ignored && !masks.blocked && n !== SIGKILL && n !== SIGSTOP) {
      // 4. SIG_IGN: discarded on arrival (prepare_signal).
      result = out('ignored', false, [...reasons, `${pid} ignores ${name} (SIG_IGN, SigIgn): the kernel discards it on arrival; nothing happens`], fatalOr(n) ? null : 'SIGKILL cannot be ignored');
    } else if (st.state === 'D') {
      // 5. Uninterruptible sleep: nothing is acted on until the sleep ends.
      const wchan = native.procReadFile(pid, 'wchan');
      if (typeof wchan === 'string' && wchan !== '' && wchan !== '0') evidence.wchan = wchan;
      const where = evidence.wchan ? ` in ${evidence.wchan}` : '';
      const rs = [...reasons, `${pid} is in uninterruptible sleep (D)${where}: it acts on signals only when the sleep ends`];
      if (fatalDefault && !masks.blocked) {
        rs.push(`${name} is fatal here: a killable sleep (TASK_KILLABLE: vfork, many NFS, FUSE and lock waits) ends at once, a truly uninterruptible one only when its I/O completes`);
        result = out('uninterruptible', null, rs, `if it stays in D, the I/O it waits for (${evidence.wchan ?? 'see /proc/' + pid + '/stack'}) is stuck: fix the device, mount or server`);
      } else {
        rs.push(`${name} stays pending until then; ${masks.blocked ? 'it is also blocked' : `then ${then.text}`}`);
        result = out('uninterruptible', masks.blocked ? false : then.willEnd, rs, `wait for the I/O${where} to finish; SIGKILL ends it as soon as the sleep allows`);
      }
    } else if ((st.state === 'T' || st.state === 't') && n !== SIGKILL && n !== SIGCONT) {
      // 6. Stopped: signals stay pending until SIGCONT (complete_signal finds no thread that wants it).
      const by = st.state === 't' || st.tracerPid > 0 ? `stopped by its tracer ${st.tracerPid} (state ${st.state})` : 'stopped (state T, by SIGSTOP, SIGTSTP, SIGTTIN or SIGTTOU)';
      const rs = [...reasons, `${pid} is ${by}: ${name} stays pending until it is continued; only SIGKILL acts on a stopped process`];
      if (catalogue.info(n).defaultAction !== 'stop' || caught) rs.push(`after SIGCONT ${masks.blocked ? 'it is still blocked' : then.text}`);
      else rs.push('it is already stopped');
      result = out('stopped', false, rs, st.state === 't' ? `let the tracer ${st.tracerPid} go on (or detach), or use SIGKILL` : `send SIGCONT after ${name} (sigkit term does), or SIGKILL`);
    } else if (masks.blocked && n !== SIGKILL && n !== SIGSTOP) {
      // 7. Blocked by every thread: it waits in the pending set.
      const rs = [...reasons, `${masks.threads === 1 ? `${pid} blocks` : `every one of the ${masks.threads} threads of ${pid} blocks`} ${name} (SigBlk): it stays pending until a thread unblocks it`];
      rs.push(masks.pending ? `${name} is already pending${catalogue.info(n).realtime ? ': another one queues behind it' : ': another one merges with it (standard signals do not queue)'}` : `${name} is not pending yet`);
      rs.push(`once unblocked, ${then.text}`);
      result = out('blocked', false, rs, fatalOr(n) ? null : 'SIGKILL cannot be blocked');
    } else {
      if (st.state === 'T' && n === SIGKILL) reasons.push(`${pid} is stopped, but SIGKILL needs no SIGCONT`);
      if (n !== SIGKILL && n !== SIGSTOP && has(st.masks.SigBlk, n) && masks.openThread !== null && masks.openThread !== pid) {
        reasons.push(`the main thread blocks ${name}, but thread ${masks.openThread} does not: the kernel delivers it there`);
      }
      if (caught) {
        // 8. A handler runs: the process decides.
        result = out('caught', null, [...reasons, `${pid} has a handler for ${name} (SigCgt): the handler runs and the process decides (many exit cleanly, some reload, some carry on)`], fatalOr(n) ? null : 'if it does not exit, SIGKILL cannot be caught (but skips its cleanup)');
      } else {
        // 9. The default action, from the catalogue.
        const action = n === SIGKILL ? 'terminate' : catalogue.info(n).defaultAction;
        const rs = [...reasons, n === SIGKILL || n === SIGSTOP ? `${name} cannot be caught, blocked or ignored: it ${n === SIGKILL ? 'ends' : 'stops'} the process` : `${name} is not blocked, ignored or caught, so ${then.text}`];
        result = out('default', then.willEnd, rs, then.willEnd ? null : action === 'ignore' ? `${name} does nothing by default: use SIGTERM, or SIGKILL` : null);
      }
    }
  }

  // 10. sigkit's protected set, where the kernel would deliver it.
  const prot = protectedReason(pid);
  if (prot && result.verdict !== 'namespace-init' && result.verdict !== 'ignored') {
    return {
      ...result,
      verdict: 'protected',
      reasons: [`${pid} is ${PROTECTED_WHY[prot]}: sigkit's terminate, pkill and CLI refuse to signal it (ERR_SIGKIT_PROTECTED)`, `for kill(2) itself: ${result.verdict}`, ...result.reasons],
      suggestion: prot === 'self' ? 'to end this process, use process.exit() or onShutdown' : `it is ${prot === 'init' ? 'init' : 'what started this process'}: signal it with kill(2) directly only if you mean to`,
    };
  }
  return result;
}

/** True when this process runs in the initial pid namespace (PROC_PID_INIT_INO). */
function initialPidNamespace(): boolean {
  try {
    return readlinkSync('/proc/self/ns/pid') === 'pid:[4026531836]';
  } catch {
    return false;
  }
}

function fatalOr(n: number): boolean {
  return n === SIGKILL || n === SIGSTOP;
}

/**
 * What will happen if process `pid` gets `signal` now, and why, without
 * sending anything: a verdict, whether it will end the process, the facts
 * from /proc behind it, and what to do instead.
 *
 * In order: no such process; a thread id (`not-a-process`: kill(2) would
 * signal its whole process); a zombie (nothing reaches it; its parent must
 * reap); not permitted (kill(2)'s rule: CAP_KILL, or our real/effective uid
 * is its real/saved uid); a pid-namespace init without a handler (dropped,
 * SIGKILL included unless sent from an ancestor namespace); ignored (SIG_IGN
 * and not blocked: discarded); uninterruptible sleep (D: waits, `wchan`);
 * stopped (pending until SIGCONT; SIGKILL acts); blocked (by every thread:
 * pending); caught (its handler decides); the default action. Where the
 * kernel would deliver it to sigkit's protected set (this process, an
 * ancestor, PID 1), the verdict is `protected` and the kernel's verdict is
 * the second reason.
 *
 * @throws TypeError ERR_UNKNOWN_SIGNAL; ERR_INVALID_ARG_VALUE for signal 0 (it delivers nothing: use isAlive) or a bad pid
 * @throws SyscallError when /proc cannot be read for another reason than the process being gone
 * @example
 * const e = explainSignal(pid, 'SIGTERM');
 * if (e.willEnd !== true) console.log(e.verdict, e.reasons.join('\n'), e.suggestion);
 * // 'stopped' [ '4242 is stopped (state T, ...): SIGTERM stays pending until it is continued; ...' ]
 */
export function explainSignal(pid: number, signal: SignalLike = 'SIGTERM'): SignalExplanation {
  const p = validatePid(pid);
  const n = catalogue.number(signal);
  if (n === 0) throw invalidArgValue('signal', signal, 'is 0, which delivers nothing (use isAlive(pid) to probe)');
  const name = catalogue.name(n);
  const me = self();
  const st = readStatus(p);
  if (!st) return noSuchProcess(p, name, me);
  try {
    if (st.tgid !== p) {
      const main = readStatus(st.tgid);
      if (!main) return noSuchProcess(p, name, me);
      const inner = explainProcess(st.tgid, n, name, main, me);
      const comm = field(main.text, 'Name') ?? '?';
      return {
        ...inner,
        pid: p,
        verdict: 'not-a-process',
        reasons: [
          `${p} is a thread of process ${st.tgid} (${comm}), not a process: kill(2) with this number signals the whole process ${st.tgid}; sigkit's other calls answer ESRCH`,
          `for process ${st.tgid}: ${inner.verdict}`,
          ...inner.reasons,
        ],
        suggestion: `use pid ${st.tgid}`,
      };
    }
    return explainProcess(p, n, name, st, me);
  } catch (e) {
    // It went away between two reads.
    if (e instanceof SyscallError && e.code === 'ESRCH') return noSuchProcess(p, name, me);
    throw e;
  }
}
