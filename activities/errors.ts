import { ApplicationFailure } from '@temporalio/common';

/** The agent's model is gone from the registry: retrying cannot help. */
export function modelNotFound(modelName: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'ModelNotFound',
    message: `model "${modelName}" is not registered`,
    nonRetryable: true,
  });
}
