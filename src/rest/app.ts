import express, { type Express, type RequestHandler } from 'express';
import type { Registry } from '../core/command/index.js';
import { DatabaseHealth } from '../core/db/health.js';
import { DATABASE_UNAVAILABLE_HINT } from '../core/db/errors.js';
import type { CommandServices as Services } from '../core/command/types.js';
import { basicAuth } from './auth.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { buildOpenApi } from './openapi.js';
import { onFirstUse } from './on-first-use.js';
import { requestId } from './request-id.js';
import { commandRoutes, jsonBodyParser } from './routes.js';

export interface RestAppOptions {
  registry: Registry;
  services: Services;
  version: string;
  /** Further handlers mounted behind auth (the MCP endpoint). */
  mounts?: Array<{ path: string; handler: RequestHandler }>;
  bodyLimit?: string;
}

/** The express app: health, auth, command routes, OpenAPI and docs, extra mounts, JSON errors. */
export function createRestApp(opts: RestAppOptions): Express {
  const { registry, services } = opts;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestId);
  const auth = basicAuth(services.login);
  const bodyLimit = opts.bodyLimit ?? '256kb';
  // Command routes first: a command call is authenticated and dispatched by this one layer. A path
  // no command has goes on down the stack (health, docs, the MCP mount, the 404).
  app.use(commandRoutes(registry, services, { auth, bodyLimit }));

  // Uptime is elapsed process time, not domain time: a monotonic measure, whatever clock the services read.
  const started = performance.now();
  const uptime = () => Math.round((performance.now() - started) / 1000);
  // Liveness: the process runs and answers; it says nothing about the database, so a supervisor does
  // not restart a server that is only waiting for its database to come back.
  app.get('/health/live', (_req, res) => {
    res.json({ status: 'ok', version: opts.version, uptime_s: uptime() });
  });
  // Readiness: 503 while the database is unreachable (a cached, bounded check: see DatabaseHealth).
  const dbHealth = new DatabaseHealth(services.database);
  app.get('/health', async (_req, res) => {
    const database = await dbHealth.state();
    res.status(database === 'ok' ? 200 : 503).json({
      status: database === 'ok' ? 'ok' : 'unavailable',
      version: opts.version,
      uptime_s: uptime(),
      database,
      database_kind: services.database.kind,
      ...(database === 'ok' ? {} : { hint: DATABASE_UNAVAILABLE_HINT }),
    });
  });

  app.use(auth);
  app.use(jsonBodyParser(bodyLimit));

  // The document and the docs UI are built on first use: a start (or a test server) whose docs nobody
  // reads need not spend the tens of milliseconds they take.
  let openapi: object | undefined;
  const openapiOf = () => (openapi ??= buildOpenApi(registry, opts.version));
  const ui = onFirstUse(async () => {
    const { default: swaggerUi } = await import('swagger-ui-express');
    const openapi = openapiOf();
    const router = express.Router();
    // swagger-ui-express serves the UI's assets from its own dependency: nothing is fetched from a CDN.
    // The document is embedded in the page rather than fetched, so the page works however the browser
    // holds the Basic credentials.
    router.use(swaggerUi.serveFiles(openapi), swaggerUi.setup(openapi, { customSiteTitle: 'tradedesk API', swaggerOptions: { persistAuthorization: true } }));
    return router;
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openapiOf());
  });
  app.use('/docs', ui);

  for (const m of opts.mounts ?? []) app.use(m.path, m.handler);
  app.use(notFoundHandler);
  app.use(errorHandler(services.logger));
  return app;
}
