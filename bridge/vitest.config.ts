import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/testing/msw-setup.ts'],
    // The concurrency tests on PostgreSQL (many voters, two workers on one store) run for seconds on a
    // loaded 2-core machine; the default 5 s limit made them fail by load, not by behaviour.
    testTimeout: 60_000,
  },
});
