import { Router } from 'express';
import { scopeOf } from '../http/auth.js';
import { parse } from '../http/errors.js';
import { Stats, StatsQuery } from './schemas.js';

export function statsRoutes(stats: (days: number, readable: ReadonlySet<string>) => Promise<Stats>): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const { days } = parse(StatsQuery, req.query, 'query');
    res.json(Stats.parse(await stats(days, scopeOf(req).readable)));
  });
  return router;
}
