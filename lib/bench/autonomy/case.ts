// A case of the autonomy benchmark: one stream, how it was made, and what the right response to it is.
import type { FeatureRow, FeatureSchema } from '../../domain.ts';
import type { SegmentDefinition } from '../../segments/definition.ts';

/** What a person would want the agent to do (docs: /work/shared/notes/evaluating-autonomy.md). */
export const RESPONSE_CLASSES = ['none', 'alert', 'protect', 'retrain', 'rollback', 'escalate'] as const;
export type ResponseClass = (typeof RESPONSE_CLASSES)[number];

/** How the world changed, in replayed-row indices (0 = the first row after the reference). */
export type CaseChange =
  | { kind: 'none' }
  /**
   * The labels' dependence on the features changed at `at` (and, for recurring, back at `until`); with
   * `segment`, only in that segment's rows (one of the case's segments).
   */
  | { kind: 'concept'; at: number; until?: number; incremental?: boolean; segment?: string }
  /** The feature distribution moved at `at`. */
  | { kind: 'covariate'; at: number }
  /** Rows [at, until) reach the model corrupted; clean twins in CaseRow.clean. */
  | { kind: 'fault'; at: number; until: number }
  /** A short burst of label noise in rows [at, until). */
  | { kind: 'blip'; at: number; until: number };

export interface CaseRow {
  /** Epoch ms of the prediction. */
  ts: number;
  /** Epoch ms the label arrives; null: never. */
  labelTs: number | null;
  features: FeatureRow;
  label: number | string;
  /** For a fault: the features as they were before the upstream broke them. */
  clean?: FeatureRow;
}

export interface BenchCase {
  id: string;
  family: string;
  set: 'development' | 'held-out';
  seed: number;
  description: string;
  /** The first `referenceRows` rows train version 1 (and its fallback); the rest are replayed. */
  referenceRows: number;
  rows: CaseRow[];
  /** Given to the backtest (--schema) when the case says the user has one; else inferred. */
  schema: FeatureSchema | null;
  change: CaseChange;
  /** The model's segment definitions, given to the backtest as its --segments file gives them. */
  segments?: SegmentDefinition[];
  /**
   * The response the case was built to need before checking: the checks (does a refit help, does the
   * fault hurt) settle the accepted set (lib/bench/autonomy/expected.ts).
   */
  intent: 'repair' | 'protect' | 'quiet';
  traffic: { rowsPerSecond: number; labelDelaySeconds: number };
}
