// lib/stats against SciPy/NumPy reference values (te../fixtures/scipy-reference.json, produced by
// scripts/reference/scipy_reference.py), plus properties and a calibration check that do not need SciPy.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Random } from '../../lib/sim/random.ts';
import { logGamma } from '../../lib/stats/distributions.ts';
import {
  benjaminiHochberg,
  bonferroni,
  chiSquareHomogeneity,
  chiSquareSf,
  histogram,
  jensenShannonDistance,
  KS_EXACT_MAX_WORK,
  ksStatistic,
  ksTwoSample,
  mannWhitneyU,
  mean,
  median,
  medianAbsoluteDeviation,
  normalQuantile,
  normalSf,
  poissonAtLeast,
  psi,
  psiFromCounts,
  quantile,
  quantileBinEdges,
  quantiles,
  type SampleSums,
  standardDeviation,
  studentTSf,
  twoProportionZTest,
  variance,
  type WelchAlternative,
  wasserstein,
  welchTTest,
  welchTTestFromSums,
} from '../../lib/stats/index.ts';
import { kolmogorovSmirnovSf } from '../../lib/stats/kolmogorov.ts';

// Tolerances, as relative error |actual - expected| / |expected| (an absolute floor only where stated).
// Same formula, different summation order (NumPy sums pairwise): a few ulps per operation.
const ARITHMETIC = 1e-12;
// Quantiles and edges use NumPy's exact interpolation formula and must agree to the last bit.
const BIT_EXACT = 0;
// Tail probabilities: our incomplete gamma/beta (Lanczos lnΓ, Lentz continued fractions) against SciPy's
// Cephes routines. The error grows with the arguments because lnΓ(a) of a large a is a large number whose
// rounding error does not cancel (df = 1e5 costs ~1e-11).
const TAIL_PROBABILITY = 1e-10;
// Exact KS p-values: the same lattice recursions as SciPy (a tabulated reciprocal instead of a division).
const KS_EXACT = 1e-12;
// Asymptotic KS p-values: the same Simard–L'Ecuyer method selection; the one-sided Smirnov tail is a
// positive series here but a double-double Cephes routine in SciPy, and the Durbin matrix power is
// multiplied in a different order.
const KS_ASYMPTOTIC = 1e-9;
// Probabilities below this are compared absolutely: both sides are 0 up to underflow.
const UNDERFLOW = 1e-300;

interface GeneratedSample {
  seed: number;
  n: number;
  power: 1 | 2;
  shift: number;
  scale: number;
  levels?: number;
}
type Sample = number[] | GeneratedSample;
interface TwoSampleCase {
  name: string;
  reference: Sample;
  current: Sample;
}
interface Fixture {
  meta: { scipy: string; numpy: string; python: string };
  ks: (TwoSampleCase & {
    statistic: number;
    pValue: number;
    scipyMethod: string;
    asymptoticPValue: number;
  })[];
  kolmogorovSf: [number, number, number][];
  normalSf: [number, number][];
  logGamma: [number, number][];
  studentTSf: [number, number, number][];
  chiSquareSf: [number, number, number][];
  poissonAtLeast: [number, number, number][];
  chiSquare: {
    name: string;
    reference: number[];
    current: number[];
    groups: number[][];
    pooledReference: number[];
    pooledCurrent: number[];
    statistic: number;
    pValue: number;
    degreesOfFreedom: number;
    cramersV: number;
  }[];
  psi: (TwoSampleCase & {
    bins: number;
    edges: number[];
    referenceCounts: number[];
    currentCounts: number[];
    value: number;
  })[];
  psiFromCounts: { reference: number[]; current: number[]; value: number }[];
  jensenShannon: { reference: number[]; current: number[]; value: number }[];
  wasserstein: (TwoSampleCase & {
    distance: number;
    normalized: number;
    scale: number;
    scaleSource: string;
  })[];
  twoProportion: {
    reference: { successes: number; trials: number };
    current: { successes: number; trials: number };
    statistic: number;
    pValue: number;
    difference: number;
    cohensH: number;
  }[];
  welch: (TwoSampleCase & {
    statistic: number;
    pValue: number;
    degreesOfFreedom: number;
    meanDifference: number;
    cohensD: number;
  })[];
  welchFromSums: {
    name: string;
    reference: SampleSums;
    current: SampleSums;
    alternative: WelchAlternative;
    statistic: number;
    pValue: number;
    degreesOfFreedom: number;
    meanDifference: number;
  }[];
  mannWhitney: (TwoSampleCase & { statistic: number; pValue: number; probabilityOfSuperiority: number })[];
  multipleTesting: { pValues: number[]; benjaminiHochberg: number[]; bonferroni: number[] }[];
  descriptive: {
    cases: {
      name: string;
      values: number[];
      mean: number;
      standardDeviation: number;
      median: number;
      medianAbsoluteDeviation: number;
      probabilities: number[];
      quantiles: number[];
      edges10: number[];
      edges4: number[];
    }[];
    histogram: { values: number[]; edges: number[]; counts: number[] };
  };
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/scipy-reference.json', import.meta.url), 'utf8'),
) as Fixture;

/** Large samples are stored as their recipe and regenerated with the same mulberry32 stream as Python. */
function sample(spec: Sample): number[] {
  if (Array.isArray(spec)) return spec;
  const random = new Random(spec.seed);
  return Array.from({ length: spec.n }, () => {
    let u = random.next();
    if (spec.levels !== undefined) u = Math.floor(u * spec.levels);
    if (spec.power === 2) u = u * u;
    return spec.shift + spec.scale * u;
  });
}

function relativeError(actual: number, expected: number, absoluteFloor = 0): number {
  const difference = Math.abs(actual - expected);
  if (difference <= absoluteFloor) return 0;
  return expected === 0 ? difference : difference / Math.abs(expected);
}

function expectClose(
  actual: number,
  expected: number,
  tolerance: number,
  label: string,
  absoluteFloor = 0,
): void {
  expect(
    relativeError(actual, expected, absoluteFloor),
    `${label}: ${actual} vs ${expected}`,
  ).toBeLessThanOrEqual(tolerance);
}

function expectAllClose(actual: number[], expected: number[], tolerance: number, label: string): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (const [i, a] of actual.entries()) expectClose(a, expected[i]!, tolerance, `${label}[${i}]`);
}

// In mutation runs (vitest.mutation.config.ts) the Kolmogorov sweep leaves out its 34 cases with n > 5000:
// under Stryker's instrumentation they are 93 % of the sweep's time (the O(n) Smirnov sum and Pelz–Good at
// n = 50,000 and 150,000), while the 151 cases up to n = 5000 reach every mutant of lib/stats the whole
// sweep reaches (411 of 411, by Stryker's coverage per case) and detect every one of them it detects
// (353; measured mutant by mutant, docs/benchmarks.md "Mutation testing").
const kolmogorovCases =
  process.env.HOMEOSTAT_MUTATION_RUN === '1'
    ? fixture.kolmogorovSf.filter(([n]) => n <= 5000)
    : fixture.kolmogorovSf;

describe(`lib/stats against SciPy ${fixture.meta.scipy} / NumPy ${fixture.meta.numpy}`, () => {
  it('reads every case scripts/reference/scipy_reference.py writes', () => {
    // The tests below loop over the fixture, so an empty or truncated one would pass them vacuously.
    // These are the script's case counts; regenerating the fixture with more cases means updating them.
    expect({
      ks: fixture.ks.length,
      kolmogorovSf: fixture.kolmogorovSf.length,
      normalSf: fixture.normalSf.length,
      logGamma: fixture.logGamma.length,
      studentTSf: fixture.studentTSf.length,
      chiSquareSf: fixture.chiSquareSf.length,
      poissonAtLeast: fixture.poissonAtLeast.length,
      chiSquare: fixture.chiSquare.length,
      psi: fixture.psi.length,
      psiFromCounts: fixture.psiFromCounts.length,
      jensenShannon: fixture.jensenShannon.length,
      wasserstein: fixture.wasserstein.length,
      twoProportion: fixture.twoProportion.length,
      welch: fixture.welch.length,
      welchFromSums: fixture.welchFromSums.length,
      mannWhitney: fixture.mannWhitney.length,
      multipleTesting: fixture.multipleTesting.length,
      descriptive: fixture.descriptive.cases.length,
      histogram: fixture.descriptive.histogram.values.length,
    }).toEqual({
      ks: 22,
      kolmogorovSf: 185,
      normalSf: 13,
      logGamma: 10,
      studentTSf: 72,
      chiSquareSf: 54,
      poissonAtLeast: 64,
      chiSquare: 12,
      psi: 6,
      psiFromCounts: 4,
      jensenShannon: 6,
      wasserstein: 9,
      twoProportion: 8,
      welch: 8,
      welchFromSums: 7,
      mannWhitney: 8,
      multipleTesting: 5,
      descriptive: 5,
      histogram: 300,
    });
  });

  describe('distribution tails', () => {
    it('normalSf matches scipy.stats.norm.sf', () => {
      for (const [z, p] of fixture.normalSf)
        expectClose(normalSf(z), p, TAIL_PROBABILITY, `z=${z}`, UNDERFLOW);
    });
    it('logGamma matches scipy.special.gammaln, below 0.5 by reflection', () => {
      for (const [x, value] of fixture.logGamma) expectClose(logGamma(x), value, 1e-13, `x=${x}`);
    });
    it('tails at the ends of their domain, and NaN in, NaN out', () => {
      expect([normalSf(Number.POSITIVE_INFINITY), normalSf(Number.NEGATIVE_INFINITY)]).toEqual([0, 1]);
      expect([chiSquareSf(Number.POSITIVE_INFINITY, 3), chiSquareSf(0, 3), chiSquareSf(-2, 3)]).toEqual([
        0, 1, 1,
      ]);
      expect([studentTSf(0, 4), studentTSf(0, 0.5)]).toEqual([0.5, 0.5]);
      expect([normalQuantile(0), normalQuantile(1)]).toEqual([
        Number.NEGATIVE_INFINITY,
        Number.POSITIVE_INFINITY,
      ]);
      // Subnormal p (scipy.stats.norm.ppf(5e-324) = -38.4674056…): finite, to about the approximation's 1e-9.
      expectClose(normalQuantile(Number.MIN_VALUE), -38.467405617144344, 1e-8, 'p=5e-324');
      expect([poissonAtLeast(0, 3), poissonAtLeast(-1, 3), poissonAtLeast(5, 0)]).toEqual([1, 1, 0]);
      for (const value of [
        normalSf(Number.NaN),
        chiSquareSf(Number.NaN, 3),
        studentTSf(Number.NaN, 3),
        studentTSf(1, Number.NaN),
        normalQuantile(Number.NaN),
        normalQuantile(-0.01),
        normalQuantile(1.01),
        poissonAtLeast(Number.NaN, 3),
        poissonAtLeast(3, Number.NaN),
      ]) {
        expect(value).toBeNaN();
      }
    });
    it('studentTSf matches scipy.stats.t.sf', () => {
      for (const [t, df, p] of fixture.studentTSf) {
        expectClose(studentTSf(t, df), p, TAIL_PROBABILITY, `t=${t} df=${df}`, UNDERFLOW);
      }
    });
    it('chiSquareSf matches scipy.stats.chi2.sf', () => {
      for (const [x, k, p] of fixture.chiSquareSf) {
        expectClose(chiSquareSf(x, k), p, TAIL_PROBABILITY, `x=${x} k=${k}`, UNDERFLOW);
      }
    });
    it('poissonAtLeast matches scipy.stats.poisson.sf(n - 1, mu)', () => {
      for (const [n, mu, p] of fixture.poissonAtLeast) {
        expectClose(poissonAtLeast(n, mu), p, TAIL_PROBABILITY, `n=${n} mu=${mu}`, UNDERFLOW);
      }
    });
    it('kolmogorovSmirnovSf matches scipy.stats.kstwo.sf on every branch', () => {
      for (const [n, d, p] of kolmogorovCases) {
        expectClose(kolmogorovSmirnovSf(n, d), p, KS_ASYMPTOTIC, `n=${n} d=${d}`, UNDERFLOW);
      }
    });
  });

  describe('ksTwoSample (ks_2samp, method="auto")', () => {
    for (const c of fixture.ks) {
      it(c.name, () => {
        const reference = sample(c.reference);
        const current = sample(c.current);
        const result = ksTwoSample(reference, current);
        expectClose(result.statistic, c.statistic, ARITHMETIC, 'D');
        if (result.method === c.scipyMethod) {
          expectClose(
            result.pValue,
            c.pValue,
            result.method === 'exact' ? KS_EXACT : KS_ASYMPTOTIC,
            'p',
            UNDERFLOW,
          );
        } else {
          // The documented deviation: an exact count over budget falls back to the asymptotic p-value,
          // which can only happen far below any alpha.
          const m = Math.max(reference.length, current.length);
          const n = Math.min(reference.length, current.length);
          expect(m * Math.min(n + 1, 2 * c.statistic * n + 1)).toBeGreaterThan(KS_EXACT_MAX_WORK);
          expectClose(result.pValue, c.asymptoticPValue, KS_ASYMPTOTIC, 'asymptotic p', UNDERFLOW);
          expect(c.pValue).toBeLessThan(0.005);
        }
      });
    }
  });

  describe('chiSquareHomogeneity (chi2_contingency, correction=False, on the pooled table)', () => {
    for (const c of fixture.chiSquare) {
      it(c.name, () => {
        const result = chiSquareHomogeneity(c.reference, c.current);
        expect(result.groups).toEqual(c.groups);
        expect(result.pooledReference).toEqual(c.pooledReference);
        expect(result.pooledCurrent).toEqual(c.pooledCurrent);
        expect(result.degreesOfFreedom).toBe(c.degreesOfFreedom);
        expectClose(result.statistic, c.statistic, ARITHMETIC, 'statistic');
        expectClose(result.pValue, c.pValue, TAIL_PROBABILITY, 'p', UNDERFLOW);
        expectClose(result.cramersV, c.cramersV, ARITHMETIC, "Cramér's V");
      });
    }
  });

  describe('psi (NumPy reference implementation)', () => {
    for (const c of fixture.psi) {
      it(c.name, () => {
        const result = psi(sample(c.reference), sample(c.current), { bins: c.bins });
        expectAllClose(result.edges, c.edges, BIT_EXACT, 'edges');
        expect(result.referenceCounts).toEqual(c.referenceCounts);
        expect(result.currentCounts).toEqual(c.currentCounts);
        expectClose(result.value, c.value, ARITHMETIC, 'psi');
      });
    }
    it('psiFromCounts', () => {
      for (const c of fixture.psiFromCounts) {
        expectClose(psiFromCounts(c.reference, c.current), c.value, ARITHMETIC, JSON.stringify(c.reference));
      }
    });
  });

  it('jensenShannonDistance (scipy.spatial.distance.jensenshannon, base 2)', () => {
    for (const c of fixture.jensenShannon) {
      expectClose(
        jensenShannonDistance(c.reference, c.current),
        c.value,
        ARITHMETIC,
        JSON.stringify(c.reference),
      );
    }
  });

  describe('wasserstein (scipy.stats.wasserstein_distance)', () => {
    for (const c of fixture.wasserstein) {
      it(c.name, () => {
        const result = wasserstein(sample(c.reference), sample(c.current));
        expectClose(result.distance, c.distance, ARITHMETIC, 'distance');
        expectClose(result.normalized, c.normalized, ARITHMETIC, 'normalized');
        expectClose(result.scale, c.scale, ARITHMETIC, 'scale');
        expect(result.scaleSource).toBe(c.scaleSource);
      });
    }
  });

  it('twoProportionZTest (pooled z, scipy.stats.norm.sf)', () => {
    for (const c of fixture.twoProportion) {
      const label = `${c.reference.successes}/${c.reference.trials} vs ${c.current.successes}/${c.current.trials}`;
      const result = twoProportionZTest(c.reference, c.current);
      expectClose(result.statistic, c.statistic, ARITHMETIC, `${label} z`);
      expectClose(result.pValue, c.pValue, TAIL_PROBABILITY, `${label} p`, UNDERFLOW);
      expectClose(result.difference, c.difference, ARITHMETIC, `${label} difference`);
      expectClose(result.cohensH, c.cohensH, ARITHMETIC, `${label} h`);
    }
  });

  describe('welchTTest (ttest_ind, equal_var=False)', () => {
    for (const c of fixture.welch) {
      it(c.name, () => {
        const result = welchTTest(sample(c.reference), sample(c.current));
        // Means of 20,000 values summed in a different order: still far inside 1e-9.
        expectClose(result.statistic, c.statistic, 1e-9, 't');
        expectClose(result.degreesOfFreedom, c.degreesOfFreedom, ARITHMETIC, 'df');
        expectClose(result.pValue, c.pValue, 1e-9, 'p', UNDERFLOW);
        expectClose(result.meanDifference, c.meanDifference, 1e-9, 'mean difference');
        expectClose(result.cohensD, c.cohensD, 1e-9, 'd');
      });
    }
  });

  describe('welchTTestFromSums (ttest_ind on the values, equal_var=False)', () => {
    for (const c of fixture.welchFromSums) {
      it(c.name, () => {
        const result = welchTTestFromSums(c.reference, c.current, c.alternative);
        // Variances from sums lose digits to cancellation that SciPy's two passes do not: Σx² − (Σx)²/n
        // of squared errors keeps about 12 of them here.
        expectClose(result.statistic, c.statistic, 1e-9, 't');
        expectClose(result.degreesOfFreedom, c.degreesOfFreedom, 1e-9, 'df');
        expectClose(result.pValue, c.pValue, 1e-9, 'p', UNDERFLOW);
        expectClose(result.meanDifference, c.meanDifference, 1e-9, 'mean difference');
      });
    }
  });

  describe('mannWhitneyU (mannwhitneyu, two-sided, asymptotic, continuity)', () => {
    for (const c of fixture.mannWhitney) {
      it(c.name, () => {
        const result = mannWhitneyU(sample(c.reference), sample(c.current));
        expect(result.statistic).toBe(c.statistic);
        expectClose(result.pValue, c.pValue, TAIL_PROBABILITY, 'p', UNDERFLOW);
        expectClose(result.probabilityOfSuperiority, c.probabilityOfSuperiority, ARITHMETIC, 'superiority');
      });
    }
  });

  it('benjaminiHochberg (false_discovery_control) and bonferroni', () => {
    for (const c of fixture.multipleTesting) {
      expectAllClose(benjaminiHochberg(c.pValues), c.benjaminiHochberg, ARITHMETIC, 'BH');
      expectAllClose(bonferroni(c.pValues), c.bonferroni, ARITHMETIC, 'Bonferroni');
    }
  });

  describe('descriptive (NumPy)', () => {
    for (const c of fixture.descriptive.cases) {
      it(c.name, () => {
        expectClose(mean(c.values), c.mean, ARITHMETIC, 'mean');
        expectClose(standardDeviation(c.values), c.standardDeviation, ARITHMETIC, 'sd');
        expect(median(c.values)).toBe(c.median);
        expect(medianAbsoluteDeviation(c.values)).toBe(c.medianAbsoluteDeviation);
        expectAllClose(quantiles(c.values, c.probabilities), c.quantiles, BIT_EXACT, 'quantiles');
        expectAllClose(
          c.probabilities.map((p) => quantile(c.values, p)),
          c.quantiles,
          BIT_EXACT,
          'quantile',
        );
        expectAllClose(quantileBinEdges(c.values), c.edges10, BIT_EXACT, 'edges10');
        expectAllClose(quantileBinEdges(c.values, 4), c.edges4, BIT_EXACT, 'edges4');
      });
    }
    it('histogram with open outer bins', () => {
      const { values, edges, counts } = fixture.descriptive.histogram;
      expect(histogram(values, edges)).toEqual(counts);
    });
  });
});

describe('properties', () => {
  const random = new Random(7);
  const normals = (n: number, mu = 0, sd = 1) => Array.from({ length: n }, () => random.normal(mu, sd));

  it('KS on identical samples gives D = 0 and p = 1, exact and asymptotic', () => {
    for (const n of [1, 17, 500, 12_000]) {
      const x = normals(n);
      const result = ksTwoSample(x, [...x].reverse());
      expect(result).toMatchObject({ statistic: 0, pValue: 1 });
      expect(result.method).toBe(n <= 10_000 ? 'exact' : 'asymptotic');
    }
  });

  it('KS D is symmetric and p-values of every test lie in [0, 1]', () => {
    for (const [n1, n2, shift] of [
      [5, 9, 0],
      [40, 40, 0.5],
      [300, 200, 3],
      [15_000, 80, 0.2],
    ] as const) {
      const a = normals(n1);
      const b = normals(n2, shift);
      const ab = ksTwoSample(a, b);
      const ba = ksTwoSample(b, a);
      expect(ab.statistic).toBe(ba.statistic);
      expect(ab.pValue).toBe(ba.pValue);
      for (const p of [ab.pValue, welchTTest(a, b).pValue, mannWhitneyU(a, b).pValue]) {
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
      }
    }
  });

  it('ksStatistic is the D of ksTwoSample, on samples sorted beforehand', () => {
    const a = normals(300);
    const b = normals(120, 0.4);
    const sorted = (x: number[]) => Float64Array.from(x).sort();
    // The exact method reports D as h / lcm(n1, n2): the same up to rounding.
    expect(ksStatistic(sorted(a), sorted(b))).toBeCloseTo(ksTwoSample(a, b).statistic, 14);
    expect(ksStatistic([1, 2, 3], [4, 5])).toBe(1);
    expect(ksStatistic([1, 2, 3, 4], [2.5])).toBe(0.5);
  });

  it('a current sample standing for currentN values: D from the sample, the p-value from the sizes', () => {
    const reference = normals(200);
    const current = normals(100, 0.3);
    const plain = ksTwoSample(reference, current);
    expect(plain.method).toBe('exact');
    // currentN equal to the sample's size changes nothing.
    expect(ksTwoSample(reference, current, current.length)).toEqual(plain);
    // Any other size has no lattice to count on: the asymptotic p-value at n = round(n1·N / (n1 + N)),
    // even where both sizes are small enough for the exact one.
    for (const currentN of [150, 50_000]) {
      const n = Math.round((reference.length * currentN) / (reference.length + currentN));
      expect(ksTwoSample(reference, current, currentN)).toEqual({
        statistic: plain.statistic,
        pValue: kolmogorovSmirnovSf(n, plain.statistic),
        method: 'asymptotic',
      });
    }
  });

  it('distances are 0 for identical inputs and grow with the shift', () => {
    const x = normals(2000);
    expect(psi(x, x).value).toBe(0);
    expect(wasserstein(x, x).distance).toBe(0);
    const counts = histogram(x, quantileBinEdges(x));
    expect(jensenShannonDistance(counts, counts)).toBe(0);
    const small = normals(2000, 0.1);
    const large = normals(2000, 1);
    expect(psi(x, large).value).toBeGreaterThan(psi(x, small).value);
    expect(wasserstein(x, large).normalized).toBeGreaterThan(wasserstein(x, small).normalized);
    expect(ksTwoSample(x, large).statistic).toBeGreaterThan(ksTwoSample(x, small).statistic);
  });

  it('Welch and Mann–Whitney signs follow "current relative to reference"', () => {
    const reference = normals(200);
    const higher = normals(200, 1);
    expect(welchTTest(reference, higher).statistic).toBeGreaterThan(0);
    expect(welchTTest(reference, higher).cohensD).toBeGreaterThan(0);
    expect(mannWhitneyU(reference, higher).probabilityOfSuperiority).toBeGreaterThan(0.5);
  });

  it('degenerate inputs give "no evidence" instead of NaN', () => {
    expect(welchTTest([2, 2, 2], [2, 2])).toMatchObject({ statistic: 0, pValue: 1 });
    // Different constants: an infinitely significant shift in the direction of the current sample, as SciPy.
    expect(welchTTest([2, 2, 2], [3, 3])).toMatchObject({ statistic: Number.POSITIVE_INFINITY, pValue: 0 });
    expect(welchTTest([3, 3], [2, 2, 2])).toMatchObject({ statistic: Number.NEGATIVE_INFINITY, pValue: 0 });
    // Both windows the same constant: no scale to normalise by, and nothing moved.
    expect(wasserstein([3, 3], [3, 3, 3])).toEqual({
      distance: 0,
      normalized: 0,
      scale: 0,
      scaleSource: 'pooled_sd',
    });
    expect(mannWhitneyU([1, 1], [1, 1, 1]).pValue).toBe(1);
    expect(twoProportionZTest({ successes: 0, trials: 10 }, { successes: 0, trials: 20 }).pValue).toBe(1);
    expect(chiSquareHomogeneity([30], [40]).pValue).toBe(1);
    expect(benjaminiHochberg([])).toEqual([]);
  });

  // Every check names the function and the rule broken, whichever argument breaks it.
  const twoSamples = (name: string) => `${name}: both samples must be non-empty`;
  const countsBins = (name: string) => `${name}: count arrays must have one entry per bin`;
  const positiveTotal = (name: string) => `${name}: each count vector needs a positive total`;
  const trialsRule = 'twoProportionZTest: trials must be a positive integer, successes an integer';
  const successesRule = 'twoProportionZTest: need 0 <= successes <= trials';
  const proportion = (successes: number, trials: number) => ({ successes, trials });
  it.each([
    ['ksTwoSample, empty reference', () => ksTwoSample([], [1]), twoSamples('ksTwoSample')],
    ['ksTwoSample, empty current', () => ksTwoSample([1], []), twoSamples('ksTwoSample')],
    ['psi, empty reference', () => psi([], [1]), twoSamples('psi')],
    ['psi, empty current', () => psi([1], []), twoSamples('psi')],
    ['psiFromCounts, bins differ', () => psiFromCounts([1, 2], [1]), countsBins('psiFromCounts')],
    [
      'psiFromCounts, no reference counts',
      () => psiFromCounts([0, 0], [1, 1]),
      positiveTotal('psiFromCounts'),
    ],
    ['psiFromCounts, no current counts', () => psiFromCounts([1, 1], [0, 0]), positiveTotal('psiFromCounts')],
    [
      'jensenShannonDistance, bins differ',
      () => jensenShannonDistance([1], [1, 2]),
      countsBins('jensenShannonDistance'),
    ],
    [
      'jensenShannonDistance, no reference counts',
      () => jensenShannonDistance([0, 0], [1, 1]),
      positiveTotal('jensenShannonDistance'),
    ],
    [
      'jensenShannonDistance, no current counts',
      () => jensenShannonDistance([1, 1], [0, 0]),
      positiveTotal('jensenShannonDistance'),
    ],
    ['mannWhitneyU, empty reference', () => mannWhitneyU([], [1]), twoSamples('mannWhitneyU')],
    ['mannWhitneyU, empty current', () => mannWhitneyU([1], []), twoSamples('mannWhitneyU')],
    ['wasserstein, empty reference', () => wasserstein([], [1]), twoSamples('wasserstein')],
    ['wasserstein, empty current', () => wasserstein([1], []), twoSamples('wasserstein')],
    [
      'welchTTest, one reference value',
      () => welchTTest([1], [1, 2]),
      'welchTTest: each sample needs at least two values',
    ],
    [
      'welchTTest, one current value',
      () => welchTTest([1, 2], [1]),
      'welchTTest: each sample needs at least two values',
    ],
    [
      'chiSquareHomogeneity, categories differ',
      () => chiSquareHomogeneity([1, 2], [1]),
      'chiSquareHomogeneity: count arrays must have one entry per category',
    ],
    [
      'chiSquareHomogeneity, no reference counts',
      () => chiSquareHomogeneity([0, 0], [1, 1]),
      positiveTotal('chiSquareHomogeneity'),
    ],
    [
      'chiSquareHomogeneity, no current counts',
      () => chiSquareHomogeneity([1, 1], [0, 0]),
      positiveTotal('chiSquareHomogeneity'),
    ],
    [
      'benjaminiHochberg, above 1',
      () => benjaminiHochberg([0.5, 1.5]),
      'benjaminiHochberg: p-values must be in [0, 1], got 1.5',
    ],
    [
      'benjaminiHochberg, below 0',
      () => benjaminiHochberg([-0.1]),
      'benjaminiHochberg: p-values must be in [0, 1], got -0.1',
    ],
    [
      'bonferroni, NaN',
      () => bonferroni([0.2, Number.NaN]),
      'bonferroni: p-values must be in [0, 1], got NaN',
    ],
    [
      'twoProportionZTest, fractional trials',
      () => twoProportionZTest(proportion(1, 2.5), proportion(1, 3)),
      trialsRule,
    ],
    [
      'twoProportionZTest, no trials',
      () => twoProportionZTest(proportion(1, 3), proportion(0, 0)),
      trialsRule,
    ],
    [
      'twoProportionZTest, fractional successes',
      () => twoProportionZTest(proportion(1.5, 3), proportion(1, 3)),
      trialsRule,
    ],
    [
      'twoProportionZTest, negative successes',
      () => twoProportionZTest(proportion(1, 3), proportion(-1, 3)),
      successesRule,
    ],
    [
      'twoProportionZTest, successes above trials',
      () => twoProportionZTest(proportion(5, 3), proportion(1, 3)),
      successesRule,
    ],
    ['mean, no values', () => mean([]), 'mean: needs at least one value'],
    ['median, no values', () => median([]), 'median: needs at least one value'],
    ['quantile, no values', () => quantile([], 0.5), 'quantile: needs at least one value'],
    ['quantile, p above 1', () => quantile([1, 2], 1.5), 'quantile: p must be in [0, 1], got 1.5'],
    ['quantile, p below 0', () => quantile([1, 2], -0.5), 'quantile: p must be in [0, 1], got -0.5'],
    ['quantile, p NaN', () => quantile([1, 2], Number.NaN), 'quantile: p must be in [0, 1], got NaN'],
    ['variance, one value', () => variance([1]), 'variance: needs more than 1 values'],
    ['variance, ddof 2 of two values', () => variance([1, 2], 2), 'variance: needs more than 2 values'],
    ['quantileBinEdges, no bins', () => quantileBinEdges([1, 2], 0), 'quantileBinEdges: bins must be >= 1'],
    [
      'quantileBinEdges, fractional bins',
      () => quantileBinEdges([1, 2], 2.5),
      'quantileBinEdges: bins must be >= 1',
    ],
    [
      'histogram, equal edges',
      () => histogram([1], [0, 1, 1]),
      'histogram: edges must be strictly increasing',
    ],
    [
      'histogram, decreasing edges',
      () => histogram([1], [1, 0]),
      'histogram: edges must be strictly increasing',
    ],
    [
      'psiFromCounts, a negative count',
      () => psiFromCounts([1, -1], [1, 1]),
      'psiFromCounts: counts must be finite and >= 0',
    ],
    [
      'psiFromCounts, an infinite count',
      () => psiFromCounts([1, 1], [1, Number.POSITIVE_INFINITY]),
      'psiFromCounts: counts must be finite and >= 0',
    ],
    [
      'psiFromCounts, a NaN count',
      () => psiFromCounts([Number.NaN, 1], [1, 1]),
      'psiFromCounts: counts must be finite and >= 0',
    ],
  ] as [string, () => unknown, string | typeof RangeError][])(
    'rejects an impossible input: %s',
    (_, call, error) => {
      if (typeof error === 'string') expect(call).toThrow(new RangeError(error));
      else expect(call).toThrow(error);
    },
  );

  it('accepts the edges of the valid inputs', () => {
    // p-values of exactly 0 and 1; two values per sample; zero successes and all successes.
    expect(bonferroni([0, 1])).toEqual([0, 1]);
    expect(benjaminiHochberg([0, 1])).toEqual([0, 1]);
    expect(welchTTest([1, 3], [2, 6]).degreesOfFreedom).toBeGreaterThan(1);
    expect(twoProportionZTest(proportion(0, 3), proportion(3, 3)).difference).toBe(1);
    // One bin has no edges; ddof 2 of three values divides by 1.
    expect(quantileBinEdges([1, 2, 3], 1)).toEqual([]);
    expect(variance([1, 2, 4], 2)).toBeCloseTo(4.666666666666667, 14);
  });

  it('BH adjusted p-values are monotone in the raw p-values and never below them', () => {
    const ps = Array.from({ length: 50 }, () => random.next() ** 3);
    const adjusted = benjaminiHochberg(ps);
    const order = ps.map((_, i) => i).sort((a, b) => ps[a]! - ps[b]!);
    for (let k = 1; k < order.length; k++) {
      expect(adjusted[order[k]!]!).toBeGreaterThanOrEqual(adjusted[order[k - 1]!]!);
    }
    for (const [i, p] of ps.entries()) expect(adjusted[i]!).toBeGreaterThanOrEqual(p);
  });
});

// Skipped in mutation runs (vitest.mutation.config.ts): too slow under Stryker's instrumentation.
describe.skipIf(process.env.HOMEOSTAT_MUTATION_RUN === '1')('calibration under the null hypothesis', () => {
  // 500 pairs drawn from one distribution: a correct test at alpha 0.05 rejects ~25 of them
  // (binomial sd ≈ 4.9). Fewer than 5 would mean p-values stuck near 1; more than 40 (3 sd above
  // 25) would mean false alarms. KS is discrete at these sizes and so slightly conservative.
  const pairs = 500;
  const alpha = 0.05;

  function rejections(
    test: (a: number[], b: number[]) => { pValue: number },
    n1: number,
    n2: number,
  ): number {
    const random = new Random(20240601);
    let count = 0;
    for (let i = 0; i < pairs; i++) {
      const a = Array.from({ length: n1 }, () => random.normal(10, 2));
      const b = Array.from({ length: n2 }, () => random.normal(10, 2));
      if (test(a, b).pValue < alpha) count++;
    }
    return count;
  }

  it('KS (exact p-values) rejects about 5%', () => {
    const count = rejections(ksTwoSample, 60, 90);
    expect(count).toBeGreaterThanOrEqual(5);
    expect(count).toBeLessThanOrEqual(40);
  });

  it('Welch rejects about 5%', () => {
    const count = rejections(welchTTest, 30, 45);
    expect(count).toBeGreaterThanOrEqual(10);
    expect(count).toBeLessThanOrEqual(40);
  });
});
