// The deployment activities: read the deployment as the decision engine needs it, change it, restore an
// earlier revision, undo an audited change, set a candidate's status and probe a version. Changes go
// through the registry (lib/registry/revisions.ts), which writes the activity's key into the revision in
// the same transaction, so a retry after a crash between the change and its audit row finds the revision
// by key and answers as the first attempt would have; each change then has exactly one Action row.
import { ApplicationFailure } from '@temporalio/common';
import type {
  DeploymentChangeSpec,
  DeploymentFacts,
  DeploymentOutcome,
  DeploymentRequest,
  ProbeRequest,
  ProbeResult,
  RevertRequest,
  SetVersionStatusRequest,
} from '../lib/brain/contracts.ts';
import type { Store } from '../lib/db/client.ts';
import type { FeatureRow, ServingMode, Task } from '../lib/domain.ts';
import { loadModel, parseModelArtifact } from '../lib/models/index.ts';
import type { ReferenceProfile } from '../lib/monitor/reference.ts';
import {
  changeDeployment,
  currentRevision,
  type RevisionResult,
  restoreRevision,
  setVersionStatus,
} from '../lib/registry/revisions.ts';
import { findVersion } from '../lib/registry/versions.ts';
import { auditOnce, findModelOrFail, inRegistry } from './incidents.ts';

type Model = Awaited<ReturnType<typeof findModelOrFail>>;

interface AuditedChange {
  key: string;
  actor: string;
  reason: string;
  incidentId: string | null;
  type: 'deploy' | 'restore' | 'revert';
  detail: Record<string, unknown>;
}

/** Revision numbers of revision row ids (0 for none: before the first deployment). */
async function revisionNumbers(store: Store, ids: (string | null)[]): Promise<number[]> {
  const rows = await store.deploymentRevision.findMany({
    where: { id: { in: ids.filter((id) => id !== null) } },
    select: { id: true, revision: true },
  });
  const numbers = new Map(rows.map((r) => [r.id, r.revision]));
  return ids.map((id) => (id ? (numbers.get(id) ?? 0) : 0));
}

async function outcomeOf(
  store: Store,
  action: { id: string; beforeRevisionId: string | null; afterRevisionId: string | null },
): Promise<DeploymentOutcome> {
  const [before, after] = await revisionNumbers(store, [action.beforeRevisionId, action.afterRevisionId]);
  return { before: before!, after: after!, actionId: action.id };
}

/**
 * Applies a deployment change at most once per key and audits it once. `apply` gets the key to store in
 * the revision; the revision it answers was written by this key, or is the unchanged current one.
 */
async function audited(
  store: Store,
  model: Model,
  change: AuditedChange,
  apply: (key: string) => Promise<RevisionResult>,
): Promise<DeploymentOutcome> {
  const done = await store.action.findUnique({ where: { idempotencyKey: change.key } });
  if (done) return outcomeOf(store, done);
  const { revision } = await inRegistry(() => apply(change.key));
  // Revisions are numbered consecutively and each is written from the one before it.
  const before =
    revision.idempotencyKey === change.key
      ? await store.deploymentRevision.findUnique({
          where: { modelId_revision: { modelId: model.id, revision: revision.revision - 1 } },
        })
      : revision;
  const action = await auditOnce(store, {
    key: change.key,
    modelId: model.id,
    type: change.type,
    actor: change.actor,
    reason: change.reason,
    incidentId: change.incidentId,
    detail: change.detail,
    beforeRevisionId: before?.id ?? null,
    afterRevisionId: revision.id,
  });
  return outcomeOf(store, action);
}

/** The revision to roll back to, as DeploymentFacts defines it. */
async function lastKnownGoodRevision(
  store: Store,
  modelId: string,
  current: { revision: number; productionVersionId: string | null },
): Promise<number | null> {
  const found = await store.deploymentRevision.findFirst({
    where: {
      modelId,
      revision: { lt: current.revision },
      mode: 'serving' satisfies ServingMode,
      AND: [
        { productionVersionId: { not: null } },
        ...(current.productionVersionId
          ? [{ productionVersionId: { not: current.productionVersionId } }]
          : []),
      ],
    },
    orderBy: { revision: 'desc' },
    select: { revision: true },
  });
  return found?.revision ?? null;
}

/** Rows to probe a version with: the model's latest served rows, else rows from the version's reference. */
async function probeRows(
  store: Store,
  modelId: string,
  referenceStats: unknown,
  count: number,
): Promise<FeatureRow[]> {
  const recent = await store.prediction.findMany({
    where: { modelId },
    orderBy: { receivedAt: 'desc' },
    take: count,
    select: { features: true },
  });
  if (recent.length > 0) return recent.map((p) => p.features as FeatureRow);
  // The profile keeps each feature's distribution, not whole rows: the i-th row takes each feature's
  // i-th sampled value (or category), which is a valid row even if not one the model saw.
  const profile = referenceStats as ReferenceProfile | null;
  if (!profile?.features) return [];
  return Array.from({ length: count }, (_, i) =>
    Object.fromEntries(
      profile.features.map((f) => {
        const d = f.distribution;
        if (!d) return [f.name, null];
        const values = d.type === 'numeric' ? d.sample : d.categories;
        const value = values[(i * 7919) % values.length] ?? null;
        return [f.name, f.type === 'boolean' && typeof value === 'string' ? value === 'true' : value];
      }),
    ),
  );
}

export function createDeploymentActivities(store: Store) {
  return {
    async describeDeployment(req: { modelName: string }): Promise<DeploymentFacts> {
      const model = await findModelOrFail(store, req.modelName);
      const current = await currentRevision(store, model.id);
      const versions = await store.modelVersion.findMany({
        where: { modelId: model.id },
        select: { id: true, version: true },
      });
      const numbers = new Map(versions.map((v) => [v.id, v.version]));
      const version = (id: string | null | undefined) => (id ? (numbers.get(id) ?? null) : null);
      const segmentsOnFallback = (current?.fallbackSegments as string[] | null | undefined) ?? [];
      return {
        task: model.task as Task,
        // Before the first deployment: revision 0, nothing serving, changed when the model was registered.
        revision: current?.revision ?? 0,
        mode: (current?.mode ?? 'serving') as ServingMode,
        productionVersion: version(current?.productionVersionId),
        fallbackVersion: version(current?.fallbackVersionId),
        canaryVersion: version(current?.canaryVersionId),
        canaryShare: current?.canaryShare ?? 0,
        shadowVersion: version(current?.shadowVersionId),
        ...(segmentsOnFallback.length > 0 ? { fallbackSegments: segmentsOnFallback } : {}),
        changedAt: (current?.createdAt ?? model.createdAt).getTime(),
        changedBy: current?.actor ?? 'registry',
        lastKnownGoodRevision: current ? await lastKnownGoodRevision(store, model.id, current) : null,
      };
    },

    async changeDeploymentFor(
      req: DeploymentRequest & { change: DeploymentChangeSpec },
    ): Promise<DeploymentOutcome> {
      const model = await findModelOrFail(store, req.modelName);
      return audited(store, model, { ...req, type: 'deploy', detail: { change: req.change } }, (key) =>
        changeDeployment(store, model.name, { ...req.change, reason: req.reason, actor: req.actor }, key),
      );
    },

    async restoreDeploymentFor(req: DeploymentRequest & { revision: number }): Promise<DeploymentOutcome> {
      const model = await findModelOrFail(store, req.modelName);
      return audited(store, model, { ...req, type: 'restore', detail: { restored: req.revision } }, (key) =>
        restoreRevision(store, model.name, req.revision, { reason: req.reason, actor: req.actor }, key),
      );
    },

    /** Undoes an audited deployment change: its `before` revision is restored as a new revision. */
    async revertAction(req: RevertRequest): Promise<DeploymentOutcome> {
      const model = await findModelOrFail(store, req.modelName);
      const target = await store.action.findFirst({ where: { id: req.actionId, modelId: model.id } });
      if (!target) {
        throw ApplicationFailure.create({
          type: 'ActionNotFound',
          message: `model "${model.name}" has no action ${req.actionId}`,
          nonRetryable: true,
        });
      }
      const before = target.beforeRevisionId
        ? await store.deploymentRevision.findUnique({ where: { id: target.beforeRevisionId } })
        : null;
      if (!before) {
        throw ApplicationFailure.create({
          type: 'NotRevertible',
          message: `action ${target.id} (${target.type}) has no deployment to go back to`,
          nonRetryable: true,
        });
      }
      const change: AuditedChange = {
        ...req,
        incidentId: target.incidentId,
        type: 'revert',
        detail: { revertedActionId: target.id, restored: before.revision },
      };
      return audited(store, model, change, (key) =>
        restoreRevision(store, model.name, before.revision, { reason: req.reason, actor: req.actor }, key),
      );
    },

    /** Rejects, retires or re-admits a version that holds no role; setting the same status twice is a no-op. */
    async setCandidateStatus(req: SetVersionStatusRequest): Promise<void> {
      const model = await findModelOrFail(store, req.modelName);
      if (await store.action.findUnique({ where: { idempotencyKey: req.key } })) return;
      await inRegistry(() => setVersionStatus(store, model.name, req.version, req.status));
      await auditOnce(store, {
        key: req.key,
        modelId: model.id,
        type: 'version_status',
        actor: 'agent',
        reason: req.reason,
        incidentId: null,
        detail: { version: req.version, status: req.status },
      });
    },

    /**
     * Scores a few rows with the version: does it answer at all (before serving a disabled model again)?
     * Each row is its own request: a server that fails a share of its requests fails them whatever
     * their size, so one request of all the rows would be a single draw (a server failing one request in
     * five passed four probes in five), where one request a row passes it about one time in a hundred.
     */
    async probeVersion(req: ProbeRequest): Promise<ProbeResult> {
      const model = await findModelOrFail(store, req.modelName);
      const version = await inRegistry(() => findVersion(store, model, req.version));
      const rows = await probeRows(store, model.id, version.referenceStats, req.rows);
      if (rows.length === 0) return { ok: false, answered: 0, failed: 0, error: 'no rows to probe with' };
      const adapter = loadModel(parseModelArtifact(version.artifact));
      let answered = 0;
      let error: string | undefined;
      for (const row of rows) {
        try {
          const [output] = await adapter.predict([row]);
          if (output?.prediction !== null && output?.prediction !== undefined) answered++;
        } catch (e) {
          error ??= (e as Error).message;
        }
      }
      const failed = rows.length - answered;
      return { ok: failed === 0, answered, failed, ...(error === undefined ? {} : { error }) };
    },
  };
}
