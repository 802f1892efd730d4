/** The pure /proc parsers on captured and hostile samples. */
import { describe, expect, it } from 'vitest';
import { maskToNumbers, parseCmdline, parseStatus, ttyName } from '../../src/proc-parse.js';

const STATUS = [
  'Name:\tnew\\nline',
  'Umask:\t0022',
  'State:\tS (sleeping)',
  'Tgid:\t4242',
  'Pid:\t4242',
  'PPid:\t1',
  'Uid:\t1000\t1001\t1002\t1003',
  'Gid:\t100\t101\t102\t103',
  'VmRSS:\t    1516 kB',
  'Threads:\t3',
  'SigQ:\t1/95755',
  'SigPnd:\t0000000000000000',
  'ShdPnd:\t0000000000000800',
  'SigBlk:\t0000000000000800',
  'SigIgn:\t0000000000000200',
  'SigCgt:\t0000000200014002',
  '',
].join('\n');

describe('parseStatus', () => {
  it('reads ids, threads and the five masks', () => {
    const s = parseStatus(STATUS);
    expect(s.uids).toEqual([1000, 1001, 1002, 1003]);
    expect(s.gids).toEqual([100, 101, 102, 103]);
    expect(s.threads).toBe(3);
    expect(s.vmRssKiB).toBe(1516);
    expect(s.masks).toEqual({ SigPnd: '0000000000000000', ShdPnd: '0000000000000800', SigBlk: '0000000000000800', SigIgn: '0000000000000200', SigCgt: '0000000200014002' });
  });

  it('survives truncation, garbage and hostile values', () => {
    expect(parseStatus('')).toEqual({ uids: null, gids: null, threads: null, vmRssKiB: null, masks: {} });
    expect(parseStatus('Uid:\t1 2\nThreads:\t-4\nSigCgt:\tzzzz\nSigBlk:\t00000000000000000000\n:::')).toEqual({ uids: null, gids: null, threads: null, vmRssKiB: null, masks: {} });
    // VmRSS in any unit but kB, negative or not a number is not a figure.
    for (const v of ['1516 MB', '-3 kB', 'x kB', '1516', '']) expect(parseStatus(`VmRSS:\t${v}`).vmRssKiB).toBeNull();
    expect(parseStatus(STATUS.slice(0, STATUS.indexOf('SigBlk') + 10)).masks).toEqual({ SigPnd: '0000000000000000', ShdPnd: '0000000000000800' });
  });
});

describe('maskToNumbers', () => {
  it('bit n-1 is signal n, over all 64 bits', () => {
    expect(maskToNumbers('0000000000000800')).toEqual([12]);
    expect(maskToNumbers('0000000200014002')).toEqual([2, 15, 17, 34]);
    expect(maskToNumbers('8000000000000001')).toEqual([1, 64]);
    expect(maskToNumbers('ffffffffffffffff')).toHaveLength(64);
    expect(maskToNumbers('1')).toEqual([]); // truncated
  });

  it('ignores what is not a mask', () => {
    expect(maskToNumbers(undefined)).toEqual([]);
    expect(maskToNumbers('')).toEqual([]);
    expect(maskToNumbers('0x12')).toEqual([]);
    expect(maskToNumbers('1'.repeat(17))).toEqual([]);
  });
});

describe('parseCmdline', () => {
  it('splits on NUL and drops the terminator', () => {
    expect(parseCmdline('node\0-e\0a b\0')).toEqual(['node', '-e', 'a b']);
    expect(parseCmdline('')).toEqual([]);
    expect(parseCmdline('\0')).toEqual(['']);
    expect(parseCmdline('no-terminator')).toEqual(['no-terminator']);
    expect(parseCmdline('a\0\0b\0')).toEqual(['a', '', 'b']);
  });
});

describe('ttyName', () => {
  it('names terminals as ps does', () => {
    expect(ttyName(0)).toBeNull();
    expect(ttyName((136 << 8) | 3)).toBe('pts/3');
    expect(ttyName((136 << 8) | (300 & 0xff) | ((300 & 0xfff00) << 12))).toBe('pts/300');
    expect(ttyName((4 << 8) | 1)).toBe('tty1');
    expect(ttyName((4 << 8) | 64)).toBe('ttyS0');
    expect(ttyName((5 << 8) | 1)).toBe('console');
  });
});
