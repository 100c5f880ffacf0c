/**
 * Why the bridge does not do what was asked, in the domain's words. Rules, services and stores throw these;
 * the HTTP layer alone turns a kind into a status (`statusOf` in http/errors.ts), so no rule knows HTTP.
 */
export type RefusalKind = 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'gone' | 'unprocessable' | 'unavailable';

export class Refusal extends Error {
  constructor(
    readonly kind: RefusalKind,
    /** Stable, for clients and the audit trail (e.g. `self_approval`). */
    readonly code: string,
    /** Says what to change. */
    message: string,
    /** The request field it is about, when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

export const unauthenticated = (message: string) => new Refusal('unauthenticated', 'unauthorized', message);
export const forbidden = (message: string, code = 'forbidden', field?: string) => new Refusal('forbidden', code, message, field);
export const notFound = (message: string) => new Refusal('not_found', 'not_found', message);
export const conflict = (message: string, code = 'conflict') => new Refusal('conflict', code, message);
export const gone = (message: string) => new Refusal('gone', 'gone', message);
export const unprocessable = (code: string, message: string, field?: string) => new Refusal('unprocessable', code, message, field);
export const unavailable = (message: string, code = 'unavailable') => new Refusal('unavailable', code, message);
