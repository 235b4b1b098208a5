// A candidate against production on the same held-out rows: each model's metric and the paired test of
// whether the candidate is better (lib/recovery/paired.ts). Pure: the retrain activity and the backtest
// score the rows (lib/recovery/outcomes.ts rowScorer) and hand the scores here.
import type { Task } from '../domain.ts';
import type { RowScore } from './outcomes.ts';
import { mcnemarMidP, pairedTTestGreater } from './paired.ts';

export interface HoldoutComparison {
  metric: 'accuracy' | 'rmse';
  /** Accuracy or RMSE of each model on the rows both could be scored on. */
  candidate: number;
  production: number;
  /** Rows both models' outputs scored on (a row without a valid output from either is left out). */
  rows: number;
  statistic: number;
  /** One-sided: that the candidate is no better than production (McNemar mid-p / paired t). */
  pValue: number;
}

/** Compares row-aligned scores; classifiers by McNemar on paired correctness, regressors by paired t. */
export function compareScores(
  task: Task,
  candidate: readonly (RowScore | null)[],
  production: readonly (RowScore | null)[],
): HoldoutComparison {
  const pairs = candidate.flatMap((c, i) => {
    const p = production[i];
    return c && p ? [{ c, p }] : [];
  });
  const n = pairs.length;
  if (task === 'regression') {
    const candidateErrors = pairs.map((pair) => pair.c.squaredError);
    const productionErrors = pairs.map((pair) => pair.p.squaredError);
    const rmse = (errors: number[]) => Math.sqrt(errors.reduce((sum, e) => sum + e, 0) / Math.max(1, n));
    const test = n >= 2 ? pairedTTestGreater(productionErrors, candidateErrors) : { statistic: 0, pValue: 1 };
    return {
      metric: 'rmse',
      candidate: rmse(candidateErrors),
      production: rmse(productionErrors),
      rows: n,
      ...test,
    };
  }
  let candidateOnly = 0;
  let productionOnly = 0;
  let candidateCorrect = 0;
  let productionCorrect = 0;
  for (const { c, p } of pairs) {
    candidateCorrect += Number(c.correct);
    productionCorrect += Number(p.correct);
    if (c.correct && !p.correct) candidateOnly++;
    if (p.correct && !c.correct) productionOnly++;
  }
  return {
    metric: 'accuracy',
    candidate: candidateCorrect / Math.max(1, n),
    production: productionCorrect / Math.max(1, n),
    rows: n,
    ...mcnemarMidP(candidateOnly, productionOnly),
  };
}
