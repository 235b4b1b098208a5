// Reads the features out of a batch of rows: the values the drift tests take, and the schema
// violations, counted per kind. The reference profile and every window read features through this one
// function, and it judges each value with ingestion's check (valueChecker, lib/ingest/validate.ts), so a
// count here and a flag stored at ingestion mean the same.
import type { FeatureRow, FeatureSchema, FeatureSpec, FeatureValue } from '../domain.ts';
import {
  featureValue,
  VALUE_PROBLEMS,
  type ValueCheck,
  type ValueProblem,
  valueChecker,
} from '../ingest/validate.ts';
import { QuantileSketch } from '../stats/quantile-sketch.ts';

/** Rows per problem; `unknown_feature` concerns a row's extra fields, which ingestion flags. */
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
   * The finite numbers, ascending: all of them up to the reader's `exactValues`, beyond that a
   * representative sample of them (QuantileSketch.sample). Values outside the schema's range are kept
   * (and counted as out_of_range): a unit change is drift evidence as well as a quality problem.
   */
  values: number[];
  /** How many finite numbers were read (values.length while exact). */
  count: number;
  /** Exact, whatever the sample. */
  min: number;
  max: number;
}

/** Categorical and boolean features; booleans are the categories 'false' and 'true'. */
export interface CategoricalColumn extends ColumnBase {
  type: 'categorical';
  categories: string[];
  /** Rows per entry of `categories`. */
  counts: number[];
  /** Values outside `categories` (unseen_category), pooled into one "other" category for drift. */
  other: number;
  /**
   * The values behind `other`, with their rows: the first MAX_UNSEEN_VALUES distinct ones a window meets
   * (a high-cardinality field declared categorical would otherwise hold every value of a window of any
   * size); rows of later ones count in `other` alone.
   */
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

/** Every feature of the schema, in schema order, with every numeric value kept (readFeatureColumns). */
export function readFeatureColumns(schema: FeatureSchema, rows: readonly FeatureRow[]): FeatureColumn[] {
  return new FeatureColumnsReader(schema, Number.POSITIVE_INFINITY).read(rows).columns();
}

/**
 * Every feature of the schema, in schema order, read page by page. Each page is read in one pass row by
 * row rather than feature by feature, because a window's rows are scattered over the heap and visiting
 * each once (with all its fields) costs a fraction of visiting each once per feature. Numeric values go
 * to a quantile sketch per feature that keeps `exactValues` of them verbatim: memory stays flat over
 * windows of any size.
 */
export class FeatureColumnsReader {
  private readonly readers: ColumnReader[];

  constructor(schema: FeatureSchema, exactValues: number) {
    this.readers = schema.map((spec) =>
      spec.type === 'numeric' ? new NumericReader(spec, exactValues) : new CategoricalReader(spec),
    );
  }

  read(rows: readonly FeatureRow[]): this {
    const { readers } = this;
    for (const row of rows) {
      for (const reader of readers) reader.read(featureValue(row, reader.name));
    }
    return this;
  }

  columns(): FeatureColumn[] {
    return this.readers.map((reader) => reader.column());
  }
}

abstract class ColumnReader {
  readonly name: string;
  private readonly checkValue: ValueCheck;
  protected readonly problems = noProblems();
  protected rows = 0;
  protected nullOrAbsent = 0;

  constructor(spec: FeatureSpec) {
    this.name = spec.name;
    this.checkValue = valueChecker(spec);
  }

  /** Counts the value, its problem and whether it is null or absent; returns the problem. */
  protected check(value: FeatureValue | undefined): ValueProblem | null {
    this.rows++;
    const problem = this.checkValue(value);
    if (problem !== null) this.problems[problem]++;
    if (value === null || value === undefined) this.nullOrAbsent++;
    return problem;
  }

  abstract read(value: FeatureValue | undefined): void;
  abstract column(): FeatureColumn;
}

class NumericReader extends ColumnReader {
  // The sketch keeps values in a typed array and sorts them as one (several times faster than
  // Array#sort); every consumer (KS, Wasserstein, the reference's quantiles) wants them sorted.
  private readonly sketch: QuantileSketch;

  constructor(spec: Extract<FeatureSpec, { type: 'numeric' }>, exactValues: number) {
    super(spec);
    this.sketch = new QuantileSketch(exactValues);
  }

  read(value: FeatureValue | undefined): void {
    const problem = this.check(value);
    if ((problem === null && value !== null) || problem === 'out_of_range') this.sketch.add(value as number);
  }

  column(): NumericColumn {
    const { rows, nullOrAbsent, problems, sketch } = this;
    const { count, min, max } = sketch;
    return { type: 'numeric', rows, nullOrAbsent, problems, values: sketch.sample(), count, min, max };
  }
}

/** The distinct unseen values a window keeps by name (CategoricalColumn.unseenValues). */
export const MAX_UNSEEN_VALUES = 1000;

class CategoricalReader extends ColumnReader {
  private readonly isBoolean: boolean;
  private readonly categories: string[];
  private readonly index: Map<string, number>;
  private readonly counts: number[];
  private readonly unseenValues = new Map<string, number>();
  /** Rows of unseen values past MAX_UNSEEN_VALUES distinct ones. */
  private unnamedRows = 0;

  constructor(spec: FeatureSpec) {
    super(spec);
    this.isBoolean = spec.type === 'boolean';
    this.categories = categoriesOf(spec);
    this.index = new Map(this.categories.map((c, i) => [c, i]));
    this.counts = new Array<number>(this.categories.length).fill(0);
  }

  read(value: FeatureValue | undefined): void {
    const problem = this.check(value);
    if (problem === null) {
      if (value === null) return;
      // Index 0 is 'false', 1 is 'true' (BOOLEAN_CATEGORIES): no string and no map look-up per row.
      this.counts[this.isBoolean ? (value ? 1 : 0) : this.index.get(value as string)!]!++;
    } else if (problem === 'unseen_category') {
      const unseen = value as string;
      const rows = this.unseenValues.get(unseen);
      if (rows !== undefined) this.unseenValues.set(unseen, rows + 1);
      else if (this.unseenValues.size < MAX_UNSEEN_VALUES) this.unseenValues.set(unseen, 1);
      else this.unnamedRows++;
    }
  }

  column(): CategoricalColumn {
    const { rows, nullOrAbsent, problems, categories, counts, unseenValues } = this;
    let other = this.unnamedRows;
    for (const count of unseenValues.values()) other += count;
    return { type: 'categorical', rows, nullOrAbsent, problems, categories, counts, other, unseenValues };
  }
}
