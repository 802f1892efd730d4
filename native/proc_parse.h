// proc_parse.h: parsers for /proc text, free of N-API so that they can be
// fuzzed on their own (test/fuzz).
//
// /proc/<pid>/stat is "pid (comm) state ppid pgrp session tty_nr tpgid flags
// ... num_threads(20) itrealvalue starttime(22) vsize rss ...". comm is the
// process's own chosen name, up to 15 bytes for user processes (longer for
// kernel threads), and may hold spaces, parentheses and newlines: it runs
// from the first '(' to the LAST ')' of the file (proc(5)).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sigkit {

// The numeric fields sigkit reads from one stat file, in this order in the
// arrays handed to JavaScript (proc.cc exports the names).
enum StatField : int {
  kPid,
  kPpid,
  kPgid,
  kSid,
  kTtyNr,
  kTpgid,
  kFlags,
  kState,  // the state letter as a char code
  kThreads,
  kStartTime,  // clock ticks since boot
  kUtime,      // clock ticks
  kStime,      // clock ticks
  kRssPages,
  kUid,  // owner of /proc/<pid>: the effective uid (root when not dumpable)
  kGid,
  kExitSignal,  // field 38: -1 for a thread that is not its group's leader (CLONE_THREAD)
  kStatFieldCount
};

struct StatRecord {
  double field[kStatFieldCount];
  const char* comm;  // points into the parsed buffer; not NUL-terminated
  size_t comm_len;
};

// Parses one stat file of `len` bytes. Returns false when the text is not a
// well-formed stat line (truncated, no parentheses, missing fields). Never
// reads outside [buf, buf + len).
bool ParseStat(const char* buf, size_t len, StatRecord* out);

}  // namespace sigkit
