// How sure a classifier is of its predictions. A falling confidence or a rising entropy often precedes
// a measurable drop in accuracy: the inputs have moved to where the model has seen little data.
import { quantiles } from '../stats/index.ts';
import { presentConfidences, type ValidOutputs } from './outputs.ts';

export const CONFIDENCE_DEFAULTS = {
  /** Predictions with a confidence below this count as low-confidence. */
  lowConfidenceThreshold: 0.6,
};

export interface ConfidenceMetrics {
  /** Rows with a confidence. */
  count: number;
  mean: number;
  p05: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
  /** Share of rows with confidence below `lowConfidenceThreshold`. */
  lowConfidenceShare: number;
  lowConfidenceThreshold: number;
  /**
   * Mean entropy of the class probabilities, divided by ln(number of classes) so that it lies in [0, 1]
   * for any number of classes: 0 when every prediction is certain, 1 when every one is a coin toss.
   * Null without class probabilities.
   */
  meanEntropy: number | null;
  /** Rows with class probabilities. */
  entropyCount: number;
}

/** Over the valid outputs with a confidence; null without any. */
export function confidenceMetrics(
  valid: ValidOutputs,
  lowConfidenceThreshold = CONFIDENCE_DEFAULTS.lowConfidenceThreshold,
): ConfidenceMetrics | null {
  const confidences = presentConfidences(valid);
  const n = confidences.length;
  if (n === 0) return null;
  let sum = 0;
  let low = 0;
  for (const c of confidences) {
    sum += c;
    if (c < lowConfidenceThreshold) low++;
  }
  const q = quantiles(confidences, [0.05, 0.25, 0.5, 0.75, 0.95]);
  const k = valid.classCount;
  const logK = Math.log(k);
  let entropyCount = 0;
  let entropySum = 0;
  for (let i = 0; i < valid.count; i++) {
    if (Number.isNaN(valid.probabilities[i * k]!)) continue;
    let entropy = 0;
    for (let j = 0; j < k; j++) {
      const p = valid.probabilities[i * k + j]!;
      if (p > 0) entropy -= p * Math.log(p);
    }
    entropyCount++;
    entropySum += k > 1 ? entropy / logK : 0;
  }
  return {
    count: n,
    mean: sum / n,
    p05: q[0]!,
    p25: q[1]!,
    p50: q[2]!,
    p75: q[3]!,
    p95: q[4]!,
    lowConfidenceShare: low / n,
    lowConfidenceThreshold,
    meanEntropy: entropyCount > 0 ? entropySum / entropyCount : null,
    entropyCount,
  };
}
