// What one labelled output scores — right or wrong for a classifier, its squared error for a regressor —
// read exactly as the monitor reads outputs and labels (lib/monitor/outputs.ts tallyOutputs), so a
// candidate, a canary or a verification is judged by the same definition of a valid output, a valid
// label and a correct prediction as the windows that raised the incident. A row without a valid output
// (a failure, an unknown class) or without a valid label scores nothing: failures are judged by the
// failure rate, not by accuracy, as in the monitor.
import type { Evidence } from '../brain/contracts.ts';
import type { Task } from '../domain.ts';
import { type OutputRow, tallyOutputs } from '../monitor/outputs.ts';

export interface RowScore {
  correct: boolean;
  /** (prediction − truth)²; 0 for a classifier. */
  squaredError: number;
}

/** Scores rows of one task and class list; null for a row that scores nothing. */
export function rowScorer(task: Task, classes: readonly string[] | null) {
  return (row: OutputRow): RowScore | null => {
    // One row per tally: the tally keeps only valid rows, and a score must stay with its row.
    const { valid } = tallyOutputs(task, classes, [row]);
    if (valid.count === 0) return null;
    const truth = valid.truth[0]!;
    if (Number.isNaN(truth)) return null;
    const predicted = valid.predicted[0]!;
    return {
      correct: predicted === truth,
      squaredError: task === 'regression' ? (predicted - truth) ** 2 : 0,
    };
  };
}

/** Totals of scored rows: what accuracy, RMSE and their tests rest on. */
export interface ScoreTotals {
  rows: number;
  correct: number;
  sumSquaredError: number;
  /** Σ (squared error)², for the spread of the squared errors. */
  sumSquaredErrorSq: number;
}

export function emptyTotals(): ScoreTotals {
  return { rows: 0, correct: 0, sumSquaredError: 0, sumSquaredErrorSq: 0 };
}

/** Adds a score to totals in place; a null score is skipped. */
export function addScore(totals: ScoreTotals, score: RowScore | null): void {
  if (score === null) return;
  totals.rows++;
  if (score.correct) totals.correct++;
  totals.sumSquaredError += score.squaredError;
  totals.sumSquaredErrorSq += score.squaredError ** 2;
}

/** Accuracy or RMSE evidence (lib/brain/contracts.ts) from the totals of the scored rows. */
export function scoredEvidence(metric: 'accuracy' | 'rmse', totals: ScoreTotals): Evidence {
  const { rows } = totals;
  if (metric === 'accuracy') {
    return { metric, rows, value: rows > 0 ? totals.correct / rows : null, successes: totals.correct };
  }
  return {
    metric,
    rows,
    value: rows > 0 ? Math.sqrt(totals.sumSquaredError / rows) : null,
    sumSquaredError: totals.sumSquaredError,
    sumSquaredErrorSq: totals.sumSquaredErrorSq,
  };
}
