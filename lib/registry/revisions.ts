// Deployment state: which versions serve a model, as a sequence of revisions. Every change is a new
// revision, numbered from 1 per model, and restoring an earlier revision is a new revision too (with
// `restoredFrom`), so the history is never rewritten and any state can be brought back. Version statuses
// follow the deployment in the same transaction.
import { z } from 'zod';
import { sealAuditRow } from '../audit/chain.ts';
import type { Store } from '../db/client.ts';
import { takeWriteLock } from '../db/write-lock.ts';
import {
  type FeatureSchema,
  SERVING_MODES,
  type ServingMode,
  trimmedText,
  type VersionStatus,
  versionNumberSchema,
} from '../domain.ts';
import { isUniqueViolation } from '../ingest/prediction-writer.ts';
import { MAX_SEGMENTS, storedSegments } from '../segments/definition.ts';
import { markServingChanged } from './changes.ts';
import { parseBody, RegistryError, type RegistryIssue } from './errors.ts';
import { findModel, findVersion, type MANUAL_STATUSES, type PageArgs } from './versions.ts';

type Tx = Omit<Store, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

/** The deployment a revision describes, by version id. */
export interface DeploymentSpec {
  mode: ServingMode;
  productionVersionId: string | null;
  fallbackVersionId: string | null;
  canaryVersionId: string | null;
  /** Share of traffic the canary serves, in (0, 1); 0 without a canary. */
  canaryShare: number;
  shadowVersionId: string | null;
  /**
   * Names of the model's segments (lib/segments) whose rows the fallback version answers while the mode
   * is serving: a remedy confined to one segment. Empty: none.
   */
  fallbackSegments: string[];
}

const EMPTY: DeploymentSpec = {
  mode: 'serving',
  productionVersionId: null,
  fallbackVersionId: null,
  canaryVersionId: null,
  canaryShare: 0,
  shadowVersionId: null,
  fallbackSegments: [],
};

/**
 * Why and by whom, given an actor field: the registry's own (up to 200 characters: the API's actor
 * prefixed with the key's name, api/routes/registry.ts) or an API caller's.
 */
export const revisionMetaOf = <Actor extends z.ZodType>(actor: Actor) =>
  z.strictObject({ reason: trimmedText(500), actor });
export const revisionMetaSchema = revisionMetaOf(trimmedText(200).default('api'));
export type RevisionMeta = z.input<typeof revisionMetaSchema>;

const DEPLOYMENT_FIELDS = ['production', 'fallback', 'canary', 'shadow', 'mode', 'fallbackSegments'] as const;

/** A change to the current deployment; omitted fields keep their value, null clears a role. */
export const deploymentChangeOf = <Actor extends z.ZodType>(actor: Actor) =>
  revisionMetaOf(actor)
    .extend({
      production: versionNumberSchema.nullable().optional(),
      fallback: versionNumberSchema.nullable().optional(),
      canary: z
        .strictObject({
          version: versionNumberSchema,
          share: z
            .number()
            .gt(0, 'must be above 0')
            .lt(1, 'must be below 1: promote the canary to serve all traffic'),
        })
        .nullable()
        .optional(),
      shadow: versionNumberSchema.nullable().optional(),
      mode: z.enum(SERVING_MODES).optional(),
      /** The segments the fallback answers while production answers the rest; [] lifts every one. */
      fallbackSegments: z.array(z.string().min(1).max(64)).max(MAX_SEGMENTS).optional(),
    })
    .refine(
      (c) => DEPLOYMENT_FIELDS.some((key) => key in c),
      `nothing to change: give at least one of ${DEPLOYMENT_FIELDS.join(', ')}`,
    )
    // The same rule, for the OpenAPI document.
    .meta({ anyOf: DEPLOYMENT_FIELDS.map((key) => ({ required: [key] })) });
export const deploymentChangeSchema = deploymentChangeOf(revisionMetaSchema.shape.actor);
export type DeploymentChange = z.input<typeof deploymentChangeSchema>;

const ROLES = [
  ['production', 'productionVersionId'],
  ['fallback', 'fallbackVersionId'],
  ['canary', 'canaryVersionId'],
  ['shadow', 'shadowVersionId'],
] as const;
type Role = (typeof ROLES)[number][0];

function rolesOf(spec: DeploymentSpec): Map<string, Role> {
  const roles = new Map<string, Role>();
  for (const [role, key] of ROLES) if (spec[key]) roles.set(spec[key]!, role);
  return roles;
}

/** The spec of a stored revision (whose mode is a plain string in the store). */
export function specOf(
  revision:
    | (Omit<DeploymentSpec, 'mode' | 'fallbackSegments'> & { mode: string; fallbackSegments: unknown })
    | null,
): DeploymentSpec {
  if (!revision) return { ...EMPTY };
  const { mode, productionVersionId, fallbackVersionId, canaryVersionId, canaryShare, shadowVersionId } =
    revision;
  return {
    mode: mode as ServingMode,
    productionVersionId,
    fallbackVersionId,
    canaryVersionId,
    canaryShare,
    shadowVersionId,
    fallbackSegments: (revision.fallbackSegments as string[] | null) ?? [],
  };
}

function sameSpec(a: DeploymentSpec, b: DeploymentSpec): boolean {
  return (Object.keys(EMPTY) as (keyof DeploymentSpec)[]).every((key) =>
    key === 'fallbackSegments'
      ? a[key].length === b[key].length && a[key].every((name, i) => name === b[key][i])
      : a[key] === b[key],
  );
}

/** Problems that make a deployment unservable or ambiguous; `path` names the body field. */
export function deploymentIssues(spec: DeploymentSpec): RegistryIssue[] {
  const issues: RegistryIssue[] = [];
  const seen = new Map<string, Role>();
  for (const [role, key] of ROLES) {
    const id = spec[key];
    if (!id) continue;
    const other = seen.get(id);
    if (other) {
      issues.push({
        path: `body.${role}`,
        message: `the same version is already the ${other}; a version holds one role`,
      });
    }
    seen.set(id, role);
  }
  if (spec.mode === 'serving' && !spec.productionVersionId) {
    issues.push({ path: 'body.production', message: 'serving mode needs a production version' });
  }
  if (spec.mode === 'fallback' && !spec.fallbackVersionId) {
    issues.push({ path: 'body.fallback', message: 'fallback mode needs a fallback version' });
  }
  if (spec.canaryVersionId && !spec.productionVersionId) {
    issues.push({
      path: 'body.canary',
      message: 'a canary needs a production version to share traffic with',
    });
  }
  if (spec.canaryVersionId && !(spec.canaryShare > 0 && spec.canaryShare < 1)) {
    issues.push({ path: 'body.canary.share', message: 'must be in (0, 1)' });
  }
  if (spec.fallbackSegments.length > 0 && !spec.fallbackVersionId) {
    issues.push({
      path: 'body.fallbackSegments',
      message: 'a segment served by the fallback needs a fallback version',
    });
  }
  return issues;
}

export function currentRevision(store: Tx, modelId: string) {
  return store.deploymentRevision.findFirst({ where: { modelId }, orderBy: { revision: 'desc' } });
}

export function listRevisions(store: Store, modelId: string, page: PageArgs) {
  return store.deploymentRevision.findMany({
    where: { modelId },
    orderBy: { revision: 'desc' },
    ...page,
  });
}

type RevisionRow = NonNullable<Awaited<ReturnType<typeof currentRevision>>>;

export interface RevisionResult {
  revision: RevisionRow;
  /** False when the request asked for the deployment already in place: no revision was added. */
  changed: boolean;
}

/** Statuses follow roles: a version in a role takes its name; one that leaves production or fallback is
 * retired, one that leaves canary or shadow is a candidate again. A rejected version stays rejected. */
async function updateStatuses(tx: Tx, before: DeploymentSpec, after: DeploymentSpec): Promise<void> {
  const now = rolesOf(after);
  for (const [id, role] of now) {
    await tx.modelVersion.update({ where: { id }, data: { status: role satisfies VersionStatus } });
  }
  for (const [id, role] of rolesOf(before)) {
    if (now.has(id)) continue;
    const status: VersionStatus = role === 'production' || role === 'fallback' ? 'retired' : 'candidate';
    await tx.modelVersion.updateMany({ where: { id, status: { not: 'rejected' } }, data: { status } });
  }
}

const REVISION_ATTEMPTS = 5;

/**
 * Writes the next revision from the current one, in a transaction; `next` computes the wanted spec from
 * the current revision and throws a RegistryError when it is invalid. Two writers racing for the same
 * number collide on the (modelId, revision) key; the loser recomputes from the winner's revision.
 * With an idempotency `key` the revision stores it, and a revision already written with that key is
 * returned unchanged (`changed: false`): a retried agent activity makes its change once.
 */
async function writeRevision(
  store: Store,
  model: { id: string; name: string },
  next: (current: RevisionRow | null) => { spec: DeploymentSpec; restoredFrom?: number },
  meta: RevisionMeta,
  key?: string,
): Promise<RevisionResult> {
  const { reason, actor } = parseBody(revisionMetaSchema, meta);
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await store.$transaction(async (tx) => {
        await takeWriteLock(tx); // reads, then writes: see lib/db/write-lock.ts
        const done = key ? await tx.deploymentRevision.findUnique({ where: { idempotencyKey: key } }) : null;
        if (done) return { revision: done, changed: false };
        const current = await currentRevision(tx, model.id);
        const { spec, restoredFrom } = next(current);
        const issues = deploymentIssues(spec);
        if (issues.length > 0) {
          throw new RegistryError(400, 'invalid_deployment', issues.map((i) => i.message).join('; '), issues);
        }
        if (current && sameSpec(spec, specOf(current))) return { revision: current, changed: false };
        const { fallbackSegments, ...columns } = spec;
        const revision = await tx.deploymentRevision.create({
          data: {
            modelId: model.id,
            revision: (current?.revision ?? 0) + 1,
            ...columns,
            // Null when none, as in revisions written before segments (lib/audit/chain.ts LATER_COLUMNS).
            ...(fallbackSegments.length > 0 ? { fallbackSegments } : {}),
            restoredFrom: restoredFrom ?? null,
            reason,
            actor,
            idempotencyKey: key ?? null,
          },
        });
        await sealAuditRow(tx, 'DeploymentRevision', revision);
        await updateStatuses(tx, specOf(current), spec);
        return { revision, changed: true };
      });
      if (result.changed) markServingChanged(model.name);
      return result;
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= REVISION_ATTEMPTS) throw error;
    }
  }
}

/** Resolves version numbers of a change to ids; every unknown number is one issue. */
async function resolveVersions(
  store: Store,
  model: { id: string; name: string },
  change: z.infer<typeof deploymentChangeSchema>,
) {
  const wanted = new Map<string, number>();
  for (const role of ['production', 'fallback', 'shadow'] as const) {
    const n = change[role];
    if (typeof n === 'number') wanted.set(`body.${role}`, n);
  }
  if (change.canary) wanted.set('body.canary.version', change.canary.version);
  const found = await store.modelVersion.findMany({
    where: { modelId: model.id, version: { in: [...wanted.values()] } },
    select: { id: true, version: true },
  });
  const ids = new Map(found.map((v) => [v.version, v.id]));
  const unknown = [...wanted].filter(([, n]) => !ids.has(n));
  if (unknown.length > 0) {
    throw new RegistryError(
      422,
      'unknown_version',
      `model "${model.name}" has no version ${unknown.map(([, n]) => n).join(', ')}`,
      unknown.map(([path, n]) => ({ path, message: `no version ${n} of this model` })),
    );
  }
  const id = (n: number | null | undefined, keep: string | null) =>
    n === undefined ? keep : n === null ? null : ids.get(n)!;
  return id;
}

/** Applies a change to the model's current deployment as a new revision (validated; see the schema). */
export async function changeDeployment(
  store: Store,
  modelName: string,
  raw: unknown,
  key?: string,
): Promise<RevisionResult> {
  const change = parseBody(deploymentChangeSchema, raw);
  const model = await findModel(store, modelName);
  if (change.fallbackSegments) requireSegments(model, change.fallbackSegments);
  // Versions are immutable, so their ids can be looked up before the transaction.
  const id = await resolveVersions(store, model, change);
  return writeRevision(
    store,
    model,
    (current) => {
      const base = specOf(current);
      const spec: DeploymentSpec = {
        mode: change.mode ?? base.mode,
        productionVersionId: id(change.production, base.productionVersionId),
        fallbackVersionId: id(change.fallback, base.fallbackVersionId),
        shadowVersionId: id(change.shadow, base.shadowVersionId),
        canaryVersionId:
          change.canary === undefined ? base.canaryVersionId : id(change.canary?.version ?? null, null),
        canaryShare: change.canary === undefined ? base.canaryShare : (change.canary?.share ?? 0),
        fallbackSegments: change.fallbackSegments
          ? [...new Set(change.fallbackSegments)]
          : base.fallbackSegments,
      };
      return { spec };
    },
    { reason: change.reason, actor: change.actor },
    key,
  );
}

/** Every name must be one of the model's segments: a route for a segment it lacks would serve nothing. */
function requireSegments(
  model: { name: string; featureSchema: unknown; segments: unknown },
  names: string[],
) {
  const known = new Set(
    storedSegments(model.segments, model.featureSchema as FeatureSchema).map((s) => s.name),
  );
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new RegistryError(
      422,
      'unknown_segment',
      `model "${model.name}" has no segment ${unknown.map((n) => JSON.stringify(n)).join(', ')}`,
      unknown.map((n) => ({
        path: 'body.fallbackSegments',
        message: `no segment "${n}" (GET /v1/models/${model.name}/segments)`,
      })),
    );
  }
}

/** Makes an earlier revision's deployment current again, as a new revision that records where it came from. */
export async function restoreRevision(
  store: Store,
  modelName: string,
  revisionNumber: number,
  meta: RevisionMeta,
  key?: string,
): Promise<RevisionResult> {
  const model = await findModel(store, modelName);
  const target = await store.deploymentRevision.findUnique({
    where: { modelId_revision: { modelId: model.id, revision: revisionNumber } },
  });
  if (!target) {
    throw new RegistryError(
      404,
      'revision_not_found',
      `model "${model.name}" has no revision ${revisionNumber}`,
    );
  }
  return writeRevision(
    store,
    model,
    () => ({ spec: specOf(target), restoredFrom: target.revision }),
    meta,
    key,
  );
}

/**
 * Sets a version's status by hand (reject a candidate, retire an old version). A version that holds a
 * role in the current deployment keeps the status of its role.
 */
export async function setVersionStatus(
  store: Store,
  modelName: string,
  version: number,
  status: (typeof MANUAL_STATUSES)[number],
) {
  const model = await findModel(store, modelName);
  const row = await findVersion(store, model, version);
  const current = await currentRevision(store, model.id);
  const role = current ? rolesOf(specOf(current)).get(row.id) : undefined;
  if (role) {
    throw new RegistryError(
      409,
      'version_deployed',
      `version ${version} is the ${role} of revision ${current!.revision}; change the deployment first`,
    );
  }
  return store.modelVersion.update({ where: { id: row.id }, data: { status } });
}
