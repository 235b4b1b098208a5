// A candidate against production on the same held-out rows: each model's metric and the paired test of
// whether the candidate is better (lib/recovery/paired.ts). Pure: the retrain activity and the backtest
// score the rows (lib/recovery/outcomes.ts rowScorer) and hand the scores here.
import type { Task } from '../domain.ts';
import { mean, standardDeviation } from '../stats/index.ts';
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
  /** What the test saw, per row: enough to size the rows a conclusive answer needs (sample-size.ts). */
  effect: PairedEffect;
}

export type PairedEffect =
  /** Shares of the rows only the candidate / only production got right. */
  | { test: 'mcnemar'; candidateOnly: number; productionOnly: number }
  /** Mean and standard deviation of production's squared error minus the candidate's. */
  | { test: 'paired-t'; meanDifference: number; sdDifference: number };

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
    const differences = productionErrors.map((e, i) => e - candidateErrors[i]!);
    return {
      metric: 'rmse',
      candidate: rmse(candidateErrors),
      production: rmse(productionErrors),
      rows: n,
      ...test,
      effect: {
        test: 'paired-t',
        meanDifference: n > 0 ? mean(differences) : 0,
        sdDifference: n >= 2 ? standardDeviation(differences) : 0,
      },
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
    effect: {
      test: 'mcnemar',
      candidateOnly: candidateOnly / Math.max(1, n),
      productionOnly: productionOnly / Math.max(1, n),
    },
  };
}
