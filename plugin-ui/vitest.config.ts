import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'happy-dom',
    // Relative API URLs need an origin to resolve against, as they have in the browser.
    environmentOptions: { happyDOM: { url: 'http://localhost/' } },
    setupFiles: ['src/test/setup.ts'],
    // Screens render and page through msw for seconds on a loaded 2-core machine; 5 s failed them by load.
    testTimeout: 30_000,
  },
});
