/**
 * The only module that loads the native addon. It types the whole binding:
 * every function returns a result >= 0 or a negative errno (STYLE.md), and
 * the policy modules decide what an errno means.
 */
import * as path from 'node:path';
import { assertSupportedPlatform } from './platform.js';

/** The native binding's surface. */
export interface NativeBinding {
  readonly platformSupported: boolean;
  /** SIGRTMIN of this libc, read at load time. */
  readonly sigrtmin: number;
  /** SIGRTMAX of this libc. */
  readonly sigrtmax: number;
  /** NSIG: one more than the highest signal number. */
  readonly nsig: number;
  /** kill(2) -> 0 | -errno */
  kill(pid: number, sig: number): number;
  /** killpg(3) -> 0 | -errno */
  killpg(pgid: number, sig: number): number;
  /** sigqueue(3) with sival_int = value -> 0 | -errno */
  sigqueue(pid: number, sig: number, value: number): number;
  /** The state letter of /proc/<pid>/stat as a char code, or -errno. */
  procState(pid: number): number;
}

function load(): NativeBinding {
  assertSupportedPlatform();
  // node-gyp-build picks a matching prebuilds/<platform>-<arch>/*.node, else
  // build/Release; PREBUILDS_ONLY=1 makes it use prebuilds alone.
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
  const binding = nodeGypBuild(path.join(__dirname, '..')) as NativeBinding;
  if (!binding.platformSupported) assertSupportedPlatform('unsupported');
  return binding;
}

/** The loaded addon. Importing this module on a non-Linux OS throws. */
export const native: NativeBinding = load();
