/**
 * The package as users get it: loaded from a prebuild alone, packed with
 * all four prebuilds, installed from the tarball into a consumer project
 * with no compiler on PATH, imported as ESM and CommonJS, type-checked, and
 * refused with a clear error on another platform.
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PREBUILD_DIR, ROOT } from '../helpers/paths.js';

// test/helpers/global-setup.ts built prebuilds/ (npm run prebuild:all) or
// says why not; without them the prebuild tests below skip.
const prebuilds = inject('prebuilds');
const noPrebuilds = prebuilds.state === 'none';
const skipNote = noPrebuilds ? ` (skipped: no prebuilds: ${prebuilds.reason})` : '';

const work = mkdtempSync(path.join(tmpdir(), 'sigkit-package-'));

function run(cmd: string, args: string[], opts: ExecFileSyncOptions = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts }) as string;
}

/** Runs a command that must fail; returns what it printed. */
function runFailing(cmd: string, args: string[], opts: ExecFileSyncOptions = {}): string {
  try {
    run(cmd, args, opts);
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}`;
  }
  throw new Error(`${cmd} ${args.join(' ')} succeeded`);
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe(`prebuilds${skipNote}`, () => {
  it.skipIf(noPrebuilds)('npm run prebuild:all wrote N-API prebuilds for this platform, one per libc', () => {
    // N-API builds carry no ABI tag (one file serves every Node version);
    // the libc tag keeps a glibc build from loading on musl.
    const files = readdirSync(PREBUILD_DIR).filter((f) => f.endsWith('.node')).sort();
    expect(files).toEqual(['sigkit.glibc.node', 'sigkit.musl.node']);
  });

  function copyWithout(buildDir: boolean, prebuilds: boolean): string {
    const dir = mkdtempSync(path.join(work, 'pkg-'));
    cpSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
    cpSync(path.join(ROOT, 'lib'), path.join(dir, 'lib'), { recursive: true });
    if (prebuilds) cpSync(path.join(ROOT, 'prebuilds'), path.join(dir, 'prebuilds'), { recursive: true });
    if (buildDir) cpSync(path.join(ROOT, 'build', 'Release'), path.join(dir, 'build', 'Release'), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    return dir;
  }

  const probe = [
    'const s = require(process.argv[1]);',
    'const where = require("node-gyp-build").resolve(process.argv[1]);',
    's.kill(process.pid, 0);',
    'console.log(JSON.stringify({ where, rtmin: s.Signal.SIGRTMIN, alive: s.isAlive(process.pid) }));',
  ].join('\n');

  it.skipIf(noPrebuilds)('PREBUILDS_ONLY=1 loads the package from the prebuild alone, build/ removed', () => {
    const dir = copyWithout(false, true);
    expect(existsSync(path.join(dir, 'build'))).toBe(false);
    const out = JSON.parse(run(process.execPath, ['-e', probe, dir], { env: { ...process.env, PREBUILDS_ONLY: '1' } }));
    expect(out.where.startsWith(path.join(dir, 'prebuilds'))).toBe(true);
    expect(out.alive).toBe(true);
    expect(out.rtmin).toBeGreaterThanOrEqual(32);
  });

  it.skipIf(noPrebuilds)('and fails to load without it (the check above can fail)', () => {
    const dir = copyWithout(true, false);
    expect(existsSync(path.join(dir, 'build', 'Release', 'sigkit.node'))).toBe(true);
    expect(runFailing(process.execPath, ['-e', probe, dir], { env: { ...process.env, PREBUILDS_ONLY: '1' } })).toMatch(/No native build was found/);
  });
});

/** npm's own CLI script, to run with this node when PATH holds nothing else. */
function npmCli(): string {
  if (process.env.npm_execpath?.endsWith('.js')) return process.env.npm_execpath;
  const npm = (process.env.PATH ?? '').split(':').map((d) => path.join(d, 'npm')).find((f) => existsSync(f));
  if (!npm) throw new Error('npm not found on PATH');
  return realpathSync(npm);
}

const MAX_TARBALL = 2 * 1024 * 1024;
const FOUR = ['linux-x64/sigkit.glibc.node', 'linux-x64/sigkit.musl.node', 'linux-arm64/sigkit.glibc.node', 'linux-arm64/sigkit.musl.node'];

// Without prebuilds the tarball installs by compiling (normal PATH); the
// prebuild-specific checks skip, the import and type checks still run.
describe(`packed tarball in a consumer project${skipNote}`, () => {
  let consumer: string;
  let packed: { size: number; files: { path: string }[] };
  /** PATH for the consumer: this node and a shell (npm runs scripts with `sh`), nothing else: no cc, c++, make, python3. */
  let bareEnv: NodeJS.ProcessEnv;

  beforeAll(() => {
    const packDir = mkdtempSync(path.join(work, 'pack-'));
    [packed] = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], { cwd: ROOT }));
    const tarball = path.join(packDir, readdirSync(packDir).find((f) => f.endsWith('.tgz'))!);
    consumer = mkdtempSync(path.join(work, 'consumer-'));
    const bin = path.join(work, 'bare-bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(process.execPath, path.join(bin, 'node'));
    symlinkSync('/bin/sh', path.join(bin, 'sh'));
    bareEnv = { ...process.env, PATH: bin };
    writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    run(process.execPath, [npmCli(), 'install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: consumer, env: noPrebuilds ? process.env : bareEnv });
  }, 300_000);

  it.skipIf(noPrebuilds)('the tarball lists all four prebuilds and stays under 2 MB', () => {
    const listed = packed.files.map((f) => f.path).filter((p) => p.startsWith('prebuilds/'));
    expect(listed).toEqual(expect.arrayContaining(FOUR.map((f) => `prebuilds/${f}`)));
    // and exactly what prebuild:all writes (another binding.gyp target adds its files)
    expect(listed.sort()).toEqual([...prebuilds.expected].sort());
    expect(packed.size).toBeLessThan(MAX_TARBALL);
  });

  it.skipIf(noPrebuilds)('the install ran with no compiler or build tool on PATH', () => {
    // The same env the install had: each lookup must fail, or the install
    // above could have compiled and still passed.
    for (const tool of ['cc', 'c++', 'gcc', 'g++', 'make', 'python3']) {
      expect(runFailing('/bin/sh', ['-c', `command -v ${tool} && echo found`], { env: bareEnv }), tool).not.toContain('found');
    }
  });

  it.skipIf(noPrebuilds)('installs without compiling: the prebuild in the tarball is used', () => {
    expect(existsSync(path.join(consumer, 'node_modules', 'sigkit', 'build'))).toBe(false);
    expect(existsSync(path.join(consumer, 'node_modules', 'sigkit', 'lib', 'index.d.ts'))).toBe(true);
    const probe = "const s = require('sigkit'); s.kill(process.pid, 0); console.log(require('node-gyp-build').resolve(require('path').dirname(require.resolve('sigkit/package.json'))));";
    const loaded = run(process.execPath, ['-e', probe], { cwd: consumer, env: bareEnv }).trim();
    expect(loaded).toBe(path.join(realpathSync(consumer), 'node_modules', 'sigkit', 'prebuilds', `linux-${process.arch}`, 'sigkit.glibc.node'));
  });

  it('ESM: import { kill } from "sigkit"', () => {
    writeFileSync(path.join(consumer, 'esm.mjs'), [
      "import { kill, signalNumber, isAlive } from 'sigkit';",
      'kill(process.pid, 0);',
      "console.log(signalNumber('SIGRTMIN+1'), isAlive(process.pid));",
    ].join('\n'));
    expect(run(process.execPath, ['esm.mjs'], { cwd: consumer }).trim()).toMatch(/^3\d true$/);
  });

  it('CommonJS: require("sigkit")', () => {
    writeFileSync(path.join(consumer, 'cjs.cjs'), [
      "const { kill, signalName } = require('sigkit');",
      'kill(process.pid, 0);',
      'console.log(signalName(15));',
    ].join('\n'));
    expect(run(process.execPath, ['cjs.cjs'], { cwd: consumer }).trim()).toBe('SIGTERM');
  });

  it('types resolve for ESM and CommonJS consumers (tsc --noEmit)', () => {
    writeFileSync(path.join(consumer, 'use.mts'), [
      "import { kill, killpg, sigqueue, isAlive, signals, Signal, SyscallError, type SignalInfo } from 'sigkit';",
      'const all: SignalInfo[] = signals();',
      'const n: number = Signal.SIGTERM;',
      "kill(process.pid, 0); killpg; sigqueue; const a: boolean = isAlive(1);",
      'const e: SyscallError | undefined = undefined;',
      'export { all, n, a, e };',
    ].join('\n'));
    writeFileSync(path.join(consumer, 'use.cts'), [
      "import sigkit = require('sigkit');",
      "const s: string = sigkit.signalName(sigkit.signalNumber('TERM'));",
      'export = s;',
    ].join('\n'));
    writeFileSync(path.join(consumer, 'bad.mts'), "import { kill } from 'sigkit';\nkill('12');\n");
    const tsconfig = (files: string[]) => JSON.stringify({
      compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'ES2022', strict: true, noEmit: true, typeRoots: [path.join(ROOT, 'node_modules', '@types')], types: ['node'] },
      files,
    });
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    writeFileSync(path.join(consumer, 'tsconfig.json'), tsconfig(['use.mts', 'use.cts']));
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer });
    // And the types have teeth: a string pid does not compile.
    writeFileSync(path.join(consumer, 'tsconfig.json'), tsconfig(['bad.mts']));
    expect(runFailing(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer })).toMatch(/bad\.mts\(2,6\): error TS2345/);
  }, 180_000); // two tsc runs: tens of seconds on a loaded 2-core machine

  it.each([
    ['CommonJS', 'cjs', "try { require('sigkit'); console.log('loaded'); } catch (e) { console.log(e.code, e instanceof Error); }"],
    ['ESM', 'mjs', "try { await import('sigkit'); console.log('loaded'); } catch (e) { console.log(e.code, e instanceof Error); }"],
  ])('%s import on another platform throws ERR_SIGKIT_UNSUPPORTED_PLATFORM', (_kind, ext, body) => {
    const file = path.join(consumer, `platform.${ext}`);
    writeFileSync(file, `Object.defineProperty(process, 'platform', { value: 'darwin' });\n${body}\n`);
    expect(run(process.execPath, [file], { cwd: consumer }).trim()).toBe('ERR_SIGKIT_UNSUPPORTED_PLATFORM true');
  });
});
