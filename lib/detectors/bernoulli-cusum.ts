import { DetectorBase } from './base.ts';
import { type DetectorSignal, DRIFT_SIGNAL, NO_SIGNAL, requireParam, requireUnitInterval } from './types.ts';

export interface BernoulliCusumParams {
  /** In-control probability of a 1 (an error): the model's usual error rate. */
  p0: number;
  /**
   * One chart per rise of that probability (absolute) worth detecting, each with its decision interval
   * h on the log-likelihood ratio (nats).
   */
  charts: { shift: number; threshold: number }[];
  /** A chart stops growing at cap · h, so it falls back below h soon after the rate returns. */
  cap: number;
}

/**
 * Charts for rises of 0.05 (the policy's default minimum accuracy drop), 0.1 and 0.2. The larger the
 * shift, the more often a short burst of errors crosses a given h, so larger shifts get a larger h.
 * With h 7 / 10 / 11 the charts together raise under 0.1 false alarms per 10,000 values (below).
 */
export const BERNOULLI_CUSUM_DEFAULTS: BernoulliCusumParams = {
  p0: 0.1,
  charts: [
    { shift: 0.05, threshold: 7 },
    { shift: 0.1, threshold: 10 },
    { shift: 0.2, threshold: 11 },
  ],
  cap: 1.5,
};

export interface BernoulliCusumState {
  /** Some chart stands at or above h. */
  drift: boolean;
  /** One statistic per shift, in nats. */
  statistics: number[];
  /** Values and 1s each chart has accumulated since it last stood at zero (evidence). */
  rows: number[];
  ones: number[];
}

/**
 * Multi-chart Bernoulli CUSUM (Page 1954; Reynolds & Stoumbos 1999) for a rise of an error rate above a
 * known in-control rate p0. Chart j tests p0 against p1 = p0 + charts[j].shift with the log-likelihood ratio
 * of each value, x·ln(p1/p0) + (1 − x)·ln((1 − p1)/(1 − p0)), accumulated as S = max(0, S + llr); the
 * stream is drifted while some chart is at or above its h. The CUSUM is the fastest detector of a shift of
 * the size it is tuned to for a given false-alarm rate (Lorden's optimality), so a few charts beat
 * ADWIN on large changes and Page–Hinkley on small ones, where ADWIN's window split loses power.
 * One-sided on purpose: an error rate that falls is not a failure.
 *
 * Unlike River's detectors it does not restart after an alarm: `drift` is a level (the error rate is
 * still above p0 + shift), which the agent needs to keep a concept-drift finding confirmed while it
 * lasts; statistics are capped at cap · h so they come back below h a few hundred values after the
 * rate returns. An alarm is the update on which `drift` turns true (the signal's `drift`).
 *
 * `updateRun(x, n)` takes n equal values at once, in O(charts): within a run every chart moves in one
 * direction, so the run's end and the value on which it crosses h are closed-form. Run-length encoded
 * error streams (the monitor's `errorRuns`) are fed that way.
 *
 * Measured with default parameters and p0 known (4·10⁶ values; mean delays over 300 seeds from charts
 * at 0): at p0 = 0.1, 0.08 false alarms per 10k, rises of 0.05 / 0.1 / 0.2 found after 526 / 191 / 69
 * values; at p0 = 0.2, 0.07 per 10k and 852 / 299 / 102. detect, which estimates p0 from production windows, is
 * measured by bench:detection (docs/benchmarks.md). Cost ≈ 0.25 µs per value (it checks every
 * chart), O(charts) per run.
 */
export class BernoulliCusum extends DetectorBase<BernoulliCusumParams, BernoulliCusumState> {
  readonly kind = 'bernoulli_cusum';
  /** Per chart, the log-likelihood ratio of a 1 and of a 0. */
  private readonly llr: { one: number; zero: number }[];

  constructor(params: Partial<BernoulliCusumParams> = {}, state?: BernoulliCusumState) {
    super(BERNOULLI_CUSUM_DEFAULTS, params, state, checkParams);
    const { p0, charts } = this.params;
    this.llr = charts.map(({ shift }) => {
      const p1 = p0 + shift;
      return { one: Math.log(p1 / p0), zero: Math.log((1 - p1) / (1 - p0)) };
    });
    // A state saved with other charts cannot continue: start afresh.
    if (this.s.statistics.length !== charts.length) this.s = this.initialState();
  }

  /** The chart highest relative to its h (ratio ≥ 1 while drifted), and that ratio. */
  get level(): { ratio: number; chart: number } {
    let chart = 0;
    let ratio = 0;
    this.s.statistics.forEach((v, j) => {
      const r = v / this.params.charts[j]!.threshold;
      if (r > ratio) {
        ratio = r;
        chart = j;
      }
    });
    return { ratio, chart };
  }

  update(x: number): DetectorSignal {
    return this.updateRun(x, 1) > 0 ? DRIFT_SIGNAL : NO_SIGNAL;
  }

  /**
   * Feeds `n` copies of `x`; returns the 1-based position within the run of the value on which the
   * stream became drifted, or 0 when it did not become drifted in this run.
   */
  updateRun(x: number, n: number): number {
    requireUnitInterval(x, 'BernoulliCusum');
    return this.advance(n, n * x, true);
  }

  /**
   * Feeds `n` values of which `ones` are 1, in an unknown order, as one step: the charts as a CUSUM
   * checked only after the batch would have them (a crossing inside the batch that the batch's end
   * undoes is not seen). Returns n when the stream became drifted, else 0.
   */
  updateCounts(n: number, ones: number): number {
    requireParam(ones >= 0 && ones <= n, 'BernoulliCusum', 'ones must be in [0, n]');
    return this.advance(n, ones, false);
  }

  private advance(n: number, ones: number, run: boolean): number {
    requireParam(Number.isInteger(n) && n >= 0, 'BernoulliCusum', 'a run length must be an integer ≥ 0');
    const s = this.s;
    const wasDrift = s.drift;
    let crossing = 0;
    this.llr.forEach(({ one, zero }, j) => {
      const h = this.params.charts[j]!.threshold;
      const total = ones * one + (n - ones) * zero;
      const before = s.statistics[j]!;
      const after = Math.min(this.params.cap * h, Math.max(0, before + total));
      if (!wasDrift && before < h && after >= h) {
        // Within a run every value moves the chart by total / n: the crossing value is closed-form.
        const at = run ? Math.max(1, Math.ceil(((h - before) * n) / total - 1e-9)) : n;
        crossing = crossing === 0 ? at : Math.min(crossing, at);
      }
      s.statistics[j] = after;
      if (after === 0) {
        s.rows[j] = 0;
        s.ones[j] = 0;
      } else {
        s.rows[j]! += n;
        s.ones[j]! += ones;
      }
    });
    s.drift = s.statistics.some((v, j) => v >= this.params.charts[j]!.threshold);
    return crossing;
  }

  protected initialState(): BernoulliCusumState {
    const zeros = () => this.params.charts.map(() => 0);
    return { drift: false, statistics: zeros(), rows: zeros(), ones: zeros() };
  }

  protected override copyState(s: BernoulliCusumState): BernoulliCusumState {
    return { ...s, statistics: [...s.statistics], rows: [...s.rows], ones: [...s.ones] };
  }
}

function checkParams(p: BernoulliCusumParams): void {
  requireParam(p.p0 > 0 && p.p0 < 1, 'BernoulliCusum', 'p0 must be in (0, 1)');
  requireParam(
    p.charts.length > 0 && p.charts.every((c) => c.shift > 0 && p.p0 + c.shift < 1 && c.threshold > 0),
    'BernoulliCusum',
    'every chart needs a shift > 0 with p0 + shift < 1, and a threshold > 0',
  );
  requireParam(p.cap >= 1, 'BernoulliCusum', 'cap must be ≥ 1');
}
