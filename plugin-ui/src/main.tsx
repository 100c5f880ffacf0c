import { ChakraProvider, createSystem, defaultConfig, type SystemContext } from '@chakra-ui/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { type ComponentProps, useState } from 'react';

import { Approvals } from './pages/Approvals';

declare global {
  // Set by the Airflow UI so that plugins wear its theme, light or dark.
  var ChakraUISystem: SystemContext | undefined;
  var AirflowPlugin: typeof AirgatePlugin | undefined;
}

// Used only where no Airflow UI is around to lend its theme.
const localSystem = createSystem(defaultConfig);

const AirgatePlugin = (props: ComponentProps<typeof Approvals>) => {
  const [queryClient] = useState(
    () =>
      // The list polls every few seconds anyway, so a failed load is shown at once, not retried.
      new QueryClient({ defaultOptions: { queries: { retry: false } } }),
  );

  return (
    <ChakraProvider value={globalThis.ChakraUISystem ?? localSystem}>
      <QueryClientProvider client={queryClient}>
        <Approvals {...props} />
      </QueryClientProvider>
    </ChakraProvider>
  );
};

// The UMD wrapper also publishes the default export under this name, but it hands it to an AMD
// `define` instead when the page has one, so the loader's global is set here as well.
globalThis.AirflowPlugin = AirgatePlugin;

// The only export: the UMD global must be the component itself, not a module namespace.
export default AirgatePlugin;
