/** The pure catalogue: parsing, naming and layout, for glibc's and musl's realtime ranges. */
import { describe, expect, it } from 'vitest';
import { SignalCatalogue } from '../../src/signals.js';
import { codeOf } from '../helpers/errors.js';

const glibc = new SignalCatalogue({ rtmin: 34, rtmax: 64 });
const musl = new SignalCatalogue({ rtmin: 35, rtmax: 64 });


describe('SignalCatalogue.number', () => {
  it('parses every spelling API.md names', () => {
    expect(glibc.number('SIGTERM')).toBe(15);
    expect(glibc.number('TERM')).toBe(15);
    expect(glibc.number('sigterm')).toBe(15);
    expect(glibc.number('Term')).toBe(15);
    expect(glibc.number('SIGRTMIN+3')).toBe(37);
    expect(glibc.number('RTMIN+3')).toBe(37);
    expect(glibc.number('SIGRTMAX-1')).toBe(63);
    expect(glibc.number('rtmax-1')).toBe(63);
    expect(glibc.number('SIGRTMIN')).toBe(34);
    expect(glibc.number('RTMAX')).toBe(64);
    expect(glibc.number('SIGRTMIN+0')).toBe(34);
    expect(glibc.number('SIGRTMAX-0')).toBe(64);
    expect(glibc.number('SIGRTMIN+30')).toBe(64);
    expect(glibc.number('SIGRTMAX-30')).toBe(34);
    expect(glibc.number('SIGIOT')).toBe(6);
    expect(glibc.number('cld')).toBe(17);
    expect(glibc.number('SIGPOLL')).toBe(29);
    expect(glibc.number(0)).toBe(0);
    expect(glibc.number(64)).toBe(64);
  });

  it('follows the realtime range it was given (musl reserves 32..34)', () => {
    expect(musl.number('SIGRTMIN')).toBe(35);
    expect(musl.number('SIGRTMIN+3')).toBe(38);
    expect(musl.name(34)).toBe('SIG34');
    expect(musl.info(34).reserved).toBe(true);
    expect(glibc.info(34).reserved).toBe(false);
  });

  it.each([
    '', 'SIG', 'SIGFOO', 'FOO', ' SIGTERM', 'SIGTERM ', 'SIGTERM\n', 'SIG TERM', 'SIGTERM\0',
    'ſigterm', 'sıgterm', 'SIGRTMIN+31', 'SIGRTMAX-31', 'SIGRTMIN-1', 'SIGRTMAX+1', 'RTMIN+', 'RTMIN++1',
    'SIGRTMIN+99999', '15', '-15', 'SIGTERM+1', 'SIG15', 'TERM1', '__proto__', 'constructor', 'toString',
  ])('refuses the name %j with ERR_UNKNOWN_SIGNAL', (name) => {
    expect(codeOf(() => glibc.number(name))).toBe('ERR_UNKNOWN_SIGNAL');
  });

  it.each([65, -1, 1.5, NaN, Infinity, -0.5, 2 ** 31])('refuses the number %s with ERR_UNKNOWN_SIGNAL', (n) => {
    expect(codeOf(() => glibc.number(n))).toBe('ERR_UNKNOWN_SIGNAL');
  });

  it('refuses other types with ERR_UNKNOWN_SIGNAL, as a TypeError', () => {
    for (const v of [null, undefined, {}, [], 15n, true, Symbol('x')]) {
      expect(codeOf(() => glibc.number(v as never))).toBe('ERR_UNKNOWN_SIGNAL');
    }
    expect(() => glibc.number('SIGFOO')).toThrow(TypeError);
  });
});

describe('SignalCatalogue.name', () => {
  it('gives canonical names, realtime ones as bash writes them', () => {
    expect(glibc.name(15)).toBe('SIGTERM');
    expect(glibc.name(6)).toBe('SIGABRT');
    expect(glibc.name(34)).toBe('SIGRTMIN');
    expect(glibc.name(49)).toBe('SIGRTMIN+15');
    expect(glibc.name(50)).toBe('SIGRTMAX-14');
    expect(glibc.name(64)).toBe('SIGRTMAX');
    expect(glibc.name(32)).toBe('SIG32');
  });

  it('throws ERR_UNKNOWN_SIGNAL for 0 and numbers without a signal', () => {
    for (const n of [0, 65, -1, 1.5]) expect(codeOf(() => glibc.name(n))).toBe('ERR_UNKNOWN_SIGNAL');
  });
});

describe('SignalCatalogue.signals and table', () => {
  it('lists 1..SIGRTMAX once each with flags', () => {
    const all = glibc.signals();
    expect(all.map((s) => s.number)).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    const by = (n: number) => all[n - 1]!;
    expect(by(9)).toMatchObject({ catchable: false, defaultAction: 'terminate' });
    expect(by(19)).toMatchObject({ catchable: false, defaultAction: 'stop' });
    expect(by(11)).toMatchObject({ reserved: true, defaultAction: 'core' });
    expect(by(17)).toMatchObject({ defaultAction: 'ignore', aliases: ['SIGCLD'] });
    expect(by(18).defaultAction).toBe('continue');
    expect(by(33)).toMatchObject({ name: 'SIG33', realtime: true, reserved: true });
    expect(by(35)).toMatchObject({ name: 'SIGRTMIN+1', aliases: ['SIGRTMAX-29'], realtime: true, reserved: false, description: 'Real-time signal 1' });
    expect(Object.isFrozen(by(1))).toBe(true);
  });

  it('the table is frozen and knows every spelling', () => {
    expect(Object.isFrozen(glibc.table)).toBe(true);
    expect(glibc.table.SIGRTMIN).toBe(34);
    expect(glibc.table['SIGRTMIN+16']).toBe(50);
    expect(glibc.table['SIGRTMAX-14']).toBe(50);
    expect(glibc.table.SIGIOT).toBe(6);
  });

  it('rejects an impossible realtime range', () => {
    expect(() => new SignalCatalogue({ rtmin: 20, rtmax: 64 })).toThrow(RangeError);
    expect(() => new SignalCatalogue({ rtmin: 40, rtmax: 35 })).toThrow(RangeError);
  });
});

describe('formatSignalList', () => {
  it('lays out five per row with tabs, as bash does', () => {
    const text = glibc.formatSignalList();
    const rows = text.split('\n');
    expect(rows[0]).toBe(' 1) SIGHUP\t 2) SIGINT\t 3) SIGQUIT\t 4) SIGILL\t 5) SIGTRAP');
    expect(rows[6]).toBe('31) SIGSYS\t34) SIGRTMIN\t35) SIGRTMIN+1\t36) SIGRTMIN+2\t37) SIGRTMIN+3');
    expect(rows.at(-2)).toBe('63) SIGRTMAX-1\t64) SIGRTMAX\t');
    expect(text.endsWith('\t\n')).toBe(true);
  });

  it('ends with a bare newline when the last row is full', () => {
    const text = musl.formatSignalList(); // 31 + 30 = 61 names: one on the last row
    expect(text.split('\n').at(-2)).toBe('64) SIGRTMAX\t');
    const even = new SignalCatalogue({ rtmin: 34, rtmax: 37 }).formatSignalList(); // 35 names
    expect(even.endsWith('SIGRTMAX\n')).toBe(true);
  });
});
