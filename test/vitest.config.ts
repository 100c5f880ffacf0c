import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['integration/**/*.test.ts', 'browser/**/*.test.ts'],
    globalSetup: ['support/stack-setup.ts'],
    // Everything runs against one real Airflow and bridge; files run one after another.
    fileParallelism: false,
    // Generous: on a loaded 2-core machine a scenario's runs take minutes; nothing here asserts how long they take.
    testTimeout: 480_000,
    hookTimeout: 300_000,
  },
});
