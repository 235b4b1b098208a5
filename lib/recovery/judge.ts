// The statistical judgements the recovery workflows make: did a remedy bring the hurt metric back
// (judgeRecovery), and may a candidate in canary or shadow replace production (judgeCanary)? Pure and
// deterministic — the workflows call them in workflow code — so no I/O, clocks or Node imports here;
// only lib/stats, whose tails are checked against SciPy.
import type { Evidence, OutcomeCounts, ServedComparison } from '../brain/contracts.ts';
import type { VerificationBaseline } from '../brain/types.ts';
import type { ServingMode } from '../domain.ts';
import { durationMs } from '../policy/duration.ts';
import type { Policy } from '../policy/policy.ts';
import { normalSf, studentTSf, twoProportionZTest } from '../stats/index.ts';

// ---------------------------------------------------------------- recovery

export interface RecoveryOptions {
  /** Allowed distance from the baseline: absolute for accuracy and rates, relative for RMSE and latency. */
  tolerance: number;
  alpha: number;
  /** Rows below which no verdict but 'not recovered' (and only a significant one) is given. */
  minRows: number;
}

export interface RecoveryJudgement {
  verdict: 'recovered' | 'not_recovered' | 'insufficient';
  /** z (rates, latency) or t (RMSE) of the evidence against the tolerance threshold; null without a test. */
  statistic: number | null;
  /** One-sided p-value that the metric is no worse than the threshold; null without a test. */
  pValue: number | null;
  detail: string;
}

/** Higher is better for accuracy only; the others are losses. */
const HIGHER_IS_BETTER: Record<VerificationBaseline['metric'], boolean> = {
  accuracy: true,
  rmse: false,
  latencyP95Ms: false,
  failureRate: false,
  qualityRate: false,
};

/** The worst value still within tolerance of the baseline. */
function recoveryThreshold(baseline: VerificationBaseline, tolerance: number): number {
  switch (baseline.metric) {
    case 'accuracy':
      return baseline.value - tolerance;
    case 'failureRate':
    case 'qualityRate':
      return baseline.value + tolerance;
    case 'rmse':
    case 'latencyP95Ms':
      return baseline.value * (1 + tolerance);
  }
}

/**
 * The one-sided test of "worse than the threshold" for each metric, the threshold being the null value
 * (the baseline, moved by the tolerance, is taken as known: its own sampling error is what the tolerance
 * is there to absorb). Positive statistics point to "worse".
 * - accuracy, failureRate, qualityRate: one-sample score z-test of the proportion against the threshold
 *   p0, z = (p̂ − p0)/√(p0(1 − p0)/n) (sign flipped for accuracy), p = P(Z > z). A threshold at 0 or 1
 *   has no spread: the evidence is then worse with certainty or not at all.
 * - rmse: one-sample t-test of the mean squared error against the squared threshold, t = (MSE − T²)/(s/√n)
 *   with s the standard deviation of the rows' squared errors and n − 1 degrees of freedom.
 * - latencyP95Ms: the evidence's p95 against the spread of the baseline windows' p95s (baseline.sd),
 *   z = (p95 − T)/sd; without a spread there is no test, only the point estimate.
 */
function testAgainstThreshold(
  evidence: Evidence,
  baseline: VerificationBaseline,
  threshold: number,
): { statistic: number; pValue: number } | null {
  const n = evidence.rows;
  const value = evidence.value!;
  switch (evidence.metric) {
    case 'accuracy':
    case 'failureRate':
    case 'qualityRate': {
      const p0 = Math.min(1, Math.max(0, threshold));
      const worse = HIGHER_IS_BETTER[evidence.metric] ? p0 - value : value - p0;
      const se = Math.sqrt((p0 * (1 - p0)) / n);
      return zResult(worse, se);
    }
    case 'rmse': {
      const sse = evidence.sumSquaredError;
      const sseSq = evidence.sumSquaredErrorSq;
      if (sse === undefined || sseSq === undefined || n < 2) return null;
      const mse = sse / n;
      const variance = Math.max(0, (sseSq - n * mse * mse) / (n - 1));
      const excess = mse - threshold * threshold;
      if (variance === 0) return infiniteResult(excess);
      const t = excess / Math.sqrt(variance / n);
      return { statistic: t, pValue: studentTSf(t, n - 1) };
    }
    case 'latencyP95Ms': {
      const sd = baseline.sd;
      if (sd == null || !(sd > 0)) return null;
      return zResult(value - threshold, sd);
    }
  }
}

/** z = excess/se and P(Z > z): the p-value of "no excess" against "an excess"; a zero se gives certainty. */
function zResult(excess: number, se: number): { statistic: number; pValue: number } {
  if (!(se > 0)) return infiniteResult(excess);
  const z = excess / se;
  return { statistic: z, pValue: normalSf(z) };
}

function infiniteResult(excess: number): { statistic: number; pValue: number } {
  return excess > 0
    ? { statistic: Number.POSITIVE_INFINITY, pValue: 0 }
    : { statistic: excess < 0 ? Number.NEGATIVE_INFINITY : 0, pValue: 1 };
}

/**
 * Did the metric come back? With T the threshold (baseline − tolerance for accuracy, baseline + tolerance
 * for failure and quality rates, baseline × (1 + tolerance) for RMSE and p95 latency):
 * - not_recovered when the one-sided test says the metric is worse than T at `alpha` — at any number of
 *   rows, so a remedy that clearly failed is not waited on — or, once there are INCONCLUSIVE_ROWS ×
 *   minRows rows, when the point estimate is worse than T;
 * - recovered once there are minRows rows and the point estimate is within T;
 * - insufficient otherwise (fewer than minRows rows and no significant failure; a point estimate beyond T
 *   that the test cannot tell from noise, before INCONCLUSIVE_ROWS × minRows rows; or no value at all).
 */
export function judgeRecovery(
  baseline: VerificationBaseline,
  evidence: Evidence,
  opts: RecoveryOptions,
): RecoveryJudgement {
  const threshold = recoveryThreshold(baseline, opts.tolerance);
  const higherIsBetter = HIGHER_IS_BETTER[baseline.metric];
  const target = `${baseline.metric} ${higherIsBetter ? '≥' : '≤'} ${fmt(threshold)} (baseline ${fmt(baseline.value)}, tolerance ${fmt(opts.tolerance)}${higherIsBetter || baseline.metric.endsWith('Rate') ? '' : ' relative'})`;
  if (evidence.metric !== baseline.metric) {
    throw new RangeError(
      `judgeRecovery: evidence of ${evidence.metric} for a baseline of ${baseline.metric}`,
    );
  }
  if (evidence.value === null || evidence.rows === 0) {
    return { verdict: 'insufficient', statistic: null, pValue: null, detail: `no rows yet; needs ${target}` };
  }
  const test = testAgainstThreshold(evidence, baseline, threshold);
  const measured = `${baseline.metric} ${fmt(evidence.value)} on ${evidence.rows} rows${test ? ` (p = ${fmt(test.pValue)} that it is within tolerance)` : ''}`;
  const result = (verdict: RecoveryJudgement['verdict'], why: string): RecoveryJudgement => ({
    verdict,
    statistic: test?.statistic ?? null,
    pValue: test?.pValue ?? null,
    detail: `${measured}: ${why}; needs ${target}`,
  });
  if (test && test.pValue < opts.alpha)
    return result('not_recovered', `significantly worse at α = ${opts.alpha}`);
  if (evidence.rows < opts.minRows) return result('insufficient', `fewer than ${opts.minRows} rows`);
  const beyond = higherIsBetter ? evidence.value < threshold : evidence.value > threshold;
  if (!beyond) return result('recovered', 'within the tolerance');
  // Beyond the threshold, but not significantly: the noise of minRows rows can be larger than the
  // tolerance. Wait for more evidence, up to INCONCLUSIVE_ROWS × minRows; then the point estimate decides.
  if (evidence.rows < INCONCLUSIVE_ROWS * opts.minRows && test)
    return result('insufficient', `beyond the tolerance but within the noise; waiting for more rows`);
  return result('not_recovered', 'beyond the tolerance');
}

/**
 * The verification settings for a metric, as the agent and the backtest take them: accuracy and rates
 * take the policy's tolerance as it is; the noisier relative metrics (p95 latency, RMSE of one window)
 * count as recovered once they are back under what detection calls a regression, or within the
 * tolerance when that is looser.
 */
export function verificationFor(
  policy: Pick<Policy, 'verification' | 'detection'>,
  metric: VerificationBaseline['metric'] | null,
): Policy['verification'] {
  const { verification, detection } = policy;
  const relative =
    metric === 'latencyP95Ms'
      ? detection.minEffect.latencyIncrease
      : metric === 'rmse'
        ? detection.minEffect.errorIncrease / 2
        : 0;
  return { ...verification, tolerance: Math.max(verification.tolerance, relative) };
}

/** How many times minRows a verification waits for when its point estimate is beyond but not significantly. */
export const INCONCLUSIVE_ROWS = 4;

/** The rows an 'insufficient' recovery verdict waits for: minRows, then INCONCLUSIVE_ROWS × minRows. */
export function recoveryRowsWanted(rows: number, minRows: number): number {
  return rows < minRows ? minRows : INCONCLUSIVE_ROWS * minRows;
}

// ---------------------------------------------------------------- canary and shadow

export const CANARY_DEFAULTS = {
  /**
   * The canary is judged at most this many times in its life, each time at alpha / looks (Bonferroni),
   * so over all looks together a wrong abort, and separately a wrong promotion, stays below alpha.
   */
  looks: 10,
};

export interface CanaryOptions {
  /** Labelled rows each arm needs before the candidate can be promoted. */
  minRows: number;
  alpha: number;
  /** How much worse the candidate may be: absolute accuracy, relative RMSE. */
  margin: number;
  /** The number of looks alpha is split over (CANARY_DEFAULTS.looks). */
  looks?: number;
  /**
   * This look's number, from 1. At the last look (look ≥ looks) the comparison must end: the candidate
   * is promoted if it qualifies and aborted otherwise, never continued.
   */
  look?: number;
}

export interface CanaryJudgement {
  verdict: 'promote' | 'abort' | 'continue';
  metric: ServedComparison['metric'];
  /** Accuracy or RMSE of each arm; null without rows. */
  candidate: number | null;
  baseline: number | null;
  /** One-sided p-value that the candidate is not worse than production (small: abort). */
  worsePValue: number | null;
  /** One-sided p-value that the candidate is worse by more than the margin (small: promote). */
  inferiorPValue: number | null;
  /** The level each p-value is compared with: alpha / looks. */
  alphaPerLook: number;
  detail: string;
}

/**
 * An arm's counts with the sum of the squares of the squared errors, which compareServed adds for
 * regression (the spread the RMSE tests need).
 */
export type ServedCounts = OutcomeCounts & { sumSquaredErrorSq?: number };

interface ArmTests {
  candidate: number;
  baseline: number;
  worse: number;
  inferior: number;
}

/**
 * Accuracy: abort on the two-proportion z-test (lib/stats, pooled), one-sided towards the candidate
 * being worse; promote on the Wald non-inferiority test z = (p̂c − p̂b + margin)/√(p̂c(1−p̂c)/nc + p̂b(1−p̂b)/nb),
 * p = P(Z > z).
 */
function accuracyTests(candidate: ServedCounts, baseline: ServedCounts, margin: number): ArmTests {
  const c = { successes: candidate.correct ?? 0, trials: candidate.rows };
  const b = { successes: baseline.correct ?? 0, trials: baseline.rows };
  const pc = c.successes / c.trials;
  const pb = b.successes / b.trials;
  const worse = twoProportionZTest(b, c).statistic;
  const se = Math.sqrt((pc * (1 - pc)) / c.trials + (pb * (1 - pb)) / b.trials);
  return {
    candidate: pc,
    baseline: pb,
    worse: normalSf(-worse),
    inferior: zResult(pc - pb + margin, se).pValue,
  };
}

/**
 * RMSE: on the arms' mean squared errors, z-tests of D = MSE_c − k·MSE_b with Var D = s²c/nc + k²·s²b/nb
 * (s² the variance of each arm's squared errors; the arms are large enough for the normal, minRows):
 * abort when D > 0 with k = 1 (candidate worse), promote when D < 0 with k = (1 + margin)² (candidate's
 * RMSE below production's × (1 + margin)). Null without the squared errors' spread.
 */
function rmseTests(candidate: ServedCounts, baseline: ServedCounts, margin: number): ArmTests | null {
  const moments = (arm: ServedCounts) => {
    const n = arm.rows;
    if (arm.sumSquaredError === undefined || arm.sumSquaredErrorSq === undefined || n < 2) return null;
    const mse = arm.sumSquaredError / n;
    return { n, mse, variance: Math.max(0, (arm.sumSquaredErrorSq - n * mse * mse) / (n - 1)) };
  };
  const c = moments(candidate);
  const b = moments(baseline);
  if (!c || !b) return null;
  const se = (k: number) => Math.sqrt(c.variance / c.n + (k * k * b.variance) / b.n);
  const k = (1 + margin) ** 2;
  return {
    candidate: Math.sqrt(c.mse),
    baseline: Math.sqrt(b.mse),
    worse: zResult(c.mse - b.mse, se(1)).pValue,
    inferior: zResult(k * b.mse - c.mse, se(k)).pValue,
  };
}

/**
 * Sequential comparison of the candidate (canary traffic, or shadow scores of production's rows) with
 * production, with a fixed number of looks and Bonferroni: every look tests at alpha / looks.
 * - abort as soon as the candidate is significantly worse than production (any number of rows);
 * - promote once both arms have minRows labelled rows and the candidate is significantly not worse than
 *   production by more than the margin (non-inferiority);
 * - continue otherwise — except at the last look, which aborts what it cannot promote.
 * Shadow scores are paired with production's on the same rows; treating the arms as independent, as here,
 * only makes the tests conservative when the two models tend to err on the same rows.
 */
export function judgeCanary(comparison: ServedComparison, opts: CanaryOptions): CanaryJudgement {
  const looks = opts.looks ?? CANARY_DEFAULTS.looks;
  const alphaPerLook = opts.alpha / looks;
  const candidate: ServedCounts = comparison.candidate;
  const baseline: ServedCounts = comparison.baseline;
  const last = opts.look !== undefined && opts.look >= looks;
  const margin =
    comparison.metric === 'accuracy' ? `${fmt(opts.margin)}` : `${fmt(opts.margin * 100)} % (relative)`;
  const tests =
    candidate.rows === 0 || baseline.rows === 0
      ? null
      : comparison.metric === 'accuracy'
        ? accuracyTests(candidate, baseline, opts.margin)
        : rmseTests(candidate, baseline, opts.margin);
  const judgement = (verdict: CanaryJudgement['verdict'], why: string): CanaryJudgement => ({
    verdict,
    metric: comparison.metric,
    candidate: tests?.candidate ?? null,
    baseline: tests?.baseline ?? null,
    worsePValue: tests?.worse ?? null,
    inferiorPValue: tests?.inferior ?? null,
    alphaPerLook,
    detail: `${tests ? `${comparison.metric} candidate ${fmt(tests.candidate)} on ${candidate.rows} rows vs production ${fmt(tests.baseline)} on ${baseline.rows}; ` : ''}${why}`,
  });
  if (!tests) {
    const why = `no comparison yet (${candidate.rows} candidate and ${baseline.rows} production rows)`;
    return judgement(last ? 'abort' : 'continue', last ? `${why} at the last look` : why);
  }
  if (tests.worse < alphaPerLook) {
    return judgement(
      'abort',
      `candidate significantly worse (p = ${fmt(tests.worse)} < ${fmt(alphaPerLook)})`,
    );
  }
  const enough = candidate.rows >= opts.minRows && baseline.rows >= opts.minRows;
  if (enough && tests.inferior < alphaPerLook) {
    return judgement(
      'promote',
      `candidate not worse by more than ${margin} (p = ${fmt(tests.inferior)} < ${fmt(alphaPerLook)})`,
    );
  }
  const pending = enough
    ? `non-inferiority within ${margin} not shown yet (p = ${fmt(tests.inferior)} ≥ ${fmt(alphaPerLook)})`
    : `fewer than ${opts.minRows} rows per arm`;
  return last ? judgement('abort', `${pending} at the last look`) : judgement('continue', pending);
}

/**
 * How a candidate shown better than production comes in: as the policy says while production serves;
 * directly while the model is held on its fallback or disabled. A canary or a shadow would wait for
 * production traffic the agent itself turned off (only the fallback, or nothing, serves), and the
 * candidate was already judged on the most recent labelled rows; verification then judges it live.
 * Directly too when it lifts a segment's fallback route (`liftsRoute`): the rows it was trained to repair
 * are the route's, which a canary of production's traffic never sees, and on the rest it is only to be as
 * good as production, which a canary's non-inferiority test at its split alpha shows only on thousands of
 * rows per arm (refit-evidence.ts beatsRoute judged both on the tested rows instead).
 *
 * In shadow instead of a canary when labelled rows come too slowly for the canary (`pace`, from
 * labelPace): a canary's arm gets `canaryShare` of them, and one that would not reach its first look
 * (`canaryMinRows`) within `maxWait` would spend days getting to a verdict — on a model with a labelled
 * row every few minutes, more than the week a wait may last (lib/brain/waits.ts). A shadow scores every
 * row with both versions, exposes no request to the candidate, and reaches the same looks 1/canaryShare
 * times sooner.
 */
export function promotionFor(
  policy: Pick<Policy['retrain'], 'promotion' | 'canaryShare' | 'canaryMinRows' | 'maxWait'>,
  mode: ServingMode,
  liftsRoute: string | null = null,
  pace: number | null = null,
): { promotion: Policy['retrain']['promotion']; why: string | null } {
  const asked = policy.promotion;
  if (liftsRoute !== null && asked !== 'direct')
    return {
      promotion: 'direct',
      why: `promoted directly: its gain is on segment ${liftsRoute}'s rows, which the fallback route answers and a ${asked} would not see`,
    };
  if (mode !== 'serving' && asked !== 'direct')
    return {
      promotion: 'direct',
      why: `promoted directly: the model is held (${mode}), so a ${asked} would wait for traffic that does not flow`,
    };
  if (asked === 'canary' && pace !== null && pace > 0) {
    const firstLookMs = policy.canaryMinRows / (policy.canaryShare * pace);
    if (firstLookMs > durationMs(policy.maxWait)) {
      const perHour = pace * 3_600_000;
      return {
        promotion: 'shadow',
        why: `in shadow: at ${perHour < 10 ? perHour.toFixed(1) : Math.round(perHour)} labelled rows an hour a canary of ${policy.canaryShare} would take ${spokenHours(firstLookMs)} to its first ${policy.canaryMinRows} rows, past retrain.maxWait (${policy.maxWait})`,
      };
    }
  }
  return { promotion: asked, why: null };
}

/**
 * Labelled rows per millisecond since the onset, as a retrain's comparison saw them: its held-out rows
 * are `holdoutShare` of all the usable rows since the onset. Null when no time passed.
 */
export function labelPace(
  holdoutRows: number,
  holdoutShare: number,
  sinceMs: number,
  atMs: number,
): number | null {
  if (atMs <= sinceMs) return null;
  return holdoutRows / holdoutShare / (atMs - sinceMs);
}

function spokenHours(ms: number): string {
  const hours = ms / 3_600_000;
  return hours >= 48 ? `${(hours / 24).toFixed(1)} days` : `${hours.toFixed(1)} hours`;
}

/**
 * One poll of a running canary or shadow by the agent or the backtest. Looks fall at milestones of
 * evidence, not of time: the k-th once both arms have k × minRows labelled rows, so the ten looks alpha
 * is split over span ten times the minimum rows however fast labels come (a look per window spent them
 * on a slow model's first few hundred rows and aborted a better candidate at the last). Between looks a
 * significantly worse candidate is still aborted at once; it is promoted only at a look.
 */
export function canaryPoll(
  comparison: ServedComparison,
  opts: Omit<CanaryOptions, 'look'>,
  looksTaken: number,
): { judged: CanaryJudgement; looksTaken: number } {
  const rows = Math.min(comparison.candidate.rows, comparison.baseline.rows);
  const due = rows >= (looksTaken + 1) * opts.minRows;
  const look = due ? looksTaken + 1 : looksTaken;
  const judged = judgeCanary(comparison, due ? { ...opts, look } : opts);
  if (judged.verdict !== 'promote' || due) return { judged, looksTaken: look };
  const next = (look + 1) * opts.minRows;
  return {
    judged: {
      ...judged,
      verdict: 'continue',
      detail: `${judged.detail}; promotion waits for look ${look + 1} at ${next} rows per arm`,
    },
    looksTaken: look,
  };
}

function fmt(x: number): string {
  return Number.isFinite(x) ? Number(x.toPrecision(3)).toString() : String(x);
}
