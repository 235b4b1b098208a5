// Binary and multiclass logistic regression on ml-logistic-regression (one-vs-rest, full-batch gradient
// ascent). Numeric features are standardised so that one learning rate suits every schema.
import LogisticRegression from 'ml-logistic-regression';
import { Matrix } from 'ml-matrix';
import type { FeatureRow } from '../domain.ts';
import { type EncoderState, encodeRows, fitEncoder } from './encoding.ts';
import { checkRequest, classIndices, classifierOutputs, modelJson } from './training.ts';
import {
  type LogisticRegressionArtifact,
  type LogisticRegressionOptions,
  logisticRegressionOptionsSchema,
  type ModelAdapter,
  type Trainer,
} from './types.ts';

/** The mljs model has no intercept term, so every row gets a constant 1 column to learn it from. */
function designMatrix(encoder: EncoderState, rows: FeatureRow[]): Matrix {
  return new Matrix(encodeRows(encoder, rows).map((x) => [...x, 1]));
}

export const logisticRegressionTrainer: Trainer<Partial<LogisticRegressionOptions>> = {
  async train(request, rawOptions) {
    const task = checkRequest('logistic-regression', ['binary', 'multiclass'], request);
    const options = logisticRegressionOptionsSchema.parse(rawOptions ?? {});
    const { rows, labels } = request.data;
    const { classes, indices } = classIndices(task, labels);
    const encoder = fitEncoder(request.schema, rows, { standardize: true });
    // mljs sums the gradient over rows; dividing the rate by n makes `learningRate` independent of n.
    const model = new LogisticRegression({
      numSteps: options.steps,
      learningRate: options.learningRate / rows.length,
    });
    model.train(designMatrix(encoder, rows), Matrix.columnVector(indices));
    const artifact: LogisticRegressionArtifact = {
      kind: 'logistic-regression',
      task,
      classes,
      encoder,
      options,
      model: modelJson(model),
    };
    return artifact;
  },
};

export function loadLogisticRegression(artifact: LogisticRegressionArtifact): ModelAdapter {
  // The mljs loader writes its classifier instances into the object it is given; the artifact stays JSON.
  const model = LogisticRegression.load(structuredClone(artifact.model));
  return {
    async predict(rows) {
      const x = designMatrix(artifact.encoder, rows);
      // Classifier i estimates P(not class i), so 1 - score is the one-vs-rest probability of class i.
      const notClass = model.classifiers.map((c) => c.testScores(x));
      return classifierOutputs(
        artifact.classes,
        rows.map((_, r) => notClass.map((scores) => 1 - scores[r]!)),
      );
    },
  };
}
