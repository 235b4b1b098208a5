// segment: one segment of the model's traffic (lib/segments) performs worse than it used to while the
// others hold. Each segment with enough labelled rows in the window and a baseline of its own healthy
// windows is tested against that baseline, one-sided — a classifier's error rate by a two-proportion
// z-test, a regressor's mean squared error by Welch's t on the squared errors (segmentTest says why) —
// and the p-values are corrected across the segments tested (Benjamini–Hochberg at the policy's alpha):
// with 20 segments at alpha 0.01, one would otherwise be flagged about every fifth window by chance
// alone. A segment is broken when its adjusted p-value is below alpha and its effect reaches the policy's
// minimum: accuracy fell by minEffect.accuracyDrop, or RMSE rose by minEffect.errorIncrease (relative, as
// the whole-window RMSE rule reads it). When most segments fell, the model is broken, not a segment: that
// is the whole-window rules' to judge, and this rule does not claim it.
//
// Only performance is judged here. A segment's drift against its own reference is the data_drift rule's
// (data-drift.ts segmentDrift): drift alone is an alert, not a reason for this rule's remedy.
import { benjaminiHochberg } from '../../stats/multiple-testing.ts';
import { twoProportionZTest } from '../../stats/proportions.ts';
import { type SampleSums, welchTTestFromSums } from '../../stats/welch.ts';
import type {
  DetectorState,
  FindingOf,
  SegmentWindow,
  VerificationBaseline,
  WindowSummary,
} from '../types.ts';
import type { DetectSettings, FindingRule, Observation } from './rule.ts';
import { finite, margin, notJudged, pMargin } from './shared.ts';

export const SEGMENT_DEFAULTS = {
  /**
   * Labelled rows a segment's baseline needs before the segment is judged. On the autonomy bench's
   * development seeds (bench/segment-thresholds.ts, docs/benchmarks.md) 50 to 400 gave the same responses
   * and found the same changed segments; 800 missed one. 200 judges a small segment twice as soon as 400.
   */
  segmentBaselineRows: 200,
  /**
   * Labelled rows a segment's baseline keeps at most: beyond, older rows weigh less (both counts are
   * scaled down), so the baseline follows slow seasonal change and a long healthy past does not make
   * every small difference significant.
   */
  segmentBaselineCap: 5000,
  /**
   * Broken segments must be at most this share of those tested; more is the whole model's failure. On the
   * development seeds a third or less missed a change in one of three segments, and 1 (never the whole
   * model's) protected a segment where the whole population had changed; a half and two thirds tied.
   */
  segmentMaxBrokenShare: 0.5,
} as const;

/** A segment's test in one window: a classifier's accuracy, or a regressor's RMSE. */
export type SegmentTest = OneSegmentTest & {
  /** Benjamini–Hochberg across the segments tested in the window. */
  adjustedPValue: number;
  broken: boolean;
};

/** A segment's test before the correction across segments. */
type OneSegmentTest = {
  name: string;
  /** Rows tested: labelled (classifiers), labelled with a valid prediction (regressors). */
  labelled: number;
  baselineRows: number;
  /** One-sided: the error rate (classifiers) or the mean squared error (regressors) rose. */
  pValue: number;
} & (
  | {
      /** Absent in evidence written before regressors' segments were judged. */
      metric?: 'accuracy';
      accuracy: number;
      baselineAccuracy: number;
      /** baselineAccuracy − accuracy. */
      drop: number;
    }
  | {
      metric: 'rmse';
      rmse: number;
      baselineRmse: number;
      /** rmse / baselineRmse − 1: the relative rise minEffect.errorIncrease bounds. */
      rise: number;
    }
);

export type SegmentEvidence = {
  window: number;
  /** The broken segment the finding is about (the most significant one); null when none is broken. */
  segment: string | null;
  /** Every segment tested, most significant first. */
  tests: SegmentTest[];
  /** Segments not tested: too few labelled rows in the window, or no baseline yet. */
  untested: string[];
  /** Segments the fallback answers (a segment remedy's route): not judged while the route stands. */
  routed?: string[];
  /** The segments not found broken, pooled, when they fell too: the whole model's failure (no finding). */
  othersPooled?: OneSegmentTest;
};

/**
 * A segment's healthy past: labelled rows and the correct ones among them; for a regressor, the rows
 * (labelled, with correct 0) and their squared errors as sums.
 */
export interface SegmentBaseline {
  labelled: number;
  correct: number;
  /** Regressors: the squared errors of the healthy windows' rows (SegmentWindow.squaredErrors), summed. */
  squaredErrors?: SampleSums;
  /** The segment's last test found it broken: until it is tested again, windows cannot clear it. */
  broken?: boolean;
}

export const segment: FindingRule<'segment'> = {
  kind: 'segment',
  // A segment's inputs or concept broke; whichever, the segment's users are protected on their own, then
  // a retrain that beats the route repairs, or a person decides (ladders.segment).
  origin: 'model',
  // Before every whole-window kind: a failure confined to one segment also moves the whole window (its
  // quality, drift or accuracy), and the segment finding says where it is.
  priority: -1,
  defaults: SEGMENT_DEFAULTS,
  observe({ window: w, state, settings }): Observation<'segment'> {
    const { alpha, minEffect } = settings.detection;
    const evidence: SegmentEvidence = { window: w.seq, segment: null, tests: [], untested: [] };
    const parts = w.segments ?? [];
    if (parts.length === 0) return notJudged('segment', 'the model has no segments', evidence);
    const regression = w.task === 'regression';
    const testable: { part: SegmentWindow; base: SegmentBaseline }[] = [];
    for (const part of parts) {
      // The fallback answers a routed segment: production's performance there is neither seen nor at stake.
      if (part.routed) {
        evidence.routed = [...(evidence.routed ?? []), part.name];
        continue;
      }
      const base = state.segments?.[part.name];
      if (
        // A spread of squared errors needs two of them, whatever window.minRows allows.
        rowsOf(part, regression) >= (regression ? Math.max(2, settings.minRows) : settings.minRows) &&
        base &&
        (!regression || base.squaredErrors) &&
        base.labelled >= SEGMENT_DEFAULTS.segmentBaselineRows
      )
        testable.push({ part, base });
      else evidence.untested.push(part.name);
    }
    if (testable.length === 0)
      return notJudged('segment', 'no segment has enough labelled rows and a baseline yet', evidence);
    const unseen = parts.find((p) => state.segments?.[p.name]?.broken && evidence.untested.includes(p.name));
    if (unseen)
      return notJudged(
        'segment',
        `segment ${unseen.name} has too few labelled rows to judge again`,
        evidence,
      );
    const raw = testable.map(({ part, base }) => segmentTest(part, base, regression));
    const adjusted = benjaminiHochberg(raw.map((t) => t.pValue));
    evidence.tests = raw
      .map((t, i): SegmentTest => {
        const adjustedPValue = adjusted[i]!;
        return { ...t, adjustedPValue, broken: adjustedPValue < alpha && fellBy(t, minEffect) };
      })
      .sort((a, b) => a.adjustedPValue - b.adjustedPValue || a.name.localeCompare(b.name));
    const broken = evidence.tests.filter((t) => t.broken);
    if (broken.length > SEGMENT_DEFAULTS.segmentMaxBrokenShare * evidence.tests.length) {
      return notJudged(
        'segment',
        `${broken.length} of ${evidence.tests.length} segments fell: the whole model's failure, not a segment's`,
        evidence,
      );
    }
    const pooled = othersPooled(testable, new Set(broken.map((t) => t.name)), regression);
    if (broken.length > 0 && pooled && pooled.pValue < alpha && fellBy(pooled, minEffect)) {
      return notJudged(
        'segment',
        `the other segments fell too (pooled: adjusted p ${pooled.pValue.toPrecision(2)}): the whole model's failure, not a segment's`,
        { ...evidence, othersPooled: pooled },
      );
    }
    const worst = broken[0];
    if (!worst) {
      return {
        kind: 'segment',
        judged: true,
        bad: false,
        severity: 'info',
        summary: `${evidence.tests.length} segments hold their ${regression ? 'RMSE' : 'accuracy'}`,
        evidence,
      };
    }
    evidence.segment = worst.name;
    const others = broken.length > 1 ? ` (${broken.length - 1} more segments fell too)` : '';
    const adjustedText = `adjusted p ${worst.adjustedPValue.toPrecision(2)}`;
    return {
      kind: 'segment',
      judged: true,
      bad: true,
      severity: brokenSeverity(worst, settings),
      summary:
        worst.metric === 'rmse'
          ? `segment ${worst.name}: RMSE ${worst.rmse.toPrecision(3)} against its ` +
            `${worst.baselineRmse.toPrecision(3)} (${adjustedText})${others}`
          : `segment ${worst.name}: accuracy ${worst.accuracy.toFixed(3)} against its ` +
            `${worst.baselineAccuracy.toFixed(3)} (${adjustedText})${others}`,
      evidence,
    };
  },
  margins(f, policy) {
    const { alpha, minEffect } = policy.detection;
    return f.evidence.tests
      .filter((t) => t.broken)
      .map((t) =>
        t.metric === 'rmse'
          ? margin(finite(t.rise), minEffect.errorIncrease, pMargin(finite(t.adjustedPValue), alpha))
          : margin(finite(t.drop), minEffect.accuracyDrop, pMargin(finite(t.adjustedPValue), alpha)),
      );
  },
  verificationBaseline: segmentBaseline,
  // The route is the segment's remedy, not a hold until a cause outside the model goes: verification
  // judges the segment's rows under it (lifecycle.ts), and the route stays until a retrain that beats it
  // (its promotion) or a person lifts it.
  holdUntil: null,
};

/** The test's fall reaches the policy's minimum effect: minEffect.accuracyDrop, or minEffect.errorIncrease. */
function fellBy(t: OneSegmentTest, minEffect: DetectSettings['detection']['minEffect']): boolean {
  return t.metric === 'rmse' ? t.rise >= minEffect.errorIncrease : t.drop >= minEffect.accuracyDrop;
}

/**
 * The segments not found broken, pooled, tested against their pooled baselines as one segment is. A change
 * of the whole population shows, window by window, as only some segments significantly down — each alone
 * has few rows, and the correction across segments takes more of its power — so a share of broken segments
 * under segmentMaxBrokenShare does not make a fall confined. The rest, pooled, has the rows to show
 * whether it fell too: if so (one-sided p below alpha, by the minimum effect), the model is broken, not a
 * segment. Null when no other segment was tested.
 */
function othersPooled(
  testable: readonly { part: SegmentWindow; base: SegmentBaseline }[],
  broken: ReadonlySet<string>,
  regression: boolean,
): OneSegmentTest | null {
  const others = testable.filter(({ part }) => !broken.has(part.name));
  if (others.length === 0) return null;
  const add = (a: SampleSums | undefined, b: SampleSums | undefined): SampleSums => ({
    n: (a?.n ?? 0) + (b?.n ?? 0),
    sum: (a?.sum ?? 0) + (b?.sum ?? 0),
    sumSquares: (a?.sumSquares ?? 0) + (b?.sumSquares ?? 0),
  });
  const part = { name: 'others', labelled: 0, correct: 0 } as SegmentWindow;
  const base: SegmentBaseline = { labelled: 0, correct: 0 };
  for (const o of others) {
    part.labelled += o.part.labelled;
    part.correct += o.part.correct;
    base.labelled += o.base.labelled;
    base.correct += o.base.correct;
    if (regression) {
      part.squaredErrors = add(part.squaredErrors, o.part.squaredErrors);
      base.squaredErrors = add(base.squaredErrors, o.base.squaredErrors);
    }
  }
  return segmentTest(part, base, regression);
}

/** Rows a segment's window is tested on: labelled (classifiers), labelled with a valid prediction (regressors). */
function rowsOf(part: SegmentWindow, regression: boolean): number {
  return regression ? (part.squaredErrors?.n ?? 0) : part.labelled;
}

/**
 * One segment's one-sided test against its baseline, before the correction across segments.
 *
 * Classifiers: a two-proportion z-test of the error rate (rows are 0/1).
 *
 * Regressors: Welch's t-test that the mean of the squared errors rose, from their sums (n, Σe², Σe⁴).
 * Not the F-test of MSE_window / MSE_baseline (a test on the log of the MSE ratio): it is exact only for
 * zero-mean normal errors, and its false-alarm rate grows with the errors' kurtosis — a model whose
 * errors have heavier tails than a Gaussian (most do) would be flagged on noise. Welch's t reads the
 * spread of the squared errors from the rows themselves (Σe⁴), so by the central limit theorem it holds
 * for any error distribution with a finite fourth moment, without assuming the baseline's spread is the
 * window's. Squared errors are skewed to the right, which makes the upper tail of t conservative rather
 * than liberal in small windows; a pooled-variance (Student's) t, which the null of an unchanged segment
 * would also allow, is liberal instead. Over 300 windows of 20 stationary segments (3 seeds), the share of
 * segments below alpha 0.01 was 0.14–0.42 % with Welch's t and 1.1–1.9 % with the pooled t on normal
 * errors (0.01–0.04 % against 2.3–4.9 % on Student's t(5) errors, 60 to 400 rows). The price is power on
 * heavy-tailed errors: t is at most √n over the squared errors' coefficient of variation. It is also the test verification applies to a regressor's RMSE
 * (lib/recovery/judge.ts), so finding and verification read the same evidence the same way.
 */
function segmentTest(part: SegmentWindow, base: SegmentBaseline, regression: boolean): OneSegmentTest {
  const common = { name: part.name, labelled: rowsOf(part, regression), baselineRows: base.labelled };
  if (regression) {
    const window = part.squaredErrors!;
    const before = base.squaredErrors!;
    const t = welchTTestFromSums(before, window, 'greater');
    const rmse = Math.sqrt(window.sum / window.n);
    const baselineRmse = Math.sqrt(before.sum / before.n);
    return {
      ...common,
      metric: 'rmse',
      rmse,
      baselineRmse,
      rise: baselineRmse > 0 ? rmse / baselineRmse - 1 : rmse > 0 ? Number.POSITIVE_INFINITY : 0,
      pValue: t.pValue,
    };
  }
  const z = twoProportionZTest(
    { successes: base.labelled - base.correct, trials: base.labelled },
    { successes: part.labelled - part.correct, trials: part.labelled },
  );
  const baselineAccuracy = base.correct / base.labelled;
  const accuracy = part.correct / part.labelled;
  return {
    ...common,
    metric: 'accuracy',
    accuracy,
    baselineAccuracy,
    drop: baselineAccuracy - accuracy,
    // Two-sided to one-sided (the error rate rose): half the two-sided p on the side of a rise.
    pValue: z.statistic > 0 ? z.pValue / 2 : 1 - z.pValue / 2,
  };
}

/**
 * Critical when the segment's answers are past use: accuracy below the policy's floor, or RMSE risen by
 * twice the minimum effect (the whole-window RMSE rule's line, findings/concept-drift.ts).
 */
function brokenSeverity(t: SegmentTest, settings: DetectSettings): 'critical' | 'warning' {
  const critical =
    t.metric === 'rmse'
      ? t.rise >= 2 * settings.detection.minEffect.errorIncrease
      : t.accuracy < settings.floors.accuracy;
  return critical ? 'critical' : 'warning';
}

/**
 * The pre-failure accuracy (a regressor's: RMSE) of the segment the opening finding names, from its own
 * healthy windows (DetectorState.segments): a segment incident is verified on that segment's rows only,
 * whichever version answers them (the fallback, once the route stands). Null without a named segment or
 * a baseline of it.
 */
function segmentBaseline(
  detector: DetectorState,
  _window: WindowSummary | null,
  finding?: FindingOf<'segment'>,
): VerificationBaseline | null {
  const name = finding?.evidence.segment;
  const base = name ? detector.segments?.[name] : undefined;
  if (!name || !base || base.labelled === 0) return null;
  const errors = base.squaredErrors;
  if (errors)
    return { metric: 'rmse', value: Math.sqrt(errors.sum / errors.n), rows: base.labelled, segment: name };
  return { metric: 'accuracy', value: base.correct / base.labelled, rows: base.labelled, segment: name };
}

/**
 * The window as the segment rule judges it under `deployment`: the segments the fallback answers are
 * marked routed (SegmentWindow.routed). Production answers none of their rows, so they are neither
 * judged nor learnt from while the route stands, and a segment found broken before its route stays
 * flagged (SegmentBaseline.broken) until production is judged on it again.
 */
export function withRoutes(window: WindowSummary, routed: readonly string[] | undefined): WindowSummary {
  if (!window.segments || !routed || routed.length === 0) return window;
  return {
    ...window,
    segments: window.segments.map((p) => (routed.includes(p.name) ? { ...p, routed: true } : p)),
  };
}

/**
 * The segments' baselines after a window: a segment whose error rate (a regressor's: mean squared error)
 * did not rise significantly (raw one-sided p ≥ alpha, before correction: a baseline must not learn a fall
 * that is only starting) adds its window; an untested segment with rows to test adds it too while its
 * baseline is being built.
 */
export function learnSegments(
  state: DetectorState,
  window: WindowSummary,
  evidence: SegmentEvidence | null,
  alpha: number,
): DetectorState['segments'] {
  const parts = window.segments ?? [];
  if (parts.length === 0) return state.segments;
  const regression = window.task === 'regression';
  const next: Record<string, SegmentBaseline> = {};
  for (const part of parts) {
    const base = state.segments?.[part.name] ?? { labelled: 0, correct: 0 };
    if (part.routed) {
      next[part.name] = base;
      continue;
    }
    const test = evidence?.tests.find((t) => t.name === part.name);
    const broken = test ? test.broken : base.broken;
    const rows = rowsOf(part, regression);
    const healthy = test ? test.pValue >= alpha : rows > 0 && !broken;
    if (!healthy || rows === 0) {
      const { broken: _was, ...kept } = base;
      next[part.name] = { ...kept, ...(broken ? { broken } : {}) };
      continue;
    }
    next[part.name] = regression ? addSquaredErrors(base, part.squaredErrors!) : addCounts(base, part);
  }
  return next;
}

/** A classifier segment's baseline with a healthy window's counts added, capped. */
function addCounts(base: SegmentBaseline, part: SegmentWindow): SegmentBaseline {
  const labelled = base.labelled + part.labelled;
  // Whole rows: the z-test counts trials.
  const scale = Math.min(1, SEGMENT_DEFAULTS.segmentBaselineCap / labelled);
  return {
    labelled: Math.round(labelled * scale),
    correct: Math.round((base.correct + part.correct) * scale),
  };
}

/**
 * A regressor segment's baseline with a healthy window's squared errors added, capped: every sum scaled
 * by the same factor keeps the mean squared error and its spread while the rows count for less (Welch's
 * t takes fractional rows).
 */
function addSquaredErrors(base: SegmentBaseline, window: SampleSums): SegmentBaseline {
  const before = base.squaredErrors ?? { n: 0, sum: 0, sumSquares: 0 };
  const n = before.n + window.n;
  const scale = Math.min(1, SEGMENT_DEFAULTS.segmentBaselineCap / n);
  return {
    labelled: Math.round(n * scale),
    correct: 0,
    squaredErrors: {
      n: n * scale,
      sum: (before.sum + window.sum) * scale,
      sumSquares: (before.sumSquares + window.sumSquares) * scale,
    },
  };
}
