// How sure a classifier is of its predictions. A falling confidence or a rising entropy often precedes
// a measurable drop in accuracy: the inputs have moved to where the model has seen little data.
import { QuantileSketch } from '../stats/quantile-sketch.ts';
import type { ValidOutputs } from './outputs.ts';

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

/**
 * Confidence statistics folded page by page; confidenceMetrics is the one-page case. The quantiles and
 * the confidence drift test read `confidences`, a quantile sketch (exact up to `exactValues`).
 */
export class ConfidenceAccumulator {
  readonly confidences: QuantileSketch;
  private low = 0;
  private entropyCount = 0;
  private entropySum = 0;

  constructor(
    exactValues: number,
    private readonly lowConfidenceThreshold = CONFIDENCE_DEFAULTS.lowConfidenceThreshold,
  ) {
    this.confidences = new QuantileSketch(exactValues);
  }

  add(valid: ValidOutputs): this {
    const k = valid.classCount;
    const logK = Math.log(k);
    for (let i = 0; i < valid.count; i++) {
      const c = valid.confidence[i]!;
      if (!Number.isNaN(c)) {
        this.confidences.add(c);
        if (c < this.lowConfidenceThreshold) this.low++;
      }
      if (Number.isNaN(valid.probabilities[i * k]!)) continue;
      let entropy = 0;
      for (let j = 0; j < k; j++) {
        const p = valid.probabilities[i * k + j]!;
        if (p > 0) entropy -= p * Math.log(p);
      }
      this.entropyCount++;
      this.entropySum += k > 1 ? entropy / logK : 0;
    }
    return this;
  }

  /** Null without confidences. */
  result(): ConfidenceMetrics | null {
    const { confidences, entropyCount } = this;
    const n = confidences.count;
    if (n === 0) return null;
    const q = confidences.quantiles([0.05, 0.25, 0.5, 0.75, 0.95]);
    return {
      count: n,
      mean: confidences.sum / n,
      p05: q[0]!,
      p25: q[1]!,
      p50: q[2]!,
      p75: q[3]!,
      p95: q[4]!,
      lowConfidenceShare: this.low / n,
      lowConfidenceThreshold: this.lowConfidenceThreshold,
      meanEntropy: entropyCount > 0 ? this.entropySum / entropyCount : null,
      entropyCount,
    };
  }
}

/** Over the valid outputs with a confidence; null without any. */
export function confidenceMetrics(
  valid: ValidOutputs,
  lowConfidenceThreshold = CONFIDENCE_DEFAULTS.lowConfidenceThreshold,
): ConfidenceMetrics | null {
  return new ConfidenceAccumulator(Number.POSITIVE_INFINITY, lowConfidenceThreshold).add(valid).result();
}
