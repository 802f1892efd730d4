/**
 * Property-based fuzzing of the TypeScript parsers with fast-check: the
 * signal-name parser, the /proc status and cmdline parsers, and the CLI's
 * argument parsers. `npm test` runs a short pass; `npm run fuzz` sets
 * FUZZ_RUNS high for a long one. Every counterexample found becomes a fixed
 * case below.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration, parsePid } from '../../src/cli/io.js';
import { maskToNumbers, parseCmdline, parseStatus, ttyName } from '../../src/proc-parse.js';
import { SignalCatalogue } from '../../src/signals.js';

const runs = Number(process.env.FUZZ_RUNS ?? 300);
const opts = { numRuns: runs };
const glibc = new SignalCatalogue({ rtmin: 34, rtmax: 64 });

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code ?? `untyped ${(e as Error).name}`;
  }
}

// Strings biased towards signal-like spellings.
const signalish = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.tuple(fc.constantFrom('', 'SIG', 'sig', 'Sig', 'ſig', 'SİG'), fc.constantFrom('TERM', 'RTMIN', 'RTMAX', 'rtmin', 'KILL', 'IOT', 'CLD', '32', 'FOO', ''),
    fc.constantFrom('', '+', '-', '++'), fc.oneof(fc.constant(''), fc.nat(100).map(String), fc.string({ maxLength: 3 })))
    .map(([a, b, c, d]) => a + b + c + d),
);

describe('signal names', () => {
  it('parse to a number in range or throw ERR_UNKNOWN_SIGNAL, nothing else', () => {
    fc.assert(fc.property(signalish, (s) => {
      const code = codeOf(() => glibc.number(s));
      if (code === undefined) {
        const n = glibc.number(s);
        expect(Number.isInteger(n) && n >= 1 && n <= 64).toBe(true);
        expect(/^[A-Za-z0-9+-]+$/.test(s)).toBe(true);
      } else {
        expect(code).toBe('ERR_UNKNOWN_SIGNAL');
      }
    }), opts);
  });

  it('any value at all: a number or ERR_UNKNOWN_SIGNAL', () => {
    fc.assert(fc.property(fc.anything(), (v) => {
      const code = codeOf(() => glibc.number(v as never));
      expect(code === undefined || code === 'ERR_UNKNOWN_SIGNAL').toBe(true);
    }), opts);
  });

  it('fixed cases found by fuzzing', () => {
    expect(glibc.number('SIG32')).toBe(32);
    expect(codeOf(() => glibc.number('32'))).toBe('ERR_UNKNOWN_SIGNAL');
  });

  it('every name round-trips through its number, in any letter case', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 64 }), fc.boolean(), fc.boolean(), (n, lower, strip) => {
      let name = glibc.name(n);
      // libc's reserved 32 and 33 are named only 'SIG32'/'SIG33': '32' is a number, not a name.
      if (strip && !/^SIG\d+$/.test(name)) name = name.slice(3);
      if (lower) name = name.toLowerCase();
      expect(glibc.number(name)).toBe(n);
    }), opts);
  });
});

const statusLine = fc.oneof(
  fc.string(),
  fc.tuple(fc.constantFrom('Uid', 'Gid', 'Threads', 'SigPnd', 'ShdPnd', 'SigBlk', 'SigIgn', 'SigCgt', 'Name', 'SigQ'),
    fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-f]{0,20}$/), fc.array(fc.nat(), { maxLength: 5 }).map((a) => a.join('\t'))))
    .map(([k, v]) => `${k}:\t${v}`),
);

describe('/proc parsers', () => {
  it('parseStatus never throws and only yields well-formed fields', () => {
    fc.assert(fc.property(fc.array(statusLine, { maxLength: 30 }), (lines) => {
      const s = parseStatus(lines.join('\n'));
      for (const m of Object.values(s.masks)) expect(m).toMatch(/^[0-9a-fA-F]{16}$/);
      if (s.uids) expect(s.uids.every((n) => Number.isInteger(n) && n >= 0)).toBe(true);
      if (s.threads !== null) expect(Number.isInteger(s.threads) && s.threads >= 0).toBe(true);
    }), opts);
  });

  it('maskToNumbers gives exactly the set bits of a 64-bit mask', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (mask) => {
      const hex = mask.toString(16).padStart(16, '0');
      const expected: number[] = [];
      for (let bit = 0n; bit < 64n; bit++) if (mask & (1n << bit)) expected.push(Number(bit) + 1);
      expect(maskToNumbers(hex)).toEqual(expected);
    }), opts);
  });

  it('parseCmdline inverts the kernel\'s NUL-joined, NUL-terminated layout', () => {
    fc.assert(fc.property(fc.array(fc.string().filter((s) => !s.includes('\0')), { minLength: 1, maxLength: 8 }), (args) => {
      expect(parseCmdline(args.map((a) => `${a}\0`).join(''))).toEqual(args);
    }), opts);
  });

  it('ttyName never throws', () => {
    fc.assert(fc.property(fc.integer(), (n) => {
      const name = ttyName(n);
      expect(name === null || typeof name === 'string').toBe(true);
    }), opts);
  });
});

describe('CLI argument parsers', () => {
  it('parsePid accepts exactly 1..2^31-1 in plain decimal, else a usage error', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.integer().map(String), fc.constantFrom('0', '-1', '01', '1e3', '0x10', ' 1', '2147483648')), (s) => {
      let pid: number | undefined;
      let exitCode: number | undefined;
      try {
        pid = parsePid(s);
      } catch (e) {
        exitCode = (e as { exitCode?: number }).exitCode;
      }
      if (pid !== undefined) {
        expect(/^[0-9]+$/.test(s) && pid >= 1 && pid <= 2147483647 && String(Number(s)) === String(pid)).toBe(true);
      } else {
        expect(exitCode).toBe(2);
      }
    }), opts);
  });

  it('parseDuration gives a finite non-negative number of ms or a usage error', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.tuple(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constantFrom('', 'ms', 's', 'm', 'h', 'x')).map(([n, u]) => `${n}${u}`)), (s) => {
      try {
        const ms = parseDuration(s, 'DUR');
        expect(Number.isFinite(ms) && ms >= 0).toBe(true);
      } catch (e) {
        expect((e as { exitCode?: number }).exitCode).toBe(2);
      }
    }), opts);
  });
});
