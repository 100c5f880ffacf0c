import { defineConfig } from 'vitest/config';

// `npm run bench -w test`: figures from a real Airflow, bridge and Chromium; nothing is asserted on time.
export default defineConfig({
  test: {
    include: ['bench/**/*.bench-run.ts'],
    globalSetup: ['support/stack-setup.ts'],
    testTimeout: 900_000,
    // One stack, one benchmark at a time: figures taken side by side would disturb each other.
    fileParallelism: false,
    hookTimeout: 300_000,
  },
});
