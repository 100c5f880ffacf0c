import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterAll, afterEach, beforeAll } from 'vitest';

import { resetApprovals } from '../mocks/approvals';
import { resetAudit } from '../mocks/audit';
import { resetActions } from '../mocks/handlers/actions';
import { resetPolicies } from '../mocks/handlers/policies';
import { resetDelegations } from '../mocks/handlers/delegations';
import { server } from '../mocks/server';
import { queryClient } from '../queryClient';

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));

afterEach(() => {
  cleanup();
  queryClient.clear();
  server.resetHandlers();
  server.events.removeAllListeners();
  resetApprovals();
  resetAudit();
  resetActions();
  resetPolicies();
  resetDelegations();
  window.history.replaceState(null, '', '/');
});

afterAll(() => server.close());
