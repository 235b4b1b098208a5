// Data quality of one feature in a window: schema violations by kind, the null rate against the
// reference's, the unseen categories behind the counts, and a column gone constant.
import type { FeatureSpec } from '../domain.ts';
import { twoProportionZTest } from '../stats/index.ts';
import type { FeatureColumn, ProblemCounts } from './columns.ts';
import type { FeatureProfile } from './reference.ts';
import type { Misreading } from './validity.ts';

export const QUALITY_DEFAULTS = {
  /** Unseen categorical values listed per feature, most frequent first. */
  unseenValuesListed: 5,
};

export interface FeatureQuality {
  name: string;
  type: FeatureSpec['type'];
  rows: number;
  /**
   * Rows per problem, in ingestion's terms (lib/ingest/validate.ts): missing (field absent), null (in a
   * feature that is not nullable), type, out_of_range, unseen_category. A value has at most one problem.
   */
  problems: ProblemCounts;
  /** Share of rows with any problem; null for an empty window. */
  invalidRate: number | null;
  /** Share of rows where the value is null or absent, nullable feature or not; null for an empty window. */
  nullRate: number | null;
  referenceNullRate: number | null;
  /**
   * Two-proportion z-test of the null rate against the reference's (Cohen's h as effect size): a nullable
   * feature filling with nulls breaks no rule but starves the model. Null when either side has fewer
   * rows than the minimum sample size.
   */
  nullRateChange: { statistic: number; pValue: number; difference: number; cohensH: number } | null;
  /** The most frequent values outside the categories. */
  unseenValues: { value: string; rows: number }[];
  /**
   * One distinct value in the window while the reference had several: a broken join often fills a
   * default. Null without a reference or with fewer values than the minimum sample size.
   */
  constant: boolean | null;
  /**
   * The column arrives in other units or under another feature's name (lib/monitor/validity.ts): every
   * value is wrong though each may look valid. Null when not judged or not misread.
   */
  misread: Misreading | null;
}

export function featureQuality(
  spec: FeatureSpec,
  column: FeatureColumn,
  reference: FeatureProfile | null,
  minSampleSize: number,
): FeatureQuality {
  const { rows, problems } = column;
  let problemRows = 0;
  for (const count of Object.values(problems)) problemRows += count;
  const judgeable = reference !== null && reference.rows >= minSampleSize && rows >= minSampleSize;
  const nullRateChange = judgeable
    ? twoProportionZTest(
        { successes: reference.nullOrAbsent, trials: reference.rows },
        { successes: column.nullOrAbsent, trials: rows },
      )
    : null;
  return {
    name: spec.name,
    type: spec.type,
    rows,
    problems,
    invalidRate: rows > 0 ? problemRows / rows : null,
    nullRate: rows > 0 ? column.nullOrAbsent / rows : null,
    referenceNullRate: reference && reference.rows > 0 ? reference.nullOrAbsent / reference.rows : null,
    nullRateChange,
    unseenValues:
      column.type === 'categorical'
        ? [...column.unseenValues]
            .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
            .slice(0, QUALITY_DEFAULTS.unseenValuesListed)
            .map(([value, count]) => ({ value, rows: count }))
        : [],
    constant: becameConstant(column, reference, minSampleSize),
    misread: null,
  };
}

function becameConstant(
  column: FeatureColumn,
  reference: FeatureProfile | null,
  minSampleSize: number,
): boolean | null {
  const distribution = reference?.distribution ?? null;
  if (distribution === null) return null;
  if (column.type === 'numeric') {
    if (column.count < minSampleSize || distribution.type !== 'numeric') return null;
    return column.min === column.max && distribution.min < distribution.max;
  }
  const valid = column.counts.reduce((sum, c) => sum + c, column.other);
  if (valid < minSampleSize || distribution.type !== 'categorical') return null;
  const distinct = column.counts.filter((c) => c > 0).length + column.unseenValues.size;
  const referenceDistinct =
    distribution.counts.filter((c) => c > 0).length + (distribution.other > 0 ? 1 : 0);
  return distinct === 1 && referenceDistinct > 1;
}
