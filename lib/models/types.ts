// The model adapter contract. Every model Homeostat serves or evaluates — the built-in mljs models and
// the user's own model server — answers `predict` the same way and is stored as a plain-JSON artifact
// (ModelVersion.artifact), which `loadModel` turns back into an adapter. The artifact format and the
// training options, with their defaults, are defined here and nowhere else.
import { z } from 'zod';
import { type FeatureRow, type FeatureSchema, TASKS, type Task } from '../domain.ts';
import { encoderStateSchema } from './encoding.ts';

export interface ModelOutput {
  /** A class label (always a string) for classifiers, a number for regression. */
  prediction: string | number;
  /** Probability of the predicted class; null for regression and when a model server gives none. */
  confidence: number | null;
  /** Probability per class label, for classifiers that provide it. */
  probabilities?: Record<string, number>;
}

export interface ModelAdapter {
  /** One output per row, in order. Invalid or missing feature values are imputed, never thrown on. */
  predict(rows: FeatureRow[]): Promise<ModelOutput[]>;
}

export type Label = string | number;

/** Rows and their ground truth, index-aligned. */
export interface TrainingSet {
  rows: FeatureRow[];
  labels: Label[];
}

export interface TrainingRequest {
  task: Task;
  schema: FeatureSchema;
  data: TrainingSet;
}

/** Options arrive as JSON from a policy or the API, so every trainer validates them and fills defaults. */
export interface Trainer<Options> {
  train(request: TrainingRequest, options?: Options): Promise<ModelArtifact>;
}

// ---- training options ----------------------------------------------------------------------------

export const logisticRegressionOptionsSchema = z.strictObject({
  /** Full-batch gradient-ascent steps per class (one-vs-rest); cost is linear in steps × rows. */
  steps: z.number().int().min(1).max(100_000).default(300),
  /** Step size on the mean log-likelihood gradient; numeric features are standardised, so ~1 is stable. */
  learningRate: z.number().positive().max(10).default(1),
});
export type LogisticRegressionOptions = z.infer<typeof logisticRegressionOptionsSchema>;

export const randomForestOptionsSchema = z.strictObject({
  trees: z.number().int().min(1).max(500).default(50),
  maxDepth: z.number().int().min(1).max(64).default(12),
  /** A node with at most this many rows becomes a leaf. */
  minNodeSamples: z.number().int().min(1).default(5),
  /**
   * Share of the encoded columns each tree sees (at least one, drawn without replacement). mljs draws
   * them once per tree rather than per split, so a share below 1 hides the strongest feature from whole
   * trees (on the mixed-feature test data 0.7 instead of 1 cost up to 0.07 of R²). The trees still differ
   * by their bootstrap samples.
   */
  featureFraction: z.number().gt(0).max(1).default(1),
  /**
   * ml-cart's split search is quadratic in the rows of a node (CPU per tree with 11 columns: ~0.1 s at
   * 500 rows, ~0.3 s at 1,000), so a forest trains on a seeded random sample of at most this many rows;
   * the defaults keep a forest to about 15 s.
   */
  maxTrainingRows: z.number().int().min(10).max(20_000).default(1000),
  /** Seeds the row sample, the bootstrap and the feature draw: same data + seed → same artifact. */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(42),
});
export type RandomForestOptions = z.infer<typeof randomForestOptionsSchema>;

export const linearRegressionOptionsSchema = z.strictObject({});

const httpUrl = z.url({ protocol: /^https?$/ });
/** Header name → value. */
const headerMap = z.record(z.string().min(1), z.string());

/**
 * The only environment variables an artifact or trainer may read header values from. Without the rule a
 * registered artifact could send any of the process's secrets (DATABASE_URL, …) to its server.
 */
export const MODEL_HEADER_ENV_PREFIX = 'HOMEOSTAT_MODEL_';
export const MODEL_HEADER_ENV_RULE = `must name an environment variable whose name starts with ${MODEL_HEADER_ENV_PREFIX} (letters, digits and _)`;
const modelHeaderEnvVariable = /^HOMEOSTAT_MODEL_[A-Za-z0-9_]+$/;
export const isModelHeaderEnvVariable = (name: string) => modelHeaderEnvVariable.test(name);
/** Header name → environment variable holding its value (HOMEOSTAT_MODEL_* only). */
const headerEnvMap = z.record(
  z.string().min(1),
  z.string().refine(isModelHeaderEnvVariable, { error: MODEL_HEADER_ENV_RULE }),
);

/** Training takes minutes, not milliseconds: ten minutes unless configured. */
const trainingTimeoutMs = z.number().int().positive().default(600_000);

const webhookTrainerConfigSchema = z.strictObject({
  type: z.literal('webhook'),
  url: httpUrl,
  headers: headerMap.optional(),
  /** Header name → environment variable holding its value. */
  headerEnv: headerEnvMap.optional(),
  timeoutMs: trainingTimeoutMs,
});

/** A training pipeline outside Homeostat; the contracts are described in external-trainer.ts. */
export const externalTrainerConfigSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('command'),
    /** Executable, started without a shell. */
    command: z.string().min(1),
    /** `{data}`, `{schema}` and `{artifact}` are replaced by the paths of those files. */
    args: z.array(z.string()).default([]),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
    timeoutMs: trainingTimeoutMs,
  }),
  webhookTrainerConfigSchema,
]);
export type ExternalTrainerConfig = z.infer<typeof externalTrainerConfigSchema>;
/** As written in a policy or API call, before defaults are filled in. */
export type ExternalTrainerConfigInput = z.input<typeof externalTrainerConfigSchema>;

// ---- artifacts -----------------------------------------------------------------------------------

const classesSchema = z
  .array(z.string())
  .min(2)
  .refine((classes) => new Set(classes).size === classes.length, { error: 'class labels must be unique' });

const classifier = {
  task: z.enum(['binary', 'multiclass']),
  /** Class labels; the models work on their indices in this list. */
  classes: classesSchema,
  encoder: encoderStateSchema,
};
const regressor = { task: z.literal('regression'), encoder: encoderStateSchema };

// The `model` fields hold the mljs packages' own toJSON() output; only what identifies it is checked
// here, and the package's loader reads the rest.
export const logisticRegressionArtifactSchema = z.object({
  kind: z.literal('logistic-regression'),
  ...classifier,
  options: logisticRegressionOptionsSchema,
  model: z.looseObject({ name: z.literal('LogisticRegression') }),
});

export const randomForestClassifierArtifactSchema = z.object({
  kind: z.literal('random-forest-classifier'),
  ...classifier,
  options: randomForestOptionsSchema,
  model: z.looseObject({ name: z.literal('RFClassifier'), baseModel: z.looseObject({}) }),
});

export const linearRegressionArtifactSchema = z.object({
  kind: z.literal('linear-regression'),
  ...regressor,
  options: linearRegressionOptionsSchema,
  model: z.looseObject({ name: z.literal('multivariateLinearRegression') }),
});

export const randomForestRegressorArtifactSchema = z.object({
  kind: z.literal('random-forest-regressor'),
  ...regressor,
  options: randomForestOptionsSchema,
  model: z.looseObject({ name: z.literal('RFRegression'), baseModel: z.looseObject({}) }),
});

export const httpModelArtifactSchema = z.object({
  kind: z.literal('http'),
  task: z.enum(TASKS),
  /** Endpoint that takes POST { rows } and answers { outputs } (see lib/models/http.ts). */
  url: httpUrl,
  headers: headerMap.optional(),
  /**
   * Header name → environment variable holding its value, read when the model is loaded, so secrets such
   * as bearer tokens stay out of the registry. Only HOMEOSTAT_MODEL_* variables.
   */
  headerEnv: headerEnvMap.optional(),
  /** Per request; 2,000 ms when absent. */
  timeoutMs: z.number().int().positive().max(120_000).optional(),
});

export const onnxModelArtifactSchema = z
  .object({
    kind: z.literal('onnx'),
    task: z.enum(TASKS),
    /** The .onnx file, base64-encoded (see lib/models/onnx.ts for the inputs and outputs it may have). */
    model: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9+/]+={0,2}$/, { error: 'must be base64' }),
    /** Classifiers: the labels of the probability output's columns, in order (scikit-learn's classes_). */
    classes: classesSchema.optional(),
    /** A model with one [rows, features] input: the features of its columns, in order. */
    features: z.array(z.string().min(1)).min(1).optional(),
  })
  .refine((a) => (a.task === 'regression') === (a.classes === undefined), {
    error: 'a classifier needs "classes" (in the order of its probability columns); a regressor has none',
    path: ['classes'],
  });

export const modelArtifactSchema = z.discriminatedUnion('kind', [
  logisticRegressionArtifactSchema,
  randomForestClassifierArtifactSchema,
  linearRegressionArtifactSchema,
  randomForestRegressorArtifactSchema,
  httpModelArtifactSchema,
  onnxModelArtifactSchema,
]);
export type ModelArtifact = z.infer<typeof modelArtifactSchema>;
export type ModelKind = ModelArtifact['kind'];
export type LogisticRegressionArtifact = z.infer<typeof logisticRegressionArtifactSchema>;
export type RandomForestClassifierArtifact = z.infer<typeof randomForestClassifierArtifactSchema>;
export type LinearRegressionArtifact = z.infer<typeof linearRegressionArtifactSchema>;
export type RandomForestRegressorArtifact = z.infer<typeof randomForestRegressorArtifactSchema>;
export type HttpModelArtifact = z.infer<typeof httpModelArtifactSchema>;
export type OnnxModelArtifact = z.infer<typeof onnxModelArtifactSchema>;

/** The artifact itself is unusable (a model file that does not load, inputs or outputs that do not fit). */
export class ArtifactError extends Error {
  override readonly name = 'ArtifactError';
}

/** A zod error on one line, with the path of each problem, for error messages. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/** Validates untrusted JSON (a registry row, an external trainer's output) as a model artifact. */
export function parseModelArtifact(json: unknown): ModelArtifact {
  const parsed = modelArtifactSchema.safeParse(json);
  if (!parsed.success) throw new Error(`invalid model artifact: ${describeIssues(parsed.error)}`);
  return parsed.data;
}
