// Friedman #1 regression (Friedman, "Multivariate adaptive regression splines", Annals of Statistics
// 19(1), 1991), as defined by River's datasets/synth/friedman.py (Friedman, FriedmanDrift): ten features
// uniform in [0, 1], of which the first five matter, y = 10 sin(π x1 x2) + 20 (x3 - 0.5)² + 10 x4 + 5 x5
// + N(0, 1). FriedmanDrift's global drift moves the function onto other features
// (10 sin(π x4 x6) + 20 (x2 - 0.5)² + 10 x1 + 5 x3, its "global recurring abrupt" concept): every
// column keeps its distribution while the target's dependence on them changes.
import { Random } from '../random.ts';
import { checkInteger, type SyntheticStream } from './stream.ts';

export const FRIEDMAN_FEATURES = Array.from({ length: 10 }, (_, i) => `x${i + 1}`);
/** 0: Friedman #1; 1: FriedmanDrift's drifted concept. */
export type FriedmanConcept = 0 | 1;

/** The noise-free target. */
export function friedmanTarget(x: Record<string, number>, concept: FriedmanConcept): number {
  const v = (i: number) => x[`x${i}`]!;
  return concept === 0
    ? 10 * Math.sin(Math.PI * v(1) * v(2)) + 20 * (v(3) - 0.5) ** 2 + 10 * v(4) + 5 * v(5)
    : 10 * Math.sin(Math.PI * v(4) * v(6)) + 20 * (v(2) - 0.5) ** 2 + 10 * v(1) + 5 * v(3);
}

export interface FriedmanOptions {
  seed: number;
  concept?: FriedmanConcept;
}

export function createFriedmanStream({
  seed,
  concept = 0,
}: FriedmanOptions): SyntheticStream<{ x: Record<string, number>; y: number }> {
  checkInteger('concept', concept, 0, 1);
  const rng = new Random(seed);
  return {
    next() {
      const x: Record<string, number> = {};
      for (const name of FRIEDMAN_FEATURES) x[name] = rng.next();
      return { x, y: friedmanTarget(x, concept) + rng.normal(0, 1) };
    },
  };
}
