#!/usr/bin/env bash
# npm run test:valgrind: memcheck over a driver that exercises every native
# domain of sigkit (kill, proc, pidfd, wait/reap, sigaction, workers) on
# processes it starts itself. Fails on any memcheck error, a definite leak,
# or a wrong result in the driver. Suppressions (test/valgrind/node.supp)
# cover Node/V8/libuv internals only, never sigkit code.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
npm run --silent build:ts
supp=()
[ -f test/valgrind/node.supp ] && supp=(--suppressions=test/valgrind/node.supp)
log="${VALGRIND_LOG:-node_modules/.cache/sigkit-valgrind.log}"
mkdir -p "$(dirname "$log")"
set +e
ROUNDS="${ROUNDS:-50}" valgrind --tool=memcheck --error-exitcode=9 --leak-check=full --show-leak-kinds=definite \
  --errors-for-leak-kinds=definite --trace-children=no "${supp[@]}" \
  node --expose-gc test/valgrind/driver.cjs >"$log" 2>&1
rc=$?
set -e
grep -E '^(valgrind driver|==[0-9]+== +(definitely lost|indirectly lost|possibly lost|ERROR SUMMARY|Invalid|Conditional|Syscall param|Mismatched|by 0x|at 0x))' "$log" | grep -vE '^==[0-9]+== +(by|at) 0x' || true
grep -E 'sigkit\.node' "$log" | head -20 || true
echo "valgrind: exit $rc (full log: $log)"
exit "$rc"
