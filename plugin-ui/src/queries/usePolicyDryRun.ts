import { useMutation } from '@tanstack/react-query';

import { type DryRunRequest, dryRunPolicy } from '../api/client';

/** Asks the bridge who would decide an approval task; changes nothing, asked on the person's demand. */
export const usePolicyDryRun = () => useMutation({ mutationFn: (request: DryRunRequest) => dryRunPolicy(request) });
