import { errors, jwtVerify } from 'jose';
import { z } from 'zod';
import { unauthenticated } from '../refusal.js';

export interface Person {
  /** Airflow's user name; the token's subject. */
  readonly user: string;
  readonly role: string | null;
}

const Claims = z.object({ sub: z.string().min(1), role: z.string().optional() });

/**
 * Verifies the JWTs Airflow's `POST /auth/token` issues (HS512 with `[api_auth] jwt_secret`), so people
 * use one credential for Airflow and airgate and the identity is always the token's subject.
 */
export function airflowTokenVerifier(secret: string, audience: string) {
  const key = new TextEncoder().encode(secret);
  return async (token: string): Promise<Person> => {
    try {
      const { payload } = await jwtVerify(token, key, { audience, algorithms: ['HS512', 'HS256'] });
      const claims = Claims.parse(payload);
      return { user: claims.sub, role: claims.role ?? null };
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw unauthenticated('token expired');
      throw unauthenticated('invalid token');
    }
  };
}
export type TokenVerifier = ReturnType<typeof airflowTokenVerifier>;
