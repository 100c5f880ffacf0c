import { type Contract, errors, json } from '../http/contract.js';
import { scopeOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import { Stats, StatsQuery } from './schemas.js';

export function statsRoutes(contract: Contract, stats: (days: number, readable: ReadonlySet<string>) => Promise<Stats>): void {
  contract.add(
    {
      method: 'get',
      path: '/api/v1/stats',
      auth: 'person',
      summary: 'Dashboard figures: pending count, decision latency, SLA compliance per DAG, failed effects',
      request: { query: StatsQuery },
      responses: { 200: json(Stats, 'The figures over the window'), ...errors(400, 401) },
    },
    async (req, res) => {
      const { days } = parse(StatsQuery, req.query, 'query');
      res.json(Stats.parse(await stats(days, scopeOf(req).readable)));
    },
  );
}
