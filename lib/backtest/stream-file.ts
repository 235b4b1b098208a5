// Reads a historical stream file for a backtest: CSV or JSONL, one prediction per record, with a `ts`
// column, the feature columns, `label`, and optionally `label_ts`, `prediction`, `confidence`,
// `latency_ms`, `failed`/`error` and `prediction_id` (docs/backtest.md). The simulator's files
// (lib/sim/writers.ts) are valid input as they are, including its JSONL form with a nested `features`
// object and camelCase names. Problems are reported with the file's line number: a backtest of a
// mis-read file would tune a policy to noise.
import fs from 'node:fs';
import {
  type FeatureRow,
  type FeatureSchema,
  type FeatureSpec,
  type FeatureValue,
  featureSchemaSchema,
  TASKS,
  type Task,
} from '../domain.ts';
import { describeIssues } from '../models/index.ts';
import { formatFromPath, STREAM_FORMATS, type StreamFormat } from '../sim/writers.ts';

/** Bad input: the CLI answers it with exit code 2 and the message (which names the line, if any). */
export class BacktestInputError extends Error {
  constructor(
    message: string,
    readonly line: number | null = null,
  ) {
    super(message);
    this.name = 'BacktestInputError';
  }
}

/** One record of the stream, times as epoch milliseconds. */
export interface StreamRow {
  /** Line of the file the record starts on (1-based; a CSV header is line 1). */
  line: number;
  id: string;
  ts: number;
  features: FeatureRow;
  label: string | number | null;
  /** When the label arrived: label_ts, or ts when the file has none; null without a label. */
  labelTs: number | null;
  /** What the deployment answered at the time, when the file records it. */
  prediction: string | number | null;
  confidence: number | null;
  latencyMs: number | null;
  error: string | null;
  /** The version that answered the row, when the file records it (an export of the store does). */
  version: number | null;
}

export interface StreamFile {
  rows: StreamRow[];
  schema: FeatureSchema;
  task: Task;
  /** Class labels of a classifier, in order (the second is a binary model's positive class). */
  classes: string[] | null;
  /** How the schema and task were obtained, for the report. */
  inferred: { schema: boolean; task: boolean };
  /** Columns neither in the schema nor known: read and ignored. */
  ignoredColumns: string[];
  /** True when the file's records were not in ts order (they are sorted, stably). */
  reordered: boolean;
}

export interface ReadStreamOptions {
  format?: StreamFormat;
  schema?: FeatureSchema;
  task?: Task;
  /** Class labels known from a model artifact. */
  classes?: readonly string[];
  /**
   * Without a schema, infer it from the earliest `schemaFrom` records only (the rows version 1 is trained
   * on), as a live model's schema is fixed before later rows arrive: a column that an upstream fault
   * later turns into text, or fills with nulls or new categories, is then judged against the schema the
   * model had, not one widened by the fault.
   */
  schemaFrom?: number;
}

/** The known columns, by every name they go by (snake_case as in CSV, camelCase as the simulator's JSONL). */
const COLUMN_ALIASES: Record<string, KnownColumn> = {
  ts: 'ts',
  label: 'label',
  label_ts: 'labelTs',
  labelTs: 'labelTs',
  prediction: 'prediction',
  confidence: 'confidence',
  latency_ms: 'latencyMs',
  latencyMs: 'latencyMs',
  failed: 'failed',
  error: 'error',
  prediction_id: 'id',
  predictionId: 'id',
  id: 'id',
  seq: 'seq',
  version: 'version',
};
type KnownColumn =
  | 'ts'
  | 'label'
  | 'labelTs'
  | 'prediction'
  | 'confidence'
  | 'latencyMs'
  | 'failed'
  | 'error'
  | 'id'
  | 'seq'
  | 'version';

/** A record before typing: raw values by column name, features possibly nested (JSONL). */
interface RawRecord {
  line: number;
  values: Record<string, unknown>;
}

/** Regression when the labels are numbers with more distinct values than this; else classes. */
const MAX_INFERRED_CLASSES = 20;

export function readStreamFile(file: string, options: ReadStreamOptions = {}): StreamFile {
  const format = options.format ?? formatFromPath(file) ?? (file.endsWith('.ndjson') ? 'jsonl' : undefined);
  if (!format) {
    throw new BacktestInputError(
      `cannot tell the format of "${file}" from its extension: pass --format (${STREAM_FORMATS.join(', ')})`,
    );
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new BacktestInputError(`cannot read ${file}: ${(error as Error).message}`);
  }
  return parseStream(text, format, options);
}

export function parseStream(text: string, format: StreamFormat, options: ReadStreamOptions = {}): StreamFile {
  const records = format === 'csv' ? csvRecords(text) : jsonlRecords(text);
  if (records.length === 0) throw new BacktestInputError('the stream holds no records');
  const columns = new Set<string>();
  for (const r of records) for (const key of Object.keys(r.values)) columns.add(key);
  if (!columns.has('ts')) {
    throw new BacktestInputError(
      `the stream has no "ts" column (columns: ${[...columns].join(', ')}); every record needs its time`,
    );
  }
  const hasLabel = columns.has('label');
  if (!hasLabel) throw new BacktestInputError('the stream has no "label" column');
  const featureColumns = [...columns].filter((c) => !(c in COLUMN_ALIASES) && c !== 'features');
  const schema =
    options.schema ??
    inferSchema(
      options.schemaFrom === undefined ? records : earliest(records, options.schemaFrom),
      featureColumns,
      format,
    );
  const names = new Set(schema.map((s) => s.name));
  const ignoredColumns = featureColumns.filter((c) => !names.has(c));

  const task = options.task ?? inferTask(records);
  const rows = records.map((r) => typedRow(r, schema, task));
  const reordered = rows.some((row, i) => i > 0 && row.ts < rows[i - 1]!.ts);
  if (reordered) rows.sort((a, b) => a.ts - b.ts);
  const classes =
    task === 'regression'
      ? null
      : options.classes
        ? [...options.classes]
        : [...new Set(rows.flatMap((r) => (r.label === null ? [] : [String(r.label)])))].sort();
  if (classes !== null && classes.length < 2) {
    throw new BacktestInputError(`a ${task} stream needs at least two classes among its labels`);
  }
  return {
    rows,
    schema,
    task,
    classes,
    inferred: { schema: !options.schema, task: !options.task },
    ignoredColumns,
    reordered,
  };
}

/** Reads a feature schema file (a JSON array of feature specs, lib/domain.ts). */
export function readSchemaFile(file: string): FeatureSchema {
  const parsed = featureSchemaSchema.safeParse(readJsonFile(file, 'schema'));
  if (!parsed.success)
    throw new BacktestInputError(`${file}: invalid schema: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new BacktestInputError(`cannot read the ${what} file ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BacktestInputError(`${file}: the ${what} file is not valid JSON: ${(error as Error).message}`);
  }
}

export function parseTask(text: string): Task {
  const task = TASKS.find((t) => t === text);
  if (!task) throw new BacktestInputError(`unknown task "${text}" (known: ${TASKS.join(', ')})`);
  return task;
}

// ---- records ------------------------------------------------------------------------------------

function jsonlRecords(text: string): RawRecord[] {
  const records: RawRecord[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new BacktestInputError(`line ${i + 1}: not valid JSON: ${(error as Error).message}`, i + 1);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new BacktestInputError(`line ${i + 1}: a record must be a JSON object`, i + 1);
    }
    const { features, ...rest } = value as Record<string, unknown>;
    if (features !== undefined && (typeof features !== 'object' || features === null)) {
      throw new BacktestInputError(`line ${i + 1}: "features" must be an object`, i + 1);
    }
    // The simulator nests features; flat records carry them beside the known columns.
    records.push({ line: i + 1, values: { ...(features as object | undefined), ...rest } });
  });
  return records;
}

/** RFC 4180: quoted fields may hold commas, doubled quotes and line breaks; an unquoted empty field is null. */
function csvRecords(text: string): RawRecord[] {
  const parsed: { line: number; fields: (string | null)[] }[] = [];
  let fields: (string | null)[] = [];
  let field = '';
  let quoted = false;
  let inQuotes = false;
  let line = 1;
  let recordLine = 1;
  const endField = () => {
    fields.push(field === '' && !quoted ? null : field);
    field = '';
    quoted = false;
  };
  const endRecord = () => {
    endField();
    if (!(fields.length === 1 && fields[0] === null)) parsed.push({ line: recordLine, fields });
    fields = [];
    recordLine = line;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') inQuotes = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"') {
      if (field !== '') throw new BacktestInputError(`line ${line}: a quote inside an unquoted field`, line);
      inQuotes = quoted = true;
    } else if (c === ',') endField();
    else if (c === '\n') {
      line++;
      endRecord();
    } else if (c !== '\r') field += c;
  }
  if (inQuotes)
    throw new BacktestInputError(`line ${recordLine}: a quoted field is never closed`, recordLine);
  if (field !== '' || fields.length > 0) endRecord();

  const [header, ...body] = parsed;
  if (!header) return [];
  const names = header.fields.map((f, i) => {
    if (!f) throw new BacktestInputError(`line 1: column ${i + 1} of the header has no name`, 1);
    return f;
  });
  return body.map((r) => {
    if (r.fields.length !== names.length) {
      throw new BacktestInputError(
        `line ${r.line}: ${r.fields.length} fields where the header has ${names.length}`,
        r.line,
      );
    }
    return { line: r.line, values: Object.fromEntries(names.map((n, i) => [n, r.fields[i]])) };
  });
}

// ---- typing -------------------------------------------------------------------------------------

const isNumberText = (v: string) => v.trim() !== '' && Number.isFinite(Number(v));

/** The `n` records of the earliest times (file order among equal times). */
function earliest(records: RawRecord[], n: number): RawRecord[] {
  return records
    .map((r) => ({ r, ts: time(r.values.ts, 'ts', r.line) }))
    .sort((a, b) => a.ts - b.ts)
    .slice(0, n)
    .map((x) => x.r);
}

/** Numeric when every present value is a number, boolean when every one is true/false, else categorical. */
function inferSchema(records: RawRecord[], columns: string[], format: StreamFormat): FeatureSchema {
  if (columns.length === 0) throw new BacktestInputError('the stream has no feature columns');
  const schema = columns.map((name): FeatureSpec => {
    const present = records.map((r) => r.values[name]).filter((v) => v !== null && v !== undefined);
    const nullable = present.length < records.length;
    const text = format === 'csv';
    if (present.every((v) => (text ? isNumberText(String(v)) : typeof v === 'number'))) {
      return { name, type: 'numeric', nullable };
    }
    if (present.every((v) => (text ? v === 'true' || v === 'false' : typeof v === 'boolean'))) {
      return { name, type: 'boolean', nullable };
    }
    const categories = [...new Set(present.map(String))].sort();
    return { name, type: 'categorical', categories, nullable };
  });
  return featureSchemaSchema.parse(schema);
}

function inferTask(records: RawRecord[]): Task {
  const labels = records.map((r) => r.values.label).filter((v) => v !== null && v !== undefined && v !== '');
  const distinct = new Set(labels.map(String));
  const numeric = labels.every((v) => typeof v === 'number' || isNumberText(String(v)));
  if (numeric && distinct.size > MAX_INFERRED_CLASSES) return 'regression';
  return distinct.size <= 2 ? 'binary' : 'multiclass';
}

/** A CSV cell as the schema types it; a value that does not fit stays as read, for the monitor to flag. */
function featureValue(value: unknown, spec: FeatureSpec): FeatureValue {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') return value as FeatureValue;
  if (spec.type === 'numeric' && isNumberText(value)) return Number(value);
  if (spec.type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

function time(value: unknown, column: string, line: number): number {
  const ms =
    typeof value === 'number'
      ? value
      : isNumberText(String(value))
        ? Number(value)
        : Date.parse(String(value));
  if (!Number.isFinite(ms)) {
    throw new BacktestInputError(
      `line ${line}: ${column} "${String(value)}" is not an ISO 8601 time or epoch milliseconds`,
      line,
    );
  }
  return ms;
}

const present = (v: unknown) => v !== null && v !== undefined && v !== '';

function typedRow(record: RawRecord, schema: FeatureSchema, task: Task): StreamRow {
  const { line, values } = record;
  const known: Partial<Record<KnownColumn, unknown>> = {};
  for (const [key, value] of Object.entries(values)) {
    const column = COLUMN_ALIASES[key];
    if (column) known[column] = value;
  }
  if (!present(known.ts)) throw new BacktestInputError(`line ${line}: ts is empty`, line);
  const ts = time(known.ts, 'ts', line);
  const features = Object.fromEntries(
    schema.map((spec) => [spec.name, featureValue(values[spec.name], spec)]),
  );

  let label: string | number | null = null;
  if (present(known.label)) {
    if (task === 'regression') {
      label = Number(known.label);
      if (!Number.isFinite(label)) {
        throw new BacktestInputError(
          `line ${line}: label "${String(known.label)}" is not a number (the task is regression)`,
          line,
        );
      }
    } else label = String(known.label);
  }
  // A label cannot come back before its prediction was made; one stamped earlier arrives with it.
  const labelTs =
    label === null ? null : present(known.labelTs) ? Math.max(ts, time(known.labelTs, 'label_ts', line)) : ts;

  let prediction: string | number | null = null;
  if (present(known.prediction)) {
    prediction = task === 'regression' ? Number(known.prediction) : String(known.prediction);
  }
  const number = (v: unknown, column: string): number | null => {
    if (!present(v)) return null;
    const n = Number(v);
    if (!Number.isFinite(n))
      throw new BacktestInputError(`line ${line}: ${column} "${String(v)}" is not a number`, line);
    return n;
  };
  const failed = known.failed === true || known.failed === 'true';
  const error = present(known.error) ? String(known.error) : failed ? 'failed' : null;
  return {
    line,
    id: present(known.id) ? String(known.id) : `line-${line}`,
    ts,
    features,
    label,
    labelTs,
    prediction,
    confidence: number(known.confidence, 'confidence'),
    latencyMs: number(known.latencyMs, 'latency_ms'),
    error,
    version: number(known.version, 'version'),
  };
}
