/**
 * Ports: which process holds a TCP or UDP socket, and acting on it.
 *
 * Sockets come from `/proc/<pid>/net/{tcp,tcp6,udp,udp6}` (the tables of
 * that process's network namespace); their owners from the `socket:[INODE]`
 * links in every `/proc/<pid>/fd` (native/ports.cc). Nothing is spawned: no
 * `lsof`, `ss` or `netstat` is needed. A socket whose owner cannot be
 * inspected (another user's process, without root or CAP_SYS_PTRACE) is
 * listed with `pid: null`, as `ss -p` does without privileges.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { endianness } from 'node:os';
import { SyscallError, invalidArgType, invalidArgValue, outOfRange, type CodedError } from './errors.js';
import { native } from './native.js';
import { checkOptions } from './options.js';
import { ProcessHandle, openProcess } from './pidfd.js';
import { descendants } from './proc.js';
import { assertNotProtected } from './protected.js';
import { terminate, type TerminateOptions, type TerminateResult } from './terminate.js';
import { validatePid } from './validate.js';
import { raceEvent, timeoutError, validateWaitOptions, type WaitOptions } from './waiting.js';

const ESRCH_ = 3;
const ENOENT_ = 2;
const ENOENT = 2;
const ESRCH = 3;

/** The four socket tables of a network namespace. */
export type SocketProtocol = 'tcp' | 'tcp6' | 'udp' | 'udp6';

/** TCP states as `ss` names them; UDP sockets are `'UNCONN'` (bound, not connected) or `'ESTABLISHED'` (connected). */
export type SocketState =
  | 'ESTABLISHED' | 'SYN_SENT' | 'SYN_RECV' | 'FIN_WAIT1' | 'FIN_WAIT2' | 'TIME_WAIT' | 'CLOSE' | 'CLOSE_WAIT'
  | 'LAST_ACK' | 'LISTEN' | 'CLOSING' | 'NEW_SYN_RECV' | 'UNCONN' | 'UNKNOWN';

/** One socket, and one process that holds it (a socket held by several processes is one row per process). */
export interface SocketInfo extends SocketRow {
  /** The holder, or null when no visible process holds it (not ours to inspect, or a TIME_WAIT remnant). */
  pid: number | null;
  /** The holder's name, or null with `pid`. */
  comm: string | null;
}

/** Options of {@link findByPort}. */
export interface FindByPortOptions {
  /** `'tcp'`, `'udp'` or `'any'` (default); IPv4 and IPv6 both. */
  protocol?: 'tcp' | 'udp' | 'any';
  /** `'listen'` (default: TCP LISTEN and unconnected UDP, what `ss -l` shows) or `'any'`. */
  state?: 'listen' | 'any';
  /** Whose network namespace to look in (default: this process's). */
  pid?: number;
}

const TCP_STATES: Record<number, SocketState> = {
  1: 'ESTABLISHED', 2: 'SYN_SENT', 3: 'SYN_RECV', 4: 'FIN_WAIT1', 5: 'FIN_WAIT2', 6: 'TIME_WAIT', 7: 'CLOSE',
  8: 'CLOSE_WAIT', 9: 'LAST_ACK', 10: 'LISTEN', 11: 'CLOSING', 12: 'NEW_SYN_RECV',
};
const LITTLE = endianness() === 'LE';

/** A socket table row before its owner is known. */
export interface SocketRow {
  protocol: SocketProtocol;
  /** `'127.0.0.1'`, `'0.0.0.0'`, `'::'`, `'::ffff:10.0.0.1'`. */
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: SocketState;
  /** The socket's inode (`socket:[INODE]` in /proc/<pid>/fd); 0 for TIME_WAIT remnants. */
  inode: number;
  /** Owner uid of the socket (its creator's), as the kernel records it. */
  uid: number;
}

// One 32-bit word of /proc/net/tcp: 8 hex digits of the word as the host stores it.
function word(hex: string, at: number): number {
  const v = parseInt(hex.slice(at, at + 8), 16);
  return LITTLE ? (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0 : v;
}

function ipv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

function ipv6(hex: string): string {
  return ipv6Words([word(hex, 0), word(hex, 8), word(hex, 16), word(hex, 24)]);
}

function ipv6Words(w: number[]): string {
  if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return `::ffff:${ipv4(w[3]!)}`;
  const groups = w.flatMap((x) => [x >>> 16, x & 0xffff]);
  // RFC 5952: the longest run (>= 2) of zero groups becomes '::'.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hexes = groups.map((g) => g.toString(16));
  if (best < 0) return hexes.join(':');
  return `${hexes.slice(0, best).join(':')}::${hexes.slice(best + bestLen).join(':')}`;
}

function endpoint(field: string, v6: boolean): [string, number] | null {
  const colon = field.indexOf(':');
  const hex = field.slice(0, colon);
  if (colon < 0 || hex.length !== (v6 ? 32 : 8) || !/^[0-9A-Fa-f]+$/.test(hex)) return null;
  const port = parseInt(field.slice(colon + 1), 16);
  if (!(port >= 0 && port <= 65535)) return null;
  return [v6 ? ipv6(hex) : ipv4(word(hex, 0)), port];
}

/**
 * Parses one /proc/net/{tcp,tcp6,udp,udp6} table. Lines that do not parse
 * are skipped (the kernel's format, not input from processes).
 * @internal exported for tests
 * @throws never
 * @example
 * parseSocketTable(readFileSync('/proc/net/tcp', 'latin1'), 'tcp');
 */
export function parseSocketTable(text: string, protocol: SocketProtocol, port?: number): SocketRow[] {
  const v6 = protocol.endsWith('6');
  const udp = protocol.startsWith('udp');
  // Ports are 4 hex digits after the colon: a cheap prefilter when one port is wanted.
  const needle = port === undefined ? undefined : `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const out: SocketRow[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (needle !== undefined && !line.includes(needle)) continue;
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = endpoint(f[1]!, v6);
    const remote = endpoint(f[2]!, v6);
    const st = parseInt(f[3]!, 16);
    const uid = Number(f[7]);
    const inode = Number(f[9]);
    if (!local || !remote || !Number.isInteger(uid) || !Number.isInteger(inode)) continue;
    if (port !== undefined && local[1] !== port) continue;
    const state: SocketState = udp ? (st === 7 ? 'UNCONN' : st === 1 ? 'ESTABLISHED' : 'UNKNOWN') : (TCP_STATES[st] ?? 'UNKNOWN');
    out.push({ protocol, localAddress: local[0], localPort: local[1], remoteAddress: remote[0], remotePort: remote[1], state, inode, uid });
  }
  return out;
}

const isListening = (r: SocketRow) => r.state === 'LISTEN' || r.state === 'UNCONN';

function sameNetns(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`) === readlinkSync('/proc/self/ns/net');
  } catch {
    return false;
  }
}

const FAMILY = { tcp: 2, tcp6: 10, udp: 2, udp6: 10 } as const;
const IPPROTO = { tcp: 6, tcp6: 6, udp: 17, udp6: 17 } as const;

/**
 * One table through NETLINK_SOCK_DIAG (our own namespace only), or null when
 * the kernel says no (no udp_diag module, a sandbox): then /proc is read.
 */
function diagTable(protocol: SocketProtocol, listenOnly: boolean, port?: number): SocketRow[] | null {
  const udp = protocol.startsWith('udp');
  // LISTEN (10) for TCP, CLOSE (7: bound, unconnected) for UDP; else every state.
  const states = listenOnly ? 1 << (udp ? 7 : 10) : 0xffffffff;
  const r = native.sockDiag(FAMILY[protocol], IPPROTO[protocol], states);
  if (typeof r === 'number') return null;
  const n = native.sockDiagFields;
  const v6 = protocol.endsWith('6');
  const out: SocketRow[] = [];
  for (let i = 0; i + n <= r.length; i += n) {
    const localPort = r[i + 1]!;
    if (port !== undefined && localPort !== port) continue;
    const st = r[i]!;
    const local = [r[i + 5]!, r[i + 6]!, r[i + 7]!, r[i + 8]!];
    const remote = [r[i + 9]!, r[i + 10]!, r[i + 11]!, r[i + 12]!];
    out.push({
      protocol,
      localAddress: v6 ? ipv6Words(local) : ipv4(local[0]!),
      localPort,
      remoteAddress: v6 ? ipv6Words(remote) : ipv4(remote[0]!),
      remotePort: r[i + 2]!,
      state: udp ? (st === 7 ? 'UNCONN' : st === 1 ? 'ESTABLISHED' : 'UNKNOWN') : (TCP_STATES[st] ?? 'UNKNOWN'),
      inode: r[i + 4]!,
      uid: r[i + 3]!,
    });
  }
  return out;
}

/** The socket tables of `pid`'s network namespace ('self' = ours). */
function readTables(pid: number | 'self', protocols: readonly SocketProtocol[], port?: number, listenOnly = false): SocketRow[] {
  const out: SocketRow[] = [];
  for (const protocol of protocols) {
    // Netlink answers for our own namespace: much faster than /proc/net/tcp,
    // which walks every bucket of the established hash even when empty.
    if (pid === 'self' || sameNetns(pid)) {
      const rows = diagTable(protocol, listenOnly, port);
      if (rows) {
        for (const row of rows) out.push(row);
        continue;
      }
    }
    const path = `/proc/${pid}/net/${protocol}`;
    let text: string;
    try {
      text = readFileSync(path, 'latin1');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const errno = typeof err.errno === 'number' ? err.errno : -ENOENT;
      if (errno === -ENOENT && pid !== 'self' && native.procState(pid) >= 0) continue; // no IPv6 in this kernel
      if (errno === -ENOENT && pid === 'self') continue;
      throw new SyscallError('open', errno === -ENOENT ? -ESRCH : errno, { ...(pid === 'self' ? {} : { pid }), path });
    }
    for (const row of parseSocketTable(text, protocol, port)) out.push(row);
  }
  return out;
}

const commBuf = () => new Float64Array(native.procFieldNames.length);

function commOf(pid: number, cache: Map<number, string | null>, buf: Float64Array): string | null {
  let c = cache.get(pid);
  if (c === undefined) {
    const r = native.procStat(pid, buf);
    c = typeof r === 'string' ? r : null;
    cache.set(pid, c);
  }
  return c;
}

/** Rows with their owners: one SocketInfo per (row, holder); unowned rows get pid null. */
function withOwners(rows: SocketRow[]): SocketInfo[] {
  const inodes = [...new Set(rows.map((r) => r.inode).filter((i) => i > 0))];
  const owners = new Map<number, number[]>();
  if (inodes.length > 0) {
    const found = native.socketOwners(Float64Array.from(inodes));
    if (typeof found === 'number') throw new SyscallError('open', found, { path: '/proc' });
    const pairs = found[0];
    for (let i = 0; i < pairs.length; i += 2) {
      const list = owners.get(pairs[i + 1]!);
      if (list) list.push(pairs[i]!);
      else owners.set(pairs[i + 1]!, [pairs[i]!]);
    }
  }
  const comms = new Map<number, string | null>();
  const buf = commBuf();
  const out: SocketInfo[] = [];
  for (const r of rows) {
    const pids = owners.get(r.inode);
    if (!pids) {
      out.push({ pid: null, comm: null, ...r });
      continue;
    }
    for (const pid of pids.sort((a, b) => a - b)) out.push({ pid, comm: commOf(pid, comms, buf), ...r });
  }
  return out;
}

function validatePort(port: unknown, name = 'port'): number {
  if (typeof port !== 'number') throw invalidArgType(name, 'of type number', port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw outOfRange(name, 'an integer >= 1 and <= 65535', port);
  return port;
}

interface ValidFind {
  protocols: SocketProtocol[];
  listen: boolean;
  ns: number | 'self';
}

function validateFind(opts: unknown, keys: readonly string[] = ['protocol', 'state', 'pid']): ValidFind & Record<string, unknown> {
  const o = checkOptions<FindByPortOptions>(opts, 'options', keys);
  const protocol = o.protocol ?? 'any';
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'any') throw invalidArgValue('options.protocol', protocol, "must be 'tcp', 'udp' or 'any'");
  const state = o.state ?? 'listen';
  if (state !== 'listen' && state !== 'any') throw invalidArgValue('options.state', state, "must be 'listen' or 'any'");
  const ns = o.pid === undefined ? 'self' : validatePid(o.pid, 'options.pid');
  const protocols: SocketProtocol[] = protocol === 'tcp' ? ['tcp', 'tcp6'] : protocol === 'udp' ? ['udp', 'udp6'] : ['tcp', 'tcp6', 'udp', 'udp6'];
  return { ...(o as Record<string, unknown>), protocols, listen: state === 'listen', ns };
}

function sortSockets(list: SocketInfo[]): SocketInfo[] {
  const order: Record<SocketProtocol, number> = { tcp: 0, tcp6: 1, udp: 2, udp6: 3 };
  return list.sort((a, b) => order[a.protocol] - order[b.protocol] || a.localPort - b.localPort || (a.pid ?? 0) - (b.pid ?? 0) || a.inode - b.inode);
}

/**
 * The sockets bound to local port `port`, each with the process that holds
 * it: what `ss -lptn 'sport = :PORT'` or `lsof -i :PORT` show, without
 * spawning either. By default only listening sockets (TCP LISTEN, unbound-peer
 * UDP), TCP and UDP, IPv4 and IPv6, in this process's network namespace.
 *
 * @throws TypeError ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE, RangeError ERR_OUT_OF_RANGE (bad port or options)
 * @throws SyscallError ESRCH (`options.pid` names no process), EACCES
 * @example
 * const [s] = findByPort(3000);
 * if (s) console.log(`${s.comm} (${s.pid}) listens on ${s.localAddress}:${s.localPort}`);
 */
export function findByPort(port: number, opts?: FindByPortOptions): SocketInfo[] {
  const p = validatePort(port);
  const { protocols, listen, ns } = validateFind(opts);
  const rows = readTables(ns, protocols, p, listen).filter((r) => !listen || isListening(r));
  return sortSockets(withOwners(rows));
}

/**
 * Every TCP and UDP socket (IPv4 and IPv6) that a process holds in its fds,
 * from the tables of its own network namespace. Unix sockets are not listed.
 *
 * @throws SyscallError ESRCH (no such process), EACCES (not ours to inspect)
 * @throws TypeError/RangeError ERR_INVALID_ARG_* for a bad pid
 * @example
 * listSockets(server.pid).filter((s) => s.state === 'LISTEN').map((s) => s.localPort); // [8080]
 */
export function listSockets(pid: number): SocketInfo[] {
  const p = validatePid(pid);
  const inodes = native.procSocketInodes(p);
  if (typeof inodes === 'number') throw new SyscallError('open', inodes === -ENOENT ? -ESRCH : inodes, { pid: p, path: `/proc/${p}/fd` });
  if (inodes.length === 0) return [];
  const mine = new Set(inodes);
  const comm = commOf(p, new Map(), commBuf());
  const rows = readTables(p, ['tcp', 'tcp6', 'udp', 'udp6']).filter((r) => mine.has(r.inode));
  return sortSockets(rows.map((r) => ({ pid: p, comm, ...r })));
}

/** Options of {@link terminatePort}: where to look, and the ladder. */
export interface TerminatePortOptions extends Omit<FindByPortOptions, 'state'>, TerminateOptions {}

/** What {@link terminatePort} found and did. */
export interface TerminatePortResult {
  port: number;
  /** Every holder of a listening socket on the port exited (true when there was none: see `notFound`). */
  exited: boolean;
  /** Nothing listened on the port. */
  notFound?: boolean;
  /** The listening sockets found, one row per (socket, holder); `pid: null` rows have no holder we may see. */
  sockets: SocketInfo[];
  /** One `terminate` result per holder, by pid. */
  results: TerminateResult[];
}

const TERMINATE_KEYS = ['steps', 'graceMs', 'signal', 'onStep', 'onExit'] as const;

/**
 * Ends every process that holds a listening socket on `port` (kill-port, done
 * safely): each holder is pinned with a pidfd, re-checked to still hold the
 * socket, and ended with {@link terminate} (SIGTERM, wait, SIGKILL). If any
 * holder is protected (this process, an ancestor, PID 1) nothing is sent.
 *
 * @throws Error ERR_SIGKIT_PROTECTED (a holder is protected; nothing was sent)
 * @throws TypeError/RangeError ERR_INVALID_ARG_* (bad port or options)
 * @throws AbortError ABORT_ERR when `signal` aborts
 * @throws SyscallError EPERM (a holder is not ours to signal)
 * @example
 * const r = await terminatePort(3000, { graceMs: 2000 });
 * if (!r.exited) console.error('still held by', r.sockets.map((s) => s.pid));
 */
export async function terminatePort(port: number, opts?: TerminatePortOptions): Promise<TerminatePortResult> {
  const p = validatePort(port);
  const o = validateFind(opts, ['protocol', 'pid', ...TERMINATE_KEYS]);
  const termOpts: TerminateOptions = {};
  for (const k of TERMINATE_KEYS) if (o[k] !== undefined) (termOpts as Record<string, unknown>)[k] = o[k];
  const sockets = sortSockets(withOwners(readTables(o.ns, o.protocols, p, true).filter(isListening)));
  if (sockets.length === 0) return { port: p, exited: true, notFound: true, sockets, results: [] };
  const pids = [...new Set(sockets.map((s) => s.pid).filter((x): x is number => x !== null))].sort((a, b) => a - b);
  for (const pid of pids) assertNotProtected(pid, `pid ${pid} (it listens on port ${p})`);
  // Pin each holder, then check that the pinned process still holds one of
  // the sockets: a pid recycled since the scan is never signalled.
  const handles: ProcessHandle[] = [];
  try {
    for (const pid of pids) {
      let h: ProcessHandle;
      try {
        h = openProcess(pid);
      } catch (e) {
        if ((e as { code?: string }).code === 'ESRCH') continue;
        throw e;
      }
      const held = native.procSocketInodes(pid);
      const inodes = new Set(sockets.filter((s) => s.pid === pid).map((s) => s.inode));
      if (typeof held === 'number' && held !== -ESRCH_ && held !== -ENOENT_) {
        // Not "gone": EMFILE, EACCES... the holder cannot be re-checked, and a
        // result that skipped it would be a silent partial one.
        h.close();
        throw new SyscallError('open', held, { pid, path: `/proc/${pid}/fd` });
      }
      if (typeof held !== 'number' && Array.from(held).some((i) => inodes.has(i))) handles.push(h);
      else h.close();
    }
    const results = await Promise.all(handles.map((h) => terminate(h, termOpts)));
    const unowned = sockets.some((s) => s.pid === null);
    return { port: p, exited: !unowned && results.every((r) => r.exited), sockets, results };
  } finally {
    for (const h of handles) h.close();
  }
}

/** `Error [ERR_SIGKIT_EXITED]`: the process waited on exited before the awaited event. */
export interface ExitedError extends CodedError {
  code: 'ERR_SIGKIT_EXITED';
  pid: number;
  port: number;
}

function exitedError(pid: number, port: number): ExitedError {
  const e = new Error(`pid ${pid} exited before a process of its tree listened on port ${port}`) as ExitedError;
  e.code = 'ERR_SIGKIT_EXITED';
  e.pid = pid;
  e.port = port;
  return e;
}

// Adaptive poll of the socket tables: fast at first (a server that binds at
// once is seen within ms), then backing off (a slow starter costs little).
const POLL_FIRST_MS = 2;
const POLL_MAX_MS = 100;

/**
 * Resolves when a process of `target`'s tree (the target or a descendant;
 * any process when `target` is null) listens on TCP `port`, with that
 * socket. Rejects with ERR_SIGKIT_EXITED if the target exits first (seen at
 * once through its pidfd). The kernel has no event for "a socket started
 * listening", so the namespace's TCP tables are polled, adaptively (2 ms,
 * growing to 100 ms); each poll reads two small files and no fd table.
 *
 * @throws TypeError/RangeError ERR_INVALID_ARG_* (bad target, port or options: the promise rejects)
 * @throws Error ERR_SIGKIT_EXITED (the target exited first), TimeoutError ERR_SIGKIT_TIMEOUT, AbortError ABORT_ERR
 * @throws SyscallError ESRCH (no such target process)
 * @example
 * const server = spawn('node', ['server.js']);
 * const s = await waitForListen(server.pid!, 8080, { timeoutMs: 10_000 });
 * console.log(`ready: pid ${s.pid} on ${s.localAddress}:${s.localPort}`);
 */
export async function waitForListen(target: number | ProcessHandle | null, port: number, opts?: WaitOptions): Promise<SocketInfo> {
  const p = validatePort(port);
  const waitOpts = validateWaitOptions(checkOptions(opts, 'options', ['timeoutMs', 'signal']));
  let handle: ProcessHandle | null = null;
  let owned = false;
  if (target instanceof ProcessHandle) handle = target;
  else if (target !== null) {
    handle = openProcess(validatePid(target, 'target'));
    owned = true;
  }
  try {
    const root = handle?.pid;
    const check = (): SocketInfo | null => {
      const rows = readTables(root ?? 'self', ['tcp', 'tcp6'], p, true).filter((r) => r.state === 'LISTEN');
      if (rows.length === 0) return null;
      if (root === undefined) return sortSockets(withOwners(rows))[0]!;
      const byInode = new Map(rows.map((r) => [r.inode, r]));
      const tree = [root, ...descendants(root).map((d) => d.pid)];
      for (const pid of tree) {
        const held = native.procSocketInodes(pid);
        if (typeof held === 'number') continue;
        for (const inode of held) {
          const row = byInode.get(inode);
          if (row) return { pid, comm: commOf(pid, new Map(), commBuf()), ...row };
        }
      }
      return null;
    };
    let found: SocketInfo | null = null;
    let failure: Error | undefined;
    const how = await raceEvent((fire, fail) => {
      let timer: NodeJS.Timeout | undefined;
      let delay = POLL_FIRST_MS;
      let stopped = false;
      const poll = (): void => {
        if (stopped) return;
        try {
          if (handle && !handle.isAlive()) {
            failure = exitedError(handle.pid, p);
            fire();
            return;
          }
          found = check();
        } catch (e) {
          // The target's /proc entry vanished between the checks: it exited.
          if (handle && !handle.isAlive()) failure = exitedError(handle.pid, p);
          else return fail(e as Error);
          return fire();
        }
        if (found) return fire();
        timer = setTimeout(poll, delay);
        delay = Math.min(POLL_MAX_MS, delay * 1.5);
      };
      // The exit is an event (pidfd): no waiting for the next poll to see it.
      const cancel = new AbortController();
      handle?.exited({ signal: cancel.signal }).then(() => {
        if (stopped) return;
        failure = exitedError(handle!.pid, p);
        fire();
      }, () => {});
      poll();
      return () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        cancel.abort(); // releases the pidfd watch (it would keep the loop alive)
      };
    }, waitOpts);
    if (how === 'timeout') throw timeoutError(`a listener on port ${p}${root ? ` in the tree of pid ${root}` : ''}`, waitOpts.timeoutMs);
    if (found) return found;
    throw failure ?? exitedError(root ?? 0, p);
  } finally {
    if (owned) handle?.close();
  }
}
