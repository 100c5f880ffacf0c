import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express, { Router } from 'express';

const swaggerDist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>airgate bridge API</title>
<link rel="stylesheet" href="assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="assets/swagger-ui-bundle.js"></script><script src="init.js"></script></body></html>`;

// A script file rather than inline code, so the page works under helmet's default script-src 'self'.
const init = `window.ui = SwaggerUIBundle({ url: '../openapi.json', dom_id: '#swagger-ui' });`;

/** A browsable page over the OpenAPI document, served from the bridge itself (no CDN). */
export function docsRoutes(): Router {
  const router = Router();
  router.get('/', (req, res) => {
    // Relative asset URLs need the trailing slash.
    if (!req.originalUrl.endsWith('/')) return res.redirect(301, `${req.originalUrl}/`);
    res.type('html').send(page);
  });
  router.get('/init.js', (_req, res) => {
    res.type('js').send(init);
  });
  router.use('/assets', express.static(swaggerDist, { index: false }));
  return router;
}
