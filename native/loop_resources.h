// loop_resources.h: ownership of fds and libuv handles on one env's loop.
//
// A pidfd being polled, or a SIGCHLD watcher, lives on the event loop of the
// env (main thread or worker) that created it. Three things may end it: an
// explicit close from JS, the garbage collector (the JS side forgot it), and
// the env's teardown (a worker ending). Each resource has exactly one owner
// object and closes its fd in exactly one place, so no path can close an fd
// twice or close a number that has meanwhile been reused.
//
// libuv handles need their close callback to run before the memory goes and
// before the loop is closed. The registry therefore holds an async cleanup
// hook (napi_add_async_cleanup_hook, N-API 8): at teardown it shuts every
// resource down and only lets Node continue once every close callback ran.
// The handle memory ("boxes") is separate from the owner and freed by the
// close callback, so an owner may be finalized while its handle is closing.
#pragma once

#include <napi.h>
#include <uv.h>

#include <unordered_set>

namespace sigkit {

// Something that holds an fd and/or libuv handles on one env's loop.
class LoopResource {
 public:
  virtual ~LoopResource() = default;
  // Closes the fd and starts closing every libuv handle (env teardown).
  // Must not call into JavaScript.
  virtual void Shutdown() = 0;
};

// One per domain per env. Reference-counted: the cleanup hook, every tracked
// resource and every open libuv handle hold one reference each, so the
// registry outlives whichever of them ends last.
class LoopResources {
 public:
  // Creates the registry of `env` and registers its cleanup hook. Returns
  // nullptr (with a pending JS error) when the env has no loop or hook.
  static LoopResources* Create(Napi::Env env);

  uv_loop_t* loop() const { return loop_; }
  // True once the env began tearing down: no new resources may start.
  bool closing() const { return closing_; }

  void Track(LoopResource* r);
  void Untrack(LoopResource* r);
  // Call right after a successful uv_*_init, and from its close callback.
  void HandleOpened();
  void HandleClosed();

 private:
  LoopResources() = default;
  static void OnCleanup(napi_async_cleanup_hook_handle handle, void* arg);
  void FinishCleanupIfDone();
  void Ref() { ++refs_; }
  void Unref();

  uv_loop_t* loop_ = nullptr;
  napi_async_cleanup_hook_handle hook_ = nullptr;
  std::unordered_set<LoopResource*> live_;
  int open_handles_ = 0;
  int refs_ = 1;  // the cleanup hook's
  bool closing_ = false;
};

// Where a libuv handle box points back to its owner. The owner clears
// `owner` when it detaches; the close callback then only frees the box.
template <typename Handle, typename Owner>
struct HandleBox {
  Handle handle;
  LoopResources* resources;
  Owner* owner;
};

// Starts closing a box's handle; the close callback frees the box.
template <typename Box>
void CloseBox(Box* box) {
  box->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&box->handle), [](uv_handle_t* h) {
    Box* b = static_cast<Box*>(h->data);
    LoopResources* resources = b->resources;
    delete b;
    resources->HandleClosed();
  });
}

// Calls `fn(arg)` from a libuv callback: opens a handle scope and a callback
// scope (napi_make_callback runs queued microtasks and nextTicks after it),
// and reports an exception the way an event listener's would be (uncaught).
void CallFromLoop(Napi::Env env, const Napi::FunctionReference& fn, double arg);

}  // namespace sigkit
