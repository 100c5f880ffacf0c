import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { everyRouteBridge } from '../contract-bridge.js';
import type { Db } from '../store/db.js';
import { databases } from '../testing/databases.js';
import { buildBridge } from '../testing/harness.js';

/** A layer of Express's router stack, as far as a route's method and path go. */
interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  /** Mounted at the root ('/'), so its routes' paths are whole paths. */
  slash?: boolean;
}

/** `get /api/v1/approvals/{id}` for every route mounted at the root or through routers mounted there. */
function mountedRoutes(stack: readonly Layer[]): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      return paths.flatMap((path) => Object.keys(layer.route!.methods).map((m) => `${m} ${path.replace(/:(\w+)/g, '{$1}')}`));
    }
    return layer.slash && layer.handle?.stack ? mountedRoutes(layer.handle.stack) : [];
  });
}

const documented = (document: { paths?: Record<string, object> }) =>
  Object.entries(document.paths ?? {}).flatMap(([path, operations]) => Object.keys(operations).map((m) => `${m} ${path}`));

// The process's own endpoints, for probes and tooling rather than clients: outside the API contract.
const OPERATIONAL = ['get /healthz', 'get /readyz', 'get /metrics', 'get /api/v1/openapi.json'];

describe('the contract is what the bridge mounts', () => {
  it('every route a bridge mounts is documented, and every documented operation is mounted', () => {
    const bridge = everyRouteBridge();
    const routes = mountedRoutes((bridge.app as unknown as { router: { stack: Layer[] } }).router.stack);
    expect(routes.filter((r) => !OPERATIONAL.includes(r)).sort()).toEqual(documented(bridge.openapi).sort());
    expect(routes).toEqual(expect.arrayContaining(OPERATIONAL));
  });

  it('a bridge serves the document of what it mounted', async () => {
    const bridge = everyRouteBridge();
    const res = await request(bridge.app).get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(bridge.openapi)));
  });
});

describe.each(databases.slice(0, 1))('a bridge without channels on $name', (database) => {
  let db: Db;
  let drop: () => Promise<void>;
  beforeEach(async () => {
    ({ db, drop } = await database.create());
  });
  afterEach(() => drop());

  it('documents no channel route, since it mounts none', async () => {
    const { app } = buildBridge(db);
    const paths = Object.keys((await request(app).get('/api/v1/openapi.json')).body.paths);
    expect(paths).toEqual(expect.arrayContaining(['/api/v1/approvals', '/api/v1/approvals/{id}/votes', '/api/v1/signals/deliveries']));
    for (const channelPath of ['/a/{token}', '/hooks/{source}', '/channels/slack/interactions', '/api/v1/messages', '/api/v1/approvals/{id}/escalations']) {
      expect(paths).not.toContain(channelPath);
    }
    const undocumented = await request(app).get('/api/v1/messages');
    expect(undocumented.status).toBe(404);
  });
});
