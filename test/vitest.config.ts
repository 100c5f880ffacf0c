import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['integration/**/*.test.ts', 'browser/**/*.test.ts'],
    globalSetup: ['support/stack-setup.ts'],
    // Everything runs against one real Airflow and bridge; files run one after another.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
});
