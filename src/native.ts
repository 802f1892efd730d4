/**
 * The only module that loads the native addon. It types the whole binding:
 * every function returns a result >= 0 or a negative errno (STYLE.md), and
 * the policy modules decide what an errno means.
 */
import * as path from 'node:path';
import { assertSupportedPlatform } from './platform.js';

/** An open pidfd, owned by the native layer; JS never sees the fd number. */
export interface NativePidfd {
  readonly __brand: 'sigkit.pidfd';
}

/** A SIGCHLD watcher on this env's loop. */
export interface NativeSigchldWatch {
  readonly __brand: 'sigkit.sigchld';
}

/** How a process ended, decoded by the native layer (signal as a number). */
export interface NativeExit {
  /** 0 when the kernel did not say (PIDFD_INFO_EXIT). */
  pid: number;
  code: number | null;
  signal: number | null;
  core: boolean;
}

/** What ioctl(PIDFD_GET_INFO) returned; `exit` only once the process was reaped (6.15+). */
export interface NativePidfdInfo {
  mask: number;
  pid: number | null;
  ppid: number | null;
  exit: NativeExit | null;
}

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

  // pidfd.cc
  /** pidfd_open(2) -> pidfd | -errno */
  pidfdOpen(pid: number): NativePidfd | number;
  /** pidfd_send_signal(2) -> 0 | -errno */
  pidfdSendSignal(pidfd: NativePidfd, sig: number): number;
  /** poll(2) without waiting -> revents (POLLIN once exited) | -errno */
  pidfdPoll(pidfd: NativePidfd): number;
  /** waitid(P_PIDFD, WEXITED | WNOHANG [| WNOWAIT]) -> exit | 0 (running) | -errno */
  pidfdWaitid(pidfd: NativePidfd, noWait: boolean): NativeExit | number;
  /** ioctl(PIDFD_GET_INFO) -> info | -errno */
  pidfdGetInfo(pidfd: NativePidfd): NativePidfdInfo | number;
  /** Polls on this env's loop; calls back once with the events or -errno -> 0 | -errno */
  pidfdWatch(pidfd: NativePidfd, callback: (events: number) => void): number;
  /** Stops a pending watch without calling back -> 0 */
  pidfdUnwatch(pidfd: NativePidfd): number;
  /** close(2) -> 0 | -errno (EBADF when already closed) */
  pidfdClose(pidfd: NativePidfd): number;
  /** starttime (field 22) of /proc/<pid>/stat in clock ticks | -errno */
  procStartTime(pid: number): number;

  // wait.cc
  /** waitpid(pid, __WNOTHREAD [| WNOHANG]) -> exit | 0 (running) | -errno */
  waitpid(pid: number, noHang: boolean): NativeExit | number;
  /** prctl(PR_SET_CHILD_SUBREAPER) -> 0 | -errno */
  prctlSetChildSubreaper(on: boolean): number;
  /** prctl(PR_GET_CHILD_SUBREAPER) -> 0 | 1 | -errno */
  prctlGetChildSubreaper(): number;
  /** gettid(2) of the calling (loop) thread */
  gettid(): number;
  /** /proc/self/task/<gettid()>/children -> pids | -errno */
  threadChildren(): number[] | number;
  /** pids of this env's loop's active UV_PROCESS handles (libuv's unreaped children) */
  loopChildPids(): number[];
  /** a libuv SIGCHLD watcher on this env's loop (unref'd) -> watcher | -errno */
  sigchldWatch(callback: (signo: number) => void): NativeSigchldWatch | number;
  /** uv_ref/uv_unref of the watcher -> 0 */
  sigchldRef(watch: NativeSigchldWatch, ref: boolean): number;
  /** stops the watcher -> 0 */
  sigchldClose(watch: NativeSigchldWatch): number;
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
