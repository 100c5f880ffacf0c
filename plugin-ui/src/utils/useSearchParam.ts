import { useCallback, useEffect, useState } from 'react';

const read = (name: string) => new URLSearchParams(window.location.search).get(name) ?? undefined;

/**
 * One query parameter of the page's URL as state, so that a view inside the plugin (an approval opened
 * from the inbox) can be linked to and left with the browser's Back button.
 */
export const useSearchParam = (name: string) => {
  const [value, setValue] = useState(() => read(name));

  useEffect(() => {
    const onPopState = () => setValue(read(name));
    window.addEventListener('popstate', onPopState);
    return () => window.removeEventListener('popstate', onPopState);
  }, [name]);

  const update = useCallback(
    (next: string | undefined) => {
      const url = new URL(window.location.href);
      if (next === undefined) {
        url.searchParams.delete(name);
      } else {
        url.searchParams.set(name, next);
      }
      // Airflow's router keeps its own bookkeeping in history.state; it is carried over untouched.
      window.history.pushState(window.history.state, '', url);
      setValue(next);
    },
    [name],
  );

  return [value, update] as const;
};
