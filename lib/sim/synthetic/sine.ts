// Sine concepts (Gama, Medas, Castillo & Rodrigues, "Learning with drift detection", SBIA 2004), as
// defined by MOA's SineGenerator.java and River's datasets/synth/sine.py: two features uniform in [0, 1]
// and four boundaries: SINE1 (x1 = sin x2), SINE2 (x1 = 0.5 + 0.3 sin 3πx2) and each one reversed.
// Switching from a function to its reverse flips every label: the hardest abrupt change there is.
import { Random } from '../random.ts';
import { type BinaryLabel, checkInteger, type SyntheticStream } from './stream.ts';

export type SineFeatures = { x1: number; x2: number };
/** Function f is River's classification_function f. */
export type SineFunction = 0 | 1 | 2 | 3;

const below = (x: SineFeatures, f: SineFunction): boolean =>
  f < 2 ? x.x1 < Math.sin(x.x2) : x.x1 < 0.5 + 0.3 * Math.sin(3 * Math.PI * x.x2);

/** Class 1 below the curve for functions 0 and 2, above it for their reverses 1 and 3 (River's coding). */
export function sineLabel(x: SineFeatures, f: SineFunction): BinaryLabel {
  return below(x, f) === (f % 2 === 0) ? 1 : 0;
}

export interface SineOptions {
  seed: number;
  classificationFunction?: SineFunction;
}

export function createSineStream({
  seed,
  classificationFunction = 0,
}: SineOptions): SyntheticStream<{ x: SineFeatures; y: BinaryLabel }> {
  checkInteger('classificationFunction', classificationFunction, 0, 3);
  const rng = new Random(seed);
  return {
    next() {
      const x = { x1: rng.next(), x2: rng.next() };
      return { x, y: sineLabel(x, classificationFunction) };
    },
  };
}
