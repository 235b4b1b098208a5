// The registry of a model's versions and its deployment revisions, under /v1/models/:model.
//
//   POST /versions                      register a version (artifact or built-in training + data)
//   GET  /versions                      versions, newest first, without artifacts
//   GET  /versions/:version             one version with its artifact and reference profile
//   PATCH /versions/:version            { status: candidate | retired | rejected }
//   GET  /deployment                    the current revision
//   POST /deployment                    change it: a new revision
//   GET  /revisions                     every revision, newest first (?limit=)
//   POST /revisions/:revision/restore   make an earlier revision current again, as a new revision
//
// The logic is in lib/registry; each handler only translates HTTP. A RegistryError becomes the same
// error response as any HttpError.
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { z } from 'zod';
import type { Store } from '../../lib/db/client.ts';
import { apiActor } from '../../lib/domain.ts';
import { RegistryError } from '../../lib/registry/errors.ts';
import {
  changeDeployment,
  currentRevision,
  deploymentChangeOf,
  listRevisions,
  type RevisionMeta,
  restoreRevision,
  revisionMetaOf,
  setVersionStatus,
} from '../../lib/registry/revisions.ts';
import {
  findModel,
  findVersion,
  listVersions,
  MANUAL_STATUSES,
  registerVersion,
} from '../../lib/registry/versions.ts';
import { actingAs } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { HttpError, parseOrThrow } from '../errors.ts';
import { pageArgs, pageOf, pageParams } from '../paging.ts';
import { PATH_PARAMS } from '../params.ts';
import { artifactFor, requireAdmin } from '../secrets.ts';

type Params = { model: string; version?: string; revision?: string };
type Handler = (req: Request<Params>, res: Response) => Promise<void>;

/** Runs a handler and answers a RegistryError as the HttpError it describes. */
function registryHandler(handler: Handler): RequestHandler<Params> {
  return async (req, res) => {
    try {
      await handler(req, res);
    } catch (error) {
      if (error instanceof RegistryError) {
        throw new HttpError(error.status, error.code, error.message, error.issues);
      }
      throw error;
    }
  };
}

const versionParams = z.object({ version: PATH_PARAMS.version });
const revisionParams = z.object({ revision: PATH_PARAMS.revision });
export const revisionsQuery = z.strictObject(pageParams(100, 1000));
export const versionsQuery = z.strictObject(pageParams(100, 1000));
export const statusBody = z.strictObject({ status: z.enum(MANUAL_STATUSES) });

type VersionSummary = Awaited<ReturnType<typeof listVersions>>[number];
type VersionRow = Awaited<ReturnType<typeof findVersion>>;
type RevisionRow = NonNullable<Awaited<ReturnType<typeof currentRevision>>>;

function presentSummary(v: VersionSummary) {
  return {
    id: v.id,
    version: v.version,
    status: v.status,
    metrics: v.metrics,
    trainingWindow: v.trainingWindow,
    parentVersion: v.parent?.version ?? null,
    incidentId: v.incidentId,
    createdAt: v.createdAt.toISOString(),
  };
}

function presentVersion(req: Request, v: VersionRow, parentVersion: number | null) {
  return {
    id: v.id,
    version: v.version,
    status: v.status,
    kind: (v.artifact as { kind?: string }).kind ?? null,
    metrics: v.metrics,
    trainingWindow: v.trainingWindow,
    parentVersion,
    incidentId: v.incidentId,
    createdAt: v.createdAt.toISOString(),
    referenceStats: v.referenceStats,
    artifact: artifactFor(req.identity, v.artifact),
  };
}

/** Revisions with their versions as { id, version }; one query for the model's version numbers. */
async function revisionPresenter(store: Store, modelId: string) {
  const versions = await store.modelVersion.findMany({
    where: { modelId },
    select: { id: true, version: true },
  });
  const numbers = new Map(versions.map((v) => [v.id, v.version]));
  const ref = (id: string | null) => (id ? { id, version: numbers.get(id)! } : null);
  return (r: RevisionRow) => ({
    revision: r.revision,
    mode: r.mode,
    production: ref(r.productionVersionId),
    fallback: ref(r.fallbackVersionId),
    canary: r.canaryVersionId ? { ...ref(r.canaryVersionId)!, share: r.canaryShare } : null,
    shadow: ref(r.shadowVersionId),
    fallbackSegments: (r.fallbackSegments as string[] | null) ?? [],
    restoredFrom: r.restoredFrom,
    reason: r.reason,
    actor: r.actor,
    createdAt: r.createdAt.toISOString(),
  });
}

/** The request body with the actor the audit trail records: always a human, always with the key (actingAs). */
function withApiActor(req: Request): RevisionMeta {
  // Only the actor is settled here; the registry validates the rest with its own schema.
  const { actor } = parseOrThrow(apiActorSchema, req.body ?? {});
  return { ...(req.body ?? {}), actor: `human:${actingAs(req.identity!, actor)}` } as RevisionMeta;
}

const apiActorSchema = z.looseObject({ actor: apiActor });

/** The bodies as an API caller sends them: the actor is theirs (up to 100 characters), before the prefix. */
export const deploymentChangeBody = deploymentChangeOf(apiActor);
export const restoreRevisionBody = revisionMetaOf(apiActor);

export function registryRoutes({ store }: ApiContext): Router {
  const router = Router({ mergeParams: true });

  const registerVersionRoute: Handler = async (req, res) => {
    if ((req.body?.artifact as { kind?: unknown } | undefined)?.kind === 'http') {
      requireAdmin(req, 'registering an http artifact (a model server the API, gateway and worker call)');
    }
    const created = await registerVersion(store, req.params.model, req.body);
    const parent = created.parentVersionId
      ? await store.modelVersion.findUnique({
          where: { id: created.parentVersionId },
          select: { version: true },
        })
      : null;
    res.status(201).json({ version: presentVersion(req, created, parent?.version ?? null) });
  };

  const listVersionsRoute: Handler = async (req, res) => {
    const page = parseOrThrow(versionsQuery, req.query, 'query');
    const model = await findModel(store, req.params.model);
    const { items, nextCursor } = pageOf(await listVersions(store, model.id, pageArgs(page)), page);
    res.json({ versions: items.map(presentSummary), nextCursor });
  };

  const getVersionRoute: Handler = async (req, res) => {
    const { version } = parseOrThrow(versionParams, req.params, 'params');
    const model = await findModel(store, req.params.model);
    const row = await findVersion(store, model, version);
    const parent = row.parentVersionId
      ? await store.modelVersion.findUnique({ where: { id: row.parentVersionId }, select: { version: true } })
      : null;
    res.json({ version: presentVersion(req, row, parent?.version ?? null) });
  };

  const setVersionStatusRoute: Handler = async (req, res) => {
    const { version } = parseOrThrow(versionParams, req.params, 'params');
    const { status } = parseOrThrow(statusBody, req.body);
    const updated = await setVersionStatus(store, req.params.model, version, status);
    res.json({ version: { id: updated.id, version: updated.version, status: updated.status } });
  };

  const getDeploymentRoute: Handler = async (req, res) => {
    const model = await findModel(store, req.params.model);
    const current = await currentRevision(store, model.id);
    if (!current) throw new HttpError(404, 'not_deployed', `model "${model.name}" has no deployment yet`);
    res.json({ deployment: (await revisionPresenter(store, model.id))(current) });
  };

  const changeDeploymentRoute: Handler = async (req, res) => {
    const { revision, changed } = await changeDeployment(store, req.params.model, withApiActor(req));
    const present = await revisionPresenter(store, revision.modelId);
    res.status(changed ? 201 : 200).json({ deployment: present(revision), changed });
  };

  const listRevisionsRoute: Handler = async (req, res) => {
    const page = parseOrThrow(revisionsQuery, req.query, 'query');
    const model = await findModel(store, req.params.model);
    const present = await revisionPresenter(store, model.id);
    const { items, nextCursor } = pageOf(await listRevisions(store, model.id, pageArgs(page)), page);
    res.json({ revisions: items.map(present), nextCursor });
  };

  const restoreRevisionRoute: Handler = async (req, res) => {
    const { revision: target } = parseOrThrow(revisionParams, req.params, 'params');
    const { revision, changed } = await restoreRevision(store, req.params.model, target, withApiActor(req));
    const present = await revisionPresenter(store, revision.modelId);
    res.status(changed ? 201 : 200).json({ deployment: present(revision), changed });
  };

  router.post('/versions', registryHandler(registerVersionRoute));
  router.get('/versions', registryHandler(listVersionsRoute));
  router.get('/versions/:version', registryHandler(getVersionRoute));
  router.patch('/versions/:version', registryHandler(setVersionStatusRoute));
  router.get('/deployment', registryHandler(getDeploymentRoute));
  router.post('/deployment', registryHandler(changeDeploymentRoute));
  router.get('/revisions', registryHandler(listRevisionsRoute));
  router.post('/revisions/:revision/restore', registryHandler(restoreRevisionRoute));
  return router;
}
