// Named benchmark streams with known drifts, for measuring detection delay and false alarms. Settings
// follow the MOA literature (e.g. Bifet et al., "New ensemble methods for evolving data streams", KDD 2009:
// SEA with 10% label noise, HYP(10, 0.001), RBF(50, 0.0001)) and MOA's defaults (Agrawal's 5%
// perturbation, the hyperplane's 5% noise and 0.1 sigma), at lengths of at most 100k. Each drifting stream
// has a stationary twin with the same seed: its first concept alone, so it matches the drifting stream
// sample for sample up to the first change, and any alarm on it is a false alarm.
import { type AgrawalFunction, createAgrawalStream } from './agrawal.ts';
import { createDriftSequence } from './concept-drift.ts';
import { createHyperplaneStream } from './hyperplane.ts';
import { createRandomRbfStream } from './random-rbf.ts';
import { createSeaStream, SEA_THRESHOLDS, type SeaVariant } from './sea.ts';
import { createStaggerStream, type StaggerConcept } from './stagger.ts';
import { childSeeds, type SyntheticStream } from './stream.ts';

/**
 * abrupt and gradual: the concept is replaced at each drift position, over `width` samples.
 * incremental: the concept starts to move at the drift position and keeps moving to the end.
 */
export type DriftKind = 'abrupt' | 'gradual' | 'incremental' | 'none';

export interface BenchmarkStream {
  name: string;
  description: string;
  kind: DriftKind;
  /** Number of samples a benchmark should draw. */
  length: number;
  /** Centres of the changes, as 1-based sample indices (in expectation; see createDriftSequence). */
  driftPositions: readonly number[];
  /** Sigmoid width of each change (1 = abrupt), 0 when there is none. */
  width: number;
  seed: number;
  /** A fresh stream; pass another seed for repeated runs of the same benchmark. */
  factory: (seed?: number) => SyntheticStream;
}

/** The seeds one concept of a benchmark gets: its own for samples, the benchmark's for a shared model. */
type ConceptFactory = (seeds: { seed: number; modelSeed: number }) => SyntheticStream;

interface Family {
  prefix: string;
  /** The generator's settings, common to all its concepts. */
  setup: string;
  length: number;
  seed: number;
  concepts: readonly { name: string; create: ConceptFactory }[];
  driftPositions: readonly number[];
}

function benchmark(family: Family, suffix: string, kind: DriftKind, width: number): BenchmarkStream {
  const stationary = kind === 'none';
  const concepts = stationary ? family.concepts.slice(0, 1) : family.concepts;
  const driftPositions = stationary ? [] : family.driftPositions;
  const names = concepts.map((c) => c.name);
  const at = driftPositions.map((p) => `${p / 1000}k`).join(', ');
  const how = {
    abrupt: ', abrupt',
    gradual: `, each change over ${width} samples`,
    incremental: '',
    none: '',
  }[kind];
  return {
    name: `${family.prefix}-${suffix}`,
    description: stationary
      ? `${family.setup}; ${names[0]} throughout, no drift.`
      : `${family.setup}; ${names.join(' -> ')} at ${at}${how}.`,
    kind,
    length: family.length,
    driftPositions,
    width,
    seed: family.seed,
    factory: (seed = family.seed) => {
      const [mixSeed, ...conceptSeeds] = childSeeds(seed, concepts.length + 1);
      return createDriftSequence({
        seed: mixSeed!,
        concepts: concepts.map((c, i) => c.create({ seed: conceptSeeds[i]!, modelSeed: seed })),
        positions: driftPositions,
        width,
      });
    },
  };
}

const sea: Family = {
  prefix: 'sea',
  setup: 'SEA, 10% label noise',
  length: 100_000,
  seed: 1,
  concepts: ([0, 1, 2, 3] as const).map((variant: SeaVariant) => ({
    name: `theta ${SEA_THRESHOLDS[variant]}`,
    create: ({ seed }) => createSeaStream({ seed, variant, noise: 0.1 }),
  })),
  driftPositions: [25_000, 50_000, 75_000],
};

const stagger: Family = {
  prefix: 'stagger',
  setup: 'STAGGER',
  length: 60_000,
  seed: 2,
  concepts: (['small and red', 'green or circle', 'medium or large'] as const).map((rule, concept) => ({
    name: `concept ${concept + 1} (${rule})`,
    create: ({ seed }) => createStaggerStream({ seed, concept: concept as StaggerConcept }),
  })),
  driftPositions: [20_000, 40_000],
};

const agrawal: Family = {
  prefix: 'agrawal',
  setup: 'Agrawal, 5% perturbation',
  length: 100_000,
  seed: 3,
  concepts: ([0, 1, 2, 3] as const).map((classificationFunction: AgrawalFunction) => ({
    name: `F${classificationFunction + 1}`,
    create: ({ seed }) => createAgrawalStream({ seed, classificationFunction, perturbation: 0.05 }),
  })),
  driftPositions: [25_000, 50_000, 75_000],
};

// The moving hyperplane and centroids start from the stationary concept's model (shared modelSeed), so
// the drift sets in smoothly at its position instead of jumping to an unrelated concept.
const hyperplane: Family = {
  prefix: 'hyperplane',
  setup: 'Hyperplane, 10 features, 5% label noise',
  length: 100_000,
  seed: 4,
  concepts: [
    { name: 'fixed weights', create: (seeds) => createHyperplaneStream(seeds) },
    {
      name: '2 weights moving 0.001 per sample (direction reversing with probability 0.1)',
      create: (seeds) => createHyperplaneStream({ ...seeds, magChange: 0.001 }),
    },
  ],
  driftPositions: [25_000],
};

const rbf: Family = {
  prefix: 'rbf',
  setup: 'Random RBF, 10 features, 2 classes, 50 centroids',
  length: 100_000,
  seed: 5,
  concepts: [
    { name: 'fixed centroids', create: (seeds) => createRandomRbfStream(seeds) },
    {
      name: 'all centroids moving 0.0001 per sample',
      create: (seeds) => createRandomRbfStream({ ...seeds, changeSpeed: 0.0001 }),
    },
  ],
  driftPositions: [25_000],
};

export const BENCHMARK_STREAMS: readonly BenchmarkStream[] = [
  benchmark(sea, 'abrupt', 'abrupt', 1),
  benchmark(sea, 'gradual', 'gradual', 5_000),
  benchmark(sea, 'stationary', 'none', 0),
  benchmark(stagger, 'abrupt', 'abrupt', 1),
  benchmark(stagger, 'stationary', 'none', 0),
  benchmark(agrawal, 'abrupt', 'abrupt', 1),
  benchmark(agrawal, 'gradual', 'gradual', 5_000),
  benchmark(agrawal, 'stationary', 'none', 0),
  benchmark(hyperplane, 'gradual', 'incremental', 1),
  benchmark(hyperplane, 'stationary', 'none', 0),
  benchmark(rbf, 'drift', 'incremental', 1),
  benchmark(rbf, 'stationary', 'none', 0),
];

export function benchmarkStream(name: string): BenchmarkStream {
  const found = BENCHMARK_STREAMS.find((entry) => entry.name === name);
  if (!found) {
    const known = BENCHMARK_STREAMS.map((entry) => entry.name).join(', ');
    throw new Error(`unknown benchmark stream '${name}'; known: ${known}`);
  }
  return found;
}
