// Who trains a retrain's candidate, as a model's policy names it (`retrain.trainer`), and the contract
// of the Python training worker (python/homeostat_trainer) that the retrain calls across languages.
// Plain values and types only: the workflow bundle reads them to route the training.
import type { FeatureSchema, Task } from '../domain.ts';
import type { Label, ModelArtifact, OnnxModelArtifact } from './types.ts';

/** The task queue the Python worker serves (python/homeostat_trainer/__init__.py says the same). */
export const PYTHON_TASK_QUEUE = 'homeostat-python';

/** `retrain.trainer`: production's own built-in (mljs) kind and options. */
export const BUILT_IN_TRAINER = 'built-in';
/** `retrain.trainer` = `python:<pipeline>`: the Python worker fits that pipeline and answers ONNX. */
export const PYTHON_TRAINER_PREFIX = 'python:';
/** The pipelines python/homeostat_trainer/pipelines.py knows (xgboost and lightgbm where installed). */
export const PYTHON_PIPELINES = [
  'sklearn-logistic',
  'sklearn-gradient-boosting',
  'xgboost',
  'lightgbm',
] as const;

/** The pipeline a trainer name asks the Python worker for; null for any other trainer. */
export function pythonPipelineOf(trainer: unknown): string | null {
  return typeof trainer === 'string' && trainer.startsWith(PYTHON_TRAINER_PREFIX)
    ? trainer.slice(PYTHON_TRAINER_PREFIX.length)
    : null;
}

export interface TrainingData {
  rows: Record<string, string | number | boolean | null>[];
  labels: Label[];
}

/** `trainPipeline`'s request: what the Python worker fits. */
export interface PythonTrainingRequest extends TrainingData {
  pipeline: string;
  task: Task;
  schema: FeatureSchema;
  /** The model's class labels (classifiers), so the artifact's classes are named as the model's are. */
  classes: string[];
}

export interface PythonTrained {
  artifact: OnnxModelArtifact;
  pipeline: string;
  trainRows: number;
  /** Share of training rows on which the ONNX export answered as the fitted pipeline did. */
  onnxAgreement: number;
}

export interface PythonEvaluationRequest extends TrainingData {
  artifact: ModelArtifact;
  schema: FeatureSchema;
}

/** The Python worker's activities, by the names it registers them under. */
export interface PythonTrainingActivities {
  trainPipeline(req: PythonTrainingRequest): Promise<PythonTrained>;
  evaluatePipeline(
    req: PythonEvaluationRequest,
  ): Promise<{ metric: 'accuracy' | 'rmse'; value: number; rows: number }>;
}
