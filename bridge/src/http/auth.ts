import type { NextFunction, Request, Response } from 'express';
import { unauthorized } from './errors.js';
import type { Person, TokenVerifier } from '../identity/tokens.js';

declare module 'express-serve-static-core' {
  interface Request {
    person?: Person;
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
