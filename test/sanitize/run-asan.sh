#!/usr/bin/env bash
# npm run test:asan: the native tests against the ASan+UBSan build of the
# addon. Node itself is not instrumented, so the ASan runtime is preloaded;
# leak checking is off because Node does not free everything at exit (the
# valgrind run, npm run test:valgrind, covers leaks of the addon).
set -euo pipefail
cd "$(dirname "$0")/../.."
addon="$(bash test/sanitize/build-asan.sh)"
runtime="$(clang++ -print-file-name=libclang_rt.asan-x86_64.so)"
echo "== ASan+UBSan addon: $addon"
export SIGKIT_ADDON="$addon"
export LD_PRELOAD="$runtime"
# Every child inherits the preload (a Node child that loads the addon needs
# it: ASan cannot start late). ASan installs no signal handlers of its own
# (handle_*=0), so fixtures read back the signal masks they set themselves.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0:allow_user_segv_handler=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# The package and demo tests install and run the normal build; the rest
# exercises every native function against real processes.
# ASan makes Node ~7x slower on worker-heavy tests (80 worker teardowns take
# ~30 s instead of ~4.5 s): a wider per-test timeout, the same assertions.
exec npx vitest run test/native --exclude test/native/package.test.ts --testTimeout=120000 "$@"
