// The Express application: JSON in, JSON out, one error shape.
import express from 'express';
import { registerAgentMetrics } from './agent-metrics.ts';
import { authenticate } from './auth.ts';
import type { ApiContext } from './context.ts';
import { errorHandler, notFoundHandler } from './errors.ts';
import { createApiMetrics } from './metrics.ts';
import { buildOpenApi } from './openapi.ts';
import { agentRoutes } from './routes/agents.ts';
import { gatewayRoutes } from './routes/gateway.ts';
import { historyRoutes } from './routes/history.ts';
import { ingestRoutes } from './routes/ingest.ts';
import { keyRoutes } from './routes/keys.ts';
import { modelRoutes } from './routes/models.ts';
import { registryRoutes } from './routes/registry.ts';

const HEALTH_TEMPORAL_DEADLINE_MS = 2_000;

export const BODY_LIMIT = process.env.HOMEOSTAT_BODY_LIMIT ?? '2mb';

export function createApp(context: ApiContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const metrics = createApiMetrics();
  registerAgentMetrics(metrics.registry, context.store);
  app.use(metrics.middleware);
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  // Keys are checked before bodies are parsed: an unauthenticated request costs no parsing.
  app.use(authenticate(context.store));
  app.use(express.json({ limit: BODY_LIMIT }));

  app.get('/healthz', async (_req, res) => {
    const [db, temporal] = await Promise.all([
      context.store.$queryRawUnsafe('SELECT 1').then(
        () => 'ok',
        () => 'unavailable',
      ),
      // A deadline: an unreachable Temporal would otherwise hold the probe for the client's ~20 s of retries.
      context.temporal
        .withDeadline(Date.now() + HEALTH_TEMPORAL_DEADLINE_MS, () =>
          context.temporal.workflowService.getSystemInfo({}),
        )
        .then(
          () => 'ok',
          () => 'unavailable',
        ),
    ]);
    const ok = db === 'ok' && temporal === 'ok';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', db, temporal });
  });

  // The gateway first: it takes the most requests, and each router passed costs a path match.
  app.use('/v1/models/:model', gatewayRoutes(context));
  app.use('/v1/models', modelRoutes(context));
  app.use('/v1/models/:model/agent', agentRoutes(context));
  app.use('/v1/models/:model', ingestRoutes(context));
  app.use('/v1/models/:model', registryRoutes(context));
  app.use('/v1/keys', keyRoutes(context));
  app.use('/v1', historyRoutes(context));
  let openApi: object | undefined;
  app.get('/openapi.json', (_req, res) => {
    openApi ??= buildOpenApi(app);
    res.json(openApi);
  });
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
