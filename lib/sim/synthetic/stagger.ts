// STAGGER concepts (Schlimmer & Granger, "Incremental learning from noisy data", Machine Learning 1(3),
// 1986), as defined by MOA's STAGGERGenerator.java and River's datasets/synth/stagger.py: three nominal
// features drawn uniformly, and three boolean concepts over them. The concepts share no rule, so each
// switch is a full concept change, not a moved boundary.
import { Random } from '../random.ts';
import { type BinaryLabel, checkInteger, type SyntheticStream } from './stream.ts';

export const STAGGER_SIZES = ['small', 'medium', 'large'] as const;
export const STAGGER_COLORS = ['red', 'blue', 'green'] as const;
export const STAGGER_SHAPES = ['circle', 'square', 'triangle'] as const;

export type StaggerFeatures = {
  size: (typeof STAGGER_SIZES)[number];
  color: (typeof STAGGER_COLORS)[number];
  shape: (typeof STAGGER_SHAPES)[number];
};

/** Concept c is MOA's function c + 1; a sample is class 1 when its concept holds. */
export const STAGGER_CONCEPTS: readonly ((x: StaggerFeatures) => boolean)[] = [
  (x) => x.size === 'small' && x.color === 'red',
  (x) => x.color === 'green' || x.shape === 'circle',
  (x) => x.size === 'medium' || x.size === 'large',
];

export type StaggerConcept = 0 | 1 | 2;

export function staggerLabel(x: StaggerFeatures, concept: StaggerConcept): BinaryLabel {
  return STAGGER_CONCEPTS[concept]!(x) ? 1 : 0;
}

export interface StaggerOptions {
  seed: number;
  concept?: StaggerConcept;
}

export function createStaggerStream({
  seed,
  concept = 0,
}: StaggerOptions): SyntheticStream<{ x: StaggerFeatures; y: BinaryLabel }> {
  checkInteger('concept', concept, 0, STAGGER_CONCEPTS.length - 1);
  const rng = new Random(seed);
  return {
    next() {
      const x = {
        size: rng.pick(STAGGER_SIZES),
        color: rng.pick(STAGGER_COLORS),
        shape: rng.pick(STAGGER_SHAPES),
      };
      return { x, y: staggerLabel(x, concept) };
    },
  };
}
