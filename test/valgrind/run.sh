#!/usr/bin/env bash
# npm run test:valgrind: memcheck over a driver that calls every native
# function of sigkit many times. Fails on any memcheck error or a definite leak.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
npm run --silent build:ts
ROUNDS="${ROUNDS:-50}" valgrind --tool=memcheck --error-exitcode=9 --leak-check=full --show-leak-kinds=definite \
  --errors-for-leak-kinds=definite node test/valgrind/driver.cjs 2>&1 | grep -E '^(valgrind driver|==[0-9]+== +(definitely lost|ERROR SUMMARY|Invalid|Conditional|Syscall param|Mismatched))'
exit "${PIPESTATUS[0]}"
