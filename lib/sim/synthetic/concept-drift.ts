// Concept drift by joining two streams, as MOA's ConceptDriftStream (Bifet et al., moa/streams/
// ConceptDriftStream.java) and River's datasets/synth/concept_drift_stream.py define it: the t-th sample
// (counted from 1) comes from the drift stream with probability 1 / (1 + exp(-4 (t - position) / width)).
// The slope of that sigmoid at `position` is 1/width, so `width` is the length of the transition; width 1
// is an abrupt switch (the probability goes from 0.02 to 0.98 between position - 1 and position + 1).
// Every abrupt and gradual drift of the catalogue is built here; the hyperplane and RBF generators only
// add their own incremental drift.
import { Random } from '../random.ts';
import { checkInteger, childSeeds, type Sample, type SyntheticStream } from './stream.ts';

export interface ConceptDriftOptions<S extends Sample> {
  seed: number;
  /** The concept before the drift. */
  stream: SyntheticStream<S>;
  /** The concept after the drift; may itself be a drift stream, for several drifts in a row. */
  driftStream: SyntheticStream<S>;
  /** Centre of the change, as a count of samples drawn from this stream. */
  position: number;
  /** Length of the transition; 1 is abrupt. */
  width: number;
}

export function driftProbability(t: number, position: number, width: number): number {
  return 1 / (1 + Math.exp((-4 * (t - position)) / width));
}

export function createConceptDriftStream<S extends Sample>(
  options: ConceptDriftOptions<S>,
): SyntheticStream<S> {
  const { stream, driftStream, position, width } = options;
  checkInteger('position', position, 0);
  checkInteger('width', width, 1);
  const rng = new Random(options.seed);
  let t = 0;
  return {
    next() {
      t += 1;
      return rng.next() > driftProbability(t, position, width) ? stream.next() : driftStream.next();
    },
  };
}

export interface DriftSequenceOptions<S extends Sample> {
  seed: number;
  /** The concepts in order: concept i+1 replaces concept i at positions[i]. */
  concepts: readonly SyntheticStream<S>[];
  /** Centres of the changes as absolute sample counts, increasing. */
  positions: readonly number[];
  width: number;
}

/**
 * Several drifts in a row, nested the way MOA and River nest ConceptDriftStream. An inner stream counts
 * only the samples drawn from it, which begin at the previous drift; since the sigmoid is symmetric about
 * its centre, the expected count at absolute time t is t - previous position, so each nested stream gets
 * its position relative to the previous drift and the changes are centred at the absolute `positions`.
 */
export function createDriftSequence<S extends Sample>(options: DriftSequenceOptions<S>): SyntheticStream<S> {
  const { concepts, positions, width } = options;
  if (concepts.length !== positions.length + 1) {
    throw new RangeError(
      `need one concept more than drift positions, got ${concepts.length} and ${positions.length}`,
    );
  }
  positions.forEach((p, i) => {
    if (i > 0 && p <= positions[i - 1]!) throw new RangeError('drift positions must increase');
  });
  const seeds = childSeeds(options.seed, positions.length);
  let tail = concepts[concepts.length - 1]!;
  for (let i = positions.length - 1; i >= 0; i--) {
    tail = createConceptDriftStream({
      seed: seeds[i]!,
      stream: concepts[i]!,
      driftStream: tail,
      position: positions[i]! - (positions[i - 1] ?? 0),
      width,
    });
  }
  return tail;
}

export interface SubpopulationDriftOptions<S extends Sample> {
  seed: number;
  stream: SyntheticStream<S>;
  /** The new concept; it must draw its features as `stream` does, so that only labels change. */
  driftStream: SyntheticStream<S>;
  /** The part of the feature space whose concept changes. */
  inSubpopulation: (x: S['x']) => boolean;
  position: number;
  width: number;
}

/**
 * Sub-population drift: after the change (a sigmoid switch as createConceptDriftStream's), a sample that
 * falls in the sub-population is replaced by the drift stream's next sample in it (drawn by rejection), so
 * the feature distribution stays the same and only that region's labels follow the new concept.
 */
export function createSubpopulationDrift<S extends Sample>(
  options: SubpopulationDriftOptions<S>,
): SyntheticStream<S> {
  const { stream, driftStream, inSubpopulation, position, width } = options;
  checkInteger('position', position, 0);
  checkInteger('width', width, 1);
  const rng = new Random(options.seed);
  let t = 0;
  return {
    next() {
      t += 1;
      const sample = stream.next();
      if (!inSubpopulation(sample.x) || rng.next() > driftProbability(t, position, width)) return sample;
      // Bounded: a sub-population the drift stream never reaches keeps the old concept.
      for (let tries = 0; tries < 1000; tries++) {
        const replacement = driftStream.next();
        if (inSubpopulation(replacement.x)) return replacement;
      }
      return sample;
    },
  };
}
