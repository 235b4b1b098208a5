import { describe, expect, it } from 'vitest';
import {
  AGRAWAL_FUNCTIONS,
  type AgrawalFeatures,
  type AgrawalFunction,
  agrawalLabel,
  createAgrawalStream,
} from '../../lib/sim/synthetic/agrawal.ts';
import { BENCHMARK_STREAMS, benchmarkStream } from '../../lib/sim/synthetic/catalogue.ts';
import {
  createConceptDriftStream,
  createDriftSequence,
  driftProbability,
} from '../../lib/sim/synthetic/concept-drift.ts';
import { createHyperplaneStream } from '../../lib/sim/synthetic/hyperplane.ts';
import { createRandomRbfStream } from '../../lib/sim/synthetic/random-rbf.ts';
import {
  createSeaStream,
  SEA_THRESHOLDS,
  type SeaFeatures,
  type SeaVariant,
  seaLabel,
} from '../../lib/sim/synthetic/sea.ts';
import {
  createStaggerStream,
  STAGGER_COLORS,
  STAGGER_SHAPES,
  STAGGER_SIZES,
  type StaggerConcept,
  type StaggerFeatures,
  staggerLabel,
} from '../../lib/sim/synthetic/stagger.ts';
import { type Features, type Sample, type SyntheticStream, take } from '../../lib/sim/synthetic/stream.ts';
import { binomialBound } from '../helpers/bounds.ts';

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

const constant = (y: string): SyntheticStream => ({ next: () => ({ x: {}, y }) });

/** Labels of samples first..last (1-based, inclusive) of a stream. */
function labelsBetween(stream: SyntheticStream, first: number, last: number): (number | string)[] {
  take(stream, first - 1);
  return take(stream, last - first + 1).map((s) => s.y);
}

describe('determinism', () => {
  it.each(BENCHMARK_STREAMS.map((b) => [b.name, b] as const))(
    '%s repeats with its seed, not with another',
    (_, b) => {
      const first = take(b.factory(), 300);
      expect(take(b.factory(), 300)).toEqual(first);
      expect(take(b.factory(b.seed + 1), 300)).not.toEqual(first);
    },
  );

  it('the generators repeat with their seed', () => {
    const makers: ((seed: number) => SyntheticStream)[] = [
      (seed) => createSeaStream({ seed, noise: 0.1 }),
      (seed) => createStaggerStream({ seed }),
      (seed) => createAgrawalStream({ seed, perturbation: 0.05 }),
      (seed) => createHyperplaneStream({ seed, magChange: 0.01 }),
      (seed) => createRandomRbfStream({ seed, changeSpeed: 0.01 }),
    ];
    for (const make of makers) {
      expect(take(make(7), 200)).toEqual(take(make(7), 200));
      expect(take(make(7), 200)).not.toEqual(take(make(8), 200));
    }
  });
});

describe('SEA', () => {
  it.each([0, 1, 2, 3] as const)('variant %i labels class 0 exactly when x1 + x2 <= its theta', (variant) => {
    const theta = SEA_THRESHOLDS[variant];
    const wrong = take(createSeaStream({ seed: variant, variant }), 5_000).filter(
      ({ x, y }) =>
        y !== (x.x1 + x.x2 <= theta ? 0 : 1) || ![x.x1, x.x2, x.x3].every((v) => v >= 0 && v < 10),
    );
    expect(wrong).toEqual([]);
  });

  it('uses the thresholds of Street & Kim', () => {
    expect(SEA_THRESHOLDS).toEqual([8, 9, 7, 9.5]);
  });

  it('flips labels at the requested noise rate', () => {
    const n = 20_000;
    const noise = 0.2;
    const samples = take(createSeaStream({ seed: 3, variant: 1, noise }), n);
    const flipped = samples.filter(({ x, y }) => y !== seaLabel(x, 1)).length / n;
    expect(Math.abs(flipped - noise)).toBeLessThan(binomialBound(noise, n));
  });

  it('draws the same features whatever the noise level', () => {
    const xs = (noise: number) => take(createSeaStream({ seed: 5, noise }), 100).map((s) => s.x);
    expect(xs(0.3)).toEqual(xs(0));
  });

  it('rejects an unknown variant and a noise outside [0, 1]', () => {
    expect(() => createSeaStream({ seed: 1, variant: 4 as SeaVariant })).toThrow(RangeError);
    expect(() => createSeaStream({ seed: 1, noise: 1.5 })).toThrow(RangeError);
  });
});

describe('STAGGER', () => {
  const all: StaggerFeatures[] = STAGGER_SIZES.flatMap((size) =>
    STAGGER_COLORS.flatMap((color) => STAGGER_SHAPES.map((shape) => ({ size, color, shape }))),
  );
  const positives = (concept: StaggerConcept) => all.filter((x) => staggerLabel(x, concept) === 1);

  it('concept 1 is "size small and color red"', () => {
    expect(positives(0)).toEqual(all.filter((x) => x.size === 'small' && x.color === 'red'));
    expect(positives(0)).toHaveLength(3);
  });

  it('concept 2 is "color green or shape circle"', () => {
    expect(positives(1)).toEqual(all.filter((x) => x.color === 'green' || x.shape === 'circle'));
    expect(positives(1)).toHaveLength(15);
  });

  it('concept 3 is "size medium or large"', () => {
    expect(positives(2)).toEqual(all.filter((x) => x.size !== 'small'));
    expect(positives(2)).toHaveLength(18);
  });

  it('draws each attribute value uniformly and labels by the chosen concept', () => {
    const n = 18_000;
    const samples = take(createStaggerStream({ seed: 9, concept: 1 }), n);
    expect(samples.filter(({ x, y }) => y !== staggerLabel(x, 1))).toEqual([]);
    for (const size of STAGGER_SIZES) {
      const share = samples.filter((s) => s.x.size === size).length / n;
      expect(Math.abs(share - 1 / 3)).toBeLessThan(binomialBound(1 / 3, n));
    }
    expect(Math.abs(mean(samples.map((s) => s.y)) - 15 / 27)).toBeLessThan(binomialBound(15 / 27, n));
  });
});

describe('Agrawal', () => {
  /** [min, max, integer?] per feature; commission and hvalue have ranges that depend on other features. */
  const ranges: [keyof AgrawalFeatures, number, number, boolean][] = [
    ['salary', 20e3, 150e3, false],
    ['age', 20, 80, true],
    ['elevel', 0, 4, true],
    ['car', 1, 20, true],
    ['zipcode', 0, 8, true],
    ['hyears', 1, 30, true],
    ['loan', 0, 500e3, false],
  ];

  /** The features of x outside their range, with their values. */
  function outOfRange(x: AgrawalFeatures): string[] {
    const bad = ranges
      .filter(
        ([k, min, max, integer]) => !(x[k] >= min && x[k] <= max && (!integer || Number.isInteger(x[k]))),
      )
      .map(([k]) => k);
    const house = (9 - x.zipcode) * 100e3;
    if (!(x.hvalue >= 0.5 * house && x.hvalue <= 1.5 * house)) bad.push('hvalue');
    if (x.commission !== 0 && !(x.commission >= 10e3 && x.commission <= 75e3)) bad.push('commission');
    return bad.map((k) => `${k}=${x[k]}`);
  }

  it('draws the nine features in the ranges of the definition', () => {
    const samples = take(createAgrawalStream({ seed: 11 }), 20_000).map((s) => s.x);
    expect(samples.flatMap(outOfRange)).toEqual([]);
    // Commission is paid exactly to those earning under 75k.
    expect(samples.filter((x) => (x.commission === 0) !== x.salary >= 75e3)).toEqual([]);
    // Every value of the discrete features occurs: the ranges are not only respected but covered.
    const distinct = (key: keyof AgrawalFeatures) => new Set(samples.map((x) => x[key])).size;
    expect([
      distinct('age'),
      distinct('elevel'),
      distinct('car'),
      distinct('zipcode'),
      distinct('hyears'),
    ]).toEqual([61, 5, 20, 9, 30]);
  });

  // Share of class 1 (group B) under each function for the unperturbed MOA definition. F1-F3 in closed
  // form (61 equally likely ages, 20 under 40 and 21 over 59; each salary band is 50k of the 130k range;
  // elevel uniform over 5). F4-F10 from a 4-million-sample Monte Carlo of an independent NumPy
  // re-implementation of MOA's AgrawalGenerator; F8 and F10 put almost every sample in group A.
  const classOneShare = [
    20 / 61,
    1 - 50 / 130,
    1 - (20 * (2 / 5) + 20 * (3 / 5) + 21 * (3 / 5)) / 61,
    0.6156,
    0.6,
    0.5995,
    0.5135,
    0.02,
    0.5134,
    0.0022,
  ];

  it.each(classOneShare.map((share, f) => [f + 1, f as AgrawalFunction, share] as const))(
    'F%i has the reference class balance',
    (_, classificationFunction, share) => {
      const n = 20_000;
      const samples = take(
        createAgrawalStream({ seed: 100 + classificationFunction, classificationFunction }),
        n,
      );
      expect(samples.filter(({ x, y }) => y !== agrawalLabel(x, classificationFunction))).toEqual([]);
      expect(Math.abs(mean(samples.map((s) => s.y)) - share)).toBeLessThan(
        Math.max(binomialBound(share, n), 0.002),
      );
    },
  );

  it('follows the definitions on hand-checked cases', () => {
    const base: AgrawalFeatures = {
      salary: 60e3,
      commission: 20e3,
      age: 30,
      elevel: 1,
      car: 1,
      zipcode: 0,
      hvalue: 900e3,
      hyears: 25,
      loan: 250e3,
    };
    const group = (fn: AgrawalFunction, change: Partial<AgrawalFeatures> = {}) =>
      agrawalLabel({ ...base, ...change }, fn) === 0 ? 'A' : 'B';
    expect([group(0), group(0, { age: 50 }), group(0, { age: 60 })]).toEqual(['A', 'B', 'A']);
    expect([group(1), group(1, { age: 45 })]).toEqual(['A', 'B']);
    // F5 conditions on the loan in every branch (River's port tests the salary in two of them).
    expect([group(4), group(4, { loan: 350e3 }), group(4, { salary: 30e3, loan: 350e3 })]).toEqual([
      'A',
      'B',
      'A',
    ]);
    // F10: equity = 900k * (25 - 20) / 10 = 450k adds 90k to the disposable income.
    expect([
      group(9, { salary: 20e3, commission: 0 }),
      group(9, { salary: 20e3, commission: 0, hyears: 19 }),
    ]).toEqual(['A', 'B']);
  });

  it('perturbation keeps features in range and makes the label only roughly follow them', () => {
    const samples = take(
      createAgrawalStream({ seed: 12, classificationFunction: 1, perturbation: 0.05 }),
      20_000,
    );
    expect(samples.flatMap((s) => outOfRange(s.x))).toEqual([]);
    const disagreement = mean(samples.map(({ x, y }) => (agrawalLabel(x, 1) === y ? 0 : 1)));
    expect(disagreement).toBeGreaterThan(0.01);
    expect(disagreement).toBeLessThan(0.1);
  });

  it('has the ten functions', () => {
    expect(AGRAWAL_FUNCTIONS).toHaveLength(10);
  });
});

describe('rotating hyperplane', () => {
  it.each([0, 0.001])('labels are balanced with magChange %d', (magChange) => {
    const n = 20_000;
    const share = mean(take(createHyperplaneStream({ seed: 21, magChange, noise: 0 }), n).map((s) => s.y));
    expect(Math.abs(share - 0.5)).toBeLessThan(binomialBound(0.5, n));
  });

  it('flips labels at the requested noise rate', () => {
    const n = 20_000;
    const clean = take(createHyperplaneStream({ seed: 22, noise: 0 }), n);
    const noisy = take(createHyperplaneStream({ seed: 22, noise: 0.1 }), n);
    const flipped = mean(clean.map((s, i) => (s.y === noisy[i]!.y ? 0 : 1)));
    expect(Math.abs(flipped - 0.1)).toBeLessThan(binomialBound(0.1, n));
  });

  it('rotates: the labels drift away from those of the fixed starting hyperplane', () => {
    // Same seeds draw the same features from the same starting weights, so only the rotation differs.
    const fixed = take(createHyperplaneStream({ seed: 4, noise: 0 }), 75_000);
    const rotating = take(createHyperplaneStream({ seed: 4, noise: 0, magChange: 0.001 }), 75_000);
    const disagreement = (from: number, to: number) =>
      mean(fixed.slice(from, to).map((s, i) => (s.y === rotating[from + i]!.y ? 0 : 1)));
    expect(disagreement(0, 1_000)).toBeLessThan(0.02);
    expect(disagreement(65_000, 75_000)).toBeGreaterThan(0.1);
  });
});

describe('random RBF', () => {
  /** Accuracy of a 1-nearest-neighbour model fitted on `train` over `test`. */
  function nearestNeighbourAccuracy(train: Sample[], test: Sample[]): number {
    const vector = (s: Sample) => Object.values(s.x) as number[];
    const points = train.map(vector);
    return mean(
      test.map((s) => {
        const v = vector(s);
        let best = 0;
        let bestDistance = Number.POSITIVE_INFINITY;
        points.forEach((p, i) => {
          const d = p.reduce((acc, pi, j) => acc + (pi - v[j]!) ** 2, 0);
          if (d < bestDistance) [best, bestDistance] = [i, d];
        });
        return train[best]!.y === s.y ? 1 : 0;
      }),
    );
  }

  it('draws every class, with all the features', () => {
    const samples = take(createRandomRbfStream({ seed: 31, classes: 4 }), 5_000);
    expect(new Set(samples.map((s) => s.y))).toEqual(new Set([0, 1, 2, 3]));
    expect(samples.filter(({ x }) => Object.keys(x).length !== 10)).toEqual([]);
  });

  it('moving centroids change the concept, fixed ones do not', () => {
    const train = take(createRandomRbfStream({ seed: 32, modelSeed: 5 }), 2_000);
    const later = (changeSpeed: number) => {
      const stream = createRandomRbfStream({ seed: 33, modelSeed: 5, changeSpeed });
      take(stream, 20_000);
      return take(stream, 500);
    };
    expect(nearestNeighbourAccuracy(train, later(0))).toBeGreaterThan(0.85);
    expect(nearestNeighbourAccuracy(train, later(0.0001))).toBeLessThan(0.7);
  });
});

describe('concept drift stream', () => {
  it('draws only from the first concept before position - 3 width, only from the second after + 3 width', () => {
    const position = 5_000;
    const width = 200;
    const mixed = () =>
      createConceptDriftStream({
        seed: 1,
        stream: constant('A'),
        driftStream: constant('B'),
        position,
        width,
      });
    expect(new Set(labelsBetween(mixed(), 1, position - 3 * width))).toEqual(new Set(['A']));
    expect(new Set(labelsBetween(mixed(), position + 3 * width, 10_000))).toEqual(new Set(['B']));
  });

  it('draws about half from each concept at the position', () => {
    const position = 30_000;
    const width = 20_000;
    const stream = createConceptDriftStream({
      seed: 2,
      stream: constant('A'),
      driftStream: constant('B'),
      position,
      width,
    });
    const around = labelsBetween(stream, position - 500, position + 500);
    const shareB = around.filter((y) => y === 'B').length / around.length;
    expect(Math.abs(shareB - 0.5)).toBeLessThan(binomialBound(0.5, around.length));
    expect(driftProbability(position, position, width)).toBe(0.5);
  });

  it('with width 1 switches within a few samples of the position', () => {
    const stream = createConceptDriftStream({
      seed: 3,
      stream: constant('A'),
      driftStream: constant('B'),
      position: 100,
      width: 1,
    });
    const labels = take(stream, 200).map((s) => s.y);
    expect(new Set(labels.slice(0, 95))).toEqual(new Set(['A']));
    expect(new Set(labels.slice(105))).toEqual(new Set(['B']));
  });

  it('nests for several drifts at absolute positions', () => {
    const sequence = (width: number, seed: number) =>
      createDriftSequence({
        seed,
        concepts: [constant('A'), constant('B'), constant('C')],
        positions: [3_000, 6_000],
        width,
      });
    const labels = take(sequence(100, 4), 8_000).map((s) => s.y);
    expect(new Set(labels.slice(0, 2_700))).toEqual(new Set(['A']));
    expect(new Set(labels.slice(3_300, 5_700))).toEqual(new Set(['B']));
    expect(new Set(labels.slice(6_300))).toEqual(new Set(['C']));
    // A sigmoid centred at p contributes T - p samples up to T >> p, so the gradual second drift is
    // centred at 6000 when about 4000 of the first 10000 samples are Cs.
    const gradual = take(sequence(1_000, 5), 10_000).filter((s) => s.y === 'C').length;
    expect(Math.abs(gradual - 4_000)).toBeLessThan(150);
  });

  it('rejects a width below 1 and positions that do not match the concepts', () => {
    const two = { seed: 1, stream: constant('A'), driftStream: constant('B'), position: 10 };
    expect(() => createConceptDriftStream({ ...two, width: 0 })).toThrow(RangeError);
    const concepts = [constant('A'), constant('B')];
    expect(() => createDriftSequence({ seed: 1, concepts, positions: [], width: 1 })).toThrow(RangeError);
    expect(() =>
      createDriftSequence({ seed: 1, concepts: [...concepts, constant('C')], positions: [20, 10], width: 1 }),
    ).toThrow(RangeError);
  });
});

describe('a drift changes the concept', () => {
  /** The threshold on x1 + x2 with the fewest training errors: a one-parameter SEA classifier. */
  function fitThreshold(samples: { x: SeaFeatures; y: number | string }[]): number {
    const sorted = samples.map((s) => ({ sum: s.x.x1 + s.x.x2, y: s.y })).sort((a, b) => a.sum - b.sum);
    // Errors of "class 0 up to sorted[i]": class-1 samples at or below it plus class-0 samples above it.
    let errors = sorted.filter((s) => s.y === 0).length;
    let best = { errors, threshold: 0 };
    for (const s of sorted) {
      errors += s.y === 0 ? -1 : 1;
      if (errors < best.errors) best = { errors, threshold: s.sum };
    }
    return best.threshold;
  }

  const accuracy = (samples: { x: SeaFeatures; y: number | string }[], threshold: number) =>
    mean(samples.map((s) => ((s.x.x1 + s.x.x2 <= threshold ? 0 : 1) === s.y ? 1 : 0)));

  it('on sea-abrupt, a classifier fitted before each drift loses accuracy after it; on sea-stationary not', () => {
    const drifting = take(benchmarkStream('sea-abrupt').factory(), 100_000) as {
      x: SeaFeatures;
      y: number;
    }[];
    const stationary = take(benchmarkStream('sea-stationary').factory(), 100_000) as {
      x: SeaFeatures;
      y: number;
    }[];
    benchmarkStream('sea-abrupt').driftPositions.forEach((position, i) => {
      for (const [samples, drifts] of [
        [drifting, true],
        [stationary, false],
      ] as const) {
        const threshold = fitThreshold(samples.slice(position - 20_000, position - 5_000));
        const before = accuracy(samples.slice(position - 5_000, position - 10), threshold);
        const after = accuracy(samples.slice(position + 10, position + 5_000), threshold);
        // Street & Kim's 10% noise caps accuracy at 0.9.
        expect(before).toBeGreaterThan(0.88);
        if (drifts) {
          expect(threshold).toBeCloseTo(SEA_THRESHOLDS[i as SeaVariant], 0);
          expect(before - after).toBeGreaterThan(0.05);
        } else {
          expect(Math.abs(before - after)).toBeLessThan(0.02);
        }
      }
    });
  });

  /** The share of a segment after each drift labelled as its own concept and as the previous one says. */
  function segmentAgreement<X extends Features>(name: string, labels: readonly ((x: X) => number)[]) {
    const b = benchmarkStream(name);
    const samples = take(b.factory(), b.length) as Sample<X>[];
    const agreement = (segment: Sample<X>[], label: (x: X) => number) =>
      mean(segment.map((s) => (label(s.x) === s.y ? 1 : 0)));
    return b.driftPositions.map((position, i) => {
      const segment = samples.slice(position + 10, position + 5_000);
      return { own: agreement(segment, labels[i + 1]!), previous: agreement(segment, labels[i]!) };
    });
  }

  it('on stagger-abrupt, each segment follows its own concept and not the previous one', () => {
    const labels = ([0, 1, 2] as const).map((c) => (x: StaggerFeatures) => staggerLabel(x, c));
    for (const { own, previous } of segmentAgreement('stagger-abrupt', labels)) {
      expect(own).toBe(1);
      expect(previous).toBeLessThan(0.6);
    }
  });

  it('on agrawal-abrupt, each segment follows its own function and not the previous one', () => {
    const labels = ([0, 1, 2, 3] as const).map((f) => (x: AgrawalFeatures) => agrawalLabel(x, f));
    for (const { own, previous } of segmentAgreement('agrawal-abrupt', labels)) {
      // 5% perturbation moves some samples across the function's boundaries.
      expect(own).toBeGreaterThan(0.9);
      expect(previous).toBeLessThan(0.6);
    }
  });
});

describe('catalogue', () => {
  it('lists the benchmark streams with consistent drift metadata', () => {
    const names = BENCHMARK_STREAMS.map((b) => b.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of [
      'sea-abrupt',
      'sea-gradual',
      'stagger-abrupt',
      'agrawal-abrupt',
      'agrawal-gradual',
      'hyperplane-gradual',
      'rbf-drift',
    ]) {
      expect(names).toContain(name);
      const twin = benchmarkStream(`${name.split('-')[0]}-stationary`);
      expect(twin.kind).toBe('none');
      expect(twin.seed).toBe(benchmarkStream(name).seed);
    }
    for (const b of BENCHMARK_STREAMS) {
      expect(b.length).toBeLessThanOrEqual(100_000);
      expect(b.description.length).toBeGreaterThan(0);
      expect([...b.driftPositions].sort((p, q) => p - q)).toEqual(b.driftPositions);
      for (const p of b.driftPositions) expect(p > 0 && p < b.length).toBe(true);
      if (b.kind === 'gradual') expect(b.width).toBeGreaterThan(1);
      else expect(b.width).toBe(b.kind === 'none' ? 0 : 1);
      expect(b.driftPositions.length === 0).toBe(b.kind === 'none');
    }
  });

  it('a stationary twin matches its drifting stream sample for sample until the first change', () => {
    for (const b of BENCHMARK_STREAMS.filter((entry) => entry.kind !== 'none')) {
      const twin = benchmarkStream(`${b.name.split('-')[0]}-stationary`);
      const until = b.driftPositions[0]! - 3 * b.width;
      const twinSamples = take(twin.factory(), until);
      const firstDifference = take(b.factory(), until).findIndex(
        (s, i) => JSON.stringify(s) !== JSON.stringify(twinSamples[i]),
      );
      expect(firstDifference, b.name).toBe(-1);
    }
  });

  it('names the known streams when asked for an unknown one', () => {
    expect(() => benchmarkStream('sea-sudden')).toThrow(/sea-abrupt/);
  });
});
