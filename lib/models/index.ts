// Public API of the model adapters: train a model of a given kind, and load any stored artifact back
// into something that predicts.
import type { FeatureSchema, Task } from '../domain.ts';
import { externalTrainer } from './external-trainer.ts';
import { loadHttpModel } from './http.ts';
import { linearRegressionTrainer, loadLinearRegression } from './linear-regression.ts';
import { loadLogisticRegression, logisticRegressionTrainer } from './logistic-regression.ts';
import { loadOnnxModel } from './onnx.ts';
import {
  loadRandomForestClassifier,
  loadRandomForestRegressor,
  randomForestClassifierTrainer,
  randomForestRegressorTrainer,
} from './random-forest.ts';
import type {
  ExternalTrainerConfigInput,
  LogisticRegressionOptions,
  ModelAdapter,
  ModelArtifact,
  RandomForestOptions,
  Trainer,
  TrainingSet,
} from './types.ts';

export { encodeRows, fitEncoder } from './encoding.ts';
export { ExternalTrainerError } from './external-trainer.ts';
export { DEFAULT_MODEL_TIMEOUT_MS, logModelFailure, ModelServerError } from './http.ts';
export * from './types.ts';

/** The options each trainer takes; omitted fields get the defaults documented in types.ts. */
export interface TrainerOptions {
  'logistic-regression': Partial<LogisticRegressionOptions>;
  'random-forest-classifier': Partial<RandomForestOptions>;
  'linear-regression': Record<string, never>;
  'random-forest-regressor': Partial<RandomForestOptions>;
  /** The pipeline to run; the artifact it returns may be of any kind. */
  external: ExternalTrainerConfigInput;
}
export type TrainerKind = keyof TrainerOptions;

const trainers: { [K in TrainerKind]: Trainer<TrainerOptions[K]> } = {
  'logistic-regression': logisticRegressionTrainer,
  'random-forest-classifier': randomForestClassifierTrainer,
  'linear-regression': linearRegressionTrainer,
  'random-forest-regressor': randomForestRegressorTrainer,
  external: externalTrainer,
};

/**
 * The built-in trainer that made an artifact, with its options, so a retrain trains the same kind of
 * model; null for models made outside Homeostat (a model server, an ONNX export), which only their own
 * pipeline can retrain.
 */
export function builtInTrainerOf(
  artifact: ModelArtifact,
): { kind: Exclude<TrainerKind, 'external'>; options: Record<string, unknown> } | null {
  return artifact.kind === 'http' || artifact.kind === 'onnx'
    ? null
    : { kind: artifact.kind, options: artifact.options };
}

/** Trains a model; throws a precise error when the kind does not fit the task, data or options. */
export function trainModel<K extends TrainerKind>(
  kind: K,
  task: Task,
  schema: FeatureSchema,
  data: TrainingSet,
  options?: TrainerOptions[K],
): Promise<ModelArtifact> {
  const trainer: Trainer<TrainerOptions[K]> = trainers[kind];
  return trainer.train({ task, schema, data }, options);
}

/** Turns an artifact (validated, e.g. by parseModelArtifact) back into a model. */
export function loadModel(artifact: ModelArtifact): ModelAdapter {
  const adapter = adapterFor(artifact);
  // Zero rows need no model (and the mljs models fail on an empty matrix).
  return { predict: async (rows) => (rows.length === 0 ? [] : adapter.predict(rows)) };
}

function adapterFor(artifact: ModelArtifact): ModelAdapter {
  switch (artifact.kind) {
    case 'logistic-regression':
      return loadLogisticRegression(artifact);
    case 'random-forest-classifier':
      return loadRandomForestClassifier(artifact);
    case 'linear-regression':
      return loadLinearRegression(artifact);
    case 'random-forest-regressor':
      return loadRandomForestRegressor(artifact);
    case 'http':
      return loadHttpModel(artifact);
    case 'onnx':
      return loadOnnxModel(artifact);
  }
}
