// Reference statistics of a model version: the distribution of its reference (training) data and of its
// predictions on it, which drift detection compares production windows against, plus the baseline
// metrics production performance is judged by. Computed once, when the version is registered, and stored
// in ModelVersion.referenceStats; `referenceStatsSchema` reads them back.
//
// Per numeric feature: count, null and invalid rates, mean, standard deviation, min, max, the quantiles
// REFERENCE_QUANTILES, and a histogram over DEFAULT_QUANTILE_BINS reference-quantile bins (edges between
// bins; the outer bins are open, see lib/stats/descriptive.ts histogram). Per categorical feature the
// count of each category, per boolean feature the count of true and false. The prediction distribution
// is the count per class and the confidence summary for classifiers, a numeric summary for regressors.
import { z } from 'zod';
import type { FeatureRow, FeatureSchema, Task } from '../domain.ts';
import { rowValidator } from '../ingest/validate.ts';
import type { ModelOutput } from '../models/types.ts';
import { DEFAULT_QUANTILE_BINS, histogram, mean, quantileBinEdges, quantiles } from '../stats/descriptive.ts';

export const REFERENCE_QUANTILES = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99] as const;

const numericSummarySchema = z.object({
  /** Valid values the summary is computed from. */
  count: z.number().int(),
  mean: z.number().nullable(),
  std: z.number().nullable(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  /** Values at REFERENCE_QUANTILES, in order; empty without valid values. */
  quantiles: z.array(z.number()),
  /** Boundaries between histogram bins (reference quantiles, duplicates removed). */
  binEdges: z.array(z.number()),
  /** binEdges.length + 1 counts; the outer bins are open-ended. */
  histogram: z.array(z.number().int()),
});
export type NumericSummary = z.infer<typeof numericSummarySchema>;

const rates = {
  /** Share of rows where the feature is null or absent. */
  nullRate: z.number(),
  /** Share of rows with a value the schema rejects (wrong type, out of range, unseen category). */
  invalidRate: z.number(),
};

export const featureStatsSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('numeric'), ...rates, ...numericSummarySchema.shape }),
  z.object({
    type: z.literal('categorical'),
    ...rates,
    /** Rows per category of the schema (0 for a category never seen). */
    counts: z.record(z.string(), z.number().int()),
  }),
  z.object({
    type: z.literal('boolean'),
    ...rates,
    counts: z.object({ true: z.number(), false: z.number() }),
  }),
]);
export type FeatureStats = z.infer<typeof featureStatsSchema>;

export const predictionStatsSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('classes'),
    /** Predictions per class label. */
    counts: z.record(z.string(), z.number().int()),
    /** Confidence (probability of the predicted class); count 0 when the model gives none. */
    confidence: numericSummarySchema,
  }),
  z.object({ type: z.literal('numeric'), ...numericSummarySchema.shape }),
]);
export type PredictionStats = z.infer<typeof predictionStatsSchema>;

export const referenceStatsSchema = z.object({
  /** Reference rows the statistics are computed from. */
  rows: z.number().int(),
  quantileLevels: z.array(z.number()),
  features: z.record(z.string(), featureStatsSchema),
  /** Null when the reference rows were not scored. */
  predictions: predictionStatsSchema.nullable(),
  /** Task metrics on labelled held-out data (lib/registry/metrics.ts); null without labels. */
  baselineMetrics: z.record(z.string(), z.number().nullable()).nullable(),
});
export type ReferenceStats = z.infer<typeof referenceStatsSchema>;

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(12)) : x;
}

export function numericSummary(values: readonly number[], bins = DEFAULT_QUANTILE_BINS): NumericSummary {
  if (values.length === 0) {
    return {
      count: 0,
      mean: null,
      std: null,
      min: null,
      max: null,
      quantiles: [],
      binEdges: [],
      histogram: [],
    };
  }
  const m = mean(values);
  let sumSquares = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of values) {
    sumSquares += (x - m) ** 2;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const binEdges = quantileBinEdges(values, bins);
  return {
    count: values.length,
    mean: round(m),
    std: round(values.length > 1 ? Math.sqrt(sumSquares / (values.length - 1)) : 0),
    min,
    max,
    quantiles: quantiles(values, REFERENCE_QUANTILES).map(round),
    binEdges,
    histogram: histogram(values, binEdges),
  };
}

function featureStats(
  spec: FeatureSchema[number],
  rows: readonly FeatureRow[],
  invalid: ReadonlySet<string>[],
): FeatureStats {
  const n = rows.length || 1;
  let nulls = 0;
  let invalidCount = 0;
  const valid: FeatureRow[string][] = [];
  rows.forEach((row, i) => {
    const value = row[spec.name];
    if (value === null || value === undefined) nulls++;
    else if (invalid[i]!.has(spec.name)) invalidCount++;
    else valid.push(value);
  });
  const shares = { nullRate: nulls / n, invalidRate: invalidCount / n };
  switch (spec.type) {
    case 'numeric':
      return { type: 'numeric', ...shares, ...numericSummary(valid as number[]) };
    case 'categorical': {
      const counts = Object.fromEntries(spec.categories.map((c) => [c, 0]));
      for (const v of valid) counts[v as string]!++;
      return { type: 'categorical', ...shares, counts };
    }
    case 'boolean': {
      const trues = valid.filter((v) => v === true).length;
      return { type: 'boolean', ...shares, counts: { true: trues, false: valid.length - trues } };
    }
  }
}

export function predictionStats(
  task: Task,
  classes: readonly string[],
  outputs: readonly ModelOutput[],
): PredictionStats {
  if (task === 'regression') {
    return { type: 'numeric', ...numericSummary(outputs.map((o) => Number(o.prediction))) };
  }
  const counts = Object.fromEntries(classes.map((c) => [c, 0]));
  for (const o of outputs) counts[String(o.prediction)] = (counts[String(o.prediction)] ?? 0) + 1;
  const confidences = outputs.flatMap((o) => (o.confidence === null ? [] : [o.confidence]));
  return { type: 'classes', counts, confidence: numericSummary(confidences) };
}

export interface ReferenceInput {
  task: Task;
  schema: FeatureSchema;
  /** The model's class labels; empty for regression. */
  classes: readonly string[];
  rows: readonly FeatureRow[];
  /** The version's outputs on `rows`, when it was run on them. */
  outputs: readonly ModelOutput[] | null;
  baselineMetrics: Record<string, number | null> | null;
}

export function computeReferenceStats(input: ReferenceInput): ReferenceStats {
  const validate = rowValidator(input.schema);
  const invalid = input.rows.map((row) => new Set(validate(row).map((v) => v.feature)));
  return {
    rows: input.rows.length,
    quantileLevels: [...REFERENCE_QUANTILES],
    features: Object.fromEntries(
      input.schema.map((spec) => [spec.name, featureStats(spec, input.rows, invalid)]),
    ),
    predictions: input.outputs ? predictionStats(input.task, input.classes, input.outputs) : null,
    baselineMetrics: input.baselineMetrics,
  };
}
