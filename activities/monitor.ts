// Monitor: measures one window of a model's traffic from the store.
import type { Store } from '../lib/db/client.ts';
import type { WindowSummary } from '../workflows/types.ts';
import { modelNotFound } from './errors.ts';

export interface MonitorRequest {
  modelName: string;
  /** Window number; one per agent cycle, so a retried activity measures the same window again. */
  seq: number;
}

/** The prediction's output as stored by the gateway and ingestion endpoints. */
interface StoredOutput {
  prediction?: unknown;
}

export function createMonitorActivities(store: Store) {
  return {
    /**
     * Closes window `seq` (predictions received since the previous window closed) and stores its metrics.
     * Idempotent: a window that was already stored is returned as it was.
     */
    async monitorWindow({ modelName, seq }: MonitorRequest): Promise<WindowSummary> {
      const model = await store.model.findUnique({ where: { name: modelName } });
      if (!model) throw modelNotFound(modelName);
      const existing = await store.metricWindow.findUnique({
        where: { modelId_seq: { modelId: model.id, seq } },
      });
      if (existing) return existing.metrics as unknown as WindowSummary;

      const previous = await store.metricWindow.findFirst({
        where: { modelId: model.id, seq: { lt: seq } },
        orderBy: { seq: 'desc' },
      });
      const startAt = previous?.endAt ?? model.createdAt;
      const endAt = new Date();
      const rows = await store.prediction.findMany({
        where: { modelId: model.id, receivedAt: { gt: startAt, lte: endAt } },
        select: { output: true, label: { select: { value: true } } },
      });
      let labelled = 0;
      let correct = 0;
      for (const row of rows) {
        if (!row.label) continue;
        labelled++;
        const predicted = (row.output as StoredOutput | null)?.prediction;
        if (predicted !== undefined && String(predicted) === String(row.label.value)) correct++;
      }
      const summary: WindowSummary = {
        seq,
        startAt: startAt.toISOString(),
        endAt: endAt.toISOString(),
        count: rows.length,
        labelled,
        correct,
        accuracy: labelled > 0 ? correct / labelled : null,
      };
      await store.metricWindow.upsert({
        where: { modelId_seq: { modelId: model.id, seq } },
        create: {
          modelId: model.id,
          seq,
          startAt,
          endAt,
          count: summary.count,
          labelled,
          metrics: summary as object,
        },
        update: {},
      });
      return summary;
    },
  };
}
