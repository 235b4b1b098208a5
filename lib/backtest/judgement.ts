// The backtest's two judgements, made by the recovery engine's own statistics (lib/recovery): whether a
// retrained candidate beats production on the held-out rows (McNemar mid-p on paired correctness, or a
// paired t-test on squared errors), and whether the evidence after a remedy shows recovery (judgeRecovery).
import type { Evidence } from '../../activities/contracts.ts';
import type { VerificationBaseline } from '../../workflows/types.ts';
import type { ModelAdapter } from '../models/index.ts';
import type { Policy } from '../policy/policy.ts';
import { judgeRecovery, type RecoveryJudgement } from '../recovery/judge.ts';
import type { rowScorer, ScoreTotals } from '../recovery/outcomes.ts';
import { mcnemarMidP, pairedTTestGreater } from '../recovery/paired.ts';
import type { LabelledRows, ModelShape } from './versions.ts';

export interface CandidateComparison {
  metric: 'accuracy' | 'rmse';
  candidate: number;
  production: number;
  statistic: number;
  /** One-sided: that the candidate is no better than production. */
  pValue: number;
}

/** Scores both models on the same held-out rows, as the retrain activity compares them. */
export async function compareCandidate(
  shape: ModelShape,
  candidate: ModelAdapter,
  production: ModelAdapter,
  holdout: LabelledRows,
  score: ReturnType<typeof rowScorer>,
): Promise<CandidateComparison> {
  const [c, p] = await Promise.all([candidate.predict(holdout.rows), production.predict(holdout.rows)]);
  const scored = (outputs: typeof c, i: number) =>
    score({
      error: null,
      output: { prediction: outputs[i]!.prediction, probabilities: outputs[i]!.probabilities },
      confidence: outputs[i]!.confidence,
      label: { value: holdout.labels[i]! },
    });
  let candidateOnly = 0;
  let productionOnly = 0;
  let candidateCorrect = 0;
  let productionCorrect = 0;
  const candidateErrors: number[] = [];
  const productionErrors: number[] = [];
  for (let i = 0; i < holdout.rows.length; i++) {
    const a = scored(c, i);
    const b = scored(p, i);
    if (a === null || b === null) continue;
    candidateCorrect += Number(a.correct);
    productionCorrect += Number(b.correct);
    if (a.correct && !b.correct) candidateOnly++;
    if (b.correct && !a.correct) productionOnly++;
    candidateErrors.push(a.squaredError);
    productionErrors.push(b.squaredError);
  }
  const n = candidateErrors.length;
  if (shape.task === 'regression') {
    const rmse = (errors: number[]) =>
      Math.sqrt(errors.reduce((s, e) => s + e, 0) / Math.max(1, errors.length));
    const test = n >= 2 ? pairedTTestGreater(productionErrors, candidateErrors) : { statistic: 0, pValue: 1 };
    return { metric: 'rmse', candidate: rmse(candidateErrors), production: rmse(productionErrors), ...test };
  }
  const test = mcnemarMidP(candidateOnly, productionOnly);
  return {
    metric: 'accuracy',
    candidate: candidateCorrect / Math.max(1, n),
    production: productionCorrect / Math.max(1, n),
    ...test,
  };
}

/** What served traffic since a remedy shows: scored labelled rows and the system metrics of all rows. */
export interface ServedEvidence {
  totals: ScoreTotals;
  failureRate: number | null;
  latencyP95Ms: number | null;
  served: number;
}

/** The evidence in the recovery engine's terms (activities/contracts.ts Evidence) for the baseline's metric. */
export function evidenceFor(metric: VerificationBaseline['metric'], e: ServedEvidence): Evidence {
  const { totals } = e;
  switch (metric) {
    case 'accuracy':
      return {
        metric,
        rows: totals.rows,
        value: totals.rows > 0 ? totals.correct / totals.rows : null,
        successes: totals.correct,
      };
    case 'rmse':
      return {
        metric,
        rows: totals.rows,
        value: totals.rows > 0 ? Math.sqrt(totals.sumSquaredError / totals.rows) : null,
        sumSquaredError: totals.sumSquaredError,
        sumSquaredErrorSq: totals.sumSquaredErrorSq,
      };
    case 'failureRate':
      return { metric, rows: e.served, value: e.failureRate };
    case 'latencyP95Ms':
      return { metric, rows: e.served, value: e.latencyP95Ms };
    case 'qualityRate':
      // The replayed inputs are the recorded ones: a remedy cannot change their quality.
      return { metric, rows: 0, value: null };
  }
}

export function judgeEvidence(
  baseline: VerificationBaseline | null,
  evidence: ServedEvidence,
  verification: Policy['verification'],
): RecoveryJudgement {
  if (baseline === null) {
    return {
      verdict: 'not_recovered',
      statistic: null,
      pValue: null,
      detail: 'no pre-failure baseline to compare with (no healthy windows and no reference performance)',
    };
  }
  return judgeRecovery(baseline, evidenceFor(baseline.metric, evidence), verification);
}
