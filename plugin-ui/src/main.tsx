import { ChakraProvider, createSystem, defaultConfig, type SystemContext } from '@chakra-ui/react';
import { QueryClientProvider } from '@tanstack/react-query';
import type { ComponentType, ReactNode } from 'react';

import { Approvals } from './pages/Approvals';
import { TaskApproval } from './pages/Approval';
import { RunActions, TaskActions } from './pages/Actions';
import { Audit } from './pages/Audit';
import { Dashboard } from './pages/Dashboard';
import { Delegations } from './pages/Delegations';
import { Messages } from './pages/Messages';
import { Policies } from './pages/Policies';
import { PolicyPreview } from './pages/PolicyPreview';
import { Queue } from './pages/Queue';
import type { PluginProps } from './pluginProps';
import { queryClient } from './queryClient';

declare global {
  // Set by the Airflow UI so that plugins wear its theme, light or dark.
  var ChakraUISystem: SystemContext | undefined;
  var AirflowPlugin: ComponentType<PluginProps> | undefined;
}

// Used only where no Airflow UI is around to lend its theme.
const localSystem = createSystem(defaultConfig);

const Providers = ({ children }: { readonly children: ReactNode }) => (
  <ChakraProvider value={globalThis.ChakraUISystem ?? localSystem}>
    <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
  </ChakraProvider>
);

const app = (Screen: ComponentType<PluginProps>) => {
  const App = (props: PluginProps) => (
    <Providers>
      <Screen {...props} />
    </Providers>
  );
  return App;
};

/**
 * One bundle serves every react_apps entry of plugin.py. Airflow looks each app up as
 * globalThis[<its name>] before it loads the bundle (which it imports only once), so every entry's
 * name is published here; the keys must match the names in plugin.py.
 */
const apps = {
  Approvals: app(Approvals),
  'Review queue': app(Queue),
  Approval: app(TaskApproval),
  Audit: app(Audit),
  'Run actions': app(RunActions),
  'Task actions': app(TaskActions),
  'Approvals dashboard': app(Dashboard),
  Messages: app(Messages),
  Policies: app(Policies),
  'Policy preview': app(PolicyPreview),
  Delegations: app(Delegations),
} satisfies Record<string, ComponentType<PluginProps>>;

// A task instance's page passes taskId; anywhere else the plugin is the inbox.
const AirgatePlugin = (props: PluginProps) =>
  props.taskId === undefined ? <apps.Approvals {...props} /> : <apps.Approval {...props} />;

for (const [name, component] of Object.entries(apps)) {
  (globalThis as Record<string, unknown>)[name] = component;
}

// The UMD wrapper also publishes the default export under this name, but it hands it to an AMD
// `define` instead when the page has one, so the loader's global is set here as well.
globalThis.AirflowPlugin = AirgatePlugin;

// The only export the UMD global takes: the component itself, not a module namespace.
export default AirgatePlugin;
