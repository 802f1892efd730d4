import { checkShutdown, type CheckShutdownOptions, type ReadyCheck, type ShutdownReport } from '../../check-shutdown.js';
import { EXIT, bold, green, humanMs, json, parse, parseDuration, parseSignal, red, usageError, type Command, type Io } from '../io.js';

/** An argument quoted for a shell, for the report. */
function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function human(io: Io, r: ShutdownReport, ready: ReadyCheck): string {
  const how = 'port' in ready ? `port ${ready.port} open` : 'line' in ready ? `line /${ready.line instanceof RegExp ? ready.line.source : ready.line}/` : `after ${humanMs(ready.delayMs)}`;
  const rows: Array<[string, string]> = [
    ['command', r.cmd.map(quote).join(' ')],
    ['ready', r.readyAfterMs === null ? 'never' : `${humanMs(r.readyAfterMs)} (${how})`],
  ];
  if (r.readyAfterMs !== null) rows.push(['signal', `${r.signal} to pid ${r.pid}, grace ${humanMs(r.graceMs)}`]);
  if (r.exit) {
    const ended = r.exit.signal ? `killed by ${r.exit.signal}` : `exit code ${r.exit.code}`;
    rows.push(['exit', r.forced ? `${ended} (forced: SIGKILL after the grace)` : r.exitedAfterMs !== null ? `${ended}, ${humanMs(r.exitedAfterMs)} after ${r.signal}` : ended]);
  }
  rows.push(['leftovers', r.leftovers.length === 0 ? 'none' : r.leftovers.map((p) => `${p.pid} ${p.comm} (ppid ${p.ppid})`).join(', ')]);
  const lines = rows.map(([k, v]) => `  ${k.padEnd(10)}  ${v}`);
  const verdict = r.ok ? green(io, bold(io, 'PASS')) : red(io, bold(io, 'FAIL'));
  const problems = r.problems.map((p) => `  - ${p}`);
  return [`sigkit check-shutdown: ${verdict}`, ...lines, ...(problems.length ? ['problems:', ...problems] : [])].join('\n') + '\n';
}

export const checkShutdownCommand: Command = {
  name: 'check-shutdown',
  summary: 'CI check: CMD stops cleanly on SIGTERM, in time, leaving nothing behind',
  usage: `sigkit check-shutdown [--signal S] [--grace D] [--ready-port P | --ready-line RE | --ready-delay D]
                      [--ready-timeout D] [--expect CODE|SIGNAL] [-q] [--json] -- CMD [ARGS...]

  Starts CMD (as a child subreaper, so every orphan of its tree is seen),
  waits until it is ready, sends it the signal a supervisor would (docker
  stop, Kubernetes, systemd), and checks that it exits as expected within
  the grace period, leaving no descendant running. Leftovers are listed,
  then killed.
  --signal S        the signal to send (default TERM)
  --grace D         time allowed to exit after it (default 10s, docker stop's)
  --ready-port P    ready once a TCP connect to 127.0.0.1:P succeeds
  --ready-line RE   ready once a line of its stdout or stderr matches RE
  --ready-delay D   ready after D (the default: 1s)
  --ready-timeout D give up waiting for readiness after D (default 30s)
  --expect X        the exit expected: a code (0..255) or a signal name;
                    default: code 0, or killed by S, or code 128+S
  -q, --quiet       do not pass CMD's output through (on stderr)
  --json            the report as JSON on stdout
  CMD's own output goes to stderr, so stdout holds only the report.

  Exit: 0 all held, 1 something did not (the report says what), 2 bad usage.`,
  async run(args, io) {
    const dashes = args.indexOf('--');
    if (dashes < 0) throw usageError(args.length === 0 ? 'missing -- CMD' : `put -- before the command: sigkit check-shutdown [options] -- ${args.join(' ')}`);
    const { values, positionals } = parse(args.slice(0, dashes), {
      signal: { type: 'string', short: 's' },
      grace: { type: 'string' },
      'ready-port': { type: 'string' },
      'ready-line': { type: 'string' },
      'ready-delay': { type: 'string' },
      'ready-timeout': { type: 'string' },
      expect: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    });
    if (positionals.length > 0) throw usageError(`unexpected '${positionals[0]}' before --`);
    const cmd = args.slice(dashes + 1);
    if (cmd.length === 0 || cmd[0] === '') throw usageError('missing CMD after --');
    const readyFlags = (['ready-port', 'ready-line', 'ready-delay'] as const).filter((k) => values[k] !== undefined);
    if (readyFlags.length > 1) throw usageError(`give one of --ready-port, --ready-line, --ready-delay, not ${readyFlags.map((k) => `--${k}`).join(' and ')}`);
    let ready: ReadyCheck = { delayMs: 1000 };
    if (values['ready-port'] !== undefined) {
      const p = values['ready-port'];
      if (!/^[0-9]{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw usageError(`--ready-port must be a port number (1-65535), not '${p}'`);
      ready = { port: Number(p) };
    } else if (values['ready-line'] !== undefined) {
      try {
        ready = { line: new RegExp(values['ready-line']) };
      } catch {
        throw usageError(`--ready-line must be a regular expression, not '${values['ready-line']}'`);
      }
    } else if (values['ready-delay'] !== undefined) {
      ready = { delayMs: parseDuration(values['ready-delay'], '--ready-delay') };
    }
    const opts: CheckShutdownOptions = { cmd, ready };
    if (values.signal !== undefined) {
      const sig = parseSignal(values.signal);
      if (sig === 0) throw usageError('--signal 0 is not a signal');
      opts.signal = sig;
    }
    if (values.grace !== undefined) opts.graceMs = parseDuration(values.grace, '--grace');
    if (values['ready-timeout'] !== undefined) opts.readyTimeoutMs = parseDuration(values['ready-timeout'], '--ready-timeout');
    if (values.expect !== undefined) {
      const x = values.expect;
      if (/^[0-9]+$/.test(x)) {
        if (Number(x) > 255) throw usageError(`--expect takes an exit code (0-255) or a signal name, not '${x}'`);
        opts.expect = { code: Number(x) };
      } else {
        opts.expect = { signal: parseSignal(x) };
      }
    }
    if (!values.quiet) opts.onOutput = (line) => io.err(`${line}\n`);
    const report = await checkShutdown(opts);
    if (values.json) json(io, report);
    else io.out(human(io, report, ready));
    return report.ok ? EXIT.OK : EXIT.FAILED;
  },
};
