// Setup file of the sanitizer runs (npm run test:asan).
//
// The test worker was started with the ASan runtime preloaded (ASan cannot
// start late). Node children that load the instrumented addon (the CLI,
// fixtures) need the same preload; other programs must not get it (procps'
// `ps` hangs under it, and C fixtures would read back ASan's signal masks).
// So LD_PRELOAD leaves process.env and is added back only when the program
// started is Node.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import '../../src/native.js';

const require = createRequire(__filename);
const cp = require('node:child_process') as Record<string, (...args: unknown[]) => unknown>;
const { syncBuiltinESMExports } = require('node:module') as { syncBuiltinESMExports: () => void };

const preload = process.env.LD_PRELOAD;
delete process.env.LD_PRELOAD;

const isNode = (file: unknown) => typeof file === 'string' && (file === process.execPath || path.basename(file) === 'node');
// Node started through a wrapper that execs it (`unshare ... node fixture.cjs`).
const wrapsNode = (argv: unknown) => Array.isArray(argv) && argv.some(isNode);

// Returns args with LD_PRELOAD in the options' env when the program is Node.
function withPreload(args: unknown[], alwaysNode: boolean): unknown[] {
  if (!preload || !(alwaysNode || isNode(args[0]) || wrapsNode(args[1]))) return args;
  const out = [...args];
  let at = out.findIndex((a, i) => i > 0 && a !== null && typeof a === 'object' && !Array.isArray(a));
  if (at < 0) {
    // No options object yet: it goes after the argument array, if any.
    at = Array.isArray(out[1]) ? 2 : 1;
    out.splice(at, 0, {});
  }
  const opts = out[at] as { env?: NodeJS.ProcessEnv };
  out[at] = { ...opts, env: { ...(opts.env ?? process.env), LD_PRELOAD: preload } };
  return out;
}

for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync', 'fork']) {
  const original = cp[name] as ((...args: unknown[]) => unknown) & { [promisify.custom]?: (...args: unknown[]) => unknown };
  const patched = (...args: unknown[]) => original(...withPreload(args, name === 'fork'));
  const custom = original[promisify.custom];
  if (custom) Object.defineProperty(patched, promisify.custom, { value: (...args: unknown[]) => custom(...withPreload(args, false)) });
  cp[name] = patched;
}
syncBuiltinESMExports();

// An honest run: the instrumented addon and the ASan runtime are really loaded.
const maps = readFileSync('/proc/self/maps', 'utf8');
if (!maps.includes('libclang_rt.asan') || !maps.includes(String(process.env.SIGKIT_ADDON))) {
  throw new Error('the sanitizer run did not load the instrumented addon');
}
