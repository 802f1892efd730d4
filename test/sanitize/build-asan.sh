#!/usr/bin/env bash
# Builds the addon with clang, AddressSanitizer and UndefinedBehaviorSanitizer
# into node_modules/.cache/sigkit-asan (the normal build/ is left alone) and
# prints the path of the instrumented sigkit.node.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/fuzz/need-clang.sh
dir=node_modules/.cache/sigkit-asan
rm -rf "$dir" && mkdir -p "$dir"
cp -r binding.gyp native package.json "$dir/"
(
  cd "$dir"
  export CC=clang CXX=clang++ LINK=clang++
  export CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
  export CXXFLAGS="$CFLAGS"
  # rpath: node children that load this addon (CLI, fixtures) find the runtime.
  export LDFLAGS="-fsanitize=address,undefined -shared-libasan -Wl,-rpath,$(dirname "$(clang++ -print-file-name=libclang_rt.asan-x86_64.so)")"
  # Build against the headers npm is configured with (nodedir), as npm install does.
  nodedir="$(npm config get nodedir 2>/dev/null || true)"
  args=(rebuild)
  if [ -n "$nodedir" ] && [ "$nodedir" != undefined ] && [ "$nodedir" != null ]; then args+=(--nodedir="$nodedir"); fi
  node "$OLDPWD/node_modules/node-gyp/bin/node-gyp.js" "${args[@]}" >/dev/null
)
echo "$PWD/$dir/build/Release/sigkit.node"
