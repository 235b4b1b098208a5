// What the agents did, as Prometheus metrics: every model's health, its incidents by kind and status, the
// remedies by type and outcome, and how long incidents took to close. The store is the source of truth
// (the agents write it, and it outlives any process), so the values are read from it when Prometheus
// scrapes, and every API replica reports the same numbers: aggregate with max(), not sum(), across
// replicas. deploy/prometheus/alerts.yml and deploy/grafana/ are written against these names.
import { Gauge, type Registry } from 'prom-client';
import type { Store } from '../lib/db/client.ts';
import { HEALTHS } from '../lib/domain.ts';
import { REMEDIES } from '../lib/policy/policy.ts';
import { fleetEntry } from './routes/history.ts';

/** A gauge whose values are replaced, at each scrape, by what `read` finds in the store. */
function storeGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  read: () => Promise<{ labels: Record<L, string>; value: number }[]>,
): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      const values = await read();
      this.reset();
      for (const { labels, value } of values) this.set(labels as never, value);
    },
  });
}

/** Adds up `count` per distinct label set (several store groups can map to one series). */
function sumByLabels<G, L extends string>(
  groups: G[],
  labelsOf: (g: G) => Record<L, string>,
  countOf: (g: G) => number,
): { labels: Record<L, string>; value: number }[] {
  const series = new Map<string, { labels: Record<L, string>; value: number }>();
  for (const g of groups) {
    const labels = labelsOf(g);
    const key = JSON.stringify(labels);
    const entry = series.get(key) ?? { labels, value: 0 };
    entry.value += countOf(g);
    series.set(key, entry);
  }
  return [...series.values()];
}

export function registerAgentMetrics(registry: Registry, store: Store): void {
  const modelNames = async () =>
    new Map((await store.model.findMany({ select: { id: true, name: true } })).map((m) => [m.id, m.name]));

  storeGauge(
    registry,
    'homeostat_model_health',
    `1 for each model's current health (${HEALTHS.join(', ')}), as the dashboard's fleet shows it; 0 for the others`,
    ['model', 'health'],
    async () => {
      const models = await store.model.findMany({ orderBy: { name: 'asc' } });
      const entries = await Promise.all(models.map((model) => fleetEntry(store, model)));
      return entries.flatMap((entry) =>
        HEALTHS.map((health) => ({
          labels: { model: entry.model.name, health },
          value: entry.health === health ? 1 : 0,
        })),
      );
    },
  );

  storeGauge(
    registry,
    'homeostat_incidents',
    'Incidents by model, kind and status; closed=true once closed (recovered, or an escalation acknowledged)',
    ['model', 'kind', 'status', 'closed'],
    async () => {
      const [names, groups] = await Promise.all([
        modelNames(),
        store.incident.groupBy({ by: ['modelId', 'kind', 'status', 'closedAt'], _count: { _all: true } }),
      ]);
      return sumByLabels(
        groups,
        (g) => ({
          model: names.get(g.modelId) ?? g.modelId,
          kind: g.kind,
          status: g.status,
          closed: String(g.closedAt !== null),
        }),
        (g) => g._count._all,
      );
    },
  );

  storeGauge(
    registry,
    'homeostat_remedies',
    `Remedies the agent or a person ran (${REMEDIES.join(', ')}), by model, type, status and who acted (agent or human)`,
    ['model', 'type', 'status', 'actor'],
    async () => {
      const [names, groups] = await Promise.all([
        modelNames(),
        store.action.groupBy({
          by: ['modelId', 'type', 'status', 'actor'],
          where: { type: { in: [...REMEDIES] } },
          _count: { _all: true },
        }),
      ]);
      return sumByLabels(
        groups,
        (g) => ({
          model: names.get(g.modelId) ?? g.modelId,
          type: g.type,
          status: g.status,
          // A person's key name is not a label: it would grow without bound.
          actor: g.actor === 'agent' ? 'agent' : 'human',
        }),
        (g) => g._count._all,
      );
    },
  );

  storeGauge(
    registry,
    'homeostat_incident_open_seconds',
    'Seconds each closed incident stayed open, summed (…{stat="sum"}) and counted ({stat="count"}) by model, kind and final status: sum / count is the mean time to recover or to a human',
    ['model', 'kind', 'status', 'stat'],
    async () => {
      const [names, closed] = await Promise.all([
        modelNames(),
        store.incident.findMany({
          where: { closedAt: { not: null } },
          select: { modelId: true, kind: true, status: true, openedAt: true, closedAt: true },
        }),
      ]);
      const totals = new Map<
        string,
        { labels: Record<'model' | 'kind' | 'status', string>; sum: number; count: number }
      >();
      for (const i of closed) {
        const labels = { model: names.get(i.modelId) ?? i.modelId, kind: i.kind, status: i.status };
        const key = JSON.stringify(labels);
        const total = totals.get(key) ?? { labels, sum: 0, count: 0 };
        total.sum += (i.closedAt!.getTime() - i.openedAt.getTime()) / 1000;
        total.count++;
        totals.set(key, total);
      }
      return [...totals.values()].flatMap((t) => [
        { labels: { ...t.labels, stat: 'sum' }, value: t.sum },
        { labels: { ...t.labels, stat: 'count' }, value: t.count },
      ]);
    },
  );
}
