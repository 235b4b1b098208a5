// Random radial basis functions, as defined by MOA's RandomRBFGenerator.java / RandomRBFGeneratorDrift.java
// and River's datasets/synth/random_rbf.py (RandomRBF / RandomRBFDrift): centroids with a random centre in
// [0, 1]^d, class, standard deviation and weight; a sample picks a centroid by weight and lies at a
// Gaussian distance from its centre in a uniformly random direction. With a change speed, the first
// `driftCentroids` centroids move along fixed random unit directions and bounce off the unit cube's faces,
// so the class regions shift a little with every sample.
import { Random } from '../random.ts';
import { checkInteger, checkRange, type SyntheticStream } from './stream.ts';

interface Centroid {
  centre: number[];
  label: number;
  stdDev: number;
}

export interface RandomRbfOptions {
  /** Seed of the samples. */
  seed: number;
  /**
   * Seed of the centroids and their speeds. Kept apart from `seed` so that streams sharing it have the
   * same class regions while drawing different samples; defaults to `seed`.
   */
  modelSeed?: number;
  classes?: number;
  features?: number;
  centroids?: number;
  /** Distance each moving centroid travels per sample, at most 1; 0 (the default) gives a stationary stream. */
  changeSpeed?: number;
  /** How many centroids move; defaults to all of them. */
  driftCentroids?: number;
}

export function createRandomRbfStream({
  seed,
  modelSeed = seed,
  classes = 2,
  features = 10,
  centroids: centroidCount = 50,
  changeSpeed = 0,
  driftCentroids = centroidCount,
}: RandomRbfOptions): SyntheticStream<{ x: Record<string, number>; y: number }> {
  checkInteger('classes', classes, 2);
  checkInteger('features', features, 1);
  checkInteger('centroids', centroidCount, 1);
  checkRange('changeSpeed', changeSpeed, 0, 1);
  checkInteger('driftCentroids', driftCentroids, 0, centroidCount);
  const rng = new Random(seed);
  const model = new Random(modelSeed);
  const names = Array.from({ length: features }, (_, i) => `x${i + 1}`);
  const centroids: Centroid[] = [];
  const weights: number[] = [];
  for (let c = 0; c < centroidCount; c++) {
    centroids.push({
      centre: names.map(() => model.next()),
      label: model.int(0, classes - 1),
      stdDev: model.next(),
    });
    weights.push(model.next());
  }
  // MOA and River reseed the model generator for the speeds, which makes each speed a copy of earlier
  // centre coordinates; continuing the same generator keeps them independent and the centroids unchanged.
  const speeds =
    changeSpeed > 0
      ? centroids.slice(0, driftCentroids).map(() => unitVector(names.map(() => model.next())))
      : [];

  return {
    next() {
      // Plain loops: this runs centroids x features times per sample.
      for (let c = 0; c < speeds.length; c++) {
        const centre = centroids[c]!.centre;
        const speed = speeds[c]!;
        for (let i = 0; i < features; i++) {
          const moved = centre[i]! + speed[i]! * changeSpeed;
          if (moved < 0 || moved > 1) speed[i] = -speed[i]!;
          centre[i] = Math.min(1, Math.max(0, moved));
        }
      }
      const centroid = rng.weighted(centroids, weights);
      const direction = names.map(() => rng.uniform(-1, 1));
      const offset = rng.normal(0, centroid.stdDev);
      const unit = unitVector(direction);
      const x: Record<string, number> = {};
      names.forEach((name, i) => {
        x[name] = centroid.centre[i]! + unit[i]! * offset;
      });
      return { x, y: centroid.label };
    },
  };
}

function unitVector(v: number[]): number[] {
  const norm = Math.hypot(...v);
  return v.map((value) => value / norm);
}
