# Sourced by the fuzz and sanitizer scripts: makes sure clang and its
# sanitizer runtimes (Debian: clang, libclang-rt-14-dev) are there,
# installing them when running as root with apt, as on CI machines here.
if ! command -v clang++ >/dev/null 2>&1 || [ ! -e "$(clang++ -print-file-name=libclang_rt.asan-x86_64.so 2>/dev/null)" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing clang and its sanitizer runtimes (Debian packages)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev >/dev/null
  else
    echo "clang with sanitizer runtimes is needed: apt-get install clang libclang-rt-14-dev" >&2
    exit 1
  fi
fi
