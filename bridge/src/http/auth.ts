import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { unauthenticated } from '../refusal.js';
import { ApiError } from './errors.js';
import type { AirflowUnavailable, Authenticator, DagScope } from '../identity/dag-access.js';
import type { Person } from '../identity/tokens.js';

declare module 'express-serve-static-core' {
  interface Request {
    person?: Person;
    /** The verified bearer token, for acting in Airflow as that person. */
    personToken?: string;
    /** What Airflow lets the person read and decide. */
    scope?: DagScope;
    /** Set instead of `scope` when Airflow could not be asked; routes needing the scope answer 503 with it. */
    airflowDown?: AirflowUnavailable;
  }
}

/**
 * Requires `Authorization: Bearer <Airflow JWT>`, verified locally and accepted by Airflow (not revoked), and
 * puts the person and what Airflow lets them reach on the request.
 */
export function requirePerson(authenticate: Authenticator) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) return next(unauthenticated('missing bearer token'));
    try {
      const authenticated = await authenticate(match[1]);
      req.person = authenticated.person;
      if (authenticated.scope) req.scope = authenticated.scope;
      else req.airflowDown = authenticated.airflowDown;
      req.personToken = match[1];
      next();
    } catch (err) {
      next(err);
    }
  };
}

export function personOf(req: Request): Person {
  if (!req.person) throw unauthenticated('missing bearer token');
  return req.person;
}

export function tokenOf(req: Request): string {
  if (!req.personToken) throw unauthenticated('missing bearer token');
  return req.personToken;
}

export function scopeOf(req: Request): DagScope {
  if (req.airflowDown) throw req.airflowDown;
  if (!req.scope) throw unauthenticated('missing bearer token');
  return req.scope;
}

/**
 * Requests per minute per person (the token's verified subject), after `requirePerson`: every browser reaches the
 * bridge through the api-server's one address, so a limit per IP would be one limit for everybody.
 */
export function personRateLimit(perMinute: number) {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => `person:${personOf(req).user}`,
    handler: (_req, _res, next) => next(new ApiError(429, 'rate_limited', 'too many requests; try again in a minute')),
  });
}

/** Requires the bridge's service token (the Airflow side registering approvals); compared in constant time. */
export function requireServiceToken(expected: string) {
  const want = createHash('sha256').update(expected).digest();
  return (req: Request, _res: Response, next: NextFunction) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const got = createHash('sha256').update(match?.[1] ?? '').digest();
    next(match && timingSafeEqual(got, want) ? undefined : unauthenticated('service token required'));
  };
}
