/**
 * The catalogue against the machine: every name and number must be what
 * bash's `kill -l` says, and formatSignalList() must print its table.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Signal, formatSignalList, signalName, signalNumber, signals } from '../../src/index.js';

function bash(script: string): string {
  return execFileSync('bash', ['-c', script], { encoding: 'utf8' });
}

describe('signal catalogue vs bash kill -l', () => {
  const byNumber = new Map<number, string>();
  for (const line of bash('for i in $(seq 1 64); do printf "%s %s\\n" $i "$(kill -l $i 2>/dev/null)"; done').trim().split('\n')) {
    const [n, name] = line.split(' ');
    if (name) byNumber.set(Number(n), `SIG${name}`);
  }

  it('bash names 62 signals (1..64 without libc\'s 32 and 33)', () => {
    expect(byNumber.size).toBe(62);
    expect(byNumber.has(32)).toBe(false);
  });

  it('signalName(n) is bash\'s name for every n in 1..64', () => {
    for (const [n, name] of byNumber) expect(signalName(n)).toBe(name);
  });

  it('signalNumber(name) is bash\'s number for every name, and bash agrees the other way', () => {
    const names = [...byNumber.values()];
    const numbers = bash(`for s in ${names.join(' ')}; do kill -l $s; done`).trim().split('\n').map(Number);
    names.forEach((name, i) => {
      expect(signalNumber(name)).toBe(numbers[i]);
      expect(byNumber.get(numbers[i]!)).toBe(name);
    });
  });

  it('SIGRTMIN and SIGRTMAX come from the native layer and match bash', () => {
    expect(Signal.SIGRTMIN).toBe(Number(bash('kill -l RTMIN').trim()));
    expect(Signal.SIGRTMAX).toBe(Number(bash('kill -l RTMAX').trim()));
    expect(signals().at(-1)!.number).toBe(Signal.SIGRTMAX);
  });

  it('formatSignalList() is byte for byte the kill -l table', () => {
    expect(formatSignalList()).toBe(bash('kill -l'));
  });

  it('the long list names every listed signal with its default action', () => {
    const long = formatSignalList({ long: true }).trimEnd().split('\n');
    expect(long).toHaveLength(62);
    expect(long[14]).toMatch(/^15\) SIGTERM\s+terminate\s+Terminated$/);
    expect(long[18]).toMatch(/^19\) SIGSTOP\s+stop\s+Stopped \(signal\)$/);
  });
});
