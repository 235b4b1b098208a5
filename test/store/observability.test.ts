// The Prometheus and Grafana files in deploy/ against the real API's /metrics: every metric an alert rule
// or a dashboard panel names is one the API exposes, the agent metrics say what the store holds, and
// promtool accepts the rules (bootstrap --test extracts it from Debian's prometheus package).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/db/config.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { creditData, registerCreditModel } from '../helpers/credit-model.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8');
const ALERTS = 'deploy/prometheus/alerts.yml';
const DASHBOARD = 'deploy/grafana/dashboards/homeostat.json';
const metricNames = (text: string) => new Set(text.match(/\bhomeostat_[a-z_]+/g) ?? []);

function promtool(): string | null {
  const cached = path.join(REPO_ROOT, 'node_modules', '.cache', 'homeostat', 'promtool');
  if (existsSync(cached)) return cached;
  try {
    return execFileSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** `name{labels} value` lines of the exposition format, as [name, labels, value]. */
function samples(exposition: string): { name: string; labels: Record<string, string>; value: number }[] {
  return exposition
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)!;
      const labels = Object.fromEntries(
        [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]),
      );
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

describe('metrics, alerts and dashboard', () => {
  let db: TestDatabase;
  let api: TestApi;
  let exposition: string;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    api = await startTestApi(db.store);
    await registerCreditModel(api.call, 'credit', { onInvalid: 'reject' });
    await registerCreditModel(api.call, 'quiet');
    // What an agent leaves in the store: an escalated incident still open, a recovered one that took
    // 90 s, and remedies with their outcomes.
    const model = await db.store.model.findUniqueOrThrow({ where: { name: 'credit' } });
    const opened = new Date('2026-12-01T10:00:00Z');
    await db.store.incident.createMany({
      data: [
        {
          modelId: model.id,
          status: 'escalated',
          kind: 'stale_data',
          severity: 'critical',
          summary: 'no traffic',
        },
        {
          modelId: model.id,
          status: 'recovered',
          kind: 'concept_drift',
          severity: 'high',
          summary: 'accuracy fell',
          openedAt: opened,
          closedAt: new Date(opened.getTime() + 90_000),
        },
      ],
    });
    await db.store.action.createMany({
      data: [
        {
          idempotencyKey: 'r1',
          modelId: model.id,
          type: 'retrain',
          actor: 'agent',
          status: 'succeeded',
          reason: 'x',
        },
        {
          idempotencyKey: 'r2',
          modelId: model.id,
          type: 'retrain',
          actor: 'agent',
          status: 'failed',
          reason: 'x',
        },
        {
          idempotencyKey: 'r3',
          modelId: model.id,
          type: 'rollback',
          actor: 'human:ops',
          status: 'succeeded',
          reason: 'x',
        },
        {
          idempotencyKey: 'p1',
          modelId: model.id,
          type: 'acknowledge',
          actor: 'human:ops',
          status: 'succeeded',
          reason: 'x',
        },
      ],
    });
    // Traffic, accepted and rejected, so the ingestion and request metrics have series too.
    const [row] = creditData(1, 3).rows;
    const logged = (id: string, features: unknown) => ({
      predictions: [{ id, features, prediction: '1', confidence: 0.8 }],
    });
    const accepted = await api.call('POST', '/v1/models/credit/predictions', logged('p-1', row));
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    expect(
      (await api.call('POST', '/v1/models/credit/predictions', logged('p-2', { age: 'old' }))).status,
    ).toBe(400);
    expect(
      (await api.call('POST', '/v1/models/quiet/predictions', logged('q-1', { ...row, age: 'old' }))).status,
    ).toBe(202);
    const res = await fetch(`${api.url}/metrics`);
    expect(res.status).toBe(200);
    exposition = await res.text();
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('exposes every metric the alert rules and the dashboard name', () => {
    const exposed = new Set(samples(exposition).map((s) => s.name.replace(/_(bucket|sum|count)$/, '')));
    const named = new Set([...metricNames(read(ALERTS)), ...metricNames(read(DASHBOARD))]);
    expect(named.size).toBeGreaterThanOrEqual(8);
    for (const name of named)
      expect(exposed, `${name} (named in deploy/)`).toContain(name.replace(/_bucket$/, ''));
  });

  it('reports health, incidents, remedies and time to close as the store holds them', () => {
    const all = samples(exposition);
    const value = (name: string, labels: Record<string, string>) =>
      all.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('homeostat_model_health', { model: 'credit', health: 'escalated' })).toBe(1);
    expect(value('homeostat_model_health', { model: 'credit', health: 'healthy' })).toBe(0);
    expect(value('homeostat_model_health', { model: 'quiet', health: 'starting' })).toBe(1);
    expect(
      value('homeostat_incidents', {
        model: 'credit',
        kind: 'stale_data',
        status: 'escalated',
        closed: 'false',
      }),
    ).toBe(1);
    expect(
      value('homeostat_incidents', {
        model: 'credit',
        kind: 'concept_drift',
        status: 'recovered',
        closed: 'true',
      }),
    ).toBe(1);
    expect(
      value('homeostat_remedies', { model: 'credit', type: 'retrain', status: 'failed', actor: 'agent' }),
    ).toBe(1);
    expect(
      value('homeostat_remedies', { model: 'credit', type: 'rollback', status: 'succeeded', actor: 'human' }),
    ).toBe(1);
    // An acknowledgement is an operator act, not a remedy.
    expect(all.some((s) => s.name === 'homeostat_remedies' && s.labels.type === 'acknowledge')).toBe(false);
    const closed = { model: 'credit', kind: 'concept_drift', status: 'recovered' };
    expect(value('homeostat_incident_open_seconds', { ...closed, stat: 'sum' })).toBe(90);
    expect(value('homeostat_incident_open_seconds', { ...closed, stat: 'count' })).toBe(1);
  });

  it('routes in the alert rules are route patterns the API labels its requests with', () => {
    const routes = new Set(
      samples(exposition)
        .filter((s) => s.name === 'homeostat_http_requests_total')
        .map((s) => s.labels.route),
    );
    expect(routes).toContain('/v1/models/:model/predictions');
    expect(routes).toContain('/v1/models');
    const ingest = samples(exposition).filter(
      (s) => s.name === 'homeostat_http_requests_total' && s.labels.route === '/v1/models/:model/predictions',
    );
    const credit = ingest.filter((s) => s.labels.model === 'credit');
    expect(credit.map((s) => s.labels.status).sort()).toEqual(['202', '400']);
    expect(ingest.filter((s) => s.labels.model === 'quiet').map((s) => s.labels.status)).toEqual(['202']);
  });

  it.skipIf(promtool() === null)(
    'promtool accepts the alert rules (skipped where no promtool is installed)',
    () => {
      const out = execFileSync(promtool()!, ['check', 'rules', path.join(REPO_ROOT, ALERTS)], {
        encoding: 'utf8',
      });
      expect(out).toMatch(/SUCCESS: \d+ rules found/);
    },
  );

  it('the dashboard is valid JSON whose every panel queries the Prometheus data source', () => {
    const dashboard = JSON.parse(read(DASHBOARD));
    expect(dashboard.uid).toBe('homeostat');
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid, panel.title).toBe('prometheus');
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
    }
    expect(read('deploy/grafana/provisioning/datasources/prometheus.yml')).toContain('uid: prometheus');
  });
});
