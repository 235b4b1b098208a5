// Random forests on ml-random-forest: a classifier whose probabilities are the trees' vote shares, and a
// regressor that averages its trees.
import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest';
import { Random } from '../sim/random.ts';
import { encodeRows, fitEncoder } from './encoding.ts';
import { checkRequest, classIndices, classifierOutputs, modelJson, regressionTargets } from './training.ts';
import {
  type ModelAdapter,
  type RandomForestClassifierArtifact,
  type RandomForestOptions,
  type RandomForestRegressorArtifact,
  randomForestOptionsSchema,
  type Trainer,
  type TrainingRequest,
} from './types.ts';

/** Indices of at most `max` of `n` rows, drawn without replacement (partial Fisher–Yates). */
function sampleIndices(n: number, max: number, seed: number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (n <= max) return all;
  const random = new Random(seed);
  for (let i = 0; i < max; i++) {
    const j = random.int(i, n - 1);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, max);
}

function forestOptions(options: RandomForestOptions, columns: number) {
  const k = Math.max(1, Math.floor(columns * options.featureFraction));
  return {
    nEstimators: options.trees,
    // mljs floors maxFeatures × columns for a value in (0, 1] (so the integer 1 means every column);
    // aiming at the middle of k's interval selects exactly k columns despite rounding.
    maxFeatures: k === columns ? 1 : (k + 0.5) / columns,
    replacement: false,
    seed: options.seed,
    useSampleBagging: true,
    // Out-of-bag predictions cost a pass over the data per tree and nothing here reads them.
    noOOB: true,
    treeOptions: { maxDepth: options.maxDepth, minNumSamples: options.minNodeSamples },
  };
}

/** Validated options, the fitted encoder and the sampled, encoded rows a forest trains on. */
function prepare(request: TrainingRequest, rawOptions: unknown) {
  const options = randomForestOptionsSchema.parse(rawOptions ?? {});
  const encoder = fitEncoder(request.schema, request.data.rows, { standardize: false });
  const sample = sampleIndices(request.data.rows.length, options.maxTrainingRows, options.seed);
  const x = encodeRows(
    encoder,
    sample.map((i) => request.data.rows[i]!),
  );
  return { options, encoder, sample, x, forest: forestOptions(options, x[0]!.length) };
}

export const randomForestClassifierTrainer: Trainer<Partial<RandomForestOptions>> = {
  async train(request, rawOptions) {
    const task = checkRequest('random-forest-classifier', ['binary', 'multiclass'], request);
    const { classes, indices } = classIndices(task, request.data.labels);
    const { options, encoder, sample, x, forest } = prepare(request, rawOptions);
    const model = new RandomForestClassifier(forest);
    model.train(
      x,
      sample.map((i) => indices[i]!),
    );
    const artifact: RandomForestClassifierArtifact = {
      kind: 'random-forest-classifier',
      task,
      classes,
      encoder,
      options,
      model: modelJson(model),
    };
    return artifact;
  },
};

export const randomForestRegressorTrainer: Trainer<Partial<RandomForestOptions>> = {
  async train(request, rawOptions) {
    const task = checkRequest('random-forest-regressor', ['regression'], request);
    const targets = regressionTargets(request.data.labels);
    const { options, encoder, sample, x, forest } = prepare(request, rawOptions);
    const model = new RandomForestRegression(forest);
    model.train(
      x,
      sample.map((i) => targets[i]!),
    );
    const artifact: RandomForestRegressorArtifact = {
      kind: 'random-forest-regressor',
      task,
      encoder,
      options,
      model: modelJson(model),
    };
    return artifact;
  },
};

export function loadRandomForestClassifier(artifact: RandomForestClassifierArtifact): ModelAdapter {
  // The artifact schema checks only the payload's name; the package's loader reads its own fields.
  const model = RandomForestClassifier.load(
    artifact.model as unknown as Parameters<typeof RandomForestClassifier.load>[0],
  );
  return {
    async predict(rows) {
      // Vote shares are computed here because the package's predictProbability drops the first tree's
      // vote (its reduce has no initial value).
      const votes = model.predictionValues(encodeRows(artifact.encoder, rows));
      const counts = rows.map((_, r) => {
        const perClass = artifact.classes.map(() => 0);
        for (const v of votes.getRow(r)) perClass[v] = (perClass[v] ?? 0) + 1;
        return perClass;
      });
      return classifierOutputs(artifact.classes, counts);
    },
  };
}

export function loadRandomForestRegressor(artifact: RandomForestRegressorArtifact): ModelAdapter {
  const model = RandomForestRegression.load(
    artifact.model as unknown as Parameters<typeof RandomForestRegression.load>[0],
  );
  return {
    async predict(rows) {
      return model
        .predict(encodeRows(artifact.encoder, rows))
        .map((y) => ({ prediction: y, confidence: null }));
    },
  };
}
