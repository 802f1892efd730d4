import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every test file in its own forked process: tests that spawn, signal
    // and reap must not share a process with one another.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 180_000,
    globalSetup: ['test/helpers/global-setup.ts'],
    // Sanitizer runs (npm run test:asan) load an instrumented addon.
    setupFiles: process.env.SIGKIT_ADDON ? ['test/sanitize/setup.ts'] : [],
  },
});
