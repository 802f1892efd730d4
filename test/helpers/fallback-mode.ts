/**
 * What the native suite should expect of the kernel it runs on. Normally
 * pidfds work; test/native/fallback-seccomp.test.ts re-runs the pidfd, wait
 * and terminate suites under test/fixtures/seccomp-launcher.c, with
 * SIGKIT_TEST_FALLBACK naming the launcher's mode, and the assertions that
 * only a pidfd can meet assert the documented weaker guarantee instead.
 */
export type FallbackMode = 'enosys' | 'eperm' | 'nosend';

/** The seccomp mode this run is under, or undefined for the real kernel. */
export const FALLBACK = (process.env.SIGKIT_TEST_FALLBACK || undefined) as FallbackMode | undefined;
if (FALLBACK !== undefined && !['enosys', 'eperm', 'nosend'].includes(FALLBACK)) {
  throw new Error(`SIGKIT_TEST_FALLBACK=${FALLBACK}: expected enosys, eperm or nosend`);
}

/** pidfd_open itself is refused: handles are 'pid+starttime'. */
export const NO_PIDFD = FALLBACK === 'enosys' || FALLBACK === 'eperm';

/** The kind every handle has in this run. */
export const KIND = NO_PIDFD ? 'pid+starttime' : 'pidfd';

/** The `syscall` of openProcess/waitForExit errors: the /proc read replaces pidfd_open. */
export const OPEN_SYSCALL = NO_PIDFD ? 'open' : 'pidfd_open';

/** The `syscall` of a signal's errors: kill(2) wherever pidfd_send_signal is refused. */
export const SEND_SYSCALL = FALLBACK ? 'kill' : 'pidfd_send_signal';

/** The `syscall` of a wait on a closed handle. */
export const POLL_SYSCALL = NO_PIDFD ? 'open' : 'poll';

/** The `syscall` of kill() on a closed handle (named after the handle's kind). */
export const CLOSED_SEND_SYSCALL = NO_PIDFD ? 'kill' : 'pidfd_send_signal';
