// Model versions: registering one (an artifact made elsewhere, or one trained here by a built-in trainer),
// with what is computed from the data sent along, and reading them back: ModelVersion.referenceStats
// holds the monitor's reference profile (lib/monitor/reference.ts) of the reference rows, which the
// window metrics compare production against; ModelVersion.metrics its baseline performance on held-out
// rows, beside any metrics reported with the version. Versions are immutable apart from their status;
// numbers count from 1 per model.
import { randomUUID } from 'node:crypto';
import { sqltag as sql } from '@prisma/client/runtime/client';
import { z } from 'zod';
import type { Store } from '../db/client.ts';
import {
  type FeatureRow,
  type FeatureSchema,
  featureSchemaSchema,
  type Task,
  type VersionStatus,
  versionNumberSchema,
} from '../domain.ts';
import { isUniqueViolation } from '../ingest/prediction-writer.ts';
import { rowValidator } from '../ingest/validate.ts';
import {
  ArtifactError,
  type Label,
  loadModel,
  logModelFailure,
  type ModelArtifact,
  type ModelOutput,
  modelArtifactSchema,
  parseModelArtifact,
} from '../models/index.ts';
import { trainModelInThread } from '../models/training-thread.ts';
import { buildReferenceProfile, evaluateOutputs, type ReferenceProfile } from '../monitor/index.ts';
import { storedSegments } from '../segments/definition.ts';
import { Random } from '../sim/random.ts';
import { modelNotFound, parseBody, RegistryError, type RegistryIssue } from './errors.ts';

/** The built-in trainers a version can be trained with on registration. */
export const BUILT_IN_TRAINERS = [
  'logistic-regression',
  'random-forest-classifier',
  'linear-regression',
  'random-forest-regressor',
] as const;

/** Rows a registration may carry per data set; the request body limit usually binds first. */
export const MAX_REFERENCE_ROWS = 100_000;
/** Feature problems listed in one refusal; the rest are summed up in its message. */
const MAX_LISTED_ISSUES = 50;
/** Rows per call when scoring reference data, so an HTTP model gets requests of a sane size. */
const SCORING_CHUNK_ROWS = 1000;
const VERSION_NUMBER_ATTEMPTS = 5;

const featureRow = z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()]));
const label = z.union([z.string(), z.number()]);
const dataset = (labels: 'optional' | 'required') =>
  z.strictObject({
    rows: z.array(featureRow).min(1).max(MAX_REFERENCE_ROWS),
    labels: labels === 'required' ? z.array(label) : z.array(label).optional(),
  });

export const registerVersionSchema = z
  .strictObject({
    /** A model artifact (lib/models/types.ts), e.g. from the external training pipeline. */
    // Parsed by checkArtifact (400 invalid_artifact, with the model's task and classes); the document
    // states its outline.
    artifact: z
      .unknown()
      .optional()
      .meta({
        type: 'object',
        required: ['kind', 'task'],
        properties: { kind: { enum: modelArtifactSchema.options.map((option) => option.shape.kind.value) } },
      }),
    /** Or: train one here on `data` with a built-in trainer. */
    train: z
      .strictObject({
        trainer: z.enum(BUILT_IN_TRAINERS),
        /** The trainer's options (lib/models/types.ts), checked by the trainer. */
        options: z.record(z.string(), z.unknown()).optional(),
        /** Share of `data` held out for validation when no `validation` set is given. */
        holdoutShare: z.number().min(0).max(0.5).default(0.2),
        /** Seeds the holdout split. */
        seed: z
          .number()
          .int()
          .min(0)
          .max(2 ** 31 - 1)
          .default(1),
      })
      .optional(),
    /** Reference data (the training data when training here): the reference profile comes from it. */
    data: dataset('optional').optional(),
    /** Labelled held-out data for validation and baseline metrics. */
    validation: dataset('required').optional(),
    /** Validation metrics computed elsewhere; ones computed here from `validation` take precedence. */
    metrics: z.record(z.string(), z.number()).optional(),
    trainingWindow: z
      .strictObject({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) })
      .optional(),
    /** Lineage: the version this one was derived from (a retrain's production version). */
    parentVersion: versionNumberSchema.optional(),
    /** Lineage: the incident that caused this version. */
    incidentId: z.string().min(1).max(128).optional(),
  })
  .superRefine((body, ctx) => {
    if ((body.artifact === undefined) === (body.train === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'give either an artifact or train, not both or neither',
      });
    }
    if (body.train && !body.data?.labels) {
      ctx.addIssue({ code: 'custom', path: ['data', 'labels'], message: 'training needs labelled data' });
    }
    for (const key of ['data', 'validation'] as const) {
      const set = body[key];
      if (set?.labels && set.labels.length !== set.rows.length) {
        ctx.addIssue({
          code: 'custom',
          path: [key, 'labels'],
          message: `${set.labels.length} labels for ${set.rows.length} rows`,
        });
      }
    }
    if (body.trainingWindow && Date.parse(body.trainingWindow.from) > Date.parse(body.trainingWindow.to)) {
      ctx.addIssue({ code: 'custom', path: ['trainingWindow', 'from'], message: 'must not be after to' });
    }
  })
  // The rules JSON Schema can state, for the OpenAPI document (as many labels as rows, and from before
  // to, it cannot: the operation's description says them).
  .meta({
    oneOf: [{ required: ['artifact'] }, { required: ['train'] }],
    anyOf: [
      { not: { required: ['train'] } },
      { required: ['data'], properties: { data: { required: ['labels'] } } },
    ],
  });
export type RegisterVersionInput = z.input<typeof registerVersionSchema>;

/** The fields of a Model row the registry reads. */
export interface RegistryModel {
  id: string;
  name: string;
  task: string;
  featureSchema: unknown;
  labels: unknown;
}

/** The model's feature schema and class labels, as stored (validated on registration). */
export function modelShape(model: RegistryModel): { task: Task; schema: FeatureSchema; classes: string[] } {
  return {
    task: model.task as Task,
    schema: featureSchemaSchema.parse(model.featureSchema),
    classes: Array.isArray(model.labels) ? (model.labels as string[]) : [],
  };
}

export async function findModel(store: Store, name: string) {
  const model = await store.model.findUnique({ where: { name } });
  if (!model) throw modelNotFound(name);
  return model;
}

interface Dataset {
  rows: FeatureRow[];
  labels?: Label[];
}

/** Every invalid feature value and label of a data set, as issues under `path`. */
function datasetIssues(path: string, set: Dataset, shape: ReturnType<typeof modelShape>): RegistryIssue[] {
  const validate = rowValidator(shape.schema);
  const issues: RegistryIssue[] = [];
  set.rows.forEach((row, i) => {
    for (const v of validate(row)) {
      issues.push({ path: `${path}.rows.${i}.${v.feature}`, message: `${v.problem}: ${v.message}` });
    }
  });
  set.labels?.forEach((y, i) => {
    if (shape.task === 'regression' ? typeof y !== 'number' : !shape.classes.includes(String(y))) {
      issues.push({
        path: `${path}.labels.${i}`,
        message:
          shape.task === 'regression'
            ? 'a regression label must be a number'
            : `must be one of ${shape.classes.join(', ')}`,
      });
    }
  });
  return issues;
}

function checkArtifact(json: unknown, shape: ReturnType<typeof modelShape>): ModelArtifact {
  let artifact: ModelArtifact;
  try {
    artifact = parseModelArtifact(json);
  } catch (error) {
    throw new RegistryError(400, 'invalid_artifact', (error as Error).message);
  }
  if (artifact.task !== shape.task) {
    throw new RegistryError(
      400,
      'invalid_artifact',
      `the artifact is for a ${artifact.task} task, the model's is ${shape.task}`,
    );
  }
  if ('classes' in artifact && artifact.classes) {
    const unknown = artifact.classes.filter((c) => !shape.classes.includes(c));
    if (unknown.length > 0) {
      throw new RegistryError(
        400,
        'invalid_artifact',
        `the artifact predicts classes the model does not have: ${unknown.join(', ')} (the model's: ${shape.classes.join(', ')})`,
      );
    }
  }
  return artifact;
}

/** A seeded split of the labelled rows into training rows and `share` held out. */
function holdoutSplit(set: Required<Dataset>, share: number, seed: number) {
  const order = set.rows.map((_, i) => i);
  const rng = new Random(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const held = Math.round(set.rows.length * share);
  const pick = (indices: number[]) => ({
    rows: indices.map((i) => set.rows[i]!),
    labels: indices.map((i) => set.labels[i]!),
  });
  return { training: pick(order.slice(held)), holdout: held > 0 ? pick(order.slice(0, held)) : null };
}

async function score(
  artifact: ModelArtifact,
  rows: FeatureRow[],
  what: string,
  model: string,
): Promise<ModelOutput[]> {
  const adapter = loadModel(artifact);
  const outputs: ModelOutput[] = [];
  try {
    for (let start = 0; start < rows.length; start += SCORING_CHUNK_ROWS) {
      outputs.push(...(await adapter.predict(rows.slice(start, start + SCORING_CHUNK_ROWS))));
    }
  } catch (error) {
    if (error instanceof ArtifactError) throw new RegistryError(400, 'invalid_artifact', error.message);
    const correlationId = logModelFailure(error, { model, scoring: what });
    throw new RegistryError(
      502,
      'model_error',
      `the model failed on the ${what}: ${(error as Error).message} (correlation id ${correlationId})`,
    );
  }
  return outputs;
}

/**
 * Registers a new version of the model: validates the artifact (or trains one), checks the data against
 * the feature schema, scores the reference and validation data, and stores the version as a candidate
 * with its reference profile, metrics and lineage. Throws a RegistryError, having stored nothing,
 * when anything is wrong.
 */
export async function registerVersion(store: Store, modelName: string, rawInput: unknown) {
  const input = parseBody(registerVersionSchema, rawInput);
  const model = await findModel(store, modelName);
  const shape = modelShape(model);

  const issues = [
    ...(input.data ? datasetIssues('body.data', input.data, shape) : []),
    ...(input.validation ? datasetIssues('body.validation', input.validation, shape) : []),
  ];
  if (issues.length > 0) {
    const more = issues.length > MAX_LISTED_ISSUES ? ` (the first ${MAX_LISTED_ISSUES} are listed)` : '';
    throw new RegistryError(
      400,
      'invalid_data',
      `${issues.length} invalid value(s) in the data; reference and training data must match the feature schema${more}`,
      issues.slice(0, MAX_LISTED_ISSUES),
    );
  }

  const [parent, incident] = await Promise.all([
    input.parentVersion === undefined
      ? null
      : store.modelVersion.findUnique({
          where: { modelId_version: { modelId: model.id, version: input.parentVersion } },
        }),
    input.incidentId === undefined
      ? null
      : store.incident.findFirst({ where: { id: input.incidentId, modelId: model.id } }),
  ]);
  if (input.parentVersion !== undefined && !parent) {
    throw new RegistryError(
      422,
      'unknown_version',
      `model "${model.name}" has no version ${input.parentVersion}`,
      [{ path: 'body.parentVersion', message: 'no such version of this model' }],
    );
  }
  if (input.incidentId !== undefined && !incident) {
    throw new RegistryError(
      422,
      'unknown_incident',
      `model "${model.name}" has no incident ${input.incidentId}`,
      [{ path: 'body.incidentId', message: 'no such incident of this model' }],
    );
  }

  // The artifact, the reference rows its statistics describe, and the labelled rows it is validated on.
  let artifact: ModelArtifact;
  let reference: Dataset | undefined = input.data;
  let validation: Dataset | undefined = input.validation;
  let evaluatedOn: 'validation' | 'holdout' | 'reference' = 'validation';
  if (input.train) {
    const labelled = input.data as Required<Dataset>;
    let training: Required<Dataset> = labelled;
    if (!validation && input.train.holdoutShare > 0) {
      const split = holdoutSplit(labelled, input.train.holdoutShare, input.train.seed);
      training = split.training;
      validation = split.holdout ?? undefined;
      evaluatedOn = 'holdout';
    }
    try {
      artifact = await trainModelInThread(
        input.train.trainer,
        shape.task,
        shape.schema,
        training,
        input.train.options as never,
      );
    } catch (error) {
      throw new RegistryError(
        400,
        'training_failed',
        `${input.train.trainer} training failed: ${(error as Error).message}`,
      );
    }
    reference = training;
  } else {
    artifact = checkArtifact(input.artifact, shape);
    if (!validation && reference?.labels) {
      validation = reference;
      evaluatedOn = 'reference';
    }
  }

  const referenceOutputs = reference
    ? await score(artifact, reference.rows, 'reference data', model.name)
    : null;
  const validationOutputs =
    validation === reference
      ? referenceOutputs
      : validation
        ? await score(artifact, validation.rows, 'validation data', model.name)
        : null;
  // The baseline is measured on held-out rows: on its training rows a model looks better than it is.
  const evaluation =
    validation?.labels && validationOutputs
      ? evaluateOutputs({
          task: shape.task,
          labels: shape.classes,
          outputs: validationOutputs,
          truth: validation.labels,
        })
      : null;
  const performance = evaluation?.performance ?? null;
  const metrics =
    performance || input.metrics
      ? { ...input.metrics, ...performance, ...(performance ? { evaluatedOn } : {}) }
      : null;
  const referenceStats: ReferenceProfile | null = reference
    ? {
        ...buildReferenceProfile({
          schema: shape.schema,
          task: shape.task,
          labels: shape.classes,
          rows: reference.rows,
          outputs: referenceOutputs ?? undefined,
          // Segments defined later get their references with the next version (the rows are not kept).
          segments: storedSegments(model.segments, shape.schema),
        }),
        ...evaluation,
      }
    : null;
  const trainingWindow =
    input.trainingWindow || input.train
      ? { ...input.trainingWindow, ...(input.train ? { rows: reference?.rows.length ?? 0 } : {}) }
      : null;

  for (let attempt = 1; ; attempt++) {
    const last = await store.modelVersion.findFirst({
      where: { modelId: model.id },
      orderBy: { version: 'desc' },
      select: { version: true },
    });
    const id = randomUUID();
    try {
      await insertVersion(store, {
        id,
        modelId: model.id,
        version: (last?.version ?? 0) + 1,
        artifact,
        referenceStats,
        metrics,
        trainingWindow,
        parentVersionId: parent?.id ?? null,
        incidentId: incident?.id ?? null,
      });
      return await store.modelVersion.findUniqueOrThrow({ where: { id } });
    } catch (error) {
      // Another registration took the number; take the next one.
      if (!isUniqueViolation(error) || attempt >= VERSION_NUMBER_ATTEMPTS) throw error;
    }
  }
}

/**
 * Inserts a candidate version in SQL rather than through Prisma, whose JSON writes round floats to 15–16
 * significant digits (prisma/prisma#11096, #22249): an artifact's weights must come back exactly as
 * they were registered. JSON.stringify writes the shortest text that parses back to the same double.
 * Exported for tests that store a version registerVersion already made again under another model.
 */
export async function insertVersion(
  store: Store,
  v: {
    id: string;
    modelId: string;
    version: number;
    artifact: ModelArtifact;
    referenceStats: ReferenceProfile | null;
    metrics: Record<string, unknown> | null;
    trainingWindow: Record<string, unknown> | null;
    parentVersionId: string | null;
    incidentId: string | null;
  },
): Promise<void> {
  const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
  const status: VersionStatus = 'candidate';
  await store.$executeRaw(
    sql`INSERT INTO "ModelVersion" ("id", "modelId", "version", "status", "artifact", "referenceStats", "metrics", "trainingWindow", "parentVersionId", "incidentId", "createdAt")
        VALUES (${v.id}, ${v.modelId}, ${v.version}, ${status}, ${json(v.artifact)}, ${json(v.referenceStats)}, ${json(v.metrics)}, ${json(v.trainingWindow)}, ${v.parentVersionId}, ${v.incidentId}, ${new Date()})`,
  );
}

export async function findVersion(store: Store, model: { id: string; name: string }, version: number) {
  const found = await store.modelVersion.findUnique({
    where: { modelId_version: { modelId: model.id, version } },
  });
  if (!found)
    throw new RegistryError(404, 'version_not_found', `model "${model.name}" has no version ${version}`);
  return found;
}

/** A page of a list (the API's paging: take one more than the page, start after a row's id). */
export interface PageArgs {
  take: number;
  skip?: number;
  cursor?: { id: string };
}

/** Versions without their artifacts and reference profiles, newest first. */
export function listVersions(store: Store, modelId: string, page: PageArgs) {
  return store.modelVersion.findMany({
    where: { modelId },
    orderBy: { version: 'desc' },
    ...page,
    select: {
      id: true,
      version: true,
      status: true,
      metrics: true,
      trainingWindow: true,
      incidentId: true,
      createdAt: true,
      parent: { select: { version: true } },
    },
  });
}

/** Statuses an operator or the agent may set by hand; the others follow from the deployment. */
export const MANUAL_STATUSES = [
  'candidate',
  'retired',
  'rejected',
] as const satisfies readonly VersionStatus[];
