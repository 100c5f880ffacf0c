import { http, HttpResponse } from 'msw';

import type { Stats } from '../../api/client';
import { api } from './common';

export const statsUrl = api('stats');

export const stats: Stats = {
  pending: 42,
  latency: {
    median_s: 1_800,
    p90_s: 14_400,
    by_day: [
      { day: '2025-11-23', median_s: 1_200, p90_s: 7_200, decided: 5 },
      { day: '2025-11-24', median_s: 2_400, p90_s: 18_000, decided: 9 },
      { day: '2025-11-25', median_s: null, p90_s: null, decided: 0 },
    ],
  },
  sla_by_dag: [
    { dag_id: 'deploy_prod', met: 12, breached: 1, warned: 2, escalated: 1, compliance: 12 / 13 },
    { dag_id: 'nightly_etl', met: 30, breached: 4, warned: 6, escalated: 3, compliance: 30 / 34 },
  ],
  failed_effects: 1,
  bypassed: 1,
  recent_bypasses: [{ id: 'apr-bypassed', dag_id: 'nightly_etl', run_id: 'scheduled__2025-11-24', task_id: 'approve_load', decided_at: '2025-11-24T08:00:00.000Z' }],
  window_days: 14,
};

export const statsHandlers = [
  http.get(statsUrl, () => HttpResponse.json<Stats>(stats)),
];
