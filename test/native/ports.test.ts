/**
 * Ports against real sockets: listeners the test starts itself on
 * 127.0.0.1 (ephemeral ports), found, listed, waited for and ended.
 */
import { type ChildProcess } from 'node:child_process';
import { createServer, type Server, connect } from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { findByPort, listSockets, terminatePort, waitForListen } from '../../src/ports.js';
import { parseSocketTable } from '../../src/ports.js';
import { openProcess } from '../../src/pidfd.js';
import { codeOf, errorOf, rejectionOf } from '../helpers/errors.js';
import { FIXTURE_SRC } from '../helpers/paths.js';
import { LineReader, exited, start, stopAll } from '../helpers/procs.js';

const LISTENER = path.join(FIXTURE_SRC, 'listener.cjs');

async function listener(args: string[] = ['tcp']): Promise<{ child: ChildProcess; pid: number; port: number; lines: LineReader }> {
  const child = start(process.execPath, [LISTENER, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = new LineReader(child.stdout!);
  const m = /^listening (\d+) (\d+)$/.exec(await lines.next(15_000));
  if (!m) throw new Error('listener did not start');
  return { child, pid: Number(m[1]), port: Number(m[2]), lines };
}

/** A port that was free a moment ago (bound to 0 and released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

afterEach(() => stopAll());
afterAll(() => stopAll());

describe('parseSocketTable', () => {
  const HEAD = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  it('reads IPv4 rows: addresses in host order, ports in hex, state, uid, inode', () => {
    const rows = parseSocketTable(`${HEAD}   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0\n`, 'tcp');
    expect(rows).toEqual([{ protocol: 'tcp', localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '0.0.0.0', remotePort: 0, state: 'LISTEN', inode: 4242, uid: 1000 }]);
  });
  it('reads IPv6 rows, compressing zeros, and v4-mapped addresses', () => {
    const text = `${HEAD}   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7 1\n`
      + `   1: 0000000000000000FFFF00000100007F:0051 0000000000000000FFFF00000200007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 8 1\n`
      + `   2: 000080FE00000000FF00AB02CDEF0012:0052 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 9 1\n`;
    const rows = parseSocketTable(text, 'udp6');
    expect(rows.map((r) => [r.localAddress, r.localPort, r.remoteAddress, r.remotePort, r.state])).toEqual([
      ['::1', 80, '::', 0, 'UNKNOWN'],
      ['::ffff:127.0.0.1', 81, '::ffff:127.0.0.2', 0xd431, 'ESTABLISHED'],
      ['fe80::2ab:ff:1200:efcd', 82, '::', 0, 'UNCONN'],
    ]);
  });
  it('skips lines that do not parse, and filters by port', () => {
    const text = `${HEAD}garbage\n   0: 0100007F:ZZZZ 00000000:0000 0A\n   1: 0100007F:0016 00000000:0000 0A 0:0 0:0 0 0 0 5 1\n   2: 0100007F:0017 00000000:0000 0A 0:0 0:0 0 0 0 6 1\n`;
    expect(parseSocketTable(text, 'tcp').map((r) => r.localPort)).toEqual([22, 23]);
    expect(parseSocketTable(text, 'tcp', 23).map((r) => r.inode)).toEqual([6]);
  });
});

describe('findByPort and listSockets', () => {
  it('finds the process that listens, with its name, protocol and state', async () => {
    const l = await listener(['tcp']);
    const found = findByPort(l.port);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ pid: l.pid, comm: 'node', protocol: 'tcp', localAddress: '127.0.0.1', localPort: l.port, state: 'LISTEN', uid: process.getuid!() });
    expect(found[0]!.inode).toBeGreaterThan(0);
    expect(findByPort(l.port, { protocol: 'udp' })).toEqual([]);
  });

  it('finds a bound UDP socket as UNCONN, and each protocol on its own', async () => {
    const l = await listener(['both']);
    const all = findByPort(l.port);
    expect(all.map((s) => [s.protocol, s.state, s.pid])).toEqual([['tcp', 'LISTEN', l.pid], ['udp', 'UNCONN', l.pid]]);
    expect(findByPort(l.port, { protocol: 'tcp' }).map((s) => s.protocol)).toEqual(['tcp']);
    expect(findByPort(l.port, { protocol: 'udp', pid: l.pid }).map((s) => s.protocol)).toEqual(['udp']);
  });

  it("state 'any' adds the accepted connection; listSockets lists what one process holds", async () => {
    const l = await listener(['tcp']);
    const client = connect(l.port, '127.0.0.1');
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    try {
      // The kernel completes the handshake before accept(): until the
      // listener's loop accepts it, the connection has no holder (pid null).
      const deadline = Date.now() + 10_000;
      let any = findByPort(l.port, { state: 'any' });
      while (!any.some((s) => s.state === 'ESTABLISHED' && s.pid !== null) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
        any = findByPort(l.port, { state: 'any' });
      }
      expect(any.filter((s) => s.state === 'ESTABLISHED').map((s) => s.pid)).toEqual([l.pid]);
      expect(findByPort(l.port).map((s) => s.state)).toEqual(['LISTEN']);
      const mine = listSockets(l.pid);
      expect(mine.every((s) => s.pid === l.pid)).toBe(true);
      expect(mine.map((s) => s.state).sort()).toEqual(['ESTABLISHED', 'LISTEN']);
      expect(listSockets(process.pid).some((s) => s.remotePort === l.port && s.state === 'ESTABLISHED')).toBe(true);
    } finally {
      client.destroy();
    }
  });

  it('refuses bad ports and options before reading anything', () => {
    expect(codeOf(() => findByPort(0))).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => findByPort(65536))).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => findByPort(80.5))).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => findByPort('80' as unknown as number))).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => findByPort(80, { proto: 'tcp' } as never))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => findByPort(80, { protocol: 'sctp' } as never))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => findByPort(80, { state: 'closed' } as never))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => findByPort(80, { pid: 0 }))).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => listSockets(-1))).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('says ESRCH for a process that is gone', async () => {
    const l = await listener(['tcp']);
    l.child.kill('SIGKILL');
    await exited(l.child);
    expect(errorOf(() => listSockets(l.pid))).toMatchObject({ code: 'ESRCH', errno: -3, syscall: 'open', pid: l.pid });
    expect(errorOf(() => findByPort(80, { pid: l.pid }))).toMatchObject({ code: 'ESRCH', pid: l.pid });
  });
});

describe('terminatePort', () => {
  it('ends the holder of the port with SIGTERM and reports it', async () => {
    const l = await listener(['tcp']);
    const r = await terminatePort(l.port, { graceMs: 5000 });
    expect(r).toMatchObject({ port: l.port, exited: true });
    expect(r.results.map((x) => [x.pid, x.exited, x.forced])).toEqual([[l.pid, true, false]]);
    expect(await exited(l.child)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(findByPort(l.port)).toEqual([]);
  });

  it('finds nothing on a free port', async () => {
    const port = await freePort();
    expect(await terminatePort(port)).toMatchObject({ port, exited: true, notFound: true, results: [] });
  });

  it('refuses a port this process listens on, before sending anything', async () => {
    const server: Server = await new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const port = (server.address() as { port: number }).port;
      const e = await rejectionOf(terminatePort(port));
      expect(e).toMatchObject({ code: 'ERR_SIGKIT_PROTECTED', pid: process.pid, reason: 'self' });
      expect(findByPort(port).map((s) => s.pid)).toEqual([process.pid]);
    } finally {
      server.close();
    }
  });

  it('checks its options like every options bag', async () => {
    expect((await rejectionOf(terminatePort(80, { grace: 10 } as never))).code).toBe('ERR_INVALID_ARG_VALUE');
    expect((await rejectionOf(terminatePort(80, { state: 'any' } as never))).code).toBe('ERR_INVALID_ARG_VALUE');
  });
});

describe('waitForListen', () => {
  it('resolves when the target listens, with its socket', async () => {
    const port = await freePort();
    const child = start(process.execPath, [LISTENER, 'tcp', String(port), '--wait'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const waiting = waitForListen(child.pid!, port, { timeoutMs: 20_000 });
    child.stdin!.write('go\n');
    const s = await waiting;
    expect(s).toMatchObject({ pid: child.pid, localPort: port, state: 'LISTEN', protocol: 'tcp' });
  });

  it('resolves for a listener anywhere in the target tree (a grandchild), through a handle', async () => {
    const port = await freePort();
    const child = start(process.execPath, [LISTENER, 'tcp', String(port), '--wait', '--child'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = new LineReader(child.stdout!);
    const handle = openProcess(child.pid!);
    try {
      const waiting = waitForListen(handle, port, { timeoutMs: 20_000 });
      child.stdin!.write('go\n');
      const grandchild = Number(/^listening (\d+)/.exec(await lines.next(15_000))![1]);
      const s = await waiting;
      expect(s.pid).toBe(grandchild);
      expect(s.pid).not.toBe(child.pid);
    } finally {
      handle.close();
      // The fixture ends its grandchild on SIGTERM: wait for that, so no listener outlives the test.
      child.kill('SIGTERM');
      await exited(child, 10_000);
    }
  });

  it('rejects with ERR_SIGKIT_EXITED when the target exits first', async () => {
    const port = await freePort();
    const child = start(process.execPath, [LISTENER, 'tcp', String(port), '--wait'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const waiting = waitForListen(child.pid!, port, { timeoutMs: 20_000 });
    child.stdin!.write('exit\n');
    expect(await rejectionOf(waiting)).toMatchObject({ code: 'ERR_SIGKIT_EXITED', pid: child.pid, port });
  });

  it('times out, aborts, and refuses bad input', async () => {
    const port = await freePort();
    const child = start(process.execPath, [LISTENER, 'tcp', String(port), '--wait'], { stdio: ['pipe', 'pipe', 'inherit'] });
    expect(await rejectionOf(waitForListen(child.pid!, port, { timeoutMs: 50 }))).toMatchObject({ code: 'ERR_SIGKIT_TIMEOUT', timeoutMs: 50 });
    expect(await rejectionOf(waitForListen(null, port, { signal: AbortSignal.abort() }))).toMatchObject({ code: 'ABORT_ERR' });
    expect((await rejectionOf(waitForListen(child.pid!, port, { timeout: 5 } as never))).code).toBe('ERR_INVALID_ARG_VALUE');
    expect((await rejectionOf(waitForListen(child.pid!, 0))).code).toBe('ERR_OUT_OF_RANGE');
    expect((await rejectionOf(waitForListen(0, port))).code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('with a null target, resolves for any process', async () => {
    const port = await freePort();
    const child = start(process.execPath, [LISTENER, 'tcp', String(port), '--wait'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const waiting = waitForListen(null, port, { timeoutMs: 20_000 });
    child.stdin!.write('go\n');
    expect((await waiting).pid).toBe(child.pid);
  });
});
