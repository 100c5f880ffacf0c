import type { RequestHandler } from 'express';
import { ApiError } from './errors.js';

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** The path templates of an OpenAPI document and the methods each documents. */
interface Paths {
  paths?: Record<string, object>;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * For a path the document describes, asked with a method it does not: 405 with `Allow` (RFC 9110) instead of 404,
 * and OPTIONS answered with the documented methods. Mount after every route, before the 404 handler, so what the
 * routes serve comes first and the document decides what is refused.
 */
export function undocumentedMethods(document: Paths): RequestHandler {
  const routes = Object.entries(document.paths ?? {}).map(([template, operations]) => ({
    // A `{param}` stands for one non-empty path segment, as Express's `:param` does; a trailing slash is the same path.
    pattern: new RegExp(`^${template.split(/\{[^}]+\}/).map(escapeRegExp).join('[^/]+')}/?$`),
    methods: Object.keys(operations)
      .filter((m) => METHODS.has(m))
      .map((m) => m.toUpperCase()),
  }));
  return (req, res, next) => {
    const route = routes.find((r) => r.pattern.test(req.path));
    if (!route || route.methods.includes(req.method)) return next();
    const allow = route.methods.join(', ');
    res.set('Allow', allow);
    if (req.method === 'OPTIONS') return void res.status(204).end();
    next(new ApiError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.path}; allowed: ${allow}`));
  };
}
