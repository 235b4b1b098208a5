// Exports a model's recorded stream from the store in the backtest's JSONL format (docs/backtest.md), so
// that what the agent saw live — the demo's traffic, say — can be replayed under another policy. Times
// are when Homeostat received each prediction and label: the monitor cuts its windows by them.

import { once } from 'node:events';
import fs from 'node:fs';
import type { Store } from '../db/client.ts';
import { findModel, modelShape } from '../registry/versions.ts';

/** Rows read per query: bounded memory on a long history. */
const PAGE_ROWS = 5000;

export interface ExportOptions {
  out: string;
  /** Also write the model's feature schema (for --schema). */
  schemaOut?: string;
  /** Also write the artifact of the version that served the first exported prediction (for --model). */
  artifactOut?: string;
}

export interface ExportResult {
  rows: number;
  labelled: number;
  /** The version whose artifact was written, if any. */
  version: number | null;
}

export async function exportStream(
  store: Store,
  modelName: string,
  options: ExportOptions,
): Promise<ExportResult> {
  const model = await findModel(store, modelName);
  const { schema } = modelShape(model);
  const file = fs.createWriteStream(options.out);
  let rows = 0;
  let labelled = 0;
  let firstVersionId: string | null = null;
  let cursor: string | undefined;
  for (;;) {
    // Shadow copies are another version's answers to the same requests: not the model's traffic.
    const page = await store.prediction.findMany({
      where: { modelId: model.id, source: { not: 'shadow' } },
      orderBy: [{ receivedAt: 'asc' }, { id: 'asc' }],
      take: PAGE_ROWS,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
      include: { label: { select: { value: true, receivedAt: true } } },
    });
    if (page.length === 0) break;
    let chunk = '';
    for (const p of page) {
      firstVersionId ??= p.versionId;
      const output = p.output as { prediction?: string | number } | null;
      if (p.label) labelled++;
      chunk += `${JSON.stringify({
        ts: p.receivedAt.toISOString(),
        prediction_id: p.id,
        features: p.features,
        label: p.label ? p.label.value : null,
        label_ts: p.label ? p.label.receivedAt.toISOString() : null,
        prediction: output?.prediction ?? null,
        confidence: p.confidence,
        latency_ms: p.latencyMs,
        error: p.error,
      })}\n`;
    }
    rows += page.length;
    if (!file.write(chunk)) await once(file, 'drain');
    cursor = page.at(-1)!.id;
  }
  file.end();
  await once(file, 'finish');

  if (options.schemaOut) fs.writeFileSync(options.schemaOut, `${JSON.stringify(schema, null, 2)}\n`);
  let version: number | null = null;
  if (options.artifactOut) {
    const revision = await store.deploymentRevision.findFirst({
      where: { modelId: model.id, productionVersionId: { not: null } },
      orderBy: { revision: 'asc' },
    });
    const id = firstVersionId ?? revision?.productionVersionId ?? null;
    const found = id ? await store.modelVersion.findUnique({ where: { id } }) : null;
    if (!found)
      throw new Error(`model "${modelName}" has no version that served its traffic: no artifact to write`);
    fs.writeFileSync(options.artifactOut, `${JSON.stringify(found.artifact)}\n`);
    version = found.version;
  }
  return { rows, labelled, version };
}
