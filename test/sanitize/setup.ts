// Setup file of the sanitizer runs: this worker was started with the ASan
// runtime preloaded; its children must not be (a C fixture or `sleep` with
// ASan's own signal handlers would read back different signal masks). Node
// children that load the instrumented addon pull the runtime in through the
// addon itself (ASAN_OPTIONS=verify_asan_link_order=0 stays set).
delete process.env.LD_PRELOAD;

// An honest run: the instrumented addon and the ASan runtime are really loaded.
import { readFileSync } from 'node:fs';
import '../../src/native.js';
const maps = readFileSync('/proc/self/maps', 'utf8');
if (!maps.includes('libclang_rt.asan') || !maps.includes(String(process.env.SIGKIT_ADDON))) {
  throw new Error('the sanitizer run did not load the instrumented addon');
}
