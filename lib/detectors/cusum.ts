import { DetectorBase } from './base.ts';
import {
  CHANGE_DIRECTIONS,
  type ChangeDirection,
  type DetectorSignal,
  DRIFT_SIGNAL,
  NO_SIGNAL,
  requireFinite,
  requireParam,
} from './types.ts';

export interface CusumParams {
  /** Slack k, in reference standard deviations: shifts smaller than k are absorbed. */
  k: number;
  /** Decision interval h, in reference standard deviations. */
  h: number;
  /** Values used to estimate the reference mean and sd when they are not given. */
  warmup: number;
  /** Watch increases, decreases or both. */
  mode: ChangeDirection;
  /** Known in-control mean; give it together with `sd` to skip the warm-up. */
  mean: number | null;
  /** Known in-control standard deviation (> 0); give it together with `mean`. */
  sd: number | null;
}

export const CUSUM_DEFAULTS: CusumParams = { k: 0.5, h: 8, warmup: 200, mode: 'both', mean: null, sd: null };

export interface CusumState {
  drift: boolean;
  /** Warm-up values seen (Welford). */
  n: number;
  warmupMean: number;
  warmupM2: number;
  /** The frozen reference; null while warming up. */
  refMean: number | null;
  refSd: number | null;
  /** Upper and lower CUSUM statistics, in reference sd. */
  upper: number;
  lower: number;
}

/**
 * Two-sided tabular CUSUM (Page 1954; Montgomery, Introduction to Statistical Quality Control, ch. 9) on
 * z = (x − μ₀)/σ₀:  C⁺ = max(0, C⁺ + z − k),  C⁻ = max(0, C⁻ − z − k); drift when C⁺ or C⁻ > h.
 *
 * The reference μ₀, σ₀ is either given (`mean`, `sd`) or estimated over the first `warmup` values
 * (sample mean and sd) and then frozen: a running mean would chase the shift being detected. If the
 * warm-up values are all equal, the warm-up goes on until they are not, since σ₀ = 0 would turn any
 * deviation into an alarm. After a drift the detector restarts, re-estimating the reference from the
 * new regime unless it was given.
 *
 * k = 0.5 is tuned to a 1 σ₀ shift. h = 8, rather than the textbook 4–5 whose in-control run length
 * is a few hundred values, keeps false alarms near one per 10,000 once the reference is estimated
 * from 200 values. Measured with default parameters (20 seeds × 10,000 values): N(0, 1): 1.3 false
 * alarms per 10k, and a 1 σ₀ shift found after 18 values on average. Meant for roughly symmetric
 * metrics: on raw 0/1 error streams every error is a z of (1 − p)/√(p(1 − p)) = 3 at p = 0.1 and 10 at
 * p = 0.01, giving 6 and 16 false alarms per 10k — use ADWIN or HDDM there. Cost ≈ 0.05 µs per update.
 */
export class Cusum extends DetectorBase<CusumParams, CusumState> {
  readonly kind = 'cusum';

  constructor(params: Partial<CusumParams> = {}, state?: CusumState) {
    super(CUSUM_DEFAULTS, params, state, checkParams);
  }

  update(x: number): DetectorSignal {
    requireFinite(x, 'CUSUM');
    this.restartAfterDrift();
    const s = this.s;
    if (s.refMean === null || s.refSd === null) {
      this.warmUp(x);
      return NO_SIGNAL;
    }
    const { k, h, mode } = this.params;
    const z = (x - s.refMean) / s.refSd;
    s.upper = Math.max(0, s.upper + z - k);
    s.lower = Math.max(0, s.lower - z - k);
    s.drift = (mode !== 'down' && s.upper > h) || (mode !== 'up' && s.lower > h);
    return s.drift ? DRIFT_SIGNAL : NO_SIGNAL;
  }

  private warmUp(x: number): void {
    const s = this.s;
    s.n += 1;
    const d = x - s.warmupMean;
    s.warmupMean += d / s.n;
    s.warmupM2 += d * (x - s.warmupMean);
    if (s.n >= this.params.warmup && s.warmupM2 > 0) {
      s.refMean = s.warmupMean;
      s.refSd = Math.sqrt(s.warmupM2 / (s.n - 1));
    }
  }

  protected initialState(): CusumState {
    const { mean, sd } = this.params;
    return { drift: false, n: 0, warmupMean: 0, warmupM2: 0, refMean: mean, refSd: sd, upper: 0, lower: 0 };
  }
}

function checkParams(p: CusumParams): void {
  requireParam(p.k >= 0, 'CUSUM', 'k must be ≥ 0');
  requireParam(p.h > 0, 'CUSUM', 'h must be > 0');
  requireParam(Number.isInteger(p.warmup) && p.warmup >= 2, 'CUSUM', 'warmup must be an integer ≥ 2');
  requireParam(CHANGE_DIRECTIONS.includes(p.mode), 'CUSUM', "mode must be 'up', 'down' or 'both'");
  requireParam((p.mean === null) === (p.sd === null), 'CUSUM', 'give mean and sd together, or neither');
  requireParam(p.mean === null || Number.isFinite(p.mean), 'CUSUM', 'mean must be finite');
  requireParam(p.sd === null || (Number.isFinite(p.sd) && p.sd > 0), 'CUSUM', 'sd must be finite and > 0');
}
