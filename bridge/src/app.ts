import express from 'express';
import helmet from 'helmet';
import { rateLimit } from 'express-rate-limit';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { actionRoutes } from './actions/routes.js';
import type { ActionService } from './actions/service.js';
import { approvalRoutes } from './approvals/routes.js';
import type { RegistrationVerifier } from './approvals/registration.js';
import type { DeferredVotes } from './approvals/deferred/service.js';
import type { ApprovalService } from './approvals/service.js';
import { auditRoutes } from './audit/routes.js';
import type { AuditTrail } from './audit/trail.js';
import { delegationRoutes } from './delegations/routes.js';
import type { DelegationService } from './delegations/service.js';
import { deliverySignalRoutes } from './deliveries/routes.js';
import { docsRoutes } from './docs-page.js';
import { escalationSignalRoutes } from './escalations/routes.js';
import { SqlEscalationStore } from './escalations/store.js';
import { Contract, openApiDocument } from './http/contract.js';
import { personRateLimit, requirePerson, requireServiceToken } from './http/auth.js';
import { ApiError, errorHandler, notFoundRoute } from './http/errors.js';
import { undocumentedMethods } from './http/methods.js';
import type { Readiness } from './http/readiness.js';
import type { Authenticator } from './identity/dag-access.js';
import { redactUrl } from './logging.js';
import type { Metrics } from './metrics/registry.js';
import { policyChangeRoutes } from './policies/changes/routes.js';
import type { PolicyDryRuns } from './policies/dry-run.js';
import { policyRoutes } from './policies/routes.js';
import type { PolicyChanges } from './policies/changes/service.js';
import { queueRoutes } from './queue/routes.js';
import type { Receipts } from './receipts/receipt.js';
import { receiptRoutes } from './receipts/routes.js';
import type { QueueService } from './queue/service.js';
import { statsRoutes } from './stats/routes.js';
import type { Stats } from './stats/schemas.js';
import type { Db } from './store/db.js';

export interface AppDeps {
  log: Logger;
  db: Db;
  service: ApprovalService;
  /** Votes kept while Airflow cannot say whether their voter may decide. */
  deferredVotes: DeferredVotes;
  actions: ActionService;
  /** The review queue's claims. */
  queue: QueueService;
  /** People handing their vote to a deputy for a while. */
  delegations: DelegationService;
  /** The clock delegation requests are judged by (ends_at's bound). */
  now: () => Date;
  trail: AuditTrail;
  metrics: Metrics;
  stats: (days: number, readable: ReadonlySet<string>) => Promise<Stats>;
  /** People's tokens: verified, and what Airflow lets each person read and decide. */
  authenticate: Authenticator;
  /** What the Airflow side presents to register approvals. */
  serviceToken: string;
  /** Checks each registration against Airflow before it is stored. */
  registrations: RegistrationVerifier;
  /** Where file signals are written (AIRGATE_SIGNALS_DIR); null refuses approvals that ask for one. */
  signalsDir?: string | null;
  /** Readiness of each dependency, with details for operators. */
  readiness: () => Promise<Readiness>;
  /** Decisions' signed receipts and the keys that verify them. */
  receipts: Receipts;
  rateLimitPerMinute?: number;
  /** Channels' routes: signed public ones (links, hooks, Slack) and person-authenticated API ones. */
  channels?: { routes(contract: Contract): void };
  /** Four-eyes on policy changes; null when the policies file decides alone. */
  policyChanges?: PolicyChanges | null;
  /** Policy previews (dry-run) and checks of a policies file. */
  policyDryRuns: PolicyDryRuns;
}

/**
 * Builds the HTTP app from its collaborators, so tests can wire a throwaway store and a fake Airflow, with the
 * OpenAPI document of exactly the routes it mounted.
 */
export function createApp(deps: AppDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(helmet());
  app.use(
    pinoHttp({
      logger: deps.log,
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
      serializers: { req: (req: { method: string; url: string }) => ({ method: req.method, url: redactUrl(req.url) }), res: (res: { statusCode: number }) => ({ status: res.statusCode }) },
    }),
  );
  // The public channel routes have no person yet: per address there. People's routes are limited per person.
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: deps.rateLimitPerMinute ?? 1200,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) => next(new ApiError(429, 'rate_limited', 'too many requests; try again in a minute')),
  });
  const person = [requirePerson(deps.authenticate), personRateLimit(deps.rateLimitPerMinute ?? 1200)];
  const contract = new Contract({ person, service: [requireServiceToken(deps.serviceToken)] });
  approvalRoutes(contract, { service: deps.service, metrics: deps.metrics, deferred: deps.deferredVotes, registrations: deps.registrations, signalsDir: deps.signalsDir ?? null });
  queueRoutes(contract, deps.queue, { service: deps.service, metrics: deps.metrics, deferred: deps.deferredVotes });
  auditRoutes(contract, deps.trail, (key) => deps.service.findLatest(key));
  actionRoutes(contract, deps.actions);
  statsRoutes(contract, deps.stats);
  escalationSignalRoutes(contract, deps.service, new SqlEscalationStore(deps.db));
  deliverySignalRoutes(contract, deps.service, deps.db);
  receiptRoutes(contract, deps.service, deps.receipts);
  deps.channels?.routes(contract);
  policyRoutes(contract, deps.policyDryRuns);
  delegationRoutes(contract, deps.delegations, deps.now);
  if (deps.policyChanges) policyChangeRoutes(contract, deps.policyChanges);
  const openapi = openApiDocument(contract.endpoints);

  // Before the JSON parser: webhook and Slack signatures are checked over the raw body. The public channel routes
  // have no person yet: limited per address there. People's routes are limited per person.
  app.use(['/a', '/hooks', '/channels'], limiter);
  app.use(contract.signed);
  app.use(express.json({ limit: '256kb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', async (_req, res) => {
    const readiness = await deps.readiness();
    res.status(readiness.ok ? 200 : 503).json(readiness);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  app.get('/api/v1/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use('/api/v1/docs', docsRoutes());
  // Last in the contract's own router: Express answers an OPTIONS a router's stack did not, before the app's next handler.
  contract.api.use(undocumentedMethods(openapi));
  app.use(contract.api);
  app.use(notFoundRoute);
  app.use(errorHandler(deps.log));
  return { app, openapi };
}
