// loop_resources.cc: see loop_resources.h.
#include "loop_resources.h"

#include <vector>

namespace sigkit {

LoopResources* LoopResources::Create(Napi::Env env) {
  auto* r = new LoopResources();
  // The env's own loop: a worker's differs from the main thread's, and
  // uv_default_loop() is only the main thread's.
  if (napi_get_uv_event_loop(env, &r->loop_) != napi_ok || r->loop_ == nullptr ||
      napi_add_async_cleanup_hook(env, OnCleanup, r, &r->hook_) != napi_ok) {
    delete r;
    Napi::Error::New(env, "sigkit native: no event loop or cleanup hook for this env")
        .ThrowAsJavaScriptException();
    return nullptr;
  }
  return r;
}

void LoopResources::Track(LoopResource* r) {
  live_.insert(r);
  Ref();
}

void LoopResources::Untrack(LoopResource* r) {
  if (live_.erase(r) != 0) Unref();
}

void LoopResources::HandleOpened() {
  ++open_handles_;
  Ref();
}

void LoopResources::HandleClosed() {
  --open_handles_;
  // May drop the hook's reference, never the last: this handle holds one.
  FinishCleanupIfDone();
  Unref();  // the handle's: the only place here that may delete `this`
}

void LoopResources::OnCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  auto* self = static_cast<LoopResources*>(arg);
  self->hook_ = handle;
  self->closing_ = true;
  // Shutdown() may untrack itself: iterate over a copy.
  std::vector<LoopResource*> all(self->live_.begin(), self->live_.end());
  for (LoopResource* r : all) r->Shutdown();
  // Every resource is tracked and holds a reference: this never deletes.
  self->FinishCleanupIfDone();
  if (self->hook_ == nullptr && self->refs_ == 0) delete self;
}

void LoopResources::FinishCleanupIfDone() {
  if (!closing_ || open_handles_ != 0 || hook_ == nullptr) return;
  // Every close callback has run: Node may close the loop now.
  napi_async_cleanup_hook_handle hook = hook_;
  hook_ = nullptr;
  napi_remove_async_cleanup_hook(hook);
  --refs_;  // the hook's; callers hold another, or delete when it was the last
}

void LoopResources::Unref() {
  if (--refs_ == 0) delete this;
}

void CallFromLoop(Napi::Env env, const Napi::FunctionReference& fn, double value) {
  Napi::HandleScope scope(env);
  napi_value recv, arg, result;
  napi_get_global(env, &recv);  // napi_make_callback wants an object
  napi_create_double(env, value, &arg);
  // A null async context is accepted (async_hooks then see no resource).
  napi_status status = napi_make_callback(env, nullptr, recv, fn.Value(), 1, &arg, &result);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (status != napi_ok || pending) {
    napi_value error;
    if (pending && napi_get_and_clear_last_exception(env, &error) == napi_ok) {
      // Like a throwing event listener: 'uncaughtException' or a crash report.
      napi_fatal_exception(env, error);
    }
  }
}

}  // namespace sigkit
