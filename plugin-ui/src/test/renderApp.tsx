import { render } from '@testing-library/react';
import type { ComponentType } from 'react';

import '../main';
import type { PluginProps } from '../pluginProps';

/** Renders a react app the way Airflow does: looked up on globalThis by its name in plugin.py. */
export const renderApp = (name: string, props: PluginProps = {}) => {
  const App = (globalThis as Record<string, unknown>)[name] as ComponentType<PluginProps> | undefined;
  if (App === undefined) {
    throw new Error(`the bundle publishes no app named ${name}`);
  }
  return render(<App {...props} />);
};
