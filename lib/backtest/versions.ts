// The versions of a backtest: a model artifact with the reference profile the monitor compares its
// traffic against, built as the registry builds one for a registered version (lib/registry/versions.ts
// registerVersion): the profile of the rows it was trained on (or given as reference), scored by the
// version, with its baseline performance evaluated on held-out rows.
import type { FeatureRow, FeatureSchema, Task } from '../domain.ts';
import {
  type Label,
  loadModel,
  type ModelAdapter,
  type ModelArtifact,
  type TrainerKind,
  trainModel,
} from '../models/index.ts';
import { buildReferenceProfile, evaluateOutputs, type ReferenceProfile } from '../monitor/index.ts';
import type { Segment } from '../segments/segment.ts';

export interface BacktestVersion {
  version: number;
  /**
   * How the backtest got it: the given artifact, the fallback, trained on the first rows, a retrain, or
   * a version of the deployment history.
   */
  origin: 'model' | 'fallback' | 'trained' | 'retrain' | 'deployed';
  artifact: ModelArtifact;
  model: ModelAdapter;
  /** Null when the version came without reference rows: drift is then not judged, as in the registry. */
  profile: ReferenceProfile | null;
  trainRows: number;
  holdoutRows: number;
}

export interface ModelShape {
  schema: FeatureSchema;
  task: Task;
  classes: string[] | null;
  /** The model's segments: each version's profile gets their own references, as the registry's does. */
  segments?: readonly Segment[];
}

/** Labelled rows in time order, and when each arrived. */
export interface LabelledRows {
  rows: FeatureRow[];
  labels: Label[];
  timestamps: Date[];
  /**
   * What production answered each row in the stream's own record, where the stream has it (null where
   * not): a candidate is compared with those answers, not with a re-scoring by the backtest's version.
   */
  recorded?: (RecordedAnswer | null)[];
}

/** A prediction as the stream recorded it. */
export interface RecordedAnswer {
  prediction: string | number;
  confidence: number | null;
}

/** The default trainer per task when the backtest trains version 1 itself. */
export function defaultTrainer(task: Task): TrainerKind {
  return task === 'regression' ? 'linear-regression' : 'logistic-regression';
}

/** Rows [from, to) of time-ordered labelled rows. */
export function sliceRows(data: LabelledRows, from: number, to?: number): LabelledRows {
  return {
    rows: data.rows.slice(from, to),
    labels: data.labels.slice(from, to),
    timestamps: data.timestamps.slice(from, to),
    ...(data.recorded ? { recorded: data.recorded.slice(from, to) } : {}),
  };
}

/**
 * The rows `keep` picks, without their recorded answers: a segment's rows are compared by what its
 * fallback version answers, as the retrain activity re-predicts them (activities/retrain.ts scoreOnRoute),
 * and the other segments' earlier rows only train.
 */
export function rowsWhere(data: LabelledRows, keep: (row: FeatureRow) => boolean): LabelledRows {
  const picked = data.rows.flatMap((row, i) => (keep(row) ? [i] : []));
  return {
    rows: picked.map((i) => data.rows[i]!),
    labels: picked.map((i) => data.labels[i]!),
    timestamps: picked.map((i) => data.timestamps[i]!),
  };
}

/** `first`'s rows, then `then`'s (a training set of a segment incident's prior rows and the recent ones). */
export function concatRows(first: LabelledRows, then: LabelledRows): LabelledRows {
  return {
    rows: [...first.rows, ...then.rows],
    labels: [...first.labels, ...then.labels],
    timestamps: [...first.timestamps, ...then.timestamps],
  };
}

/** The most recent `share` of time-ordered rows held out: a stream's future is what a model must predict. */
export function splitHoldout(
  data: LabelledRows,
  share: number,
): { training: LabelledRows; holdout: LabelledRows } {
  const cut = data.rows.length - Math.round(data.rows.length * share);
  return { training: sliceRows(data, 0, cut), holdout: sliceRows(data, cut) };
}

/**
 * A version from an artifact: its profile of the reference rows, and its baseline on `validation` (or on
 * the reference rows themselves when there is no held-out set, as the registry does for an artifact);
 * or the `profile` given, as the registry stored it.
 */
export async function makeVersion(
  shape: ModelShape,
  input: {
    version: number;
    origin: BacktestVersion['origin'];
    artifact: ModelArtifact;
    reference: LabelledRows | null;
    validation: LabelledRows | null;
    profile?: ReferenceProfile | null;
  },
): Promise<BacktestVersion> {
  const model = loadModel(input.artifact);
  const { reference, validation } = input;
  let profile: ReferenceProfile | null = input.profile ?? null;
  if (!profile && reference && reference.rows.length > 0) {
    const outputs = await model.predict(reference.rows);
    const evaluated = validation ?? reference;
    const evaluation = evaluateOutputs({
      task: shape.task,
      labels: shape.classes,
      outputs: evaluated === reference ? outputs : await model.predict(evaluated.rows),
      truth: evaluated.labels,
    });
    profile = {
      ...buildReferenceProfile({
        schema: shape.schema,
        task: shape.task,
        labels: shape.classes,
        rows: reference.rows,
        outputs,
        segments: shape.segments ?? [],
        // No arrival rate, as the registry stores none: the monitor then judges a window's gaps as the
        // live agent does (a window without traffic), not against the reference rows' spacing, which a
        // bursty stream (predictions logged in batches) makes look like traffic stopping between batches.
      }),
      ...evaluation,
    };
  }
  return {
    version: input.version,
    origin: input.origin,
    artifact: input.artifact,
    model,
    profile,
    trainRows: input.origin === 'trained' || input.origin === 'retrain' ? (reference?.rows.length ?? 0) : 0,
    holdoutRows: validation?.rows.length ?? 0,
  };
}

/** Trains a version on `training`; its baseline is measured on `holdout`. */
export async function trainVersion(
  shape: ModelShape,
  input: {
    version: number;
    origin: 'trained' | 'retrain';
    trainer: { kind: TrainerKind; options: Record<string, unknown> };
    training: LabelledRows;
    holdout: LabelledRows;
    /** The rows its reference profile describes, when not all its training rows are of live traffic's mix. */
    reference?: LabelledRows;
  },
): Promise<BacktestVersion> {
  const { training, holdout } = input;
  const artifact = await trainModel(
    input.trainer.kind,
    shape.task,
    shape.schema,
    { rows: training.rows, labels: training.labels },
    input.trainer.options as never,
  );
  return makeVersion(shape, {
    version: input.version,
    origin: input.origin,
    artifact,
    reference: input.reference ?? training,
    validation: holdout.rows.length > 0 ? holdout : null,
  });
}
