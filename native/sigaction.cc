// sigaction.cc: signal handlers that hand siginfo to JavaScript.
//
// System calls: sigaction(2) with SA_SIGINFO | SA_RESTART; rt_sigaction(2) for
// queries. Inside the handler: write(2) (uv_async_send) and whatever the
// chained handler does (libuv's: a read(2)/write(2) pipe lock and a write(2)).
// Man pages: sigaction(2), signal(7), signal-safety(7); libuv: uv_async_t,
// uv_signal_t. See NODE-LINUX-FACTS.md items 1-10, 14, 15 and 17.
//
// Shape of the mechanism (policy lives in src/sigaction.ts):
//
// * One process-wide handler, OnSignal, for every signal sigkit manages. It
//   copies the siginfo fields into a ring per subscribed environment (the main
//   thread and each worker thread is one environment: one "slot"), bumps a
//   delivered/dropped counter, wakes that environment's loop with
//   uv_async_send (async-signal-safe, coalescing), then chains to the handler
//   it replaced. No allocation, lock or N-API call; errno is saved/restored.
// * Slots: a fixed table of kMaxSlots. Each has a bounded MPSC ring of
//   kRingCapacity entries (Vyukov's bounded queue; producers are handlers on
//   any thread, the consumer is the slot's loop thread), mmap'd the first
//   time the slot is used and reused by later environments, never freed.
//   g_slots_for[sig] says which slots listen to sig. A handler announces
//   itself in the slot's `writers` count before touching it, so that an
//   environment going away can wait until no handler is inside its slot.
// * libuv: process.on('SIGxxx') and child_process make libuv install its own
//   handler with sigaction() and, when its last handle for the signal goes,
//   reset the signal to SIG_DFL, whatever was there before (fact 1). To keep
//   libuv from ever touching a signal sigkit manages, sigkit starts a "guard"
//   uv_signal_t for it: libuv's registry of signal handles is process-wide,
//   so while the guard is started, libuv neither installs (it already has a
//   handle) nor resets (one handle remains). The guards live on a private
//   uv_loop_t that is never run: they must outlive any one environment, and
//   their messages (libuv writes one per handle per signal into the loop's
//   pipe) are never read; once that pipe is full libuv's write fails with
//   EAGAIN, which libuv tolerates. sigkit then chains to libuv's handler so
//   that Node's process.on listeners and child_process keep working.
// * Other copies of sigkit (two versions in one node_modules tree, each with
//   its own static state): see "copies" below. Each copy exports one
//   versioned table (sigkit_signal_peer_v1) that another copy finds from the
//   handler address it reads with sigaction(2) (dladdr, then dlsym on that
//   object). A copy installs over another copy like over anyone (chaining
//   to it), never chains to a copy that already reaches it, and leaves the
//   chain by handing its links to whoever holds it: the copy above it, or
//   the kernel when it is on top. A copy that only a foreign handler reaches
//   stays in place as a pass-through link. Every copy pins itself in memory
//   (RTLD_NODELETE): Node dlcloses an addon loaded only by a worker when the
//   worker ends, and a handler address must stay valid for as long as
//   anyone may call it.
#include "common.h"

#include <dlfcn.h>
#include <link.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <cstdio>
#include <mutex>

namespace sigkit {
namespace {

// Environments (threads) that may listen at the same time.
constexpr int kMaxSlots = 64;
// Events a slot holds before counting drops: a power of two. 32 bytes each,
// so 2 MiB of address space per slot, touched only as far as it is used.
constexpr uint64_t kRingCapacity = 65536;
constexpr uint64_t kRingMask = kRingCapacity - 1;
// int32 fields per event in the buffer shared with JavaScript:
// signo, code, pid, uid, value, status.
constexpr int kEventInts = 6;

static_assert((kRingCapacity & kRingMask) == 0, "ring capacity must be a power of two");
static_assert(_NSIG <= 65, "signal masks are 64-bit: signals 1..64");
static_assert(kMaxSlots <= 64, "slot masks are 64-bit");
static_assert(std::atomic<uint64_t>::is_always_lock_free, "the handler needs lock-free 64-bit atomics");
static_assert(std::atomic<uint32_t>::is_always_lock_free, "the handler needs lock-free 32-bit atomics");

using PlainHandler = void (*)(int);
using InfoHandler = void (*)(int, siginfo_t*, void*);
static_assert(std::atomic<PlainHandler>::is_always_lock_free, "function pointers must be lock-free atomics");
static_assert(std::atomic<InfoHandler>::is_always_lock_free, "function pointers must be lock-free atomics");

// One ring entry. `mark` encodes Vyukov's sequence number minus the entry's
// index, so that a freshly mmap'd (all-zero) ring is already initialised and
// its pages stay untouched until used.
struct Entry {
  std::atomic<uint64_t> mark;
  int32_t signo;
  int32_t code;
  int32_t pid;
  uint32_t uid;
  int32_t value;
  int32_t status;
};
static_assert(sizeof(Entry) == 32, "entry layout");

struct Slot {
  // Handlers currently inside this slot (see ReleaseSlot).
  std::atomic<uint32_t> writers{0};
  // Next position to claim (producers) and to read (the loop thread).
  alignas(64) std::atomic<uint64_t> tail{0};
  alignas(64) uint64_t head = 0;
  Entry* ring = nullptr;
  std::atomic<uv_async_t*> async{nullptr};
  std::atomic<uint64_t> delivered[_NSIG];
  std::atomic<uint64_t> dropped[_NSIG];
  bool used = false;  // under g_mu
};

// Chain targets of a signal: [0] libuv's handler, [1] a handler that was
// installed before sigkit by someone else (e.g. Node's inspector on SIGUSR1).
// Each target is stored in the slot of its own calling convention, so a
// handler reading them while they change never calls one the wrong way.
struct Chain {
  std::atomic<PlainHandler> plain{nullptr};
  std::atomic<InfoHandler> info{nullptr};
};

// Process-wide state of one signal, under g_mu.
struct SignalState {
  int envs = 0;                 // slots subscribed to it
  struct sigaction original;    // before sigkit installed its handler
  struct sigaction libuv;       // after the guard started: libuv's handler
  bool restore_original = false;
  bool guard_ready = false;
  // Our handler is installed or reachable (a link of someone's chain), and
  // the guard is started. May outlive envs == 0: a pass-through link.
  bool in_chain = false;
  uv_signal_t guard;
};

std::mutex g_mu;
Slot g_slots[kMaxSlots];
std::atomic<uint64_t> g_slots_for[_NSIG];
Chain g_chain[_NSIG][2];
SignalState g_sig[_NSIG];
uv_loop_t g_guard_loop;
bool g_guard_loop_ready = false;

inline uint64_t SigBit(int sig) { return uint64_t{1} << (sig - 1); }
inline uint64_t SlotBit(int slot) { return uint64_t{1} << slot; }

// ---- the ring -------------------------------------------------------------

// Producer side; runs in the signal handler. False when the ring is full.
bool Push(Slot& s, int sig, const siginfo_t* si) {
  uint64_t pos = s.tail.load(std::memory_order_relaxed);
  for (;;) {
    Entry& e = s.ring[pos & kRingMask];
    uint64_t seq = e.mark.load(std::memory_order_acquire) + (pos & kRingMask);
    int64_t diff = static_cast<int64_t>(seq - pos);
    if (diff == 0) {
      if (s.tail.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        e.signo = sig;
        e.code = si->si_code;
        e.pid = si->si_pid;
        e.uid = si->si_uid;
        e.value = si->si_value.sival_int;
        e.status = si->si_status;
        e.mark.store(pos + 1 - (pos & kRingMask), std::memory_order_release);
        return true;
      }
    } else if (diff < 0) {
      return false;  // the entry still holds an event of the previous round
    } else {
      pos = s.tail.load(std::memory_order_relaxed);
    }
  }
}

// Consumer side; only the slot's loop thread (or ReleaseSlot, once no
// handler can be inside the slot). False when empty or the next entry is
// still being written (its producer calls uv_async_send when done).
bool Pop(Slot& s, int32_t* out) {
  uint64_t pos = s.head;
  Entry& e = s.ring[pos & kRingMask];
  uint64_t seq = e.mark.load(std::memory_order_acquire) + (pos & kRingMask);
  if (static_cast<int64_t>(seq - (pos + 1)) != 0) return false;
  if (out != nullptr) {
    out[0] = e.signo;
    out[1] = e.code;
    out[2] = e.pid;
    out[3] = static_cast<int32_t>(e.uid);
    out[4] = e.value;
    out[5] = e.status;
  }
  e.mark.store(pos + kRingCapacity - (pos & kRingMask), std::memory_order_release);
  s.head = pos + 1;
  return true;
}

// ---- the handler ----------------------------------------------------------

void CallChain(int sig, siginfo_t* si, void* uc) {
  for (Chain& c : g_chain[sig]) {
    if (InfoHandler info = c.info.load(std::memory_order_acquire)) {
      info(sig, si, uc);
    } else if (PlainHandler plain = c.plain.load(std::memory_order_acquire)) {
      plain(sig);
    }
  }
}

// The process-wide handler. Async-signal-safe: atomics, uv_async_send
// (documented safe in a signal handler) and the chained handlers.
void OnSignal(int sig, siginfo_t* si, void* uc) {
  int saved_errno = errno;
  if (sig > 0 && sig < _NSIG) {
    uint64_t slots = g_slots_for[sig].load(std::memory_order_acquire);
    while (slots != 0) {
      int i = __builtin_ctzll(slots);
      slots &= slots - 1;
      Slot& s = g_slots[i];
      // Announce, then re-check: ReleaseSlot clears the bit, then waits for
      // writers == 0. seq_cst on both sides: one of us sees the other.
      s.writers.fetch_add(1, std::memory_order_seq_cst);
      if ((g_slots_for[sig].load(std::memory_order_seq_cst) & SlotBit(i)) != 0) {
        if (Push(s, sig, si)) {
          s.delivered[sig].fetch_add(1, std::memory_order_relaxed);
        } else {
          s.dropped[sig].fetch_add(1, std::memory_order_relaxed);
        }
        // libuv before 1.53 reads the async's pending flag relaxed and may
        // coalesce: make the entry visible first (libuv's async.rst).
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (uv_async_t* a = s.async.load(std::memory_order_acquire)) uv_async_send(a);
      }
      s.writers.fetch_sub(1, std::memory_order_release);
    }
    CallChain(sig, si, uc);
  }
  errno = saved_errno;
}

// ---- dispositions ---------------------------------------------------------

inline bool IsInfo(const struct sigaction& sa) { return (sa.sa_flags & SA_SIGINFO) != 0; }
inline bool IsOurs(const struct sigaction& sa) { return IsInfo(sa) && sa.sa_sigaction == OnSignal; }
inline bool IsDefault(const struct sigaction& sa) { return !IsInfo(sa) && sa.sa_handler == SIG_DFL; }
inline bool IsIgnore(const struct sigaction& sa) { return !IsInfo(sa) && sa.sa_handler == SIG_IGN; }
inline bool IsFunction(const struct sigaction& sa) { return !IsDefault(sa) && !IsIgnore(sa); }
inline bool SameHandler(const struct sigaction& a, const struct sigaction& b) {
  return IsInfo(a) == IsInfo(b) &&
         (IsInfo(a) ? a.sa_sigaction == b.sa_sigaction : a.sa_handler == b.sa_handler);
}

// A handler sigkit may call after its own: a function, not ours, and not a
// one-shot SA_RESETHAND handler (Node's SIGINT/SIGTERM handler resets the
// terminal and re-raises to die: process.on() replaces it, and so do we).
inline bool Chainable(const struct sigaction& sa) {
  return IsFunction(sa) && !IsOurs(sa) && (sa.sa_flags & SA_RESETHAND) == 0;
}

void SetChain(int sig, int k, const struct sigaction* sa) {
  Chain& c = g_chain[sig][k];
  if (sa == nullptr || !Chainable(*sa)) {
    c.info.store(nullptr, std::memory_order_release);
    c.plain.store(nullptr, std::memory_order_release);
  } else if (IsInfo(*sa)) {
    c.info.store(sa->sa_sigaction, std::memory_order_release);
    c.plain.store(nullptr, std::memory_order_release);
  } else {
    // Set the new one before clearing the other: a handler in between sees
    // one of the two, each called with its own convention.
    c.plain.store(sa->sa_handler, std::memory_order_release);
    c.info.store(nullptr, std::memory_order_release);
  }
}

int Sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  return sigaction(sig, act, old) == 0 ? 0 : -errno;
}

// The handler address of an action, whichever its convention; nullptr for
// SIG_DFL / SIG_IGN.
inline void* HandlerAddress(const struct sigaction& sa) {
  if (!IsFunction(sa)) return nullptr;
  return IsInfo(sa) ? reinterpret_cast<void*>(sa.sa_sigaction) : reinterpret_cast<void*>(sa.sa_handler);
}

// What link k of our chain for sig calls, or nullptr.
void* LinkAddress(int sig, int k) {
  const Chain& c = g_chain[sig][k];
  if (InfoHandler info = c.info.load(std::memory_order_acquire)) return reinterpret_cast<void*>(info);
  return reinterpret_cast<void*>(c.plain.load(std::memory_order_acquire));
}

// Rebuilds a struct sigaction of chain link k (for handing it to a peer).
struct sigaction LinkAction(int sig, int k) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  const Chain& c = g_chain[sig][k];
  if (InfoHandler info = c.info.load(std::memory_order_acquire)) {
    sa.sa_sigaction = info;
    sa.sa_flags = SA_SIGINFO;
  } else if (PlainHandler plain = c.plain.load(std::memory_order_acquire)) {
    sa.sa_handler = plain;
  } else {
    sa.sa_handler = SIG_DFL;  // no link
  }
  return sa;
}

int InstallOurs(int sig) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = OnSignal;
  // SA_SIGINFO: the sender's pid/uid, si_code and payload. SA_RESTART: the
  // signal may land on a threadpool thread; its syscalls must not start
  // failing with EINTR. SA_ONSTACK: a thread that set up an alternate
  // signal stack (sigaltstack(2): Go runtimes, crash reporters, a thread
  // near the end of its stack) gets the handler there, as every handler in a
  // shared process should. No SA_NODEFER/SA_RESETHAND.
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  // Block every signal while the handler runs on a thread: libuv's handler,
  // which we chain to, takes a lock that is not reentrant.
  sigfillset(&sa.sa_mask);
  return Sigaction(sig, &sa, nullptr);
}

// ---- copies -----------------------------------------------------------------
//
// Two copies of sigkit (two paths, so two objects with their own statics)
// share the kernel's one disposition per signal and libuv's one registry.
// Without a protocol they hurt each other: each one's process.on hook
// re-installed its handler over the other's and chained to it, a cycle that
// overflowed the stack on the next delivery; and one that left from under
// the other cleared its chain, silencing Node's listeners.
//
// The protocol (v1), for each signal:
// * Installing over a copy is installing over anyone: chain to it.
// * Re-asserting (after a process.on change) does nothing when the current
//   handler is a copy whose chain reaches ours: we are still called.
// * Leaving (no subscriber left in this copy):
//   - on top: first absorb every pass-through copy right below (take its
//     links and restore state; it is out), then give the signal back as a
//     lone copy would;
//   - under a copy: hand our links and restore state to the copy directly
//     above us (it now calls what we called and restores what we would
//     have), and we are out;
//   - under a foreign handler (which may call us): stay, as a pass-through
//     link that only chains; a later subscriber reactivates it in place.
// * Guards: a copy keeps its libuv guard while it is in the chain, so libuv
//   resets nothing until the last copy leaves; a copy that hands over stops
//   its guard only while the receiving copy's guard holds libuv.
// Calls into a peer take the peer's lock with try_lock and answer -EAGAIN
// when it is busy: the caller drops its own lock and tries again, so two
// copies leaving at once on two threads never deadlock.

constexpr uint32_t kPeerMagic = 0x4b474953;  // "SIGK"
constexpr uint32_t kPeerVersion = 1;
constexpr int kMaxDepth = 64;  // copies in one chain, far more than any install

// What a copy hands over when it leaves the chain.
struct PeerLinks {
  struct sigaction chain[2];  // SIG_DFL: no link
  struct sigaction libuv;     // what to put back when on top
  struct sigaction original;  // what was there before the first copy
  int restore_original;
};

struct PeerApi {
  uint32_t magic;
  uint32_t version;
  uint32_t size;
  uint32_t links_size;
  InfoHandler handler;
  // Lock-free: the handler address that link k of this copy's chain calls.
  void* (*link)(int sig, int k);
  // Called by the copy directly above: if this copy is a pass-through link
  // (no subscriber), hand over its links and leave: 1. Active: 0. Not in
  // the chain: -ESRCH. Busy: -EAGAIN.
  int (*take_over)(int sig, PeerLinks* out);
  // Called by the copy directly below, which is leaving: if a link of this
  // copy calls `old_handler`, adopt `in` in its place: 1. No such link: 0.
  // Not in the chain: -ESRCH. Busy: -EAGAIN.
  int (*replace_link)(int sig, void* old_handler, const PeerLinks* in);
};

void* PeerLink(int sig, int k) {
  if (sig <= 0 || sig >= _NSIG || k < 0 || k > 1) return nullptr;
  return LinkAddress(sig, k);
}

PeerLinks MyLinks(int sig) {
  SignalState& st = g_sig[sig];
  PeerLinks out;
  memset(&out, 0, sizeof out);
  out.chain[0] = LinkAction(sig, 0);
  out.chain[1] = LinkAction(sig, 1);
  out.libuv = st.libuv;
  out.original = st.original;
  out.restore_original = st.restore_original ? 1 : 0;
  return out;
}

void AdoptLinks(int sig, const PeerLinks& in) {
  SignalState& st = g_sig[sig];
  SetChain(sig, 0, &in.chain[0]);
  SetChain(sig, 1, &in.chain[1]);
  st.libuv = in.libuv;
  st.original = in.original;
  st.restore_original = in.restore_original != 0;
}

int PeerTakeOver(int sig, PeerLinks* out) {
  if (sig <= 0 || sig >= _NSIG) return -EINVAL;
  std::unique_lock<std::mutex> lock(g_mu, std::try_to_lock);
  if (!lock.owns_lock()) return -EAGAIN;
  SignalState& st = g_sig[sig];
  if (!st.in_chain) return -ESRCH;
  if (st.envs > 0) return 0;
  *out = MyLinks(sig);
  // The caller is in the chain, so its guard holds libuv: stopping ours
  // changes no disposition.
  uv_signal_stop(&st.guard);
  st.in_chain = false;
  return 1;
}

int PeerReplaceLink(int sig, void* old_handler, const PeerLinks* in) {
  if (sig <= 0 || sig >= _NSIG || old_handler == nullptr) return -EINVAL;
  std::unique_lock<std::mutex> lock(g_mu, std::try_to_lock);
  if (!lock.owns_lock()) return -EAGAIN;
  SignalState& st = g_sig[sig];
  if (!st.in_chain) return -ESRCH;
  if (LinkAddress(sig, 0) != old_handler && LinkAddress(sig, 1) != old_handler) return 0;
  AdoptLinks(sig, *in);
  return 1;
}

}  // namespace
}  // namespace sigkit

// The one symbol sigkit exports: how another copy recognises this one.
extern "C" __attribute__((visibility("default"))) const sigkit::PeerApi sigkit_signal_peer_v1 = {
    sigkit::kPeerMagic,           sigkit::kPeerVersion,  sizeof(sigkit::PeerApi), sizeof(sigkit::PeerLinks),
    sigkit::OnSignal,             sigkit::PeerLink,      sigkit::PeerTakeOver,    sigkit::PeerReplaceLink,
};

namespace sigkit {
namespace {

// The path of the loaded object whose segments hold `addr` (empty for the
// executable). dl_iterate_phdr rather than dladdr: dladdr also looks for the
// nearest symbol, a linear scan of the node executable's ~100,000 dynamic
// symbols (0.7 ms) for libuv's handler.
struct ObjectLookup {
  uintptr_t addr;
  const char* name;
};

int FindObject(struct dl_phdr_info* info, size_t, void* arg) {
  auto* q = static_cast<ObjectLookup*>(arg);
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (q->addr >= start && q->addr < start + ph.p_memsz) {
      q->name = info->dlpi_name;
      return 1;
    }
  }
  return 0;
}

// The peer table of the copy whose handler is at `handler`, or nullptr for
// anything else (libuv's, a foreign handler, an older sigkit). Not
// async-signal-safe (the loader's lock): called under g_mu, never in a handler.
const PeerApi* Identify(void* handler) {
  if (handler == nullptr) return nullptr;
  if (handler == reinterpret_cast<void*>(OnSignal)) return &sigkit_signal_peer_v1;
  ObjectLookup q{reinterpret_cast<uintptr_t>(handler), nullptr};
  // Node loads an addon by its absolute path. Anything else (the node
  // executable, where libuv's handler lives, has an empty name) is not a
  // copy, and dlopen() of a bare name would search the library path.
  if (dl_iterate_phdr(FindObject, &q) == 0 || q.name == nullptr || strchr(q.name, '/') == nullptr) return nullptr;
  // RTLD_NOLOAD: the handle of the object already loaded, never a new load.
  void* lib = dlopen(q.name, RTLD_LAZY | RTLD_NOLOAD);
  if (lib == nullptr) return nullptr;
  auto* api = static_cast<const PeerApi*>(dlsym(lib, "sigkit_signal_peer_v1"));
  dlclose(lib);  // balances RTLD_NOLOAD's reference; every copy is NODELETE
  if (api == nullptr || api->magic != kPeerMagic || api->version != kPeerVersion || api->size != sizeof(PeerApi) ||
      api->links_size != sizeof(PeerLinks) || reinterpret_cast<void*>(api->handler) != handler) {
    return nullptr;
  }
  return api;
}

// True when `handler` is a copy whose chain (through copies) calls ours.
bool ChainReachesUs(int sig, void* handler) {
  for (int depth = 0; depth < kMaxDepth && handler != nullptr; depth++) {
    if (handler == reinterpret_cast<void*>(OnSignal)) return true;
    const PeerApi* p = Identify(handler);
    if (p == nullptr) return false;
    if (p->link(sig, 1) == reinterpret_cast<void*>(OnSignal)) return true;
    handler = p->link(sig, 0);
  }
  return false;
}

// Pins this copy in memory: Node dlcloses an addon that only a worker
// loaded when that worker ends, and our handler may still be installed or
// be a link in another copy's chain.
void PinSelf() {
  static std::once_flag once;
  std::call_once(once, [] {
    Dl_info di;
    if (dladdr(reinterpret_cast<void*>(OnSignal), &di) == 0 || di.dli_fname == nullptr) return;
    void* self = dlopen(di.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
    if (self != nullptr) dlclose(self);  // NODELETE stays; the reference goes
  });
}

void GuardCallback(uv_signal_t*, int) {}  // never called: the loop never runs

// First subscriber anywhere in this copy: take the signal over, or
// reactivate our pass-through link. Under g_mu.
int Install(int sig) {
  SignalState& st = g_sig[sig];
  if (st.in_chain) return 0;  // a pass-through link below a foreign handler
  struct sigaction before;
  int r = Sigaction(sig, nullptr, &before);
  if (r < 0) return r;
  if (!g_guard_loop_ready) {
    r = uv_loop_init(&g_guard_loop);
    if (r < 0) return r;
    g_guard_loop_ready = true;
  }
  if (!st.guard_ready) {
    r = uv_signal_init(&g_guard_loop, &st.guard);
    if (r < 0) return r;
    st.guard_ready = true;
  }
  // libuv installs its handler now unless it already has a handle for sig
  // (a process.on listener, child_process for SIGCHLD, another copy's guard).
  r = uv_signal_start(&st.guard, GuardCallback, sig);
  if (r < 0) return r;
  struct sigaction after;
  r = Sigaction(sig, nullptr, &after);
  if (r < 0) {
    uv_signal_stop(&st.guard);
    return r;
  }
  bool libuv_took_over = !SameHandler(before, after);
  st.original = before;
  st.libuv = after;
  // libuv will reset to SIG_DFL when the guard stops: put back anything else.
  st.restore_original = libuv_took_over && !IsDefault(before);
  SetChain(sig, 0, &after);
  // Chain to what was there before, except Node's inspector on SIGUSR1:
  // like a process.on('SIGUSR1') listener, a sigkit listener takes SIGUSR1
  // over while it is installed (no "Debugger listening" on each delivery);
  // the inspector's handler is put back when the last listener goes.
  SetChain(sig, 1, libuv_took_over && sig != SIGUSR1 ? &before : nullptr);
  r = InstallOurs(sig);
  if (r < 0) {
    SetChain(sig, 0, nullptr);
    SetChain(sig, 1, nullptr);
    Sigaction(sig, &after, nullptr);
    uv_signal_stop(&st.guard);
    return r;
  }
  st.in_chain = true;
  return 0;
}

// On top: give the signal back. Under g_mu. The chain is left as it is:
// a handler already running on another thread still passes through it.
int GiveBack(int sig) {
  SignalState& st = g_sig[sig];
  // Hand the signal to libuv's handler (or the copy below us) first, so
  // that stopping the guard below is what libuv does without sigkit: keep
  // its handler while Node still listens, else reset to SIG_DFL.
  int r = Sigaction(sig, IsFunction(st.libuv) ? &st.libuv : &st.original, nullptr);
  if (r < 0) return r;
  uv_signal_stop(&st.guard);
  st.in_chain = false;
  struct sigaction now;
  r = Sigaction(sig, nullptr, &now);
  if (r < 0) return r;
  if (IsDefault(now) && st.restore_original && !IsDefault(st.original)) r = Sigaction(sig, &st.original, nullptr);
  return r;
}

// The last subscriber of this copy is gone: leave the chain (see "copies").
// Under g_mu. -EAGAIN: a peer was busy; drop g_mu and call again.
int Uninstall(int sig) {
  SignalState& st = g_sig[sig];
  if (!st.in_chain) return 0;
  struct sigaction cur;
  int r = Sigaction(sig, nullptr, &cur);
  if (r < 0) return r;
  if (IsOurs(cur)) {
    // Absorb the pass-through copies right below us.
    for (int depth = 0; depth < kMaxDepth; depth++) {
      void* below = LinkAddress(sig, 0);
      const PeerApi* p = below == reinterpret_cast<void*>(OnSignal) ? nullptr : Identify(below);
      if (p == nullptr) break;
      PeerLinks links;
      int t = p->take_over(sig, &links);
      if (t == -EAGAIN) return t;
      if (t != 1) break;
      AdoptLinks(sig, links);
    }
    return GiveBack(sig);
  }
  // Under a copy: hand our links to the one directly above us.
  void* h = HandlerAddress(cur);
  for (int depth = 0; depth < kMaxDepth && h != nullptr; depth++) {
    const PeerApi* p = Identify(h);
    if (p == nullptr || p == &sigkit_signal_peer_v1) break;
    void* ours = reinterpret_cast<void*>(OnSignal);
    if (p->link(sig, 0) == ours || p->link(sig, 1) == ours) {
      PeerLinks mine = MyLinks(sig);
      int t = p->replace_link(sig, ours, &mine);
      if (t == 1) {
        uv_signal_stop(&st.guard);  // the copy above holds libuv with its guard
        st.in_chain = false;
        return 0;
      }
      return -EAGAIN;  // busy, or its links changed meanwhile: look again
    }
    h = p->link(sig, 0);
  }
  if (IsFunction(cur)) {
    // A foreign handler is on top and may call us: stay a pass-through link.
    return 0;
  }
  // SIG_DFL or SIG_IGN over ours: nobody calls us any more.
  uv_signal_stop(&st.guard);
  st.in_chain = false;
  struct sigaction now;
  r = Sigaction(sig, nullptr, &now);
  if (r == 0 && IsDefault(now) && !IsDefault(cur)) r = Sigaction(sig, &cur, nullptr);
  return r;
}

// ---- environments ----------------------------------------------------------

// Per environment (main thread or worker), owned by the env's cleanup hook.
struct EnvState {
  napi_env env = nullptr;
  int slot = -1;
  uv_async_t* async = nullptr;
  napi_ref dispatch = nullptr;  // JS function(count)
  napi_ref buffer_ref = nullptr;
  int32_t* buffer = nullptr;
  size_t buffer_rows = 0;
  napi_async_context context = nullptr;
  napi_async_cleanup_hook_handle cleanup = nullptr;
  uint64_t subscribed = 0;  // SigBit(sig); under g_mu
  bool closing = false;
};

// Subscribes or unsubscribes one slot. Under g_mu.
int SubscribeLocked(EnvState* st, int sig) {
  if ((st->subscribed & SigBit(sig)) != 0) return 0;
  if (g_sig[sig].envs == 0) {
    int r = Install(sig);
    if (r < 0) return r;
  }
  g_sig[sig].envs++;
  st->subscribed |= SigBit(sig);
  g_slots_for[sig].fetch_or(SlotBit(st->slot), std::memory_order_seq_cst);
  return 0;
}

// Leaves the chain of sig once no env of this copy listens, retrying while
// a peer copy is busy (with g_mu dropped in between, so that a peer waiting
// for our lock gets it). Under g_mu, held by `lock`.
int SettleLocked(std::unique_lock<std::mutex>& lock, int sig) {
  for (int attempt = 0;; attempt++) {
    if (g_sig[sig].envs != 0) return 0;  // someone subscribed meanwhile
    int r = Uninstall(sig);
    if (r != -EAGAIN) return r;
    // A peer that stays busy (or keeps answering that we are not where its
    // links say) for ~3 s: stay in the chain as a pass-through link, which
    // delivers to no env of ours and calls the next link. Never spin forever.
    if (attempt >= 3000) return 0;
    lock.unlock();
    if (attempt < 100) {
      sched_yield();
    } else {
      struct timespec ts = {0, 1000000};  // 1 ms: the peer holds its lock for long
      nanosleep(&ts, nullptr);
    }
    lock.lock();
  }
}

int UnsubscribeLocked(std::unique_lock<std::mutex>& lock, EnvState* st, int sig) {
  if ((st->subscribed & SigBit(sig)) == 0) return 0;
  g_slots_for[sig].fetch_and(~SlotBit(st->slot), std::memory_order_seq_cst);
  st->subscribed &= ~SigBit(sig);
  if (--g_sig[sig].envs == 0) return SettleLocked(lock, sig);
  return 0;
}

// Unsubscribes everything and returns the slot to the table once no handler
// can be inside it. Under g_mu.
void ReleaseSlotLocked(std::unique_lock<std::mutex>& lock, EnvState* st) {
  if (st->slot < 0) return;
  for (int sig = 1; sig < _NSIG; sig++) UnsubscribeLocked(lock, st, sig);
  Slot& s = g_slots[st->slot];
  while (s.writers.load(std::memory_order_seq_cst) != 0) sched_yield();
  // Every claimed entry is now published: discard what was not read, so that
  // the next environment starts with an empty, consistent ring.
  while (Pop(s, nullptr)) {
  }
  s.async.store(nullptr, std::memory_order_release);
  s.used = false;
  st->slot = -1;
}

// Takes up to buffer_rows events into the JS buffer and calls the JS
// dispatcher, until the ring is empty (or a ring's worth was handed over,
// so a flood cannot starve the loop: the rest goes in the next turn).
void OnAsync(uv_async_t* handle) {
  EnvState* st = static_cast<EnvState*>(handle->data);
  if (st->closing || st->slot < 0) return;
  std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with the handler's
  Slot& s = g_slots[st->slot];
  napi_env env = st->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv;
  if (napi_get_reference_value(env, st->dispatch, &fn) == napi_ok && fn != nullptr &&
      napi_get_global(env, &recv) == napi_ok) {
    uint64_t total = 0;
    for (;;) {
      size_t n = 0;
      while (n < st->buffer_rows && Pop(s, st->buffer + n * kEventInts)) n++;
      if (n == 0) break;
      napi_value argv[1];
      napi_value result;
      if (napi_create_uint32(env, static_cast<uint32_t>(n), &argv[0]) != napi_ok) break;
      napi_status status = napi_make_callback(env, st->context, recv, fn, 1, argv, &result);
      if (status != napi_ok) {
        // The JS dispatcher catches listener errors itself, so this is a
        // worker being terminated (V8's termination value is not an object)
        // or a bug in the dispatcher, which is reported the way Node reports
        // an error thrown by a callback. Either way, stop for this turn.
        napi_value error;
        napi_valuetype type;
        if (napi_get_and_clear_last_exception(env, &error) == napi_ok && error != nullptr &&
            napi_typeof(env, error, &type) == napi_ok && type == napi_object && !st->closing) {
          napi_fatal_exception(env, error);
        }
        break;
      }
      total += n;
      if (st->closing || st->slot < 0) break;
      if (total >= kRingCapacity) {
        uv_async_send(handle);
        break;
      }
    }
  }
  napi_close_handle_scope(env, scope);
}

void OnAsyncClosed(uv_handle_t* handle) {
  EnvState* st = static_cast<EnvState*>(handle->data);
  delete reinterpret_cast<uv_async_t*>(handle);
  napi_remove_async_cleanup_hook(st->cleanup);
  delete st;
}

// The environment is going away (worker terminated, process exiting):
// unsubscribe, free the slot, close the async handle. Asynchronous because a
// uv handle is closed only by its loop.
void OnEnvCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  EnvState* st = static_cast<EnvState*>(arg);
  st->closing = true;
  {
    std::unique_lock<std::mutex> lock(g_mu);
    ReleaseSlotLocked(lock, st);
  }
  if (st->dispatch != nullptr) napi_delete_reference(st->env, st->dispatch);
  if (st->buffer_ref != nullptr) napi_delete_reference(st->env, st->buffer_ref);
  if (st->context != nullptr) napi_async_destroy(st->env, st->context);
  st->dispatch = st->buffer_ref = nullptr;
  st->context = nullptr;
  if (st->async != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(st->async), OnAsyncClosed);
    st->async = nullptr;
    return;
  }
  napi_remove_async_cleanup_hook(handle);
  delete st;
}

EnvState* State(const Napi::CallbackInfo& info) { return static_cast<EnvState*>(info.Data()); }

bool ArgSignal(const Napi::CallbackInfo& info, int32_t* sig) {
  if (!ArgInt32(info, 0, sig)) return false;
  if (*sig <= 0 || *sig >= _NSIG) *sig = -1;
  return true;
}

// sigactionInit(dispatch, buffer: Int32Array) -> 0 | -errno. Claims a slot
// for this environment and creates its (unref'd) wake-up handle on the
// environment's own loop. -EMFILE when every slot is taken.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnvState* st = State(info);
  if (st->slot >= 0) return Napi::Number::New(env, 0);
  if (!info[0].IsFunction() || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    Napi::TypeError::New(env, "sigkit native: expected (function, Int32Array)").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  Napi::Int32Array buffer = info[1].As<Napi::Int32Array>();
  if (buffer.ElementLength() < static_cast<size_t>(kEventInts)) {
    Napi::TypeError::New(env, "sigkit native: buffer too small").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return Napi::Number::New(env, -EINVAL);

  int slot = -1;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    for (int i = 0; i < kMaxSlots; i++) {
      if (!g_slots[i].used) {
        slot = i;
        break;
      }
    }
    if (slot < 0) return Napi::Number::New(env, -EMFILE);
    Slot& s = g_slots[slot];
    if (s.ring == nullptr) {
      // Zero pages are an empty ring (see Entry::mark); untouched pages cost no memory.
      void* mem = mmap(nullptr, kRingCapacity * sizeof(Entry), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (mem == MAP_FAILED) return Napi::Number::New(env, -errno);
      s.ring = static_cast<Entry*>(mem);
    }
    for (int sig = 0; sig < _NSIG; sig++) {
      s.delivered[sig].store(0, std::memory_order_relaxed);
      s.dropped[sig].store(0, std::memory_order_relaxed);
    }
    s.used = true;
  }

  uv_async_t* async = new uv_async_t;
  int r = uv_async_init(loop, async, OnAsync);
  if (r < 0) {
    delete async;
    std::lock_guard<std::mutex> lock(g_mu);
    g_slots[slot].used = false;
    return Napi::Number::New(env, r);
  }
  async->data = st;
  // A listener does not keep the loop alive unless asked (sigactionRef).
  uv_unref(reinterpret_cast<uv_handle_t*>(async));
  st->async = async;
  napi_create_reference(env, info[0], 1, &st->dispatch);
  napi_create_reference(env, buffer, 1, &st->buffer_ref);
  st->buffer = buffer.Data();
  st->buffer_rows = buffer.ElementLength() / kEventInts;
  napi_value name;
  napi_create_string_utf8(env, "sigkit:signal", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, Napi::Object::New(env), name, &st->context);
  st->slot = slot;
  g_slots[slot].async.store(async, std::memory_order_release);
  return Napi::Number::New(env, 0);
}

// sigactionSubscribe(sig) -> 0 | -errno. The first subscriber in the process
// installs the handler (sigaction) and the libuv guard.
Napi::Value Subscribe(const Napi::CallbackInfo& info) {
  EnvState* st = State(info);
  int32_t sig;
  if (!ArgSignal(info, &sig)) return Napi::Value();
  if (sig < 0) return Napi::Number::New(info.Env(), -EINVAL);
  if (st->slot < 0 || st->closing) return Napi::Number::New(info.Env(), -EBADF);
  std::lock_guard<std::mutex> lock(g_mu);
  return Napi::Number::New(info.Env(), SubscribeLocked(st, sig));
}

// sigactionUnsubscribe(sig) -> 0 | -errno. The last one restores what was
// there before.
Napi::Value Unsubscribe(const Napi::CallbackInfo& info) {
  EnvState* st = State(info);
  int32_t sig;
  if (!ArgSignal(info, &sig)) return Napi::Value();
  if (sig < 0) return Napi::Number::New(info.Env(), -EINVAL);
  if (st->slot < 0) return Napi::Number::New(info.Env(), 0);
  std::unique_lock<std::mutex> lock(g_mu);
  return Napi::Number::New(info.Env(), UnsubscribeLocked(lock, st, sig));
}

// sigactionReassert(sig) -> 1 when sigkit's handler had been replaced and
// was put back (chaining to the replacement), 0 when it is in place or sig
// is not managed, -errno.
Napi::Value Reassert(const Napi::CallbackInfo& info) {
  int32_t sig;
  if (!ArgSignal(info, &sig)) return Napi::Value();
  if (sig < 0) return Napi::Number::New(info.Env(), -EINVAL);
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_sig[sig].envs == 0) return Napi::Number::New(info.Env(), 0);
  struct sigaction cur;
  int r = Sigaction(sig, nullptr, &cur);
  // Another copy of sigkit on top whose chain calls ours: all is well, and
  // installing over it would make a cycle (it chains to us, we to it).
  if (r == 0 && !IsOurs(cur) && !ChainReachesUs(sig, HandlerAddress(cur))) {
    // A function someone installed over ours is chained from now on; a
    // SIG_DFL/SIG_IGN over ours is simply undone.
    if (Chainable(cur) && !SameHandler(cur, g_sig[sig].libuv)) SetChain(sig, 1, &cur);
    r = InstallOurs(sig);
    if (r == 0) r = 1;
  }
  return Napi::Number::New(info.Env(), r);
}

// sigactionRef(on): whether this environment's listeners keep its loop alive.
Napi::Value Ref(const Napi::CallbackInfo& info) {
  EnvState* st = State(info);
  if (st->async != nullptr) {
    if (info[0].ToBoolean().Value()) {
      uv_ref(reinterpret_cast<uv_handle_t*>(st->async));
    } else {
      uv_unref(reinterpret_cast<uv_handle_t*>(st->async));
    }
  }
  return info.Env().Undefined();
}

// sigactionStats(sig) -> [delivered, dropped] for this environment since it
// first subscribed, or -errno.
Napi::Value Stats(const Napi::CallbackInfo& info) {
  EnvState* st = State(info);
  int32_t sig;
  if (!ArgSignal(info, &sig)) return Napi::Value();
  if (sig < 0) return Napi::Number::New(info.Env(), -EINVAL);
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  uint64_t delivered = 0, dropped = 0;
  if (st->slot >= 0) {
    delivered = g_slots[st->slot].delivered[sig].load(std::memory_order_relaxed);
    dropped = g_slots[st->slot].dropped[sig].load(std::memory_order_relaxed);
  }
  out.Set(uint32_t{0}, Napi::Number::New(info.Env(), static_cast<double>(delivered)));
  out.Set(uint32_t{1}, Napi::Number::New(info.Env(), static_cast<double>(dropped)));
  return out;
}

// sigactionQuery(sig) -> 0 SIG_DFL, 1 SIG_IGN, 2 another handler, 3 sigkit's
// handler, or -errno. One rt_sigaction(2) call with a NULL action, made raw:
// glibc's sigaction() refuses its own signals (32, 33) even for a query.
Napi::Value Query(const Napi::CallbackInfo& info) {
  int32_t sig;
  if (!ArgInt32(info, 0, &sig)) return Napi::Value();
  // The kernel's struct sigaction starts with the handler and the flags on
  // every ABI sigkit builds for (x86-64, arm64); the rest is room to spare.
  struct {
    void* handler;
    unsigned long flags;
    void* rest[6];
  } cur;
  memset(&cur, 0, sizeof cur);
  long r = syscall(SYS_rt_sigaction, sig, nullptr, &cur, _NSIG / 8);
  if (r < 0) return Napi::Number::New(info.Env(), -errno);
  int kind;
  if (cur.handler == reinterpret_cast<void*>(SIG_DFL)) {
    kind = 0;
  } else if (cur.handler == reinterpret_cast<void*>(SIG_IGN)) {
    kind = 1;
  } else if ((cur.flags & SA_SIGINFO) != 0 && cur.handler == reinterpret_cast<void*>(OnSignal)) {
    kind = 3;
  } else {
    kind = 2;
  }
  return Napi::Number::New(info.Env(), kind);
}

// sigactionRaw(sig) -> [handler, flags, mask] as the kernel holds them
// (handler and mask as hex strings, flags as a number), or -errno. For
// tests that must see a disposition exactly: SA_ONSTACK, or "what it was
// before" down to the handler address.
Napi::Value Raw(const Napi::CallbackInfo& info) {
  int32_t sig;
  if (!ArgInt32(info, 0, &sig)) return Napi::Value();
  // The kernel's struct sigaction on x86-64 and arm64 (both SA_RESTORER).
  struct {
    void* handler;
    unsigned long flags;
    void* restorer;
    uint64_t mask;
    void* spare[4];
  } cur;
  memset(&cur, 0, sizeof cur);
  long r = syscall(SYS_rt_sigaction, sig, nullptr, &cur, _NSIG / 8);
  if (r < 0) return Napi::Number::New(info.Env(), -errno);
  char handler[32], mask[32];
  snprintf(handler, sizeof handler, "%#lx", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(cur.handler)));
  snprintf(mask, sizeof mask, "%#llx", static_cast<unsigned long long>(cur.mask));
  Napi::Array out = Napi::Array::New(info.Env(), 3);
  out.Set(uint32_t{0}, Napi::String::New(info.Env(), handler));
  out.Set(uint32_t{1}, Napi::Number::New(info.Env(), static_cast<double>(cur.flags)));
  out.Set(uint32_t{2}, Napi::String::New(info.Env(), mask));
  return out;
}

// sigactionSlotsInUse() -> environments holding a slot (for tests and leaks).
Napi::Value SlotsInUse(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(g_mu);
  int n = 0;
  for (const Slot& s : g_slots) n += s.used ? 1 : 0;
  return Napi::Number::New(info.Env(), n);
}

}  // namespace

void InitSigaction(Napi::Env env, Napi::Object exports) {
  PinSelf();
  EnvState* st = new EnvState;
  st->env = env;
  if (napi_add_async_cleanup_hook(env, OnEnvCleanup, st, &st->cleanup) != napi_ok) {
    delete st;
    Napi::Error::New(env, "sigkit native: cannot register the cleanup hook").ThrowAsJavaScriptException();
    return;
  }
  auto fn = [&](const char* name, Napi::Function::Callback cb) {
    exports.Set(name, Napi::Function::New(env, cb, name, st));
  };
  fn("sigactionInit", Init);
  fn("sigactionSubscribe", Subscribe);
  fn("sigactionUnsubscribe", Unsubscribe);
  fn("sigactionReassert", Reassert);
  fn("sigactionRef", Ref);
  fn("sigactionStats", Stats);
  fn("sigactionQuery", Query);
  fn("sigactionSlotsInUse", SlotsInUse);
  fn("sigactionRaw", Raw);
  exports.Set("sigactionRingCapacity", Napi::Number::New(env, static_cast<double>(kRingCapacity)));
  exports.Set("sigactionEventInts", Napi::Number::New(env, kEventInts));
}

}  // namespace sigkit
