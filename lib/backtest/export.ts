// Exports a model's recorded stream from the store in the backtest's JSONL format (docs/backtest.md), so
// that what the agent saw live — the demo's traffic, say — can be replayed under another policy. Times
// are when Homeostat received each prediction and label: the monitor cuts its windows by them. The
// deployment history (lib/backtest/deployments.ts) holds the changes people made, on the same clock.

import { once } from 'node:events';
import fs from 'node:fs';
import type { Store } from '../db/client.ts';
import type { ServingMode } from '../domain.ts';
import { findModel, modelShape } from '../registry/versions.ts';
import {
  DEPLOYMENTS_FORMAT,
  type DeploymentChangeRecord,
  type DeploymentHistoryFile,
  versionsOf,
} from './deployments.ts';

/** Rows read per query: bounded memory on a long history. */
const PAGE_ROWS = 5000;

export interface ExportOptions {
  out: string;
  /** Also write the model's feature schema (for --schema). */
  schemaOut?: string;
  /** Also write the artifact of the version that served the first exported prediction (for --model). */
  artifactOut?: string;
  /** Also write the deployment history: the changes people made, and the versions they deployed. */
  deploymentsOut?: string;
}

export interface ExportResult {
  rows: number;
  labelled: number;
  /** The version whose artifact was written, if any. */
  version: number | null;
  /** With deploymentsOut: the changes written, and the agent's changes left out. */
  deployments: { changes: number; versions: number; agentChanges: number } | null;
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
  const versionNumber = new Map(
    (
      await store.modelVersion.findMany({ where: { modelId: model.id }, select: { id: true, version: true } })
    ).map((v) => [v.id, v.version]),
  );
  for (;;) {
    // Shadow copies are another version's answers to the same requests: not the model's traffic.
    const page = await store.prediction.findMany({
      where: { modelId: model.id, source: { not: 'shadow' } },
      orderBy: [{ receivedAt: 'asc' }, { id: 'asc' }],
      take: PAGE_ROWS,
      ...(cursor ? { cursor: { modelId_id: { modelId: model.id, id: cursor } }, skip: 1 } : {}),
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
        version: p.versionId === null ? null : (versionNumber.get(p.versionId) ?? null),
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
    const found = id
      ? await store.modelVersion.findUnique({ where: { id }, select: { version: true, artifact: true } })
      : null;
    if (!found)
      throw new Error(`model "${modelName}" has no version that served its traffic: no artifact to write`);
    fs.writeFileSync(options.artifactOut, `${JSON.stringify(found.artifact)}\n`);
    version = found.version;
  }
  const deployments = options.deploymentsOut
    ? await exportDeployments(store, modelName, options.deploymentsOut)
    : null;
  return { rows, labelled, version, deployments };
}

/**
 * Writes the model's deployment history: every revision a person made (the API's changes and restores,
 * a revert asked of the agent), in order, with the artifact and reference profile of each version they
 * name. The agent's own changes are left out — revisions by actor "agent", and those its remedies wrote
 * for an approval a person gave (recorded as a deploy or restore action) — since a backtest decides them.
 */
export async function exportDeployments(
  store: Store,
  modelName: string,
  out: string,
): Promise<{ changes: number; versions: number; agentChanges: number }> {
  const model = await findModel(store, modelName);
  const shape = modelShape(model);
  const [revisions, remedyActions, versions] = await Promise.all([
    store.deploymentRevision.findMany({ where: { modelId: model.id }, orderBy: { revision: 'asc' } }),
    store.action.findMany({
      where: { modelId: model.id, type: { in: ['deploy', 'restore'] }, afterRevisionId: { not: null } },
      select: { afterRevisionId: true },
    }),
    store.modelVersion.findMany({ where: { modelId: model.id }, select: { id: true, version: true } }),
  ]);
  const byRemedy = new Set(remedyActions.map((a) => a.afterRevisionId));
  const number = new Map(versions.map((v) => [v.id, v.version]));
  const n = (id: string | null) => (id === null ? null : (number.get(id) ?? null));
  const human = revisions.filter((r) => r.actor !== 'agent' && !byRemedy.has(r.id));
  const changes: DeploymentChangeRecord[] = human.map((r) => ({
    revision: r.revision,
    at: r.createdAt.toISOString(),
    actor: r.actor,
    reason: r.reason,
    mode: r.mode as ServingMode,
    production: n(r.productionVersionId),
    fallback: n(r.fallbackVersionId),
    canary: r.canaryVersionId === null ? null : { version: n(r.canaryVersionId)!, share: r.canaryShare },
    shadow: n(r.shadowVersionId),
    restoredFrom: r.restoredFrom,
  }));
  const named = [...new Set(changes.flatMap((c) => versionsOf(c).map(([, v]) => v)))].sort((a, b) => a - b);
  const rows = await store.modelVersion.findMany({
    where: { modelId: model.id, version: { in: named } },
    orderBy: { version: 'asc' },
    select: { version: true, artifact: true, referenceStats: true },
  });
  const history: DeploymentHistoryFile = {
    format: DEPLOYMENTS_FORMAT,
    model: model.name,
    task: shape.task,
    classes: shape.task === 'regression' ? null : shape.classes,
    schema: shape.schema,
    changes,
    versions: rows.map((v) => ({ version: v.version, artifact: v.artifact, reference: v.referenceStats })),
  };
  fs.writeFileSync(out, `${JSON.stringify(history)}\n`);
  return { changes: changes.length, versions: rows.length, agentChanges: revisions.length - human.length };
}
