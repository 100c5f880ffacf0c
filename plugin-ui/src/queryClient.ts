import { QueryClient } from '@tanstack/react-query';

/**
 * One client for every app of the bundle, kept outside React: Airflow remounts a plugin once it has
 * loaded (its page swaps the lazy wrapper for the component), and a client inside the tree would lose
 * its cache and its mutations' outcomes, such as "your vote was recorded", with it.
 */
export const queryClient = new QueryClient({
  // Lists poll every few seconds anyway, so a failed load is shown at once, not retried.
  defaultOptions: { queries: { retry: false } },
});
