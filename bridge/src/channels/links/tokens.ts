import { randomUUID } from 'node:crypto';
import { SignJWT, errors, jwtVerify } from 'jose';
import { z } from 'zod';
import type { StoredApproval } from '../../approvals/store.js';

const ISSUER = 'airgate-bridge';
const AUDIENCE = 'airgate-one-click';
const DEFAULT_TTL_MS = 24 * 3_600_000;

/** Channels whose messages carry one-click links; the vote is recorded as cast on that channel. */
export const LINK_CHANNELS = ['email', 'teams'] as const;
export type LinkChannel = (typeof LINK_CHANNELS)[number];

const Claims = z.object({
  sub: z.string().min(1),
  aid: z.string().min(1),
  opt: z.string().min(1),
  opts: z.array(z.string()),
  ch: z.enum(LINK_CHANNELS),
  jti: z.string().min(1),
  exp: z.number(),
});
export type LinkClaims = z.infer<typeof Claims>;

export type LinkCheck = { ok: true; claims: LinkClaims } | { ok: false; why: 'forged' } | { ok: false; why: 'expired'; claims: LinkClaims | null };

/**
 * One-click links: a JWT bound to one approver, one approval, its options and the option of the button, expiring
 * at the approval's deadline or after 24 hours, whichever is sooner. The links of one message share a jti, so
 * using any of them uses them all.
 */
export class LinkTokens {
  constructor(
    private readonly secret: Uint8Array,
    private readonly publicUrl: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async forMessage(approval: StoredApproval, user: string, channel: LinkChannel): Promise<{ option: string; url: string }[]> {
    const jti = randomUUID();
    const now = this.now();
    const expires = Math.min(now.getTime() + DEFAULT_TTL_MS, approval.due_at ? Date.parse(approval.due_at) : Infinity);
    return Promise.all(
      approval.options.map(async (option) => {
        const token = await new SignJWT({ aid: approval.id, opt: option, opts: approval.options, ch: channel })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setSubject(user)
          .setJti(jti)
          .setIssuedAt(Math.floor(now.getTime() / 1000))
          .setExpirationTime(Math.floor(expires / 1000))
          .sign(this.secret);
        return { option, url: `${this.publicUrl.replace(/\/$/, '')}/a/${token}` };
      }),
    );
  }

  async verify(token: string): Promise<LinkCheck> {
    try {
      const { payload } = await jwtVerify(token, this.secret, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'], currentDate: this.now() });
      const claims = Claims.safeParse(payload);
      return claims.success && claims.data.opts.includes(claims.data.opt) ? { ok: true, claims: claims.data } : { ok: false, why: 'forged' };
    } catch (err) {
      // jose checks the signature before the expiry, so an expired token's claims are authentic.
      if (err instanceof errors.JWTExpired) {
        const claims = Claims.safeParse(err.payload);
        return { ok: false, why: 'expired', claims: claims.success ? claims.data : null };
      }
      return { ok: false, why: 'forged' };
    }
  }
}
