// Reads the features out of a batch of rows: the values the drift tests take, and the schema
// violations, counted per kind. The reference profile and every window read features through this one
// function, so both sides agree on what a valid value is. The kinds and their meaning are
// ingestion's (lib/ingest/validate.ts), so a count here and a flag stored at ingestion mean the same.
import type { FeatureRow, FeatureSchema, FeatureSpec, FeatureValue } from '../domain.ts';
import type { QualityProblem } from '../ingest/validate.ts';

/** Problems of a value; `unknown_feature` concerns a row's extra fields, which ingestion flags. */
export const VALUE_PROBLEMS = [
  'missing',
  'null',
  'type',
  'out_of_range',
  'unseen_category',
] as const satisfies readonly QualityProblem[];
export type ValueProblem = (typeof VALUE_PROBLEMS)[number];

export type ProblemCounts = Record<ValueProblem, number>;

interface ColumnBase {
  /** Rows read. */
  rows: number;
  /** Rows where the value is null or the field is absent, whether or not the feature is nullable. */
  nullOrAbsent: number;
  problems: ProblemCounts;
}

export interface NumericColumn extends ColumnBase {
  type: 'numeric';
  /**
   * The finite numbers, ascending. Values outside the schema's range are kept (and counted as
   * out_of_range): a unit change is drift evidence as well as a quality problem.
   */
  values: number[];
}

/** Categorical and boolean features; booleans are the categories 'false' and 'true'. */
export interface CategoricalColumn extends ColumnBase {
  type: 'categorical';
  categories: string[];
  /** Rows per entry of `categories`. */
  counts: number[];
  /** Values outside `categories` (unseen_category), pooled into one "other" category for drift. */
  other: number;
  /** The values behind `other`, with their rows. */
  unseenValues: Map<string, number>;
}

export type FeatureColumn = NumericColumn | CategoricalColumn;

const BOOLEAN_CATEGORIES = ['false', 'true'] as const;

function categoriesOf(spec: FeatureSpec): string[] {
  if (spec.type === 'numeric') throw new TypeError(`feature ${spec.name} is numeric`);
  return spec.type === 'boolean' ? [...BOOLEAN_CATEGORIES] : [...spec.categories];
}

function noProblems(): ProblemCounts {
  return Object.fromEntries(VALUE_PROBLEMS.map((p) => [p, 0])) as ProblemCounts;
}

/**
 * Every feature of the schema, in schema order, read in one pass over the rows: row by row rather than
 * feature by feature, because a window's rows are scattered over the heap and visiting each once (with
 * all its fields) costs a fraction of visiting each once per feature.
 */
export function readFeatureColumns(schema: FeatureSchema, rows: readonly FeatureRow[]): FeatureColumn[] {
  const readers = schema.map((spec) =>
    spec.type === 'numeric' ? new NumericReader(spec, rows.length) : new CategoricalReader(spec),
  );
  for (const row of rows) {
    for (const reader of readers) reader.read(row[reader.name]);
  }
  return readers.map((reader) => reader.column());
}

abstract class ColumnReader {
  readonly name: string;
  protected readonly nullable: boolean;
  protected readonly problems = noProblems();
  protected rows = 0;
  protected nullOrAbsent = 0;

  constructor(spec: FeatureSpec) {
    this.name = spec.name;
    this.nullable = spec.nullable;
  }

  /** Counts a null or absent value; false for any other value, which the subclass reads. */
  protected readMissing(value: FeatureValue | undefined): value is null | undefined {
    this.rows++;
    if (value !== null && value !== undefined) return false;
    this.nullOrAbsent++;
    if (value === undefined) this.problems.missing++;
    else if (!this.nullable) this.problems.null++;
    return true;
  }

  abstract read(value: FeatureValue | undefined): void;
  abstract column(): FeatureColumn;
}

class NumericReader extends ColumnReader {
  private readonly min: number;
  private readonly max: number;
  // Filled, then sorted in place: a typed array sorts numbers several times faster than Array#sort, and
  // every consumer (KS, Wasserstein, the reference's quantiles, the constant check) sorts or wants
  // sorted values — sorting sorted values again is cheap.
  private readonly buffer: Float64Array;
  private count = 0;

  constructor(spec: Extract<FeatureSpec, { type: 'numeric' }>, capacity: number) {
    super(spec);
    this.min = spec.min ?? Number.NEGATIVE_INFINITY;
    this.max = spec.max ?? Number.POSITIVE_INFINITY;
    this.buffer = new Float64Array(capacity);
  }

  read(value: FeatureValue | undefined): void {
    if (this.readMissing(value)) return;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.problems.type++;
      return;
    }
    if (value < this.min || value > this.max) this.problems.out_of_range++;
    this.buffer[this.count++] = value;
  }

  column(): NumericColumn {
    const { rows, nullOrAbsent, problems } = this;
    const values = Array.from(this.buffer.subarray(0, this.count).sort());
    return { type: 'numeric', rows, nullOrAbsent, problems, values };
  }
}

class CategoricalReader extends ColumnReader {
  private readonly isBoolean: boolean;
  private readonly categories: string[];
  private readonly index: Map<string, number>;
  private readonly counts: number[];
  private readonly unseenValues = new Map<string, number>();

  constructor(spec: FeatureSpec) {
    super(spec);
    this.isBoolean = spec.type === 'boolean';
    this.categories = categoriesOf(spec);
    this.index = new Map(this.categories.map((c, i) => [c, i]));
    this.counts = new Array<number>(this.categories.length).fill(0);
  }

  read(value: FeatureValue | undefined): void {
    if (this.readMissing(value)) return;
    if (typeof value === 'string' && !this.isBoolean) {
      const i = this.index.get(value);
      if (i !== undefined) this.counts[i]!++;
      else this.unseenValues.set(value, (this.unseenValues.get(value) ?? 0) + 1);
    } else if (typeof value === 'boolean' && this.isBoolean) {
      // Index 0 is 'false', 1 is 'true' (BOOLEAN_CATEGORIES): no string and no map look-up per row.
      this.counts[value ? 1 : 0]!++;
    } else {
      this.problems.type++;
    }
  }

  column(): CategoricalColumn {
    const { rows, nullOrAbsent, problems, categories, counts, unseenValues } = this;
    let other = 0;
    for (const count of unseenValues.values()) other += count;
    problems.unseen_category = other;
    return { type: 'categorical', rows, nullOrAbsent, problems, categories, counts, other, unseenValues };
  }
}
