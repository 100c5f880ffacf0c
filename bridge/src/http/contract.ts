import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig, type RouteConfig, type ZodRequestBody } from '@asteasolutions/zod-to-openapi';
import { type RequestHandler, Router } from 'express';
import { z } from '../zod.js';
import { ErrorBody } from './errors.js';

/**
 * Who may call an endpoint: a person with their Airflow token, the Airflow side with the service token, a channel
 * that signs each request itself (links, webhooks, Slack), whose routes read their own raw body, or anyone (what
 * is public by nature, such as the keys that verify receipts).
 */
export type Auth = 'person' | 'service' | 'signed' | 'public';

/** One route of the bridge as its contract documents it; the path is OpenAPI's (`/api/v1/approvals/{id}`). */
export interface Endpoint extends Omit<RouteConfig, 'security'> {
  auth: Auth;
}

export const json = (schema: z.ZodType, description: string): ResponseConfig => ({
  description,
  content: { 'application/json': { schema } },
});
export const errors = (...statuses: number[]): Record<string, ResponseConfig> =>
  Object.fromEntries(statuses.map((s) => [String(s), json(ErrorBody, `Error ${s}`)]));
export const html = (description: string): ResponseConfig => ({ description, content: { 'text/html': { schema: z.string() } } });
/** A request body the route cannot do without (an absent one is refused with 400). */
export const requiredBody = (mediaType: string, schema: z.ZodType): ZodRequestBody => ({ required: true, content: { [mediaType]: { schema } } });

// `{id}` in the contract is `:id` to Express: one non-empty path segment either way.
const expressPath = (path: string) => path.replace(/\{([^}]+)\}/g, ':$1');

/**
 * The one way a route is mounted: with its endpoint, so the bridge serves exactly the document of what it mounted,
 * and the guard its `auth` names runs before the handlers.
 */
export class Contract {
  /** Signed channel routes: mounted before the JSON parser, since their signatures cover the raw body. */
  readonly signed = Router();
  /** Every other route: mounted after the JSON parser. */
  readonly api = Router();
  private readonly mounted: Endpoint[] = [];

  constructor(private readonly guards: Readonly<Record<'person' | 'service', readonly RequestHandler[]>>) {}

  add(endpoint: Endpoint, ...handlers: RequestHandler[]): void {
    this.mounted.push(endpoint);
    const { auth } = endpoint;
    const [router, guard] = auth === 'signed' ? [this.signed, []] : [this.api, auth === 'public' ? [] : this.guards[auth]];
    router[endpoint.method](expressPath(endpoint.path), ...guard, ...handlers);
  }

  get endpoints(): readonly Endpoint[] {
    return this.mounted;
  }
}

/** The contract of `endpoints` as OpenAPI 3.1, from the same zod schemas their routes parse with. */
export function openApiDocument(endpoints: readonly Endpoint[]) {
  const registry = new OpenAPIRegistry();
  const person = registry.registerComponent('securitySchemes', 'airflowToken', {
    type: 'http',
    scheme: 'bearer',
    description: "The JWT that Airflow's POST /auth/token returns",
  });
  const service = registry.registerComponent('securitySchemes', 'serviceToken', {
    type: 'http',
    scheme: 'bearer',
    description: "The bridge's service token (AIRGATE_SERVICE_TOKEN), held by the Airflow side",
  });
  const security: Record<Auth, RouteConfig['security']> = { person: [{ [person.name]: [] }], service: [{ [service.name]: [] }], signed: undefined, public: undefined };
  for (const { auth, ...route } of endpoints) registry.registerPath({ ...route, ...(security[auth] ? { security: security[auth] } : {}) });
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'airgate bridge', version: '1' },
  });
}
