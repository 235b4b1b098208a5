// Checks feature rows against a model's feature schema. The gateway, prediction ingestion and version
// registration share it, so a value is judged the same way wherever it enters Homeostat. Each problem
// names the feature and its kind; the kinds are the data-quality signals monitoring counts.
import type { FeatureSchema, FeatureSpec, FeatureValue } from '../domain.ts';

/** The problems one value of a feature can have; the feature's check (valueChecker) tells which. */
export const VALUE_PROBLEMS = [
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
] as const;
export type ValueProblem = (typeof VALUE_PROBLEMS)[number];

export const QUALITY_PROBLEMS = [
  ...VALUE_PROBLEMS,
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

/** The problem of one value, null when it is valid; `undefined` stands for an absent field. */
export type ValueCheck = (value: unknown) => ValueProblem | null;

/**
 * The check of one feature's values: the one definition of a valid value, which ingestion flags with and
 * the monitor counts with. A null is valid in a nullable feature. Built once per feature, so that a
 * check, which the monitor runs on every value of every window, is a few comparisons or one hash
 * look-up and allocates nothing.
 */
export function valueChecker(spec: FeatureSpec): ValueCheck {
  const ifNull = spec.nullable ? null : 'null';
  switch (spec.type) {
    case 'numeric': {
      const min = spec.min ?? Number.NEGATIVE_INFINITY;
      const max = spec.max ?? Number.POSITIVE_INFINITY;
      return (value) => {
        if (value === undefined) return 'missing';
        if (value === null) return ifNull;
        if (typeof value !== 'number' || !Number.isFinite(value)) return 'type';
        return value < min || value > max ? 'out_of_range' : null;
      };
    }
    case 'boolean':
      return (value) => {
        if (value === undefined) return 'missing';
        if (value === null) return ifNull;
        return typeof value === 'boolean' ? null : 'type';
      };
    case 'categorical': {
      const categories = new Set(spec.categories);
      return (value) => {
        if (value === undefined) return 'missing';
        if (value === null) return ifNull;
        if (typeof value !== 'string') return 'type';
        return categories.has(value) ? null : 'unseen_category';
      };
    }
  }
}

/** What is wrong with `value`, for the API's issues; `problem` is its check's verdict on it. */
function problemMessage(spec: FeatureSpec, value: unknown, problem: ValueProblem): string {
  if (problem === 'missing') return 'is missing';
  if (problem === 'null') return 'is null, but the feature is not nullable';
  switch (spec.type) {
    case 'numeric':
      if (problem === 'type') return `expected a number, got ${describe(value)}`;
      return spec.min !== undefined && (value as number) < spec.min
        ? `${value} is below the minimum ${spec.min}`
        : `${value} is above the maximum ${spec.max}`;
    case 'boolean':
      return `expected true or false, got ${describe(value)}`;
    case 'categorical':
      return problem === 'type'
        ? `expected one of the categories (a string), got ${describe(value)}`
        : `${JSON.stringify(value)} is not one of ${spec.categories.join(', ')}`;
  }
}

/**
 * A row's value of a feature, `undefined` when the row has no such field of its own: a feature named
 * "constructor" or "toString" must not find Object.prototype's function, nor one named "__proto__" the
 * row's prototype. Ingestion and the monitor read every value through it.
 */
export function featureValue(
  features: Readonly<Record<string, FeatureValue>>,
  name: string,
): FeatureValue | undefined {
  return Object.hasOwn(features, name) ? features[name] : undefined;
}

/** A validator for one schema; build it once per schema and reuse it for every row. */
export function rowValidator(schema: FeatureSchema): RowValidator {
  const known = new Set(schema.map((spec) => spec.name));
  const checks = schema.map((spec) => ({ spec, check: valueChecker(spec) }));
  return (features) => {
    const violations: FeatureViolation[] = [];
    for (const { spec, check } of checks) {
      const value = featureValue(features, spec.name);
      const problem = check(value);
      if (problem) {
        violations.push({ feature: spec.name, problem, message: problemMessage(spec, value, problem) });
      }
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
