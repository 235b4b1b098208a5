// The cases of the autonomy benchmark: River-style generators with concept changes, tabular streams
// with upstream faults, covariate shifts, noise blips, long stationary streams, label delays and traffic
// rates. Every case is drawn from its own seed; onsets, concepts and settings come from that seed too,
// so a case is reproducible from (family, seed) alone.
import type { FeatureRow } from '../../domain.ts';
import {
  CREDIT_REFERENCE_POPULATION,
  type CreditPopulation,
  creditDefault,
  type DemoModel,
  demand,
  sampleApplicant,
} from '../../sim/demo-models.ts';
import { Random } from '../../sim/random.ts';
import { type AgrawalFunction, createAgrawalStream } from '../../sim/synthetic/agrawal.ts';
import { createDriftSequence, createSubpopulationDrift } from '../../sim/synthetic/concept-drift.ts';
import { createFriedmanStream } from '../../sim/synthetic/friedman.ts';
import { createHyperplaneStream } from '../../sim/synthetic/hyperplane.ts';
import { createLedStream } from '../../sim/synthetic/led.ts';
import { createRandomRbfStream } from '../../sim/synthetic/random-rbf.ts';
import { createSeaStream, SEA_THRESHOLDS, type SeaVariant } from '../../sim/synthetic/sea.ts';
import { createSineStream, type SineFunction } from '../../sim/synthetic/sine.ts';
import { createStaggerStream, type StaggerConcept } from '../../sim/synthetic/stagger.ts';
import { childSeeds, type Sample, type SyntheticStream, withLabelNoise } from '../../sim/synthetic/stream.ts';
import type { BenchCase, CaseChange, CaseRow } from './case.ts';
import { applyFault, FAULTS, type FaultKind } from './faults.ts';

export const CASE_DEFAULTS = {
  /** Rows that train version 1 (the user's `--train-rows`). */
  referenceRows: 2000,
  /** Rows replayed after them. */
  replayedRows: 10_000,
  /** Replayed rows of a long stationary stream. */
  longRows: 30_000,
  /** Traffic and label delay of the cases that do not vary them: drawn in these ranges. */
  rowsPerSecond: [2, 20] as const,
  labelDelaySeconds: [1, 300] as const,
  /** Rows an upstream fault lasts. */
  faultRows: [1500, 3000] as const,
};

const START = Date.parse('2025-01-01T00:00:00.000Z');

export type Set = BenchCase['set'];

interface Draw {
  rng: Random;
  seed: number;
  set: Set;
}

/** Arrival and label times: Poisson arrivals at `rate`, label delays log-normal around `delay`. */
function timeline(rng: Random, n: number, rowsPerSecond: number, labelDelaySeconds: number) {
  let t = START;
  return Array.from({ length: n }, () => {
    t += rng.exponential(rowsPerSecond) * 1000;
    const ts = Math.round(t);
    return { ts, labelTs: ts + Math.round(labelDelaySeconds * 1000 * rng.lognormal(0, 0.25)) };
  });
}

function defaultTraffic(rng: Random) {
  const [r0, r1] = CASE_DEFAULTS.rowsPerSecond;
  const [d0, d1] = CASE_DEFAULTS.labelDelaySeconds;
  // Log-uniform: as many cases at 2-6 rows a second as at 6-20.
  return {
    rowsPerSecond: Math.round(Math.exp(rng.uniform(Math.log(r0), Math.log(r1))) * 10) / 10,
    labelDelaySeconds: Math.round(Math.exp(rng.uniform(Math.log(d0), Math.log(d1)))),
  };
}

function rowsFrom(samples: Sample[], rng: Random, traffic: BenchCase['traffic']): CaseRow[] {
  const times = timeline(rng, samples.length, traffic.rowsPerSecond, traffic.labelDelaySeconds);
  return samples.map((s, i) => ({ ...times[i]!, features: { ...s.x } as FeatureRow, label: s.y }));
}

function take(stream: SyntheticStream, n: number): Sample[] {
  return Array.from({ length: n }, () => stream.next());
}

// ---- concept changes on River-style generators ---------------------------------------------------

export type DriftKind = 'abrupt' | 'gradual' | 'recurring' | 'subpopulation' | 'incremental';

interface Concepts {
  /** The concept version 1 learns, and the one that replaces it. */
  before: (seed: number) => SyntheticStream;
  after: (seed: number) => SyntheticStream;
  /** The region a sub-population change touches. */
  inSubpopulation?: (x: Sample['x']) => boolean;
  what: string;
}

interface GeneratorFamily {
  family: string;
  kinds: readonly DriftKind[];
  concepts: (rng: Random, modelSeed: number) => Concepts;
}

const distinctPair = (rng: Random, n: number): [number, number] => {
  const a = rng.int(0, n - 1);
  return [a, (a + rng.int(1, n - 1)) % n];
};

export const GENERATOR_FAMILIES: readonly GeneratorFamily[] = [
  {
    family: 'sea',
    kinds: ['abrupt', 'gradual', 'recurring', 'subpopulation'],
    concepts: (rng) => {
      const [a, b] = distinctPair(rng, 4) as [SeaVariant, SeaVariant];
      return {
        before: (seed) => createSeaStream({ seed, variant: a, noise: 0.1 }),
        after: (seed) => createSeaStream({ seed, variant: b, noise: 0.1 }),
        inSubpopulation: (x) => (x.x3 as number) < 5,
        what: `SEA variant ${a} -> ${b}, 10% label noise`,
      };
    },
  },
  {
    family: 'agrawal',
    kinds: ['abrupt', 'gradual', 'recurring', 'subpopulation'],
    concepts: (rng) => {
      const [a, b] = distinctPair(rng, 10) as [AgrawalFunction, AgrawalFunction];
      return {
        before: (seed) => createAgrawalStream({ seed, classificationFunction: a, perturbation: 0.05 }),
        after: (seed) => createAgrawalStream({ seed, classificationFunction: b, perturbation: 0.05 }),
        inSubpopulation: (x) => (x.age as number) < 40,
        what: `Agrawal F${a + 1} -> F${b + 1}, 5% perturbation`,
      };
    },
  },
  {
    family: 'hyperplane',
    kinds: ['incremental'],
    concepts: (rng, modelSeed) => {
      const magChange = [0.001, 0.003, 0.01][rng.int(0, 2)]!;
      return {
        before: (seed) => createHyperplaneStream({ seed, modelSeed }),
        after: (seed) => createHyperplaneStream({ seed, modelSeed, magChange, driftFeatures: 5 }),
        what: `rotating hyperplane, 10 features, 5 weights moving ${magChange} per sample, 5% noise`,
      };
    },
  },
  {
    family: 'rbf',
    kinds: ['incremental'],
    concepts: (rng, modelSeed) => {
      const changeSpeed = [0.0005, 0.001, 0.003][rng.int(0, 2)]!;
      return {
        before: (seed) => createRandomRbfStream({ seed, modelSeed, centroids: 20 }),
        after: (seed) => createRandomRbfStream({ seed, modelSeed, centroids: 20, changeSpeed }),
        what: `RBF, 10 features, 20 centroids moving ${changeSpeed} per sample`,
      };
    },
  },
  {
    family: 'stagger',
    kinds: ['abrupt', 'gradual', 'recurring'],
    concepts: (rng) => {
      const [a, b] = distinctPair(rng, 3) as [StaggerConcept, StaggerConcept];
      return {
        before: (seed) => createStaggerStream({ seed, concept: a }),
        after: (seed) => createStaggerStream({ seed, concept: b }),
        what: `STAGGER concept ${a + 1} -> ${b + 1}`,
      };
    },
  },
  {
    family: 'led',
    kinds: ['abrupt', 'gradual'],
    concepts: (rng, modelSeed) => {
      const driftFeatures = rng.int(3, 7);
      return {
        before: (seed) => createLedStream({ seed }),
        after: (seed) => createLedStream({ seed, driftFeatures, modelSeed }),
        what: `LED, 10% segment noise, ${driftFeatures} segments swapped with irrelevant features`,
      };
    },
  },
  {
    family: 'sine',
    kinds: ['abrupt', 'gradual', 'recurring'],
    concepts: (rng) => {
      const [a, b] = distinctPair(rng, 4) as [SineFunction, SineFunction];
      return {
        before: (seed) => createSineStream({ seed, classificationFunction: a }),
        after: (seed) => createSineStream({ seed, classificationFunction: b }),
        inSubpopulation: (x) => (x.x2 as number) < 0.5,
        what: `Sine function ${a} -> ${b}`,
      };
    },
  },
  {
    family: 'friedman',
    kinds: ['abrupt', 'gradual', 'recurring', 'subpopulation'],
    concepts: () => ({
      before: (seed) => createFriedmanStream({ seed, concept: 0 }),
      after: (seed) => createFriedmanStream({ seed, concept: 1 }),
      inSubpopulation: (x) => (x.x2 as number) < 0.5,
      what: "Friedman #1 -> FriedmanDrift's global concept (regression)",
    }),
  },
];

function generatorCase(g: GeneratorFamily, d: Draw, id: string): BenchCase {
  const { rng } = d;
  const { referenceRows, replayedRows } = CASE_DEFAULTS;
  const kind = g.kinds[rng.int(0, g.kinds.length - 1)]!;
  const c = g.concepts(rng, d.seed);
  const at = rng.int(3000, 6000);
  const [mix, s1, s2, s3] = childSeeds(d.seed, 4) as [number, number, number, number];
  const position = referenceRows + at;
  let stream: SyntheticStream;
  let change: CaseChange = { kind: 'concept', at };
  let how: string = kind;
  if (kind === 'subpopulation') {
    stream = createSubpopulationDrift({
      seed: mix,
      stream: c.before(s1),
      driftStream: c.after(s2),
      inSubpopulation: c.inSubpopulation!,
      position,
      width: 1,
    });
  } else if (kind === 'recurring') {
    const until = at + rng.int(1500, 3000);
    change = { kind: 'concept', at, until };
    how = `recurring (back at replayed row ${until})`;
    stream = createDriftSequence({
      seed: mix,
      concepts: [c.before(s1), c.after(s2), c.before(s3)],
      positions: [position, referenceRows + until],
      width: 1,
    });
  } else {
    const width = kind === 'gradual' ? rng.int(500, 2000) : 1;
    if (kind === 'gradual') how = `gradual over ${width} rows`;
    if (kind === 'incremental') change = { kind: 'concept', at, incremental: true };
    stream = createDriftSequence({
      seed: mix,
      concepts: [c.before(s1), c.after(s2)],
      positions: [position],
      width,
    });
  }
  const traffic = defaultTraffic(rng);
  return {
    id,
    family: g.family,
    set: d.set,
    seed: d.seed,
    description: `${c.what}; ${how} at replayed row ${at}`,
    referenceRows,
    rows: rowsFrom(take(stream, referenceRows + replayedRows), rng, traffic),
    schema: null,
    change,
    intent: 'repair',
    traffic,
  };
}

// ---- tabular streams: upstream faults, covariate shift, blips, stationary, delays, traffic ---------

/** Rows of a demo model (lib/sim/demo-models.ts) whose population may change at replayed row `at`. */
function tabularSamples(
  model: DemoModel,
  rng: Random,
  n: number,
  shifted?: { at: number; population: CreditPopulation },
): Sample[] {
  return Array.from({ length: n }, (_, i) => {
    const x =
      shifted && i >= CASE_DEFAULTS.referenceRows + shifted.at
        ? sampleApplicant(rng, shifted.population)
        : model.sampleRow(rng);
    return { x: x as Sample['x'], y: model.label(x, rng) as number };
  });
}

function faultCase(fault: FaultKind, d: Draw, id: string): BenchCase {
  const { rng } = d;
  const model = rng.bernoulli(0.5) ? creditDefault : demand;
  const withSchema = rng.bernoulli(0.5);
  const { referenceRows, replayedRows } = CASE_DEFAULTS;
  const at = rng.int(2000, 5000);
  const until = at + rng.int(...CASE_DEFAULTS.faultRows);
  const traffic = defaultTraffic(rng);
  const rows = rowsFrom(tabularSamples(model, rng, referenceRows + replayedRows), rng, traffic);
  const what = applyFault(fault, model.name, rows.slice(referenceRows + at, referenceRows + until), rng);
  return {
    id,
    family: `fault-${fault}`,
    set: d.set,
    seed: d.seed,
    description: `${model.name}: ${what} in replayed rows [${at}, ${until}), ${withSchema ? 'with' : 'without'} a schema`,
    referenceRows,
    rows,
    schema: withSchema ? model.schema : null,
    change: { kind: 'fault', at, until },
    intent: 'protect',
    traffic,
  };
}

/**
 * Covariate shift on the credit applicants. With impact: credit lines fill up past the 90 % where the
 * scorecard's risk jumps, which a logistic regression fitted on the old population cannot see. Without:
 * applicants come through other channels, a feature the model does use correctly.
 */
function covariateCase(impact: boolean, d: Draw, id: string): BenchCase {
  const { rng } = d;
  const at = rng.int(3000, 6000);
  const population: CreditPopulation = impact
    ? { ...CREDIT_REFERENCE_POPULATION, utilizationShift: rng.uniform(1.5, 2.5), ageMean: 34 }
    : { ...CREDIT_REFERENCE_POPULATION, channelWeights: [0.1, 0.2, 0.3, 0.4] };
  const traffic = defaultTraffic(rng);
  const n = CASE_DEFAULTS.referenceRows + CASE_DEFAULTS.replayedRows;
  return {
    id,
    family: impact ? 'covariate-shift-impact' : 'covariate-shift-no-impact',
    set: d.set,
    seed: d.seed,
    description: impact
      ? `credit: credit utilisation shifted by ${population.utilizationShift.toFixed(2)} on the logit, younger applicants, at replayed row ${at}`
      : `credit: channel mix 25/35/30/10 % -> 10/20/30/40 % at replayed row ${at}`,
    referenceRows: CASE_DEFAULTS.referenceRows,
    rows: rowsFrom(tabularSamples(creditDefault, rng, n, { at, population }), rng, traffic),
    schema: null,
    change: { kind: 'covariate', at },
    intent: impact ? 'repair' : 'quiet',
    traffic,
  };
}

/** A short burst of wrong labels (a labelling job that misfired for a moment), then normal again. */
function blipCase(d: Draw, id: string): BenchCase {
  const { rng } = d;
  const at = rng.int(2000, 8000);
  const until = at + rng.int(50, 200);
  const flip = rng.uniform(0.3, 0.5);
  const traffic = defaultTraffic(rng);
  const n = CASE_DEFAULTS.referenceRows + CASE_DEFAULTS.replayedRows;
  const rows = rowsFrom(tabularSamples(creditDefault, rng, n), rng, traffic);
  for (let i = at; i < until; i++) {
    const row = rows[CASE_DEFAULTS.referenceRows + i]!;
    if (rng.bernoulli(flip)) row.label = row.label === 1 ? 0 : 1;
  }
  return {
    id,
    family: 'noise-blip',
    set: d.set,
    seed: d.seed,
    description: `credit: ${Math.round(flip * 100)} % of labels flipped in replayed rows [${at}, ${until})`,
    referenceRows: CASE_DEFAULTS.referenceRows,
    rows,
    schema: null,
    change: { kind: 'blip', at, until },
    intent: 'quiet',
    traffic,
  };
}

function stationaryCase(d: Draw, id: string): BenchCase {
  const { rng } = d;
  const model = rng.bernoulli(0.5) ? creditDefault : demand;
  const traffic = defaultTraffic(rng);
  const n = CASE_DEFAULTS.referenceRows + CASE_DEFAULTS.longRows;
  return {
    id,
    family: 'stationary-long',
    set: d.set,
    seed: d.seed,
    description: `${model.name}: ${CASE_DEFAULTS.longRows} stationary rows`,
    referenceRows: CASE_DEFAULTS.referenceRows,
    rows: rowsFrom(tabularSamples(model, rng, n), rng, traffic),
    schema: null,
    change: { kind: 'none' },
    intent: 'quiet',
    traffic,
  };
}

/** SEA with an abrupt change, at a label delay or traffic rate drawn from a wide range. */
function timingCase(vary: 'label-delay' | 'traffic', d: Draw, id: string): BenchCase {
  const { rng } = d;
  const base = defaultTraffic(rng);
  const traffic =
    vary === 'label-delay'
      ? { ...base, labelDelaySeconds: [2, 60, 900, 3600, 4 * 3600][rng.int(0, 4)]! }
      : { ...base, rowsPerSecond: [1 / 60, 0.2, 1, 100, 1000][rng.int(0, 4)]! };
  const [a, b] = distinctPair(rng, 4) as [SeaVariant, SeaVariant];
  const at = rng.int(3000, 6000);
  const [mix, s1, s2] = childSeeds(d.seed, 3) as [number, number, number];
  const stream = createDriftSequence({
    seed: mix,
    concepts: [
      createSeaStream({ seed: s1, variant: a, noise: 0.1 }),
      createSeaStream({ seed: s2, variant: b, noise: 0.1 }),
    ],
    positions: [CASE_DEFAULTS.referenceRows + at],
    width: 1,
  });
  const rate =
    traffic.rowsPerSecond < 1
      ? `one row every ${Math.round(1 / traffic.rowsPerSecond)} s`
      : `${traffic.rowsPerSecond} rows/s`;
  return {
    id,
    family: vary,
    set: d.set,
    seed: d.seed,
    description: `SEA variant ${a} -> ${b} abrupt at replayed row ${at}; ${rate}, labels after ${traffic.labelDelaySeconds} s`,
    referenceRows: CASE_DEFAULTS.referenceRows,
    rows: rowsFrom(take(stream, CASE_DEFAULTS.referenceRows + CASE_DEFAULTS.replayedRows), rng, traffic),
    schema: null,
    change: { kind: 'concept', at },
    intent: 'repair',
    traffic,
  };
}

// ---- segments: a change in one segment, in the whole population, none among many segments ----------

export const SEGMENT_CASES = {
  /** Regions of a case with a change (one of them may change alone), and of a stationary one. */
  regions: [3, 8] as const,
  stationaryRegions: [8, 20] as const,
  /** How far the decision boundary moves (x1 + x2 > theta), either way. */
  boundaryShift: [1, 3] as const,
  noise: 0.1,
};

export type SegmentChange = 'one-segment' | 'whole-population' | 'none';

/**
 * SEA's features (x1, x2, x3 uniform in [0, 10], class 1 when x1 + x2 > theta, 10 % label noise) and a
 * `region` the label does not depend on, with unequal shares; the model's segments are its regions
 * (`{ "by": "region" }`). From replayed row `at`, the boundary theta moves by 1-3 in one region
 * (`one-segment`) or in all (`whole-population`); a logistic regression can learn either (the region's
 * one-hot column moves its boundary), so a refit repairs both. `none`: nothing changes, among 8-20 regions.
 */
export function segmentCase(change: SegmentChange, d: Draw, id: string): BenchCase {
  const { rng } = d;
  const [r0, r1] = change === 'none' ? SEGMENT_CASES.stationaryRegions : SEGMENT_CASES.regions;
  const regions = Array.from({ length: rng.int(r0, r1) }, (_, i) => `r${i + 1}`);
  // Shares 1 : 3 at most between two regions, so that every region has rows in every window.
  const weights = regions.map(() => rng.uniform(1, 3));
  const total = weights.reduce((a, b) => a + b, 0);
  const theta = SEA_THRESHOLDS[rng.int(0, SEA_THRESHOLDS.length - 1)]!;
  const [s0, s1] = SEGMENT_CASES.boundaryShift;
  const shifted = theta + (rng.bernoulli(0.5) ? 1 : -1) * rng.uniform(s0, s1);
  const changed = change === 'one-segment' ? regions[rng.int(0, regions.length - 1)]! : null;
  const at = rng.int(3000, 6000);
  const { referenceRows } = CASE_DEFAULTS;
  const replayed = change === 'none' ? CASE_DEFAULTS.longRows : CASE_DEFAULTS.replayedRows;
  const samples: Sample[] = Array.from({ length: referenceRows + replayed }, (_, i) => {
    let u = rng.uniform(0, total);
    let k = 0;
    while (u >= weights[k]! && k < regions.length - 1) u -= weights[k++]!;
    const region = regions[k]!;
    const x = { x1: rng.uniform(0, 10), x2: rng.uniform(0, 10), x3: rng.uniform(0, 10), region };
    const moved = change !== 'none' && i >= referenceRows + at && (changed === null || region === changed);
    const y = x.x1 + x.x2 > (moved ? shifted : theta) ? 1 : 0;
    return { x, y: withLabelNoise(rng, y, SEGMENT_CASES.noise) };
  });
  const traffic = defaultTraffic(rng);
  const boundary = `x1 + x2 > ${theta} -> ${shifted.toFixed(2)}`;
  const what =
    change === 'none'
      ? `${replayed} stationary rows`
      : `${boundary} ${changed ? `in region ${changed} (${Math.round((weights[regions.indexOf(changed)]! / total) * 100)} % of rows)` : 'in every region'} at replayed row ${at}`;
  return {
    id,
    family: `segment-${change === 'none' ? 'stationary' : change}`,
    set: d.set,
    seed: d.seed,
    description: `SEA with ${regions.length} regions as segments: ${what}`,
    referenceRows,
    rows: rowsFrom(samples, rng, traffic),
    schema: [
      ...(['x1', 'x2', 'x3'] as const).map((name) => ({ name, type: 'numeric' as const, nullable: false })),
      { name: 'region', type: 'categorical', categories: regions, nullable: false },
    ],
    change:
      change === 'none'
        ? { kind: 'none' }
        : { kind: 'concept', at, ...(changed ? { segment: `region=${changed}` } : {}) },
    segments: [{ by: 'region' }],
    intent: change === 'none' ? 'quiet' : changed ? 'protect' : 'repair',
    traffic,
  };
}

type Maker = { family: string; make: (d: Draw, id: string) => BenchCase };

const FIRST_MAKERS: readonly Maker[] = [
  ...GENERATOR_FAMILIES.map((g) => ({
    family: g.family,
    make: (d: Draw, id: string) => generatorCase(g, d, id),
  })),
  ...FAULTS.map((f) => ({ family: `fault-${f}`, make: (d: Draw, id: string) => faultCase(f, d, id) })),
  { family: 'covariate-shift-impact', make: (d, id) => covariateCase(true, d, id) },
  { family: 'covariate-shift-no-impact', make: (d, id) => covariateCase(false, d, id) },
  { family: 'noise-blip', make: blipCase },
  { family: 'stationary-long', make: stationaryCase },
  { family: 'label-delay', make: (d, id) => timingCase('label-delay', d, id) },
  { family: 'traffic', make: (d, id) => timingCase('traffic', d, id) },
];

const SEGMENT_MAKERS: readonly Maker[] = (['one-segment', 'whole-population', 'none'] as const).map(
  (change) => ({
    family: `segment-${change === 'none' ? 'stationary' : change}`,
    make: (d: Draw, id: string) => segmentCase(change, d, id),
  }),
);

/**
 * The families in the groups they were added in. A group's seeds come from its own draw of the master
 * seed, so adding a group leaves every case of the earlier ones as it was.
 */
const CASE_GROUPS: readonly (readonly Maker[])[] = [FIRST_MAKERS, SEGMENT_MAKERS];

export const CASE_MAKERS: readonly Maker[] = CASE_GROUPS.flat();

/**
 * The seeds of a set: drawn from the set's own master seed, so the development and held-out seeds are
 * disjoint sets that nobody picks by hand. (Tune on development; held-out seeds are for the report.)
 */
export const MASTER_SEEDS: Record<Set, number> = { development: 20_261_204, 'held-out': 77_031_917 };

export function caseSeeds(set: Set, count: number, group = 0): number[] {
  // Group 0 draws from the master seed itself; a later group from a scrambled one.
  const rng = new Random(
    group === 0 ? MASTER_SEEDS[set] : (MASTER_SEEDS[set] ^ Math.imul(group, 0x9e3779b9)) >>> 0,
  );
  return Array.from({ length: count }, () => rng.int(1, 0x7fffffff));
}

/** Case specifications: one per family and seed; a case's stream is generated when it runs. */
export function planCases(set: Set, rounds: number, families?: readonly string[]) {
  const plan: { id: string; family: string; set: Set; seed: number; build: () => BenchCase }[] = [];
  const seeds = CASE_GROUPS.map((g, k) => caseSeeds(set, rounds * g.length, k));
  for (let round = 0; round < rounds; round++) {
    CASE_GROUPS.forEach((group, k) => {
      group.forEach((m, slot) => {
        if (families && !families.includes(m.family)) return;
        const seed = seeds[k]![round * group.length + slot]!;
        const id = `${set === 'held-out' ? 'h' : 'd'}-${m.family}-${round + 1}`;
        plan.push({
          id,
          family: m.family,
          set,
          seed,
          build: () => m.make({ rng: new Random(seed), seed, set }, id),
        });
      });
    });
  }
  return plan;
}
