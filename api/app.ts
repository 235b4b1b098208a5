// The Express application: JSON in, JSON out, one error shape.
import { createServer, type RequestListener, type Server } from 'node:http';
import express from 'express';
import { sameSecret } from '../lib/auth/keys.ts';
import { type SessionTimes, sessionTimesFromEnv } from '../lib/auth/sessions.ts';
import { registerAgentMetrics } from './agent-metrics.ts';
import { authenticate, createAdmission, routePattern } from './auth.ts';
import type { ApiContext } from './context.ts';
import { errorHandler, HttpError, notFoundHandler } from './errors.ts';
import { addHealthRoutes } from './health.ts';
import { jsonBody, queryWithoutNul } from './input.ts';
import { type CompiledRoute, createApiMetrics } from './metrics.ts';
import { buildOpenApi, mountedRoutes } from './openapi.ts';
import { predictListener } from './predict-listener.ts';
import { type RateLimits, rateLimitsFromEnv, trustProxyFromEnv } from './rate-limit.ts';
import { agentRoutes } from './routes/agents.ts';
import { auditRoutes } from './routes/audit.ts';
import { createPredict, predictHandler } from './routes/gateway.ts';
import { historyRoutes } from './routes/history.ts';
import { ingestRoutes } from './routes/ingest.ts';
import { keyRoutes } from './routes/keys.ts';
import { modelRoutes } from './routes/models.ts';
import { registryRoutes } from './routes/registry.ts';
import { remedyRoutes } from './routes/remedies.ts';
import { sessionRoutes } from './routes/sessions.ts';

/**
 * A path the app serves, asked with a method it does not serve: 405 with the methods it does (Allow),
 * rather than a 404 that says the path does not exist.
 */
function methodNotAllowed(routes: () => readonly CompiledRoute[]): express.RequestHandler {
  return (req, _res, next) => {
    const allowed = [
      ...new Set(
        routes()
          .filter((r) => r.pattern.test(req.path))
          .map((r) => r.method),
      ),
    ];
    if (allowed.length === 0) return next();
    if (allowed.includes('GET')) allowed.push('HEAD');
    const list = allowed.join(', ');
    throw new HttpError(
      405,
      'method_not_allowed',
      `${req.method} ${req.path} is not served; it takes ${list}`,
      undefined,
      {
        Allow: list,
      },
    );
  };
}

export interface Api {
  /** The Express application: every route, the OpenAPI document's source. */
  app: express.Express;
  /** The HTTP server's request listener: the gateway's fast path in front of the app. */
  listener: RequestListener;
  /** An HTTP server on the listener, listening. */
  listen(port: number, host: string, ready?: () => void): Server;
}

export function createApi(
  context: ApiContext,
  limits: RateLimits = rateLimitsFromEnv(),
  sessionTimes: SessionTimes = sessionTimesFromEnv(),
): Api {
  const app = express();
  app.disable('x-powered-by');
  // Which X-Forwarded-For to believe for the client's address (the per-address limit of refused requests).
  app.set('trust proxy', trustProxyFromEnv());
  // The app's routes, read from the app itself once it is built (for 405s and metric labels).
  let compiled: CompiledRoute[] | undefined;
  const routes = () => {
    compiled ??= mountedRoutes(app).map((key) => ({ key, ...routePattern(key) }));
    return compiled;
  };
  const metrics = createApiMetrics(routes);
  registerAgentMetrics(metrics.registry, context.store);
  app.use(metrics.middleware);
  const metricsToken = process.env.HOMEOSTAT_METRICS_TOKEN;
  app.get('/metrics', async (req, res) => {
    // Open unless HOMEOSTAT_METRICS_TOKEN is set: then Prometheus sends it as a bearer token.
    if (metricsToken && !sameSecret(req.get('authorization') ?? '', `Bearer ${metricsToken}`)) {
      throw new HttpError(
        401,
        'unauthenticated',
        'send HOMEOSTAT_METRICS_TOKEN as "Authorization: Bearer <token>"',
        undefined,
        {
          'WWW-Authenticate': 'Bearer',
        },
      );
    }
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  // Liveness and readiness before keys: probes carry none.
  addHealthRoutes(app, context);
  // Keys are checked before bodies are parsed: an unauthenticated request costs no parsing.
  const admit = createAdmission(context.store, limits, sessionTimes);
  app.use(authenticate(admit));
  app.use(queryWithoutNul());
  app.use(jsonBody());

  // The gateway's route serves what its fast path (api/predict-listener.ts) leaves to the app (a query
  // string, an escaped name, another content type): first and on the app itself, as it is the busiest.
  const predict = createPredict(context);
  app.post('/v1/models/:model/predict', predictHandler(predict));
  app.use('/v1/models', modelRoutes(context));
  app.use('/v1/models/:model/agent', agentRoutes(context));
  app.use('/v1/models/:model/remedies', remedyRoutes(context));
  app.use('/v1/models/:model', ingestRoutes(context));
  app.use('/v1/models/:model', registryRoutes(context));
  app.use('/v1/keys', keyRoutes(context));
  app.use('/v1/audit', auditRoutes(context));
  app.use('/v1/sessions', sessionRoutes(context, limits, sessionTimes));
  app.use('/v1', historyRoutes(context));
  let openApi: object | undefined;
  app.get('/openapi.json', (_req, res) => {
    openApi ??= buildOpenApi(app);
    res.json(openApi);
  });
  app.use(methodNotAllowed(routes));
  app.use(notFoundHandler);
  app.use(errorHandler);
  const listener = predictListener(app, { admit, predict, metrics });
  return {
    app,
    listener,
    listen: (port, host, ready) => createServer(listener).listen(port, host, ready),
  };
}
