// Ordinary least squares on ml-regression's MultivariateLinearRegression, with an intercept.
import { MultivariateLinearRegression } from 'ml-regression';
import { encodeRows, fitEncoder } from './encoding.ts';
import { checkRequest, modelJson, regressionTargets } from './training.ts';
import {
  type LinearRegressionArtifact,
  linearRegressionOptionsSchema,
  type ModelAdapter,
  type Trainer,
} from './types.ts';

export const linearRegressionTrainer: Trainer<Record<string, never>> = {
  async train(request, rawOptions) {
    const task = checkRequest('linear-regression', ['regression'], request);
    const options = linearRegressionOptionsSchema.parse(rawOptions ?? {});
    const targets = regressionTargets(request.data.labels);
    const encoder = fitEncoder(request.schema, request.data.rows, { standardize: false });
    // The normal equations are solved through an SVD inverse that drops near-zero singular values, so
    // the one-hot columns (which, with the intercept, are collinear) do not break the fit. Statistics
    // are skipped: they cost a second pseudo-inverse and nothing reads them.
    const model = new MultivariateLinearRegression(
      encodeRows(encoder, request.data.rows),
      targets.map((y) => [y]),
      { intercept: true, statistics: false },
    );
    const artifact: LinearRegressionArtifact = {
      kind: 'linear-regression',
      task,
      encoder,
      options,
      model: modelJson(model),
    };
    return artifact;
  },
};

export function loadLinearRegression(artifact: LinearRegressionArtifact): ModelAdapter {
  const model = MultivariateLinearRegression.load(artifact.model);
  return {
    async predict(rows) {
      return model
        .predict(encodeRows(artifact.encoder, rows))
        .map(([y]) => ({ prediction: y!, confidence: null }));
    },
  };
}
