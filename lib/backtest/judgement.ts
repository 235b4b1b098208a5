// The backtest's evidence, judged by the recovery engine's own statistics (lib/recovery): the scores a
// retrained candidate and production get on the same rows (judged by lib/recovery/refit-evidence.ts, as
// the retrain activity judges them), and the served rows after a remedy as the evidence judgeRecovery reads.
import type { Evidence } from '../brain/contracts.ts';
import type { VerificationBaseline } from '../brain/types.ts';
import type { ModelAdapter, ModelOutput } from '../models/index.ts';
import type { rowScorer, ScoreTotals } from '../recovery/outcomes.ts';
import type { FoldScores } from '../recovery/refit-evidence.ts';
import type { LabelledRows } from './versions.ts';

/**
 * Both models' scores on the same labelled rows, as the retrain activity scores a fold's test rows.
 * Production's answer is the recorded one wherever the stream has it: that is what production served.
 */
export async function scoreBoth(
  candidate: ModelAdapter,
  production: ModelAdapter,
  tested: LabelledRows,
  score: ReturnType<typeof rowScorer>,
): Promise<FoldScores> {
  const [c, rescored] = await Promise.all([candidate.predict(tested.rows), production.predict(tested.rows)]);
  const p = rescored.map((o, i): ModelOutput => {
    const recorded = tested.recorded?.[i];
    return recorded ? { prediction: recorded.prediction, confidence: recorded.confidence } : o;
  });
  const scored = (outputs: ModelOutput[]) =>
    outputs.map((o, i) =>
      score({
        error: null,
        output: { prediction: o.prediction, probabilities: o.probabilities },
        confidence: o.confidence,
        label: { value: tested.labels[i]! },
      }),
    );
  return { candidate: scored(c), production: scored(p) };
}

/** What served traffic since a remedy shows: scored labelled rows and the system metrics of all rows. */
export interface ServedEvidence {
  totals: ScoreTotals;
  failureRate: number | null;
  latencyP95Ms: number | null;
  served: number;
}

/** The evidence in the recovery engine's terms (lib/brain/contracts.ts Evidence) for the baseline's metric. */
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
