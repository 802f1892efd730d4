import { catalogue } from '../../catalogue.js';
import { onSignal, type SignalEvent } from '../../sigaction.js';
import { CliError, EXIT, humanMs, parse, parseDuration, parseSignal, usageError, type Command, type Io } from '../io.js';

/** A signal given to `trap`: a catchable one that neither libc nor V8 owns. */
function trappable(text: string): number {
  const n = parseSignal(text);
  if (n === 0) throw usageError(`signal 0 is not a signal (it only probes): nothing to trap`);
  const info = catalogue.info(n);
  if (!info.catchable) throw usageError(`cannot trap ${info.name}: the kernel never lets it be caught`);
  if (info.reserved) {
    throw usageError(info.realtime
      ? `cannot trap signal ${n}: libc reserves it for its threads (use RTMIN..RTMAX)`
      : `cannot trap ${info.name}: a fault signal that V8 and Node handle`);
  }
  return n;
}

/** One received signal as a human line: `SIGUSR1 pid=4242 uid=0 code=SI_USER attested=yes`. */
function line(e: SignalEvent): string {
  const value = e.value === undefined ? '' : ` value=${e.value}`;
  const status = e.status === undefined ? '' : ` status=${e.status}`;
  return `${e.signal} pid=${e.pid} uid=${e.uid} code=${e.code}${value}${status} attested=${e.attested ? 'yes' : 'no'}\n`;
}

function emit(io: Io, asJson: boolean, e: SignalEvent): void {
  io.out(asJson ? `${JSON.stringify(e)}\n` : line(e));
}

export const trap: Command = {
  name: 'trap',
  summary: 'print each signal received, with its sender (pid, uid, si_code, value)',
  usage: `sigkit trap SIG... [--count N] [--timeout T]

  Listens for the given signals (names or numbers, realtime included:
  RTMIN+1) and prints one line per delivery on stdout:
    SIGUSR1 pid=4242 uid=0 code=SI_USER attested=yes
    SIGRTMIN+1 pid=4243 uid=0 code=SI_QUEUE value=77 attested=no
  pid/uid name the sender, code how it was sent (SI_USER: kill, SI_QUEUE:
  sigqueue, SI_TKILL: tgkill, SI_KERNEL...), value the sigqueue payload.
  attested=yes when the kernel vouches for pid/uid (kill, tgkill, kernel);
  a SI_QUEUE sender writes its own pid and uid and may lie. A sender in an
  ancestor pid namespace shows as pid=0.

  Once the handlers are installed it writes "ready <pid> <SIG>..." on stderr
  (stdout stays the signals only): send nothing before that line.
  -c, --count N     exit after N signals (of any of the SIGs)
  -t, --timeout T   stop after T (500ms, 5s, 2m; a bare number is seconds)
  --json            one JSON object per signal (JSON lines): { signal, number,
                    code, pid, uid, value?, status?, attested }

  Exit 0 after N signals; 1 when the timeout passed before N arrived
  (without --count: when none arrived at all); 2 on bad usage, e.g. a
  signal that cannot be caught (KILL, STOP), one libc reserves (32, 33) or
  a fault signal Node owns (SEGV, BUS, FPE, ILL).
  Without --count and --timeout it runs until it is ended: SIGINT (Ctrl-C)
  or SIGTERM end it as usual unless you trap them yourself; then use
  --count, --timeout, or another signal (SIGQUIT, SIGKILL).`,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      count: { type: 'string', short: 'c' },
      timeout: { type: 'string', short: 't' },
    });
    if (positionals.length === 0) throw usageError('missing SIG (which signals to trap?)');
    const numbers = [...new Set(positionals.map(trappable))];
    let count: number | undefined;
    if (values.count !== undefined) {
      if (!/^[0-9]{1,9}$/.test(values.count) || Number(values.count) < 1) {
        throw usageError(`--count N must be a positive integer, not '${values.count}'`);
      }
      count = Number(values.count);
    }
    const timeoutMs = values.timeout === undefined ? undefined : parseDuration(values.timeout, '--timeout');
    const asJson = values.json === true;
    const names = numbers.map((n) => catalogue.name(n));

    let received = 0;
    let finish!: (code: number) => void;
    const finished = new Promise<number>((resolve) => (finish = resolve));
    // SIGUSR1 with no JS listener makes Node start its inspector, and sigkit
    // chains to the handler that was there before it. A process.on listener
    // first puts libuv's handler in that place instead (it does nothing).
    const noop = (): void => {};
    if (numbers.includes(catalogue.number('SIGUSR1'))) process.on('SIGUSR1', noop);
    // The handlers stay installed until the process exits (unref'd): a
    // signal arriving after the Nth is ignored instead of getting its
    // default action. The interval keeps the loop alive meanwhile.
    let done = false;
    for (const n of numbers) {
      onSignal(n, (e) => {
        if (done) return;
        received++;
        emit(io, asJson, e);
        if (count !== undefined && received >= count) finish(EXIT.OK);
      });
    }
    const keepAlive = setInterval(noop, 0x7fffffff);
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(count === undefined && received > 0 ? EXIT.OK : EXIT.FAILED), timeoutMs);
    io.err(`ready ${process.pid} ${names.join(' ')}\n`);
    const code = await finished;
    done = true;
    clearInterval(keepAlive);
    if (timer !== undefined) clearTimeout(timer);
    if (code !== EXIT.OK) {
      const wanted = count === undefined ? 'no signal' : `${received} of ${count} signals`;
      throw new CliError(`timeout after ${humanMs(timeoutMs!)}: ${wanted} received (${names.join(', ')})`);
    }
    return code;
  },
};
