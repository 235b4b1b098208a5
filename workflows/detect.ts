// Detect: turns one window's measurements into typed findings. Pure and deterministic: it runs
// inside the agent workflow (no I/O, clock or randomness) and its state, plain JSON, is carried through
// continueAsNew. Imports only types from the policy module, so zod stays out of the workflow bundle.
//
// Per kind, each window gives an observation: bad, good, or not judged (too few rows, no baseline yet,
// or the evidence belongs to another kind). Judged observations move the kind's persistence —
// suspect → confirmed (M of the last N judged windows bad) → recovering → clear (`clearAfter`
// consecutive good windows) — and unjudged ones leave it as it was. A bad observation needs both
// significance (BH-corrected p-values from the monitor, or a test here at `alpha`) and an effect of at
// least the policy's `minEffect`, so large windows do not flag trivia and small ones do not flag noise.
// Classifiers' per-row error streams also run through Bernoulli CUSUM charts carried in the state
// (readErrorStream), which confirm a rise of the error rate at the labelled row where the evidence
// suffices rather than after M of N windows.
import { BERNOULLI_CUSUM_DEFAULTS, BernoulliCusum } from '../lib/detectors/bernoulli-cusum.ts';
import type { FindingKind, Severity } from '../lib/domain.ts';
import type { ErrorRateMode, Policy } from '../lib/policy/policy.ts';
import { normalSf } from '../lib/stats/distributions.ts';
import { twoProportionZTest } from '../lib/stats/proportions.ts';
import type {
  CusumSide,
  DetectorState,
  Finding,
  FindingEvidence,
  FindingFeature,
  PersistenceState,
  RunningBaseline,
  WindowDrift,
  WindowSummary,
} from './types.ts';

/** What detect reads from a policy: its detection section, window.minRows and floors. */
export interface DetectSettings {
  detection: Policy['detection'];
  minRows: number;
  floors: Policy['floors'];
  /** Judge as this revision of detect did (absent: the current one); see DetectRevision. */
  revision?: DetectRevision;
}

/**
 * Revisions of detect's judgement. An agent run begun under an older one keeps judging as it did, so
 * that its history replays (workflows/agent.ts reads the patch markers):
 * - 1, before patch 'detect-revision-2': regression error window by window only, without the RMSE
 *   CUSUM; the labels of a settling window (after a model change) dropped rather than counted as
 *   arrived; a calibration shift of 8 % enough (now 12 %).
 * - 2, before patch 'detect-revision-3': a window's accuracy tested against the production baseline as
 *   if the baseline were known exactly (one-proportion z), so a baseline of a few early windows that
 *   came out high by chance made ordinary windows look like drops; now a pooled two-proportion z.
 * - 3: the current one.
 */
export type DetectRevision = 1 | 2 | 3;
export const DETECT_REVISION: DetectRevision = 3;

/** The sections of a model's policy detect reads; pass the result as `detect`'s third argument. */
export function detectSettings(
  policy: Pick<Policy, 'detection' | 'window' | 'floors'>,
  options: { revision?: DetectRevision } = {},
): DetectSettings {
  const settings = { detection: policy.detection, minRows: policy.window.minRows, floors: policy.floors };
  return options.revision === undefined ? settings : { ...settings, revision: options.revision };
}

const revisionOf = (s: DetectSettings): DetectRevision => s.revision ?? DETECT_REVISION;

/**
 * How a classifier's error rate is watched, per the policy's `detection.errorRateMode`: the decision
 * intervals of the error charts (smallest shift first) and the z a single window's accuracy drop needs.
 * Measured on 100 million stationary 0/1 error rows and the 0.20 → 0.25 rise (npm run
 * bench:error-tradeoff, docs/benchmarks.md): fast raises fewer false alarms than Page–Hinkley's
 * defaults and finds the rise sooner; conservative raises fewer than ADWIN's defaults and still finds it
 * sooner than ADWIN. No setting measured does both (docs/agent-logic.md, "Choosing the error-rate mode").
 * Conservative's 2× chart sits below its 1× chart: measured, it shortens the 0.10 → 0.20 delay and adds
 * no false alarm, where the 1× chart is what a long stationary stream crosses by chance.
 */
export const ERROR_RATE_MODE_SETTINGS: Record<
  ErrorRateMode,
  { chartThresholds: readonly number[]; windowMinZ: number }
> = {
  fast: { chartThresholds: BERNOULLI_CUSUM_DEFAULTS.charts.map((c) => c.threshold), windowMinZ: 3 },
  conservative: { chartThresholds: [13, 12, 13], windowMinZ: 3.5 },
};

/** The error-rate mode's settings; policies recorded before the mode existed are fast. */
const errorRateMode = (s: DetectSettings) => ERROR_RATE_MODE_SETTINGS[s.detection.errorRateMode ?? 'fast'];

/**
 * DEFAULT_POLICY's values (lib/policy/policy.ts; a unit test keeps the two equal), for callers without a
 * model's policy.
 */
export const DEFAULT_DETECT_SETTINGS: DetectSettings = {
  detection: {
    alpha: 0.01,
    minEffect: {
      psi: 0.2,
      ks: 0.1,
      jensenShannon: 0.1,
      accuracyDrop: 0.05,
      errorIncrease: 0.2,
      latencyIncrease: 0.5,
      latencyIncreaseMs: 20,
      failureRate: 0.05,
      missingRate: 0.05,
    },
    persistence: { confirmM: 2, confirmN: 3, clearAfter: 2 },
    staleGapFactor: 10,
    errorRateMode: 'fast',
  },
  minRows: 30,
  floors: { accuracy: 0.5, failureRate: 0.5 },
};

export const DETECT_DEFAULTS = {
  /** Healthy windows needed before a running baseline (accuracy, latency, throughput...) is used. */
  minBaselineWindows: 3,
  /** Windows after which a running baseline becomes an exponentially weighted one. */
  baselineCap: 20,
  /** One-sided z for tests made here (≈ alpha 0.01 after a few kinds); the monitor's tests use alpha. */
  minZ: 3,
  /** Windows shorter than this do not judge (or learn) the arrival rate. */
  minRateWindowSeconds: 30,
  /** Throughput at least this many times the baseline, significant, is an anomaly (burst). */
  burstFactor: 1.5,
  /** Label arrivals per prediction below this share of the baseline's mean labels have gone stale. */
  labelStaleShare: 0.5,
  /** Label delay (p95) this many times the baseline's means labels have gone stale. */
  labelDelayFactor: 5,
  /**
   * Floor of the window-to-window sd of RMSE, as a share of the baseline: a few windows underestimate
   * the spread of a heavy-tailed error (demand: ±15 % between healthy 100 s windows).
   */
  regressionSdFloor: 0.15,
  /**
   * CUSUM of regression windows' RMSE z-scores: slack k and decision interval h (z units). A window's z
   * counts at most regressionZCap, so one heavy-tailed window cannot cross h alone: a sustained rise of
   * 1.5 sds (+40 % RMSE on demand) crosses in 3–4 windows, where the per-window rule (4 sds) never does.
   */
  regressionCusumK: 0.5,
  regressionCusumH: 5,
  regressionZCap: 3,
  /** CUSUM of calibration z-scores: slack k and decision interval h (z units; in-control ARL ≈ 900 windows a side). */
  calibrationK: 0.5,
  calibrationH: 5,
  /**
   * ...and the positives must differ from those expected by at least this share (practical effect). A
   * logistic regression fitted on a few thousand rows can be off by 8–9 % from the start (the recovery
   * benchmark's and the demo's were), and that constant offset is not a drift (legacy: 0.08).
   */
  calibrationMinRelative: 0.12,
  /** Latency, throughput and regression error must exceed their baseline by this many window-to-window sds, too. */
  latencySigmas: 4,
  /**
   * A healthy window joins the accuracy baseline only once this many newer labelled rows have come, and
   * not if a concept drift is found meanwhile: a slow rise of the error rate would otherwise leak into
   * the baseline it is measured against before the error CUSUM confirms it (a 0.05 rise takes ≈ 1,000
   * rows).
   */
  baselineLagRows: 2000,
  /** One-sided z of the power the KS effect gate keeps for a shift of exactly minEffect.ks (0.9). */
  effectPowerZ: 1.2816,
  /** Labelled rows behind the baseline before the charts run: their p0 must be an estimate worth trusting. */
  errorCusumMinBaselineRows: 2000,
} as const;

/** The calibration effect threshold of agent runs begun before patch 'detect-revision-2'. */
export const LEGACY_CALIBRATION_MIN_RELATIVE = 0.08;

export function initialDetectorState(): DetectorState {
  return {
    baselineLabelled: 0,
    baselineCorrect: 0,
    baselineWindows: 0,
    persistence: {},
    baselines: {},
  };
}

interface Observation {
  kind: FindingKind;
  /** False when the window cannot tell: persistence is left as it was. */
  judged: boolean;
  bad: boolean;
  severity: Severity;
  summary: string;
  evidence: FindingEvidence;
  features?: FindingFeature[];
  impact?: Finding['impact'];
  /** The evidence already spans windows (a CUSUM past its decision interval): confirm on this window. */
  confirmNow?: boolean;
}

type Baselines = NonNullable<DetectorState['baselines']>;

function baselineMean(b: RunningBaseline | undefined): number | null {
  return b && b.n >= DETECT_DEFAULTS.minBaselineWindows ? b.mean : null;
}

function baselineSd(b: RunningBaseline): number {
  return Math.sqrt(Math.max(0, b.meanSq - b.mean * b.mean));
}

function extend(b: RunningBaseline | undefined, x: number | null | undefined): RunningBaseline | undefined {
  if (x === null || x === undefined || !Number.isFinite(x)) return b;
  if (!b) return { n: 1, mean: x, meanSq: x * x };
  const n = Math.min(b.n + 1, DETECT_DEFAULTS.baselineCap);
  return { n, mean: b.mean + (x - b.mean) / n, meanSq: b.meanSq + (x * x - b.meanSq) / n };
}

/** Labels that arrived in the window, whichever version answered them: the evidence that labels flow. */
function labelsReceived(w: WindowSummary): number {
  return w.labelled + (w.labelledElsewhere ?? 0);
}

const notJudged = (kind: FindingKind, summary: string, evidence: FindingEvidence): Observation => ({
  kind,
  judged: false,
  bad: false,
  severity: 'warning',
  summary,
  evidence,
});

// ---- data quality -------------------------------------------------------------------------------

function observeQuality(w: WindowSummary, s: DetectSettings): Observation {
  const evidence: FindingEvidence = { window: w.seq, rows: w.count };
  if (w.count < s.minRows)
    return notJudged('data_quality', `window too small to judge (${w.count} rows)`, evidence);
  if (w.quality === undefined) return notJudged('data_quality', 'no data-quality metrics', evidence);
  const { alpha, minEffect } = s.detection;
  const bad: FindingFeature[] = [];
  for (const q of w.quality) {
    const nullShift = q.referenceNullRate === null ? 0 : q.nullRate - q.referenceNullRate;
    // Invalid values: the reference data are valid, so a rate at the effect size over a judged window
    // is significant by construction once it is a handful of rows (binomial against ~0).
    const invalidRows = q.invalidRate * w.count;
    if (q.invalidRate >= minEffect.missingRate && invalidRows >= 5) {
      bad.push({
        name: q.name,
        contribution: q.invalidRate,
        test: `invalid_values:${q.mainProblem ?? 'invalid'}`,
        statistic: invalidRows,
        pValue: null,
        effect: q.invalidRate,
      });
    } else if (
      q.nullRateChangePValue !== null &&
      q.nullRateChangePValue < alpha &&
      nullShift >= minEffect.missingRate
    ) {
      bad.push({
        name: q.name,
        contribution: nullShift,
        test: 'null_rate_two_proportion_z',
        statistic: null,
        pValue: q.nullRateChangePValue,
        effect: nullShift,
      });
    } else if (q.constant === true) {
      bad.push({
        name: q.name,
        contribution: 1,
        test: 'constant_column',
        statistic: null,
        pValue: null,
        effect: 1,
      });
    }
  }
  const features = rank(bad);
  const worst = features[0];
  return {
    kind: 'data_quality',
    judged: true,
    bad: features.length > 0,
    severity: features.some((f) => (f.effect ?? 0) >= 0.5) ? 'critical' : 'warning',
    summary: worst ? `${features.map((f) => `${f.name} (${f.test})`).join(', ')}` : 'no data-quality issue',
    evidence: {
      ...evidence,
      features: features.length,
      worst: worst?.name ?? null,
      worstRate: worst?.effect ?? null,
    },
    features,
  };
}

/** Ranks features by effect and gives each its share of the total as contribution. */
function rank(features: FindingFeature[]): FindingFeature[] {
  const total = features.reduce((sum, f) => sum + Math.max(0, f.contribution), 0);
  return [...features]
    .sort((a, b) => b.contribution - a.contribution || a.name.localeCompare(b.name))
    .map((f) => ({ ...f, contribution: total > 0 ? Math.max(0, f.contribution) / total : 0 }));
}

// ---- data drift ---------------------------------------------------------------------------------

function observeDrift(w: WindowSummary, s: DetectSettings, qualityFeatures: Set<string>): Observation {
  const evidence: FindingEvidence = { window: w.seq, rows: w.count };
  if (w.count < s.minRows)
    return notJudged('data_drift', `window too small to judge (${w.count} rows)`, evidence);
  if (w.reference !== 'used' || w.drift === undefined)
    return notJudged('data_drift', 'no reference profile to compare the inputs with', evidence);
  const drifted: FindingFeature[] = [];
  for (const d of w.drift) {
    // A feature with a data-quality problem is that problem, not drift (a renamed category or a unit
    // change shifts the distribution too).
    if (qualityFeatures.has(d.name)) continue;
    if (featureDrifted(d, s)) {
      drifted.push({
        name: d.name,
        contribution: d.psi,
        test: d.test,
        statistic: d.statistic,
        pValue: d.adjustedPValue,
        effect: d.psi,
      });
    }
  }
  const features = rank(drifted);
  const maxPsi = Math.max(0, ...drifted.map((f) => f.effect ?? 0));
  return {
    kind: 'data_drift',
    judged: true,
    bad: features.length > 0,
    severity: maxPsi >= 0.5 ? 'critical' : 'warning',
    summary:
      features.length > 0
        ? `input drift in ${features.map((f) => `${f.name} (PSI ${(f.effect ?? 0).toFixed(2)})`).join(', ')}`
        : 'inputs match the reference',
    evidence: {
      ...evidence,
      featuresJudged: w.featuresJudged ?? null,
      featuresDrifted: features.length,
      maxPsi,
    },
    features,
  };
}

/**
 * The batch gate of one feature's drift test: significant after the monitor's Benjamini–Hochberg
 * correction (adjusted p < alpha) and practically relevant: PSI ≥ minEffect.psi or, for numeric
 * features, a KS D that a true gap of minEffect.ks would reach with probability 0.9. The window's D
 * scatters around the true gap with an sd of at most ½·√(1/n + 1/m) (n window, m reference values), so
 * a gate at minEffect.ks itself would flag a shift of exactly the minimum effect only half the time;
 * the margin shrinks as windows grow, so large windows still do not flag trivia. bench:detection
 * measures the gate's false-positive rate and power.
 */
export function featureDrifted(d: WindowDrift, s: DetectSettings): boolean {
  const { alpha, minEffect } = s.detection;
  const significant = (d.adjustedPValue ?? 1) < alpha;
  const ksMargin =
    d.currentN && d.referenceN
      ? DETECT_DEFAULTS.effectPowerZ * 0.5 * Math.sqrt(1 / d.currentN + 1 / d.referenceN)
      : 0;
  const practical =
    d.psi >= minEffect.psi || (d.test === 'kolmogorov_smirnov' && d.statistic >= minEffect.ks - ksMargin);
  return significant && practical;
}

// ---- performance (concept drift) ----------------------------------------------------------------

interface PerformanceReading {
  judged: boolean;
  /** Performance fell by a significant and relevant margin. */
  degraded: boolean;
  summary: string;
  evidence: FindingEvidence;
  severity: Severity;
  /** Bad on accumulated (multi-window) evidence alone. */
  sequential?: boolean;
  /** The calibration CUSUM after this window, when it was fed. */
  calibrationCusum?: DetectorState['calibrationCusum'];
  /** The error-stream CUSUM after this window. */
  errorCusum?: DetectorState['errorCusum'];
  /** The regression error CUSUM after this window. */
  rmseCusum?: DetectorState['rmseCusum'];
}

function readPerformance(w: WindowSummary, state: DetectorState, s: DetectSettings): PerformanceReading {
  const { minEffect } = s.detection;
  const evidence: FindingEvidence = { window: w.seq, labelled: w.labelled };
  if (w.task === 'regression') {
    // Regression errors are heavy-tailed (a window's RMSE varies far more than a normal model of the
    // errors says), so the window is judged against the spread of healthy production windows, not
    // against the reference's RMSE, which only describes the held-out rows.
    const b = state.baselines?.rmse;
    const baseRmse = baselineMean(b);
    if (w.rmse == null || !b || baseRmse === null || baseRmse <= 0 || w.labelled < s.minRows)
      return {
        judged: false,
        degraded: false,
        summary: 'not enough labelled data (or healthy windows) to judge error',
        evidence: { ...evidence, referenceRmse: w.referenceRmse ?? null },
        severity: 'warning',
      };
    const ratio = w.rmse / baseRmse;
    const z = (w.rmse - baseRmse) / Math.max(baselineSd(b), DETECT_DEFAULTS.regressionSdFloor * baseRmse);
    const windowRise = ratio - 1 >= minEffect.errorIncrease && z >= DETECT_DEFAULTS.latencySigmas;
    const cusum = revisionOf(s) < 2 ? undefined : stepRmseCusum(state.rmseCusum, z, w.rmse, baseRmse);
    const cusumRise = cusum?.rise ?? 0;
    // The CUSUM says the rise has lasted; this window must still show part of it, so the finding clears
    // once the error is back (the CUSUM itself takes windows to come down).
    const sustained =
      cusum !== undefined &&
      cusum.side.statistic >= DETECT_DEFAULTS.regressionCusumH &&
      cusumRise >= minEffect.errorIncrease &&
      ratio - 1 >= minEffect.errorIncrease / 2;
    const degraded = windowRise || sustained;
    const rise = windowRise || !sustained ? ratio - 1 : cusumRise;
    return {
      judged: true,
      degraded,
      summary: windowRise
        ? `RMSE ${w.rmse.toFixed(3)} is ${((ratio - 1) * 100).toFixed(0)} % above the baseline ${baseRmse.toFixed(3)}`
        : sustained
          ? `RMSE has stayed ${(cusumRise * 100).toFixed(0)} % above the baseline ${baseRmse.toFixed(3)} for ${cusum.side.rows} windows`
          : 'error within the baseline',
      evidence: {
        ...evidence,
        test: 'baseline_z',
        rmse: w.rmse,
        baselineRmse: baseRmse,
        effect: ratio - 1,
        statistic: z,
        ...(cusum
          ? { rmseTest: 'rmse_z_cusum', rmseCusum: cusum.side.statistic, rmseCusumEffect: cusumRise }
          : {}),
      },
      rmseCusum: cusum?.side,
      severity: rise >= 2 * minEffect.errorIncrease ? 'critical' : 'warning',
    };
  }
  const productionBaseline =
    state.baselineWindows >= DETECT_DEFAULTS.minBaselineWindows && state.baselineLabelled > 0
      ? state.baselineCorrect / state.baselineLabelled
      : null;
  const baseline = productionBaseline ?? w.referenceAccuracy ?? null;
  const calibration = readCalibration(w, state, s);
  const errors = readErrorStream(w, state, s, productionBaseline);
  const baselineSource = productionBaseline !== null ? 'production' : 'reference';
  if (baseline !== null && w.accuracy !== null && w.labelled >= s.minRows) {
    const drop = baseline - w.accuracy;
    const { z, test } = accuracyDropZ(w, drop, baseline, productionBaseline !== null ? state : null, s);
    const accuracyDropped = drop >= minEffect.accuracyDrop && z >= errorRateMode(s).windowMinZ;
    const degraded = accuracyDropped || calibration.shifted || errors.shifted;
    return {
      judged: true,
      degraded,
      summary: accuracyDropped
        ? `accuracy ${w.accuracy.toFixed(3)} is ${drop.toFixed(3)} below the baseline ${baseline.toFixed(3)}`
        : errors.shifted
          ? errors.summary
          : calibration.shifted
            ? calibration.summary
            : 'accuracy within the baseline',
      evidence: {
        ...evidence,
        basis: 'realised',
        test,
        accuracy: w.accuracy,
        baselineAccuracy: baseline,
        baselineSource,
        baselineWindows: state.baselineWindows,
        drop,
        z,
        pValue: normalSf(z),
        ...calibration.evidence,
        ...errors.evidence,
      },
      calibrationCusum: calibration.cusum,
      errorCusum: errors.cusum,
      // The error CUSUM's evidence spans windows whether or not this window's drop is significant.
      sequential: errors.shifted || (!accuracyDropped && calibration.shifted),
      severity: drop >= 0.15 || w.accuracy < s.floors.accuracy ? 'critical' : 'warning',
    };
  }
  // Labels lag: the confidence-based estimate, when it can be trusted, against its own baseline.
  const estimateBase = baselineMean(state.baselines?.estimatedAccuracy) ?? w.referenceMeanConfidence ?? null;
  if (w.estimateTrustworthy && w.estimatedAccuracy != null && estimateBase !== null && w.count >= s.minRows) {
    const drop = estimateBase - w.estimatedAccuracy;
    const se = Math.sqrt(Math.max(estimateBase * (1 - estimateBase), 1e-6) / w.count);
    const z = drop / se;
    const degraded = drop >= minEffect.accuracyDrop && z >= DETECT_DEFAULTS.minZ;
    return {
      judged: true,
      degraded,
      summary: degraded
        ? `estimated accuracy ${w.estimatedAccuracy.toFixed(3)} (labels lag) is ${drop.toFixed(3)} below ${estimateBase.toFixed(3)}`
        : 'estimated accuracy within the baseline',
      evidence: {
        ...evidence,
        basis: 'estimate',
        test: 'cbpe_z',
        estimatedAccuracy: w.estimatedAccuracy,
        baselineAccuracy: estimateBase,
        drop,
        z,
      },
      // The few labelled rows still feed the error CUSUM; a rise it finds is judged on a labelled window.
      errorCusum: errors.cusum,
      severity: 'warning',
    };
  }
  return {
    judged: false,
    degraded: false,
    summary: 'not enough labelled data to judge accuracy',
    evidence: {
      ...evidence,
      accuracy: w.accuracy,
      baselineAccuracy: baseline,
      baselineWindows: state.baselineWindows,
    },
    errorCusum: errors.cusum,
    severity: 'warning',
  };
}

/**
 * z of a window's accuracy drop. Against the production baseline, both are estimates: a pooled
 * two-proportion z (revision 3), so that a baseline of a few windows is not trusted like one of
 * thousands of rows. Against the reference's accuracy (no production baseline yet), its held-out rows
 * are not counted here, so the window is tested against it as a known rate.
 */
function accuracyDropZ(
  w: WindowSummary,
  drop: number,
  baseline: number,
  production: Pick<DetectorState, 'baselineLabelled' | 'baselineCorrect'> | null,
  s: DetectSettings,
): { z: number; test: 'two_proportion_z' | 'one_proportion_z' } {
  if (production && revisionOf(s) >= 3) {
    const pooled = twoProportionZTest(
      { successes: production.baselineCorrect, trials: production.baselineLabelled },
      { successes: w.correct, trials: w.labelled },
    );
    return { z: -pooled.statistic, test: 'two_proportion_z' };
  }
  const se = Math.sqrt(Math.max(baseline * (1 - baseline), 1e-6) / w.labelled);
  return { z: drop / se, test: 'one_proportion_z' };
}

interface ErrorStreamReading {
  shifted: boolean;
  summary: string;
  evidence: FindingEvidence;
  cusum: DetectorState['errorCusum'];
}

/**
 * The per-row error stream (classifiers), in label-arrival order, through Bernoulli CUSUM charts against
 * the production baseline's error rate: a rise of the error rate is found at the labelled row where the
 * evidence suffices, however the rows fall into windows, instead of waiting for whole windows to be
 * significant on their own. Runs only once the baseline rests on enough healthy rows; without the
 * window's run-length stream (too long to carry) it reads the window's counts as one step.
 */
function readErrorStream(
  w: WindowSummary,
  state: DetectorState,
  s: DetectSettings,
  productionBaseline: number | null,
): ErrorStreamReading {
  const idle: ErrorStreamReading = {
    shifted: false,
    summary: '',
    evidence: {},
    cusum: state.errorCusum,
  };
  if (
    productionBaseline === null ||
    state.baselineLabelled < DETECT_DEFAULTS.errorCusumMinBaselineRows ||
    w.accuracy === null ||
    w.labelled === 0
  )
    return idle;
  const p0 = Math.min(Math.max(1 - productionBaseline, 1e-3), 1 - 1e-3);
  // The default charts (rises of 0.05, 0.1, 0.2), scaled so the smallest is the policy's minimum drop.
  const scale = s.detection.minEffect.accuracyDrop / BERNOULLI_CUSUM_DEFAULTS.charts[0]!.shift;
  const charts = BERNOULLI_CUSUM_DEFAULTS.charts
    .map((c, i) => ({
      shift: c.shift * scale,
      threshold: errorRateMode(s).chartThresholds[i] ?? c.threshold,
    }))
    .filter((c) => c.shift > 0 && p0 + c.shift < 1);
  if (charts.length === 0) return idle;
  const cusum = new BernoulliCusum({ p0, charts }, state.errorCusum);
  let row = 0;
  let crossedAt: number | null = null;
  const note = (at: number) => {
    if (at > 0 && crossedAt === null) crossedAt = row + at;
  };
  if (w.errorRuns && w.errorRuns.length > 0) {
    w.errorRuns.forEach((n, i) => {
      note(cusum.updateRun(i % 2, n));
      row += n;
    });
  } else {
    // Valid labelled rows (accuracy's denominator) and their errors.
    const rows = w.accuracy > 0 ? Math.round(w.correct / w.accuracy) : w.labelled;
    note(cusum.updateCounts(rows, rows - w.correct));
    row = rows;
  }
  const after = cusum.state;
  const { ratio, chart } = cusum.level;
  const since = after.rows[chart]!;
  const rate = since > 0 ? after.ones[chart]! / since : p0;
  return {
    shifted: cusum.driftDetected,
    summary: `error rate ${rate.toFixed(3)} over the last ${since} labelled rows against the baseline ${p0.toFixed(3)}`,
    evidence: {
      errorTest: 'bernoulli_cusum',
      baselineErrorRate: p0,
      errorCusumShift: charts[chart]!.shift,
      errorCusumLevel: ratio,
      errorRateSince: rate,
      errorRowsSince: since,
      errorRows: row,
      errorChangeRow: crossedAt,
    },
    cusum: after,
  };
}

/**
 * One step of the regression error CUSUM: S = min(1.5 h, max(0, S + min(z, cap) − k)), with the windows' RMSE and
 * the baseline summed while S is above zero, so the rise it reports is the mean over the windows that
 * built it up, not the current window's.
 */
function stepRmseCusum(
  previous: CusumSide | undefined,
  z: number,
  rmse: number,
  baseline: number,
): { side: CusumSide; rise: number } {
  const { regressionCusumK: k, regressionZCap: cap, regressionCusumH: h } = DETECT_DEFAULTS;
  // Capped at 1.5 h, like the error charts: a long bad stretch must not take as long to forget.
  const statistic = Math.min(1.5 * h, Math.max(0, (previous?.statistic ?? 0) + Math.min(z, cap) - k));
  if (statistic === 0) return { side: { statistic: 0, observed: 0, expected: 0, rows: 0 }, rise: 0 };
  const side = {
    statistic,
    observed: (previous?.observed ?? 0) + rmse,
    expected: (previous?.expected ?? 0) + baseline,
    rows: (previous?.rows ?? 0) + 1,
  };
  return { side, rise: side.observed / side.expected - 1 };
}

interface CalibrationReading {
  shifted: boolean;
  summary: string;
  evidence: FindingEvidence;
  cusum: NonNullable<DetectorState['calibrationCusum']>;
}

/**
 * Calibration in the large, accumulated over windows: a concept drift that changes how often the rare
 * class occurs (who defaults) moves the positives away from the Σ p the model expects long before it
 * moves accuracy. Per window z = (positives − Σ p)/√Σ p(1 − p), fed to a two-sided CUSUM; shifted when
 * either side passes h and the accumulated positives differ from those expected by a relevant share.
 */
function readCalibration(w: WindowSummary, state: DetectorState, s: DetectSettings): CalibrationReading {
  const zero: CusumSide = { statistic: 0, observed: 0, expected: 0, rows: 0 };
  const previous = state.calibrationCusum ?? { up: zero, down: zero };
  if (
    w.positives === undefined ||
    w.expectedPositives === undefined ||
    !w.positivesVariance ||
    (w.positivesRows ?? 0) < s.minRows
  ) {
    return { shifted: false, summary: '', evidence: {}, cusum: previous };
  }
  const { calibrationK: k, calibrationH: h } = DETECT_DEFAULTS;
  const calibrationMinRelative =
    revisionOf(s) < 2 ? LEGACY_CALIBRATION_MIN_RELATIVE : DETECT_DEFAULTS.calibrationMinRelative;
  const z = (w.positives - w.expectedPositives) / Math.sqrt(w.positivesVariance);
  const step = (side: CusumSide, x: number): CusumSide => {
    const statistic = Math.max(0, side.statistic + x - k);
    if (statistic === 0) return zero;
    return {
      statistic,
      observed: side.observed + (w.positives ?? 0),
      expected: side.expected + (w.expectedPositives ?? 0),
      rows: side.rows + (w.positivesRows ?? 0),
    };
  };
  const cusum = { up: step(previous.up, z), down: step(previous.down, -z) };
  const side = cusum.up.statistic >= cusum.down.statistic ? cusum.up : cusum.down;
  const relative = side.expected > 0 ? side.observed / side.expected - 1 : 0;
  const shifted = side.statistic >= h && Math.abs(relative) >= calibrationMinRelative;
  return {
    shifted,
    summary: `${side.observed} positives where the model expected ${side.expected.toFixed(0)} (${relative >= 0 ? '+' : ''}${(relative * 100).toFixed(0)} %) over the last ${side.rows} labelled rows`,
    evidence: {
      calibrationTest: 'calibration_in_the_large_cusum',
      calibrationZ: z,
      calibrationCusum: side.statistic,
      positives: side.observed,
      expectedPositives: side.expected,
      calibrationEffect: relative,
      // decide weighs the effect against the threshold the finding was judged with.
      calibrationMinEffect: calibrationMinRelative,
    },
    cusum,
  };
}

// ---- system -------------------------------------------------------------------------------------

function observeLatency(w: WindowSummary, state: DetectorState, s: DetectSettings): Observation {
  const evidence: FindingEvidence = { window: w.seq, latencyP95Ms: w.latencyP95Ms ?? null };
  const b = state.baselines?.latencyP95;
  const base = baselineMean(b);
  if (w.count < s.minRows || w.latencyP95Ms == null || base === null || !b)
    return notJudged('latency', 'no latency baseline or window too small', evidence);
  const increase = w.latencyP95Ms / base - 1;
  const sd = Math.max(baselineSd(b), 0.05 * base);
  const z = (w.latencyP95Ms - base) / sd;
  const bad =
    increase >= s.detection.minEffect.latencyIncrease &&
    w.latencyP95Ms - base >= (s.detection.minEffect.latencyIncreaseMs ?? 0) &&
    z >= DETECT_DEFAULTS.latencySigmas;
  return {
    kind: 'latency',
    judged: true,
    bad,
    severity: increase >= 2 ? 'critical' : 'warning',
    summary: bad
      ? `p95 latency ${w.latencyP95Ms.toFixed(0)} ms is ${(increase * 100).toFixed(0)} % above the baseline ${base.toFixed(0)} ms`
      : 'latency within the baseline',
    evidence: { ...evidence, test: 'baseline_z', baselineP95Ms: base, effect: increase, statistic: z },
  };
}

function observeFailures(w: WindowSummary, state: DetectorState, s: DetectSettings): Observation {
  const evidence: FindingEvidence = { window: w.seq, failureRate: w.failureRate ?? null };
  if (w.count < s.minRows || w.failureRate == null)
    return notJudged('failures', `window too small to judge (${w.count} rows)`, evidence);
  const base = baselineMean(state.baselines?.failureRate) ?? 0;
  const p0 = Math.max(base, 0.005);
  const z = (w.failureRate - p0) / Math.sqrt((p0 * (1 - p0)) / w.count);
  const increase = w.failureRate - base;
  const bad = increase >= s.detection.minEffect.failureRate && z >= DETECT_DEFAULTS.minZ;
  return {
    kind: 'failures',
    judged: true,
    bad,
    severity: w.failureRate >= s.floors.failureRate || increase >= 0.1 ? 'critical' : 'warning',
    summary: bad
      ? `${(w.failureRate * 100).toFixed(1)} % of predictions failed or were invalid (baseline ${(base * 100).toFixed(1)} %)`
      : 'failures within the baseline',
    evidence: {
      ...evidence,
      test: 'one_proportion_z',
      baselineFailureRate: base,
      effect: increase,
      statistic: z,
      pValue: normalSf(z),
    },
  };
}

function observeStale(w: WindowSummary, state: DetectorState, s: DetectSettings): Observation {
  const factor = s.detection.staleGapFactor;
  const evidence: FindingEvidence = {
    window: w.seq,
    count: w.count,
    gapRatio: w.gapRatio ?? null,
    longestGapRatio: w.longestGapRatio ?? null,
  };
  if (w.count === 0) {
    // Silence means traffic stopped only once traffic has flowed: a model just put into service, whose
    // clients have not started yet, is not stale.
    if (!state.trafficSeen) {
      return {
        kind: 'stale_data',
        judged: false,
        bad: false,
        severity: 'info',
        summary: 'no traffic has arrived yet',
        evidence,
      };
    }
    return {
      kind: 'stale_data',
      judged: true,
      bad: true,
      severity: 'warning',
      summary: 'no predictions arrived in the window',
      evidence,
    };
  }
  // Gaps are judged against the reference's arrival rate only: a window's own mean inter-arrival says
  // little when predictions are logged in batches (every gap inside a batch is zero).
  const gapJudged = w.usualArrivalSource === 'reference';
  if (gapJudged && ((w.gapRatio ?? 0) >= factor || (w.longestGapRatio ?? 0) >= factor)) {
    return {
      kind: 'stale_data',
      judged: true,
      bad: true,
      severity: 'warning',
      summary: `traffic stopped: a gap of ${Math.max(w.gapRatio ?? 0, w.longestGapRatio ?? 0).toFixed(0)}× the usual time between arrivals`,
      evidence: { ...evidence, test: 'gap_ratio' },
    };
  }
  // Labels going stale: fewer label arrivals per prediction, or labels coming much later, than usual.
  const labelShare = baselineMean(state.baselines?.labelShare);
  const labelDelay = baselineMean(state.baselines?.labelDelayP95);
  if (w.count >= s.minRows && labelShare !== null && labelShare > 0) {
    const share = labelsReceived(w) / w.count;
    const z = (labelShare - share) / Math.sqrt(Math.max(labelShare * (1 - labelShare), 1e-4) / w.count);
    const fewer = share < DETECT_DEFAULTS.labelStaleShare * labelShare && z >= DETECT_DEFAULTS.minZ;
    const later =
      labelDelay !== null &&
      w.labelDelayP95Seconds != null &&
      w.labelDelayP95Seconds >= DETECT_DEFAULTS.labelDelayFactor * Math.max(labelDelay, 1);
    if (fewer || later) {
      return {
        kind: 'stale_data',
        judged: true,
        bad: true,
        severity: 'warning',
        summary: fewer
          ? `labels are not coming back: ${(share * 100).toFixed(0)} % of the usual ${(labelShare * 100).toFixed(0)} % per prediction`
          : `labels come back late: p95 delay ${w.labelDelayP95Seconds?.toFixed(0)} s against ${labelDelay?.toFixed(0)} s`,
        evidence: {
          ...evidence,
          test: fewer ? 'label_arrival_share_z' : 'label_delay_ratio',
          labelShare: share,
          baselineLabelShare: labelShare,
          labelDelayP95Seconds: w.labelDelayP95Seconds ?? null,
          baselineLabelDelayP95Seconds: labelDelay,
          statistic: z,
        },
      };
    }
  }
  return {
    kind: 'stale_data',
    judged: true,
    bad: false,
    severity: 'warning',
    summary: 'predictions and labels are arriving',
    evidence,
  };
}

/** A rate means something over a window of some duration and rows (not over a burst of milliseconds). */
function rateJudged(w: WindowSummary, s: DetectSettings): boolean {
  const seconds = (Date.parse(w.endAt) - Date.parse(w.startAt)) / 1000;
  return w.count >= s.minRows && seconds >= DETECT_DEFAULTS.minRateWindowSeconds;
}

function observeAnomaly(w: WindowSummary, state: DetectorState, s: DetectSettings): Observation {
  const evidence: FindingEvidence = { window: w.seq, throughputPerMinute: w.throughputPerMinute ?? null };
  const base = baselineMean(state.baselines?.throughput);
  if (!rateJudged(w, s) || w.throughputPerMinute == null || base === null || base <= 0)
    return notJudged('anomaly', 'no traffic baseline or window too small', evidence);
  const b = state.baselines?.throughput;
  const ratio = w.throughputPerMinute / base;
  const sigmas = b ? (w.throughputPerMinute - base) / Math.max(baselineSd(b), 0.05 * base) : 0;
  // Poisson counts: the window's rows against those the baseline rate predicts over the same time.
  const expected = w.count / ratio;
  const z = (w.count - expected) / Math.sqrt(Math.max(expected, 1));
  const bad =
    ratio >= DETECT_DEFAULTS.burstFactor &&
    z >= DETECT_DEFAULTS.minZ &&
    sigmas >= DETECT_DEFAULTS.latencySigmas;
  return {
    kind: 'anomaly',
    judged: true,
    bad,
    severity: 'warning',
    summary: bad ? `traffic burst: ${ratio.toFixed(1)}× the usual rate` : 'traffic at its usual rate',
    evidence: {
      ...evidence,
      test: 'poisson_z',
      baselineThroughputPerMinute: base,
      effect: ratio - 1,
      statistic: z,
    },
  };
}

// ---- persistence --------------------------------------------------------------------------------

/**
 * suspect → confirmed → recovering → clear. Confirmed when at least `confirmM` of the last `confirmN`
 * judged windows were bad (the current one among them); cleared after `clearAfter` consecutive good
 * windows (hysteresis). `confirmM` 1 confirms at once (anomalies: a burst is over by the next window).
 */
export function advancePersistence(
  previous: PersistenceState | undefined,
  bad: boolean,
  persistence: Policy['detection']['persistence'] = DEFAULT_DETECT_SETTINGS.detection.persistence,
  seq?: number,
): PersistenceState {
  const p = previous ?? { state: 'clear', badStreak: 0, goodStreak: 0 };
  const { confirmM, confirmN, clearAfter } = persistence;
  const badStreak = bad ? p.badStreak + 1 : 0;
  const goodStreak = bad ? 0 : p.goodStreak + 1;
  // States from before M-of-N carry only the streak: it stands for the recent judgements.
  const before = p.recent ?? Array.from({ length: Math.min(p.badStreak, confirmN) }, () => 1);
  let recent = [...before, bad ? 1 : 0].slice(-confirmN);
  let badWindows =
    bad && seq !== undefined ? [...(p.badWindows ?? []), seq].slice(-confirmN) : (p.badWindows ?? []);
  const active = p.state === 'confirmed' || p.state === 'recovering';
  const badCount = recent.reduce((sum, x) => sum + x, 0);
  let state: PersistenceState['state'];
  if (bad) state = active || badCount >= confirmM ? 'confirmed' : 'suspect';
  else if (active) state = goodStreak >= clearAfter ? 'clear' : 'recovering';
  else state = 'clear';
  if (state === 'clear' && active) {
    // A finding that has cleared starts afresh: its old bad windows do not count towards the next one.
    recent = [];
    badWindows = [];
  }
  return { state, badStreak, goodStreak, recent, badWindows };
}

// ---- detect -------------------------------------------------------------------------------------

export function detect(
  measured: WindowSummary,
  state: DetectorState,
  settings: DetectSettings = DEFAULT_DETECT_SETTINGS,
): { findings: Finding[]; state: DetectorState } {
  const settling = (state.settleWindows ?? 0) > 0;
  const window = settling ? withoutLabels(measured, revisionOf(settings) < 2) : measured;
  const quality = observeQuality(window, settings);
  const qualityFeatures = new Set((quality.bad ? quality.features : [])?.map((f) => f.name));
  const anomaly = observeAnomaly(window, state, settings);
  let drift = observeDrift(window, settings, qualityFeatures);
  if (anomaly.bad && drift.bad) {
    // A burst (e.g. one client replaying a request) moves the input distributions for as long as it
    // lasts: that is the anomaly, not a population shift.
    drift = {
      ...drift,
      judged: false,
      bad: false,
      summary: 'inputs moved with a traffic burst: see anomaly',
    };
  }
  const performance = readPerformance(window, state, settings);
  const inputsActive = (kind: FindingKind) => {
    const p = state.persistence[kind]?.state;
    return p === 'confirmed' || p === 'suspect' || p === 'recovering';
  };
  const inputsMoved =
    quality.bad || drift.bad || anomaly.bad || inputsActive('data_quality') || inputsActive('data_drift');
  // Before a fall in performance is blamed on the concept, the inputs must also look settled: no listed
  // feature significant at alpha even before the multiple-testing correction. A gradual input shift
  // raises the error rate (which the error CUSUM sees within a window) before its drift is significant
  // after correction; a stable stream fails this only in a few windows in a hundred, which delays a
  // true concept drift by one window.
  const inputsUnsettled =
    drift.judged && !drift.bad && (window.drift ?? []).some((d) => d.pValue < settings.detection.alpha);
  if (drift.judged) {
    drift.impact = !performance.judged ? 'unknown' : performance.degraded ? 'degraded' : 'none';
    if (drift.bad)
      drift.summary +=
        drift.impact === 'none'
          ? ' without a performance impact'
          : drift.impact === 'degraded'
            ? ', and performance fell'
            : ' (performance unknown)';
  }
  let concept: Observation;
  if (!performance.judged) {
    concept = notJudged('concept_drift', performance.summary, performance.evidence);
  } else if (performance.degraded && (inputsMoved || inputsUnsettled)) {
    // Performance fell while the inputs moved or broke: that is the input finding's impact, not a change
    // of the concept, and it must not be judged as one.
    concept = notJudged('concept_drift', `${performance.summary}, but the inputs changed too`, {
      ...performance.evidence,
      attributedTo:
        quality.bad || inputsActive('data_quality')
          ? 'data_quality'
          : drift.bad || inputsUnsettled
            ? 'data_drift'
            : 'anomaly',
    });
  } else {
    concept = {
      kind: 'concept_drift',
      judged: true,
      bad: performance.degraded,
      severity: performance.severity,
      summary: performance.degraded
        ? `${performance.summary} while the inputs are stable`
        : performance.summary,
      evidence: performance.evidence,
      confirmNow: performance.sequential,
    };
  }
  const observations = [
    concept,
    drift,
    quality,
    observeLatency(window, state, settings),
    observeFailures(window, state, settings),
    observeStale(window, state, settings),
    anomaly,
  ];

  // The calibration CUSUM restarts when the inputs move (their impact is not the concept's) and when
  // a concept drift has cleared (the agent acted; the new regime is the new normal).
  const conceptCleared =
    state.persistence.concept_drift?.state === 'recovering' && concept.judged && !concept.bad;
  const calibrationCusum =
    inputsMoved || conceptCleared ? undefined : (performance.calibrationCusum ?? state.calibrationCusum);
  const errorCusum = inputsMoved || conceptCleared ? undefined : (performance.errorCusum ?? state.errorCusum);
  const rmseCusum = inputsMoved || conceptCleared ? undefined : (performance.rmseCusum ?? state.rmseCusum);

  const persistence = { ...state.persistence };
  const findings: Finding[] = [];
  for (const obs of observations) {
    const rule =
      obs.kind === 'anomaly' || obs.confirmNow
        ? { ...settings.detection.persistence, confirmM: 1 }
        : settings.detection.persistence;
    if (!obs.judged) {
      // A window that cannot judge changes nothing: an active finding stays as it was, and says why.
      const carried = persistence[obs.kind];
      if (carried && carried.state !== 'clear') findings.push(toFinding(obs, carried));
      continue;
    }
    const next = advancePersistence(persistence[obs.kind], obs.bad, rule, window.seq);
    persistence[obs.kind] = next;
    if (next.state !== 'clear') findings.push(toFinding(obs, next));
  }

  // Baselines learn only from windows that are healthy for what they measure, so a failure never
  // becomes the new normal.
  // A fall in performance left to the inputs (not judged as a concept drift) is not healthy either.
  const healthy = findings.length === 0 && !performance.degraded;
  const accuracyHealthy =
    healthy && window.accuracy !== null && window.labelled > 0 && window.task !== 'regression';
  const clean = (kind: FindingKind) => !findings.some((f) => f.kind === kind);
  const baselines: Baselines = { ...(state.baselines ?? {}) };
  const judgeable = window.count >= settings.minRows;
  if (judgeable && clean('latency') && clean('anomaly'))
    baselines.latencyP95 = extend(baselines.latencyP95, window.latencyP95Ms);
  if (judgeable && clean('failures'))
    baselines.failureRate = extend(baselines.failureRate, window.failureRate);
  if (rateJudged(window, settings) && clean('anomaly') && clean('stale_data'))
    baselines.throughput = extend(baselines.throughput, window.throughputPerMinute);
  if (judgeable && clean('stale_data')) {
    if (window.task !== undefined)
      baselines.labelShare = extend(baselines.labelShare, labelsReceived(window) / window.count);
    baselines.labelDelayP95 = extend(baselines.labelDelayP95, window.labelDelayP95Seconds);
  }
  if (healthy && judgeable) {
    baselines.estimatedAccuracy = extend(
      baselines.estimatedAccuracy,
      window.estimateTrustworthy ? window.estimatedAccuracy : null,
    );
  }
  // A regression window's RMSE waits while the RMSE CUSUM is above zero (DetectorState.pendingRmse).
  let pendingRmse = state.pendingRmse;
  const rmse = window.task === 'regression' && window.labelled >= settings.minRows ? window.rmse : null;
  if (rmse != null) {
    if (!healthy || !judgeable) pendingRmse = undefined;
    else if (rmseCusum && rmseCusum.statistic > 0) pendingRmse = [...(pendingRmse ?? []), rmse];
    else {
      for (const x of [...(pendingRmse ?? []), rmse]) baselines.rmse = extend(baselines.rmse, x);
      pendingRmse = undefined;
    }
  }
  return {
    findings,
    state: {
      ...state,
      persistence,
      baselines,
      calibrationCusum,
      errorCusum,
      rmseCusum,
      pendingRmse,
      ...(window.count > 0 || state.trafficSeen ? { trafficSeen: true } : {}),
      settleWindows: settling ? state.settleWindows! - 1 : undefined,
      ...learnAccuracy(
        state,
        accuracyHealthy ? window : null,
        findings.some((f) => f.kind === 'concept_drift'),
      ),
    },
  };
}

/**
 * The state to carry once the production model has changed (a retrain promoted, a rollback, a
 * fallback): the performance evidence and baselines described the previous model, so they start afresh
 * (the calibration and error CUSUMs, which would otherwise hold a concept drift for windows after the
 * fix, and the accuracy and error baselines); persistence is kept, so active findings clear through
 * good windows with their usual hysteresis. The agent captures the pre-failure baseline before.
 */
export function afterModelChange(state: DetectorState): DetectorState {
  const {
    calibrationCusum: _c,
    errorCusum: _e,
    rmseCusum: _r2,
    pendingRmse: _p2,
    pendingBaseline: _p,
    ...rest
  } = state;
  const { rmse: _r, estimatedAccuracy: _a, ...baselines } = state.baselines ?? {};
  // The old model's concept drift is not the new one's: it must be found again on the new model's own
  // evidence, not carried (a verified fix would otherwise open a second incident at once).
  const { concept_drift: _d, ...persistence } = state.persistence;
  return {
    ...rest,
    persistence,
    baselines,
    baselineLabelled: 0,
    baselineCorrect: 0,
    baselineWindows: 0,
    settleWindows: SETTLE_WINDOWS,
  };
}

/**
 * The state after someone other than the agent changed the production version (a release, a person's
 * own rollback). The baselines stay, so the new version is judged against the old one's performance (a
 * worse release shows as a drop in its first windows: that is how a bad release is caught), but the
 * sequential statistics are the old version's evidence and are dropped: an error chart the old version
 * drove over h (say while an escalation was held) would otherwise confirm a concept drift on the new
 * version's first window, however well it does. Regression windows that waited for the RMSE CUSUM to
 * settle are dropped with it rather than learnt.
 */
export function afterProductionChange(state: DetectorState): DetectorState {
  const { calibrationCusum: _c, errorCusum: _e, rmseCusum: _r, pendingRmse: _p, ...rest } = state;
  return rest;
}

/**
 * Windows after a model change whose labels are not judged: labels keep arriving for predictions the
 * previous model made, and would be read as the new model's performance (its calibration, its errors).
 */
const SETTLE_WINDOWS = 2;

/**
 * A window with its labelled-row evidence removed: performance cannot be judged from it. The labels
 * still arrived, so they count as labelled elsewhere (label arrival is judged on them); legacy: they
 * were dropped, and a settling window looked like labels had stopped.
 */
function withoutLabels(w: WindowSummary, legacy = false): WindowSummary {
  const {
    errorRuns: _r,
    positives: _p,
    expectedPositives: _e,
    positivesVariance: _v,
    positivesRows: _n,
    ...rest
  } = w;
  const arrived = legacy ? {} : { labelledElsewhere: labelsReceived(w) };
  return {
    ...rest,
    ...arrived,
    labelled: 0,
    correct: 0,
    accuracy: null,
    f1: null,
    logLoss: null,
    rmse: null,
    mae: null,
  };
}

/**
 * The accuracy baseline after this window: healthy windows join at once until the baseline has
 * `minBaselineWindows` windows and `errorCusumMinBaselineRows` rows (it must exist), later ones wait in `pendingBaseline` for `baselineLagRows` newer rows.
 * A concept drift drops the waiting windows: they may already hold the change.
 */
function learnAccuracy(
  state: DetectorState,
  healthyWindow: { labelled: number; correct: number } | null,
  conceptDrift: boolean,
): Pick<DetectorState, 'baselineLabelled' | 'baselineCorrect' | 'baselineWindows' | 'pendingBaseline'> {
  let { baselineLabelled, baselineCorrect, baselineWindows } = state;
  const join = (w: { labelled: number; correct: number }) => {
    baselineLabelled += w.labelled;
    baselineCorrect += w.correct;
    baselineWindows += 1;
  };
  const pending = conceptDrift ? [] : [...(state.pendingBaseline ?? [])];
  if (healthyWindow) {
    const w = { labelled: healthyWindow.labelled, correct: healthyWindow.correct };
    if (
      baselineWindows < DETECT_DEFAULTS.minBaselineWindows ||
      baselineLabelled < DETECT_DEFAULTS.errorCusumMinBaselineRows
    )
      join(w);
    else pending.push(w);
  }
  let waiting = pending.reduce((sum, w) => sum + w.labelled, 0);
  while (pending.length > 0 && waiting - pending[0]!.labelled >= DETECT_DEFAULTS.baselineLagRows) {
    const oldest = pending.shift()!;
    waiting -= oldest.labelled;
    join(oldest);
  }
  return { baselineLabelled, baselineCorrect, baselineWindows, pendingBaseline: pending };
}

function toFinding(obs: Observation, p: PersistenceState): Finding {
  const finding: Finding = {
    kind: obs.kind,
    severity: obs.severity,
    state: p.state,
    summary: obs.summary,
    evidence: obs.evidence,
  };
  if (obs.features && obs.features.length > 0) finding.features = obs.features;
  if (obs.impact !== undefined) finding.impact = obs.impact;
  if (p.badWindows && p.badWindows.length > 0) finding.windows = p.badWindows;
  return finding;
}
