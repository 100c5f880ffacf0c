import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { unauthorized } from './errors.js';
import type { Person, TokenVerifier } from '../identity/tokens.js';

declare module 'express-serve-static-core' {
  interface Request {
    person?: Person;
    /** The verified bearer token, for acting in Airflow as that person. */
    personToken?: string;
  }
}

/** Requires `Authorization: Bearer <Airflow JWT>` and puts the verified person on the request. */
export function requirePerson(verify: TokenVerifier) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) return next(unauthorized('missing bearer token'));
    try {
      req.person = await verify(match[1]);
      req.personToken = match[1];
      next();
    } catch (err) {
      next(err);
    }
  };
}

export function personOf(req: Request): Person {
  if (!req.person) throw unauthorized('missing bearer token');
  return req.person;
}

/** Requires the bridge's service token (the Airflow side registering approvals); compared in constant time. */
export function requireServiceToken(expected: string) {
  const want = createHash('sha256').update(expected).digest();
  return (req: Request, _res: Response, next: NextFunction) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const got = createHash('sha256').update(match?.[1] ?? '').digest();
    next(match && timingSafeEqual(got, want) ? undefined : unauthorized('service token required'));
  };
}
