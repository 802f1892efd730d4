/**
 * What a dynamic loader will ask of an ELF file, read from `readelf`
 * output: machine, NEEDED libraries, required symbol versions
 * (.gnu.version_r, what glibc checks at load time), dynamic symbols.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../helpers/paths.js';

export interface DynSymbol {
  name: string;
  /** `GLIBC_2.17` for `memcpy@GLIBC_2.17`; null when unversioned. */
  version: string | null;
  bind: string;
  type: string;
  undefined: boolean;
}

export interface ElfFacts {
  file: string;
  size: number;
  elfClass: string;
  type: string;
  machine: string;
  needed: string[];
  /** library -> versions required from it (GLIBC_2.14, GLIBCXX_3.4.25, ...) */
  versionNeeds: Map<string, string[]>;
  symbols: DynSymbol[];
  hasSymtab: boolean;
}

function readelf(args: string[], file: string): string {
  return execFileSync('readelf', ['-W', ...args, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function parseHeader(text: string): { elfClass: string; type: string; machine: string } {
  const field = (name: string) => new RegExp(`^\\s*${name}:\\s+(.+)$`, 'm').exec(text)?.[1].trim() ?? '';
  return { elfClass: field('Class'), type: field('Type').split(' ')[0], machine: field('Machine') };
}

export function parseNeeded(text: string): string[] {
  return [...text.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
}

export function parseVersionNeeds(text: string): Map<string, string[]> {
  const needs = new Map<string, string[]>();
  const section = text.split(/Version needs section/)[1] ?? '';
  let current: string[] | undefined;
  for (const line of section.split('\n')) {
    const file = /File: (\S+)/.exec(line);
    if (file) {
      current = [];
      needs.set(file[1], current);
      continue;
    }
    const name = /Name: (\S+)/.exec(line);
    if (name && current) current.push(name[1]);
  }
  return needs;
}

export function parseDynSyms(text: string): DynSymbol[] {
  const out: DynSymbol[] = [];
  for (const line of text.split('\n')) {
    // "   12: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND memcpy@GLIBC_2.14 (6)"
    const m = /^\s*\d+:\s+[0-9a-f]+\s+\d+\s+(\w+)\s+(\w+)\s+\w+\s+(\w+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const [, type, bind, ndx, full] = m;
    const at = full.indexOf('@');
    out.push({
      name: at < 0 ? full : full.slice(0, at),
      version: at < 0 ? null : full.slice(at).replace(/^@+/, ''),
      bind,
      type,
      undefined: ndx === 'UND',
    });
  }
  return out;
}

export function elfFacts(file: string): ElfFacts {
  return {
    file,
    size: statSync(file).size,
    ...parseHeader(readelf(['-h'], file)),
    needed: parseNeeded(readelf(['-d'], file)),
    versionNeeds: parseVersionNeeds(readelf(['-V'], file)),
    symbols: parseDynSyms(readelf(['--dyn-syms'], file)),
    hasSymtab: /\]\s+\.symtab\s/.test(readelf(['-S'], file)),
  };
}

/** Compares dotted versions numerically, part by part: 2.3.2 < 2.17 < 2.28. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Highest `PREFIX_x.y.z` needed by the file, over all libraries ("GLIBC" -> "2.17"). */
export function highestVersion(facts: ElfFacts, prefix: string): string | null {
  const all = [...facts.versionNeeds.values()].flat()
    .filter((v) => v.startsWith(`${prefix}_`) && /^\d/.test(v.slice(prefix.length + 1)))
    .map((v) => v.slice(prefix.length + 1));
  return all.sort(compareVersions).at(-1) ?? null;
}

/** Symbols Node itself provides to an addon (N-API and libuv). */
export const NODE_PROVIDED = /^(napi_|node_api_|uv_)/;

export const PREBUILDS = path.join(ROOT, 'prebuilds');

export interface PrebuildFile {
  /** e.g. linux-arm64 */
  dir: string;
  arch: 'x64' | 'arm64';
  libc: 'glibc' | 'musl';
  file: string;
}

/** Every built file in prebuilds/linux-*, addons and executables, with its arch and libc tag. */
export function listPrebuilds(): PrebuildFile[] {
  if (!existsSync(PREBUILDS)) return [];
  const out: PrebuildFile[] = [];
  for (const dir of readdirSync(PREBUILDS).filter((d) => d.startsWith('linux-')).sort()) {
    for (const name of readdirSync(path.join(PREBUILDS, dir)).sort()) {
      const libc = /\.(glibc|musl)(\.node)?$/.exec(name)?.[1];
      if (!libc) continue;
      out.push({ dir, arch: dir.slice('linux-'.length) as 'x64' | 'arm64', libc: libc as 'glibc' | 'musl', file: path.join(PREBUILDS, dir, name) });
    }
  }
  return out;
}
