// Evidently's default dataset-drift rule (evidently DataDriftPreset / DatasetDriftMetric, defaults of
// evidently.calculations.stattests.registry.get_default_stattest for a reference of at most 1,000
// rows): each column is tested on its non-null values —
// - numeric with more than 5 distinct reference values: two-sample Kolmogorov–Smirnov;
// - otherwise (categorical, boolean, numeric with few values): with more than 2 distinct values,
//   chi-square goodness of fit of the current counts against the reference frequencies scaled to the
//   current size (Evidently's chi_stat_test); with 2 or fewer, the two-proportion z-test on the share
//   of the first value in sorted order (Evidently's z_stat_test);
// a column drifts at p < 0.05, and the dataset drifts when the share of drifted columns is ≥ 0.5.
import type { FeatureSchema, FeatureValue } from '../../domain.ts';
import { chiSquareSf, ksTwoSample, twoProportionZTest } from '../../stats/index.ts';

export const DATASET_DRIFT_DEFAULTS = {
  /** Per-column significance. */
  pValue: 0.05,
  /** Share of drifted columns at which the dataset drifts (Evidently's drift_share). */
  driftShare: 0.5,
  /** Evidently switches to other tests above this many reference rows: keep the reference at most this. */
  maxReferenceRows: 1000,
  /** Numeric columns with at most this many distinct reference values are tested as categories. */
  maxCategoricalValues: 5,
};

export interface DatasetDrift {
  drifted: boolean;
  share: number;
  columns: { name: string; test: 'ks' | 'chisquare' | 'z'; pValue: number; drifted: boolean }[];
}

type Column = readonly FeatureValue[];

const present = (values: Column): FeatureValue[] => values.filter((v) => v !== null && v !== undefined);

function columnPValue(numeric: boolean, reference: Column, current: Column) {
  const ref = present(reference);
  const cur = present(current);
  const refNumbers = numeric ? ref.filter((v): v is number => typeof v === 'number') : [];
  const distinct = new Set(ref.map(String));
  if (numeric && distinct.size > DATASET_DRIFT_DEFAULTS.maxCategoricalValues) {
    const curNumbers = cur.filter((v): v is number => typeof v === 'number');
    // A column that lost every value cannot be compared: it has drifted.
    if (curNumbers.length === 0 || refNumbers.length === 0) return { test: 'ks' as const, pValue: 0 };
    return { test: 'ks' as const, pValue: ksTwoSample(refNumbers, curNumbers).pValue };
  }
  if (cur.length === 0 || ref.length === 0) return { test: 'chisquare' as const, pValue: 0 };
  const keys = [...new Set([...ref, ...cur].map(String))].sort();
  const count = (values: FeatureValue[]) => {
    const counts = new Map<string, number>(keys.map((k) => [k, 0]));
    for (const v of values) counts.set(String(v), counts.get(String(v))! + 1);
    return counts;
  };
  const refCounts = count(ref);
  const curCounts = count(cur);
  if (keys.length <= 2) {
    if (keys.length === 1) return { test: 'z' as const, pValue: 1 };
    const first = keys[0]!;
    const z = twoProportionZTest(
      { successes: ref.length - refCounts.get(first)!, trials: ref.length },
      { successes: cur.length - curCounts.get(first)!, trials: cur.length },
    );
    return { test: 'z' as const, pValue: z.pValue };
  }
  const scale = cur.length / ref.length;
  let statistic = 0;
  for (const k of keys) {
    const expected = refCounts.get(k)! * scale;
    const observed = curCounts.get(k)!;
    // A value the reference never had: infinite statistic, p = 0 (as scipy's chisquare gives).
    statistic +=
      expected === 0 ? (observed > 0 ? Number.POSITIVE_INFINITY : 0) : (observed - expected) ** 2 / expected;
  }
  return {
    test: 'chisquare' as const,
    pValue: Number.isFinite(statistic) ? chiSquareSf(statistic, keys.length - 1) : 0,
  };
}

/** Evidently's dataset drift of `current` against `reference` (rows of feature values by name). */
export function datasetDrift(
  schema: FeatureSchema,
  reference: readonly Record<string, FeatureValue>[],
  current: readonly Record<string, FeatureValue>[],
): DatasetDrift {
  const columns = schema.map((spec) => {
    const { test, pValue } = columnPValue(
      spec.type === 'numeric',
      reference.map((r) => r[spec.name] ?? null),
      current.map((r) => r[spec.name] ?? null),
    );
    return { name: spec.name, test, pValue, drifted: pValue < DATASET_DRIFT_DEFAULTS.pValue };
  });
  const share = columns.filter((c) => c.drifted).length / Math.max(1, columns.length);
  return { drifted: share >= DATASET_DRIFT_DEFAULTS.driftShare, share, columns };
}
