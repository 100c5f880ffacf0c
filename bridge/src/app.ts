import express from 'express';
import helmet from 'helmet';
import { rateLimit } from 'express-rate-limit';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { approvalRoutes } from './approvals/routes.js';
import type { ApprovalService } from './approvals/service.js';
import type { ApprovalStore } from './approvals/store.js';
import { requirePerson } from './http/auth.js';
import { errorHandler, notFoundRoute } from './http/errors.js';
import type { TokenVerifier } from './identity/tokens.js';
import { openApiDocument } from './openapi.js';

export interface AppDeps {
  log: Logger;
  store: ApprovalStore;
  service: ApprovalService;
  verifyToken: TokenVerifier;
  /** Readiness of each dependency, with details for operators. */
  readiness: () => Promise<{ ok: boolean; details: Record<string, unknown> }>;
  rateLimitPerMinute?: number;
}

/** Builds the HTTP app from its collaborators, so tests can wire a throwaway store and a fake Airflow. */
export function createApp(deps: AppDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.use(helmet());
  app.use(pinoHttp({ logger: deps.log, autoLogging: { ignore: (req) => req.url === '/healthz' } }));
  app.use(express.json({ limit: '256kb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', async (_req, res) => {
    const readiness = await deps.readiness();
    res.status(readiness.ok ? 200 : 503).json(readiness);
  });
  const openapi = openApiDocument();
  app.get('/api/v1/openapi.json', (_req, res) => {
    res.json(openapi);
  });

  const limiter = rateLimit({ windowMs: 60_000, limit: deps.rateLimitPerMinute ?? 600, standardHeaders: 'draft-8', legacyHeaders: false });
  app.use('/api/v1/approvals', limiter, requirePerson(deps.verifyToken), approvalRoutes(deps.service, deps.store));

  app.use(notFoundRoute);
  app.use(errorHandler(deps.log));
  return app;
}
