import { readFileSync } from 'node:fs';
import { explainSignal, type SignalExplanation } from '../../explain.js';
import { catalogue } from '../../catalogue.js';
import { EXIT, bold, dim, green, json, parse, parsePid, parseSignal, printable, red, usageError, yellow, type Command, type Io } from '../io.js';

function headline(io: Io, e: SignalExplanation, comm: string | null): string {
  const who = comm === null ? `${e.pid}` : `${e.pid} (${printable(comm)})`;
  const what = e.willEnd === true ? green(io, 'will end it') : e.willEnd === false ? red(io, 'will not end it') : yellow(io, 'may end it (it decides, or it depends)');
  return `${bold(io, `${e.signal} to ${who}`)}: ${what}  ${dim(io, `[${e.verdict}]`)}`;
}

function describe(io: Io, e: SignalExplanation, comm: string | null): string {
  const ev = e.evidence;
  const lines = [headline(io, e, comm)];
  const flags = (['blocked', 'ignored', 'caught', 'pending'] as const).map((k) => (ev[k] ? k : `not ${k}`)).join(', ');
  if (ev.state !== null) {
    lines.push(`  ${dim(io, 'state')}    ${ev.state} (${ev.stateName})${ev.wchan ? ` in ${ev.wchan}` : ''}${ev.namespaceInit ? ', pid-namespace init' : ''}`);
    if (ev.owner) lines.push(`  ${dim(io, 'owner')}    uid ${ev.owner.uid}${ev.owner.ours ? ' (our uid may signal it)' : ' (not by our uid)'}`);
    lines.push(`  ${dim(io, e.signal.padEnd(8))} ${flags}`);
    if (ev.parent) lines.push(`  ${dim(io, 'parent')}   ${ev.parent.pid} (${printable(ev.parent.comm)}), state ${ev.parent.state}`);
  }
  lines.push(`  ${dim(io, 'why')}`);
  for (const r of e.reasons) lines.push(`    - ${r}`);
  if (e.suggestion) lines.push(`  ${dim(io, 'try')}      ${e.suggestion}`);
  return lines.join('\n') + '\n';
}

function commOf(e: SignalExplanation): string | null {
  try {
    const text = readFileSync(`/proc/${e.pid}/comm`, 'utf8');
    return text.replace(/\n$/, '');
  } catch {
    return null;
  }
}

export const explain: Command = {
  name: 'explain',
  summary: 'why a signal would (not) work on a process, without sending it',
  usage: `sigkit explain PID [SIG]

  What the kernel will do if PID gets SIG now, and why, read from /proc
  without sending anything: no such process, a thread id, not permitted
  (owner vs us), a zombie (and the parent that must reap it), stopped,
  uninterruptible sleep (D, with wchan), ignored, blocked, caught, the
  default action, a pid-namespace init, or sigkit's protected set.
  SIG defaults to SIGTERM; then, if SIGTERM would not surely end it,
  SIGKILL is explained too.
  --json   the explanation(s) as JSON (an array when two are shown)

  Exit 0 when explained, 1 when there is no such process, 2 on bad usage.`,
  run(args, io) {
    const { values, positionals } = parse(args, {});
    if (positionals.length < 1) throw usageError('missing PID');
    if (positionals.length > 2) throw usageError('give PID and at most one SIG');
    const pid = parsePid(positionals[0]);
    const given = positionals[1] !== undefined;
    const sig = given ? parseSignal(positionals[1]!) : catalogue.number('SIGTERM');
    if (sig === 0) throw usageError('signal 0 delivers nothing (see sigkit status PID)');
    const first = explainSignal(pid, sig);
    const all = [first];
    if (!given && first.willEnd !== true && first.verdict !== 'no-such-process') all.push(explainSignal(pid, 'SIGKILL'));
    if (values.json) json(io, given ? first : all.length === 1 ? first : all);
    else {
      const comm = commOf(first);
      io.out(all.map((e) => describe(io, e, comm)).join('\n'));
    }
    return first.verdict === 'no-such-process' ? EXIT.FAILED : EXIT.OK;
  },
};
