/**
 * The x64 musl prebuild as musl's own dynamic loader sees it. There is no
 * musl Node here, so a small C program built with musl-gcc (Debian's
 * musl-tools, musl 1.2.3, older than the 1.2.4 Zig links against) stands in
 * for node: it exports a stub for every N-API/libuv function the addon
 * imports and dlopen()s the addon with RTLD_NOW, so every libc symbol must
 * resolve in real musl and the addon's initialisers (static libc++) run.
 * What this does not show: the addon running inside a musl Node.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';
import { elfFacts, NODE_PROVIDED } from './elf.js';

const MUSL_PREBUILD = path.join(ROOT, 'prebuilds', 'linux-x64', 'sigkit.musl.node');
const GLIBC_PREBUILD = path.join(ROOT, 'prebuilds', 'linux-x64', 'sigkit.glibc.node');

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => existsSync(path.join(d, cmd)));
}

function missing(): string | null {
  if (process.arch !== 'x64') return `the musl loader check runs on x64 (this is ${process.arch})`;
  if (!onPath('musl-gcc') || !existsSync('/lib/ld-musl-x86_64.so.1')) return 'no musl-gcc or /lib/ld-musl-x86_64.so.1 (apt-get install musl-tools)';
  if (!existsSync(MUSL_PREBUILD)) return `no prebuilds/linux-x64/sigkit.musl.node (${inject('prebuilds').reason || 'not built'})`;
  return null;
}

const why = missing();
const work = why ? '' : mkdtempSync(path.join(tmpdir(), 'sigkit-musl-'));
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Builds the stand-in host for `addon`'s imports; returns its path. */
function harness(addon: string): string {
  const imports = [...new Set(elfFacts(addon).symbols.filter((s) => s.undefined && NODE_PROVIDED.test(s.name)).map((s) => s.name))];
  const src = path.join(work, 'host.c');
  writeFileSync(src, [
    '#include <dlfcn.h>',
    '#include <stdio.h>',
    'static int calls;',
    // Each stub counts: node's functions must not be called while loading.
    ...imports.map((name) => `int ${name}(void) { calls++; return 0; }`),
    'int main(int argc, char **argv) {',
    '  if (argc < 2) return 2;',
    '  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);',
    '  if (!h) { printf("dlopen failed: %s\\n", dlerror()); return 1; }',
    '  void *init = dlsym(h, "napi_register_module_v1");',
    '  printf("loaded, napi_register_module_v1 %s, %d node calls\\n", init ? "found" : "missing", calls);',
    '  return init && calls == 0 ? 0 : 1;',
    '}',
  ].join('\n'));
  const out = path.join(work, 'host');
  execFileSync('musl-gcc', ['-O1', '-Wall', '-Wextra', '-Werror', '-rdynamic', '-o', out, src], { stdio: ['ignore', 'pipe', 'pipe'] });
  return out;
}

function load(host: string, addon: string): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync(host, [addon], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }) };
  } catch (e) {
    const { status, stdout } = e as { status: number | null; stdout?: string };
    return { code: status ?? -1, out: stdout ?? '' };
  }
}

describe(why ? `musl's loader (skipped: ${why})` : "musl's loader", () => {
  it.skipIf(!!why)('dlopen(RTLD_NOW) of the x64 musl prebuild succeeds under ld-musl-x86_64.so.1', () => {
    const host = harness(MUSL_PREBUILD);
    expect(execFileSync('readelf', ['-l', '-W', host], { encoding: 'utf8' })).toContain('/lib/ld-musl-x86_64.so.1');
    const r = load(host, MUSL_PREBUILD);
    console.log(`musl 1.2.3 loader, prebuilds/linux-x64/sigkit.musl.node: ${r.out.trim()}`);
    expect(r).toEqual({ code: 0, out: 'loaded, napi_register_module_v1 found, 0 node calls\n' });
  });

  it.skipIf(!!why || !existsSync(GLIBC_PREBUILD))('and refuses the glibc prebuild (the check above can fail)', () => {
    const r = load(harness(GLIBC_PREBUILD), GLIBC_PREBUILD);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/^dlopen failed: /);
  });
});
