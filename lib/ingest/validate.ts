// Checks feature rows against a model's feature schema. The gateway, prediction ingestion and version
// registration share it, so a value is judged the same way wherever it enters Homeostat. Each problem
// names the feature and its kind; the kinds are the data-quality signals monitoring counts.
import type { FeatureSchema, FeatureSpec, FeatureValue } from '../domain.ts';

export const QUALITY_PROBLEMS = [
  /** A feature of the schema is absent from the row. */
  'missing',
  /** null for a feature that is not nullable. */
  'null',
  /** A value of the wrong JSON type (a string for a numeric feature, say). */
  'type',
  /** A number outside the schema's [min, max]. */
  'out_of_range',
  /** A string that is not one of a categorical feature's categories. */
  'unseen_category',
  /** A field the schema does not know (often a renamed column upstream). */
  'unknown_feature',
] as const;
export type QualityProblem = (typeof QUALITY_PROBLEMS)[number];

export interface FeatureViolation {
  feature: string;
  problem: QualityProblem;
  message: string;
}

/** What Prediction.quality holds for a row accepted with violations (onInvalid: flag); null when clean. */
export interface StoredQuality {
  violations: { feature: string; problem: QualityProblem }[];
}

export const ON_INVALID = ['reject', 'flag'] as const;
/** Per model: reject a row with invalid features (4xx, nothing stored) or serve/store it and flag it. */
export type OnInvalid = (typeof ON_INVALID)[number];

export type RowValidator = (features: Record<string, FeatureValue>) => FeatureViolation[];

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string')
    return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

function checkValue(spec: FeatureSpec, value: FeatureValue): Omit<FeatureViolation, 'feature'> | null {
  if (value === null) {
    return spec.nullable ? null : { problem: 'null', message: 'is null, but the feature is not nullable' };
  }
  switch (spec.type) {
    case 'numeric':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return { problem: 'type', message: `expected a number, got ${describe(value)}` };
      }
      if (spec.min !== undefined && value < spec.min) {
        return { problem: 'out_of_range', message: `${value} is below the minimum ${spec.min}` };
      }
      if (spec.max !== undefined && value > spec.max) {
        return { problem: 'out_of_range', message: `${value} is above the maximum ${spec.max}` };
      }
      return null;
    case 'boolean':
      return typeof value === 'boolean'
        ? null
        : { problem: 'type', message: `expected true or false, got ${describe(value)}` };
    case 'categorical':
      if (typeof value !== 'string') {
        return {
          problem: 'type',
          message: `expected one of the categories (a string), got ${describe(value)}`,
        };
      }
      return spec.categories.includes(value)
        ? null
        : {
            problem: 'unseen_category',
            message: `${JSON.stringify(value)} is not one of ${spec.categories.join(', ')}`,
          };
  }
}

/** A validator for one schema; build it once per schema and reuse it for every row. */
export function rowValidator(schema: FeatureSchema): RowValidator {
  const known = new Set(schema.map((spec) => spec.name));
  return (features) => {
    const violations: FeatureViolation[] = [];
    for (const spec of schema) {
      if (!Object.hasOwn(features, spec.name)) {
        violations.push({ feature: spec.name, problem: 'missing', message: 'is missing' });
        continue;
      }
      const problem = checkValue(spec, features[spec.name]!);
      if (problem) violations.push({ feature: spec.name, ...problem });
    }
    for (const name of Object.keys(features)) {
      if (!known.has(name)) {
        violations.push({
          feature: name,
          problem: 'unknown_feature',
          message: "is not a feature of the model's schema",
        });
      }
    }
    return violations;
  };
}

export function storedQuality(violations: readonly FeatureViolation[]): StoredQuality | null {
  if (violations.length === 0) return null;
  return { violations: violations.map(({ feature, problem }) => ({ feature, problem })) };
}

/** Violations as API issues, e.g. path `body.rows.3.features.income`. */
export function violationIssues(
  violations: readonly FeatureViolation[],
  featuresPath: string,
): { path: string; message: string }[] {
  return violations.map((v) => ({
    path: `${featuresPath}.${v.feature}`,
    message: `${v.problem}: ${v.message}`,
  }));
}

/** Count of violations per problem, for the ingestion counters. */
export function countByProblem(violations: readonly FeatureViolation[]): Map<QualityProblem, number> {
  const counts = new Map<QualityProblem, number>();
  for (const v of violations) counts.set(v.problem, (counts.get(v.problem) ?? 0) + 1);
  return counts;
}
