// Rotating hyperplane (Hulten, Spencer & Domingos, "Mining time-changing data streams", KDD 2001), as
// defined by MOA's HyperplaneGenerator.java and River's datasets/synth/hyper_plane.py: d features uniform
// in [0, 1], class 1 when sum(w_i x_i) >= sum(w_i) / 2. After every sample each of the first `driftFeatures`
// weights moves by magChange in its current direction, and that direction reverses with probability
// sigma, so the boundary rotates a little with every sample: drift that is gradual by nature. Labels are
// balanced whatever the weights, because x -> 1 - x maps one side of the hyperplane onto the other.
import { Random } from '../random.ts';
import {
  type BinaryLabel,
  checkInteger,
  checkRange,
  type SyntheticStream,
  withLabelNoise,
} from './stream.ts';

/** Class 1 on or above the hyperplane sum(w_i x_i) = sum(w_i) / 2. */
export function hyperplaneLabel(values: readonly number[], weights: readonly number[]): BinaryLabel {
  let sum = 0;
  let weightSum = 0;
  values.forEach((value, i) => {
    sum += weights[i]! * value;
    weightSum += weights[i]!;
  });
  return sum >= weightSum / 2 ? 1 : 0;
}

export interface HyperplaneOptions {
  /** Seed of the samples and label noise. */
  seed: number;
  /**
   * Seed of the initial weights and of their drift. Kept apart from `seed` so that streams sharing it start
   * from the same hyperplane while drawing different samples; defaults to `seed`.
   */
  modelSeed?: number;
  /** Number of features d; MOA's default is 10. */
  features?: number;
  /** How many of the weights drift; MOA's default is 2. */
  driftFeatures?: number;
  /** Change of each drifting weight per sample; 0 (the default) gives a stationary stream. */
  magChange?: number;
  /** Probability per sample that a weight's direction of change reverses; MOA's default is 0.1. */
  sigma?: number;
  /** Probability that a label is flipped; MOA's default is 0.05. */
  noise?: number;
}

export function createHyperplaneStream({
  seed,
  modelSeed = seed,
  features = 10,
  driftFeatures = 2,
  magChange = 0,
  sigma = 0.1,
  noise = 0.05,
}: HyperplaneOptions): SyntheticStream<{ x: Record<string, number>; y: BinaryLabel }> {
  checkInteger('features', features, 1);
  checkInteger('driftFeatures', driftFeatures, 0, features);
  checkRange('magChange', magChange, 0, 1);
  checkRange('sigma', sigma, 0, 1);
  checkRange('noise', noise, 0, 1);
  const rng = new Random(seed);
  const model = new Random(modelSeed);
  const names = Array.from({ length: features }, (_, i) => `x${i + 1}`);
  const weights = names.map(() => model.next());
  const directions = weights.map((_, i) => (i < driftFeatures ? 1 : 0));

  return {
    next() {
      const values = names.map(() => rng.next());
      const x: Record<string, number> = {};
      names.forEach((name, i) => {
        x[name] = values[i]!;
      });
      const y = withLabelNoise(rng, hyperplaneLabel(values, weights), noise);
      if (magChange > 0) {
        for (let i = 0; i < driftFeatures; i++) {
          weights[i]! += directions[i]! * magChange;
          if (model.bernoulli(sigma)) directions[i]! *= -1;
        }
      }
      return { x, y };
    },
  };
}
