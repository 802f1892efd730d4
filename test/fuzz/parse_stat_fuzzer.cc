// libFuzzer target for sigkit::ParseStat (native/proc_parse.cc): any bytes,
// including truncated lines, comm with ')' spaces and newlines, non-UTF-8
// bytes and huge numbers. Beyond the sanitizers' checks it asserts what
// callers rely on: a parsed comm lies inside the input, and a parsed state
// is the byte right after the last ')' and a space.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../../native/proc_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes, so ASan flags any read past the end.
  std::vector<char> buf(data, data + size);
  sigkit::StatRecord rec;
  if (!sigkit::ParseStat(buf.data(), buf.size(), &rec)) return 0;
  const char* begin = buf.data();
  const char* end = begin + buf.size();
  if (rec.comm < begin || rec.comm + rec.comm_len > end) abort();
  const char* close = static_cast<const char*>(memrchr(begin, ')', buf.size()));
  if (close == nullptr || rec.comm + rec.comm_len != close) abort();
  if (static_cast<unsigned char>(close[2]) != rec.field[sigkit::kState]) abort();
  if (rec.field[sigkit::kPid] <= 0) abort();
  return 0;
}
