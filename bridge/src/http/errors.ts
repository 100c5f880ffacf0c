import type { ErrorRequestHandler, RequestHandler } from 'express';
import { Refusal, type RefusalKind, unavailable } from '../refusal.js';
import { isStoreUnreachable } from '../store/db.js';
import { z } from '../zod.js';

export const ErrorBody = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
  })
  .openapi('Error');
export type ErrorBody = z.infer<typeof ErrorBody>;

/** An error of the HTTP layer itself (a malformed request, a method, a limit); the domain's are Refusals. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, field?: string) => new ApiError(400, 'bad_request', message, field);

/** The one place a refusal's kind becomes an HTTP status. */
const STATUS: Record<RefusalKind, number> = {
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  unprocessable: 422,
  unavailable: 503,
};
export const statusOf = (err: ApiError | Refusal): number => (err instanceof Refusal ? STATUS[err.kind] : err.status);

/** Parse with a schema or fail with 400 naming the first offending field. */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  // An unknown key is named itself, so the client sees which field it must not send.
  const path = issue ? [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [])] : [];
  const field = path.length > 0 ? path.join('.') : where;
  throw badRequest(`${field}: ${issue?.message ?? 'invalid'}`, field);
}

export const notFoundRoute: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

export function errorHandler(log: { error: (obj: unknown, msg: string) => void }): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    let apiError: ApiError | Refusal;
    if (err instanceof ApiError || err instanceof Refusal) apiError = err;
    else if (err?.type === 'entity.parse.failed') apiError = badRequest('body: malformed JSON', 'body');
    else if (err?.type === 'entity.too.large') apiError = new ApiError(413, 'too_large', 'body: too large', 'body');
    else if (isStoreUnreachable(err)) {
      log.error({ err }, 'store unreachable');
      apiError = unavailable('the store is unreachable; nothing was changed, try again shortly');
    } else {
      log.error({ err }, 'unhandled error');
      apiError = new ApiError(500, 'internal', 'internal error');
    }
    const body: ErrorBody = {
      error: { code: apiError.code, message: apiError.message, ...(apiError.field ? { field: apiError.field } : {}) },
    };
    res.status(statusOf(apiError)).json(body);
  };
}
