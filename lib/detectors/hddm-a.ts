import { DetectorBase, settleDriftOrWarning } from './base.ts';
import { type DetectorSignal, requireConfidences, requireUnitInterval } from './types.ts';

export interface HddmAParams {
  /** Significance of the drift test (and of the cut-point bound). */
  driftConfidence: number;
  /** Significance of the warning test; larger than driftConfidence. */
  warningConfidence: number;
}

export const HDDM_A_DEFAULTS: HddmAParams = { driftConfidence: 0.001, warningConfidence: 0.005 };

export interface HddmAState {
  drift: boolean;
  warning: boolean;
  /** Count and mean of all values since the last reset. */
  n: number;
  mean: number;
  /** Count and mean at the cut point: the prefix whose upper Hoeffding bound was lowest. */
  cutN: number;
  cutMean: number;
}

/**
 * HDDM_A (Frías-Blanco et al. 2015), the A-test: Hoeffding bounds on plain averages, with River's
 * semantics (`river.drift.binary.HDDMA`, one-sided). It keeps the prefix of the stream whose mean
 * plus Hoeffding bound was lowest (the cut point) and compares the overall mean with it:
 * drift (warning) when mean − cutMean ≥ √(m/2 · ln(2/c)) with m = (n − cutN)/(cutN · n) and
 * c = driftConfidence (warningConfidence). Input in [0, 1], 1 = error.
 *
 * Measured with default parameters (20 seeds × 10,000 values): 0 false alarms per 10k on
 * Bernoulli(0.1) and on Bernoulli(0.01). Delay with the change at 5,000: 0.10 → 0.30 mean 96 values,
 * 0.10 → 0.20 mean 383, all caught. Cost ≈ 0.08 µs per update.
 */
export class HddmA extends DetectorBase<HddmAParams, HddmAState> {
  readonly kind = 'hddm_a';
  // ln(1/driftConfidence) of the cut-point bound, derived from params.
  private readonly logInvDrift: number;

  constructor(params: Partial<HddmAParams> = {}, state?: HddmAState) {
    super(HDDM_A_DEFAULTS, params, state, (p) => requireConfidences(p, 'HDDM_A'));
    this.logInvDrift = Math.log(1 / this.params.driftConfidence);
  }

  update(x: number): DetectorSignal {
    requireUnitInterval(x, 'HDDM_A');
    this.restartAfterDrift();
    const s = this.s;
    s.n += 1;
    s.mean += (x - s.mean) / s.n;
    if (s.cutN === 0 || s.cutMean + this.bound(s.cutN) >= s.mean + this.bound(s.n)) {
      s.cutN = s.n;
      s.cutMean = s.mean;
    }
    return settleDriftOrWarning(
      s,
      this.meanIncreased(this.params.driftConfidence),
      this.meanIncreased(this.params.warningConfidence),
    );
  }

  protected initialState(): HddmAState {
    return { drift: false, warning: false, n: 0, mean: 0, cutN: 0, cutMean: 0 };
  }

  private bound(n: number): number {
    return Math.sqrt((1 / (2 * n)) * this.logInvDrift);
  }

  private meanIncreased(confidence: number): boolean {
    const s = this.s;
    if (s.cutN === s.n) return false;
    const m = ((s.n - s.cutN) / s.cutN) * (1 / s.n);
    return s.mean - s.cutMean >= Math.sqrt((m / 2) * Math.log(2 / confidence));
  }
}
