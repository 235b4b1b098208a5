// SEA concepts (Street & Kim, "A streaming ensemble algorithm (SEA) for large-scale classification",
// KDD 2001), as defined by MOA's SEAGenerator.java and River's datasets/synth/sea.py: three features
// uniform in [0, 10], of which only the first two matter; class 0 when x1 + x2 <= theta, class 1 above.
// The four variants differ only in theta, so switching variant moves the decision boundary.
import { Random } from '../random.ts';
import {
  type BinaryLabel,
  checkInteger,
  checkRange,
  type SyntheticStream,
  withLabelNoise,
} from './stream.ts';

export const SEA_THRESHOLDS = [8, 9, 7, 9.5] as const;

/** Index into SEA_THRESHOLDS; variant v is MOA's function v + 1. */
export type SeaVariant = 0 | 1 | 2 | 3;

export type SeaFeatures = { x1: number; x2: number; x3: number };

export function seaLabel(x: SeaFeatures, variant: SeaVariant): BinaryLabel {
  return x.x1 + x.x2 <= SEA_THRESHOLDS[variant] ? 0 : 1;
}

export interface SeaOptions {
  seed: number;
  variant?: SeaVariant;
  /** Probability that a label is flipped; Street & Kim used 0.1. */
  noise?: number;
}

export function createSeaStream({
  seed,
  variant = 0,
  noise = 0,
}: SeaOptions): SyntheticStream<{ x: SeaFeatures; y: BinaryLabel }> {
  checkInteger('variant', variant, 0, SEA_THRESHOLDS.length - 1);
  checkRange('noise', noise, 0, 1);
  const rng = new Random(seed);
  return {
    next() {
      const x = { x1: rng.uniform(0, 10), x2: rng.uniform(0, 10), x3: rng.uniform(0, 10) };
      return { x, y: withLabelNoise(rng, seaLabel(x, variant), noise) };
    },
  };
}
