// proc_parse.cc: see proc_parse.h. Bounds-checked by construction: every
// read goes through a cursor that stops at `end`.
#include "proc_parse.h"

#include <string.h>

namespace sigkit {
namespace {

struct Cursor {
  const char* p;
  const char* end;
};

// Reads one space-separated decimal integer (optionally negative). Returns
// false when none is there or it does not fit in 63 bits.
bool ReadInt(Cursor* c, double* out) {
  while (c->p < c->end && *c->p == ' ') c->p++;
  bool negative = false;
  if (c->p < c->end && *c->p == '-') {
    negative = true;
    c->p++;
  }
  if (c->p >= c->end || *c->p < '0' || *c->p > '9') return false;
  uint64_t v = 0;
  int digits = 0;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    if (++digits > 19) return false;
    v = v * 10 + static_cast<uint64_t>(*c->p - '0');
    c->p++;
  }
  if (c->p < c->end && *c->p != ' ' && *c->p != '\n') return false;
  *out = negative ? -static_cast<double>(v) : static_cast<double>(v);
  return true;
}

bool Skip(Cursor* c, int count) {
  double ignored;
  for (int i = 0; i < count; i++) {
    if (!ReadInt(c, &ignored)) return false;
  }
  return true;
}

// Skips `count` space-separated tokens of any size (rsslim is 2^64-1, past
// what ReadInt takes). Returns false when the text ends first.
bool SkipTokens(Cursor* c, int count) {
  for (int i = 0; i < count; i++) {
    while (c->p < c->end && *c->p == ' ') c->p++;
    if (c->p >= c->end || *c->p == '\n') return false;
    while (c->p < c->end && *c->p != ' ' && *c->p != '\n') c->p++;
  }
  return true;
}

}  // namespace

bool ParseStat(const char* buf, size_t len, StatRecord* out) {
  if (buf == nullptr || len < 5) return false;
  const char* end = buf + len;
  const char* open = static_cast<const char*>(memchr(buf, '(', len));
  const char* close = static_cast<const char*>(memrchr(buf, ')', len));
  if (open == nullptr || close == nullptr || close < open) return false;
  Cursor c{buf, open};
  // The pid is a positive number and the only thing before " (".
  if (!ReadInt(&c, &out->field[kPid]) || out->field[kPid] <= 0 || c.p + 1 != open) return false;
  out->comm = open + 1;
  out->comm_len = static_cast<size_t>(close - open - 1);
  // After ')' comes " S ppid ...": a space, the state letter, a space.
  c = Cursor{close + 1, end};
  if (end - c.p < 3 || c.p[0] != ' ' || c.p[2] != ' ') return false;
  out->field[kState] = static_cast<unsigned char>(c.p[1]);
  c.p += 2;
  // Fields 4..9: ppid pgrp session tty_nr tpgid flags.
  if (!ReadInt(&c, &out->field[kPpid]) || !ReadInt(&c, &out->field[kPgid]) || !ReadInt(&c, &out->field[kSid]) ||
      !ReadInt(&c, &out->field[kTtyNr]) || !ReadInt(&c, &out->field[kTpgid]) || !ReadInt(&c, &out->field[kFlags])) {
    return false;
  }
  // Fields 10..13 (fault counts), then 14 utime, 15 stime.
  if (!Skip(&c, 4) || !ReadInt(&c, &out->field[kUtime]) || !ReadInt(&c, &out->field[kStime])) return false;
  // 16..19 (children's times, priority, nice), 20 num_threads, 21 itrealvalue, 22 starttime.
  if (!Skip(&c, 4) || !ReadInt(&c, &out->field[kThreads]) || !Skip(&c, 1) || !ReadInt(&c, &out->field[kStartTime])) {
    return false;
  }
  // 23 vsize, 24 rss (pages).
  if (!Skip(&c, 1) || !ReadInt(&c, &out->field[kRssPages])) return false;
  out->field[kUid] = -1;
  out->field[kGid] = -1;
  // 25..37, then 38 exit_signal: -1 marks a non-leader thread, which /proc
  // answers for by its tid although it is not a process. Optional: a short
  // line (old kernels, hand-made samples) reads as 0, "a process".
  out->field[kExitSignal] = 0;
  Cursor rest = c;
  double exit_signal;
  if (SkipTokens(&rest, 13) && ReadInt(&rest, &exit_signal)) out->field[kExitSignal] = exit_signal;
  return true;
}

}  // namespace sigkit
