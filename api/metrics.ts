// Prometheus metrics of the API process, served at GET /metrics: request counts and latencies per route
// pattern and model, and the ingestion counters of lib/ingest/counters.ts (predictions stored per model,
// version and source; inputs rejected or flagged per reason), read when Prometheus scrapes.
import type { Request, RequestHandler } from 'express';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { ingestCounters } from '../lib/ingest/counters.ts';
import { decodedParam } from './params.ts';

/** Label sets whose series are kept at hand; past it the cache starts again (the series stay registered). */
const MAX_CACHED_SERIES = 10_000;

export interface ApiMetrics {
  registry: Registry;
  middleware: RequestHandler;
  /** Counts a request that Express did not route (api/predict-listener.ts), started at `started` (hrtime). */
  record(method: string, route: string, status: number, model: string, started: bigint): void;
}

/** A route the app serves: its key "METHOD /path/{param}" (api/openapi.ts mountedRoutes), compiled. */
export interface CompiledRoute {
  key: string;
  method: string;
  pattern: RegExp;
}

/**
 * The route's canonical pattern, not its concrete path (so a label never holds an id), and the model's
 * name. Express matches paths without regard to case and mounts routers under parameters, so the pattern
 * is the app's own route (`routes`, compiled from the app) that matches the path and ends with the
 * matched route's own path: `/V1/Models/x/versions` is counted as `/v1/models/:model/versions`. The model
 * is the `{model}` parameter decoded, which a lookup by name (exact) finds as it is stored.
 */
function routeOf(req: Request, routes: readonly CompiledRoute[]): { route: string; model: string } {
  if (!req.route) return { route: 'unmatched', model: '' };
  const own: string = req.route.path === '/' ? '' : req.route.path.replace(/:(\w+)/g, '{$1}');
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const path = req.originalUrl.split('?')[0] ?? '';
  for (const route of routes) {
    if (route.method !== method || !route.key.endsWith(own)) continue;
    const match = route.pattern.exec(path);
    if (!match) continue;
    const model = match.groups?.model;
    const pattern = route.key.slice(method.length + 1).replace(/\{(\w+)\}/g, ':$1');
    return { route: pattern, model: model ? decodedParam(model) : '' };
  }
  return { route: req.route.path, model: '' };
}
/** A counter whose value is read from the ingestion counters at scrape time. */
function mirroredCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  read: () => { labels: Record<L, string>; count: number }[],
) {
  return new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const { labels, count } of read()) this.inc(labels as never, count);
    },
  });
}

/** `routes`: the app's routes, read from it once it is built (the middleware runs only after). */
export function createApiMetrics(routes: () => readonly CompiledRoute[]): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'homeostat_http_requests_total',
    help: 'HTTP requests by method, route pattern, status and model',
    labelNames: ['method', 'route', 'status', 'model'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'homeostat_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and model',
    labelNames: ['method', 'route', 'model'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  mirroredCounter(
    registry,
    'homeostat_predictions_stored_total',
    'Predictions stored, by model id, version id and source',
    ['model_id', 'version_id', 'source'],
    () =>
      ingestCounters().stored.map((s) => ({
        labels: { model_id: s.modelId, version_id: s.versionId, source: s.source },
        count: s.count,
      })),
  );
  mirroredCounter(
    registry,
    'homeostat_inputs_rejected_total',
    'Inputs rejected at ingestion, by model, endpoint and reason',
    ['model', 'endpoint', 'reason'],
    () =>
      ingestCounters().rejected.map((s) => ({
        labels: { model: s.model, endpoint: s.endpoint, reason: s.reason },
        count: s.count,
      })),
  );
  mirroredCounter(
    registry,
    'homeostat_inputs_flagged_total',
    'Invalid feature values accepted and flagged, by model, endpoint and problem',
    ['model', 'endpoint', 'problem'],
    () =>
      ingestCounters().flagged.map((s) => ({
        labels: { model: s.model, endpoint: s.endpoint, problem: s.reason },
        count: s.count,
      })),
  );

  // Each request's series, looked up by one string: prom-client hashes a labels object on every inc and
  // observe, which cost the gateway more than the counting itself. Bounded like the rate limiter's buckets.
  const seriesByKey = new Map<string, { count(): void; observe(seconds: number): void }>();
  const seriesOf = (method: string, route: string, status: number, model: string) => {
    const key = `${method} ${route} ${status} ${model}`;
    let series = seriesByKey.get(key);
    if (!series) {
      const counted = requests.labels({ method, route, status: String(status), model });
      const timed = duration.labels({ method, route, model });
      series = { count: () => counted.inc(), observe: (seconds) => timed.observe(seconds) };
      if (seriesByKey.size >= MAX_CACHED_SERIES) seriesByKey.clear();
      seriesByKey.set(key, series);
    }
    return series;
  };

  const record = (method: string, route: string, status: number, model: string, started: bigint) => {
    const series = seriesOf(method, route, status, model);
    series.count();
    series.observe(Number(process.hrtime.bigint() - started) / 1e9);
  };
  const middleware: RequestHandler = (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const { route, model } = routeOf(req, routes());
      record(req.method, route, res.statusCode, model, started);
    });
    next();
  };
  return { registry, middleware, record };
}
