// Fits a pipeline of the Python package (python/homeostat_trainer) in a child process, through the
// external trainer's command contract (`python -m homeostat_trainer.fit`): how a model's first ONNX
// version is made before the agent's retrains take over on the Python worker.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FeatureSchema, Task } from '../domain.ts';
import { externalTrainer } from './external-trainer.ts';
import type { ExternalTrainerConfigInput, ModelArtifact, TrainingSet } from './types.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The Python with the package's requirements: HOMEOSTAT_PYTHON, else the project's .venv. */
export function pythonExecutable(): string {
  return process.env.HOMEOSTAT_PYTHON ?? path.join(REPO_ROOT, '.venv', 'bin', 'python');
}

/** The command that fits `pipeline`; a classifier's classes are named in the model's order. */
export function pythonFitCommand(pipeline: string, classes?: string[]): ExternalTrainerConfigInput {
  return {
    type: 'command',
    command: pythonExecutable(),
    args: ['-m', 'homeostat_trainer.fit', pipeline, ...(classes ? [classes.join(',')] : [])],
    cwd: path.join(REPO_ROOT, 'python'),
  };
}

export function fitPythonPipeline(
  pipeline: string,
  request: { task: Task; schema: FeatureSchema; data: TrainingSet; classes?: string[] },
): Promise<ModelArtifact> {
  return externalTrainer.train(request, pythonFitCommand(pipeline, request.classes));
}
