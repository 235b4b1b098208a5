// segment: one segment of the model's traffic (lib/segments) performs worse than it used to while the
// others hold. Each segment with enough labelled rows in the window and a baseline of its own healthy
// windows is tested — a one-sided two-proportion z-test of its error rate against its baseline's — and the
// p-values are corrected across the segments tested (Benjamini–Hochberg at the policy's alpha): with 20
// segments at alpha 0.01, one would otherwise be flagged about every fifth window by chance alone. A
// segment is broken when its adjusted p-value is below alpha and its accuracy fell by at least
// minEffect.accuracyDrop. When most segments fell, the model is broken, not a segment: that is the
// whole-window rules' to judge, and this rule does not claim it.
//
// Only performance is judged per segment, not drift: the reference profile is the whole population's, and
// a segment differs from it by construction (its drift digest is shown, not judged).
import { benjaminiHochberg } from '../../stats/multiple-testing.ts';
import { twoProportionZTest } from '../../stats/proportions.ts';
import type {
  DetectorState,
  FindingOf,
  SegmentWindow,
  VerificationBaseline,
  WindowSummary,
} from '../types.ts';
import type { FindingRule, Observation } from './rule.ts';
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

/** A segment's test in one window. */
export type SegmentTest = {
  name: string;
  labelled: number;
  accuracy: number;
  baselineAccuracy: number;
  baselineRows: number;
  /** baselineAccuracy − accuracy. */
  drop: number;
  /** One-sided: the error rate rose. */
  pValue: number;
  /** Benjamini–Hochberg across the segments tested in the window. */
  adjustedPValue: number;
  broken: boolean;
};

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
};

/** A segment's healthy past: labelled rows and the correct ones among them. */
export interface SegmentBaseline {
  labelled: number;
  correct: number;
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
    if (w.task === 'regression')
      return notJudged('segment', 'segments are judged on accuracy: a regressor has none', evidence);
    const testable: { part: SegmentWindow; base: SegmentBaseline }[] = [];
    for (const part of parts) {
      // The fallback answers a routed segment: production's performance there is neither seen nor at stake.
      if (part.routed) {
        evidence.routed = [...(evidence.routed ?? []), part.name];
        continue;
      }
      const base = state.segments?.[part.name];
      if (part.labelled >= settings.minRows && base && base.labelled >= SEGMENT_DEFAULTS.segmentBaselineRows)
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
    const raw = testable.map(({ part, base }) => {
      const z = twoProportionZTest(
        { successes: base.labelled - base.correct, trials: base.labelled },
        { successes: part.labelled - part.correct, trials: part.labelled },
      );
      // Two-sided to one-sided (the error rate rose): half the two-sided p on the side of a rise.
      return z.statistic > 0 ? z.pValue / 2 : 1 - z.pValue / 2;
    });
    const adjusted = benjaminiHochberg(raw);
    evidence.tests = testable
      .map(({ part, base }, i): SegmentTest => {
        const baselineAccuracy = base.correct / base.labelled;
        const accuracy = part.correct / part.labelled;
        const drop = baselineAccuracy - accuracy;
        return {
          name: part.name,
          labelled: part.labelled,
          accuracy,
          baselineAccuracy,
          baselineRows: base.labelled,
          drop,
          pValue: raw[i]!,
          adjustedPValue: adjusted[i]!,
          broken: adjusted[i]! < alpha && drop >= minEffect.accuracyDrop,
        };
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
    const worst = broken[0];
    if (!worst) {
      return {
        kind: 'segment',
        judged: true,
        bad: false,
        severity: 'info',
        summary: `${evidence.tests.length} segments hold their accuracy`,
        evidence,
      };
    }
    evidence.segment = worst.name;
    const others = broken.length > 1 ? ` (${broken.length - 1} more segments fell too)` : '';
    return {
      kind: 'segment',
      judged: true,
      bad: true,
      severity: worst.accuracy < settings.floors.accuracy ? 'critical' : 'warning',
      summary:
        `segment ${worst.name}: accuracy ${worst.accuracy.toFixed(3)} against its ` +
        `${worst.baselineAccuracy.toFixed(3)} (adjusted p ${worst.adjustedPValue.toPrecision(2)})${others}`,
      evidence,
    };
  },
  margins(f, policy) {
    const { alpha, minEffect } = policy.detection;
    return f.evidence.tests
      .filter((t) => t.broken)
      .map((t) => margin(finite(t.drop), minEffect.accuracyDrop, pMargin(finite(t.adjustedPValue), alpha)));
  },
  verificationBaseline: segmentBaseline,
  // The route is the segment's remedy, not a hold until a cause outside the model goes: verification
  // judges the segment's rows under it (lifecycle.ts), and the route stays until a retrain that beats it
  // (its promotion) or a person lifts it.
  holdUntil: null,
};

/**
 * The pre-failure accuracy of the segment the opening finding names, from its own healthy windows
 * (DetectorState.segments): a segment incident is verified on that segment's rows only, whichever version
 * answers them (the fallback, once the route stands). Null without a named segment or a baseline of it.
 */
function segmentBaseline(
  detector: DetectorState,
  _window: WindowSummary | null,
  finding?: FindingOf<'segment'>,
): VerificationBaseline | null {
  const name = finding?.evidence.segment;
  const base = name ? detector.segments?.[name] : undefined;
  if (!name || !base || base.labelled === 0) return null;
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
 * The segments' baselines after a window: a segment whose error rate did not rise significantly (raw
 * one-sided p ≥ alpha, before correction: a baseline must not learn a fall that is only starting) adds
 * its window; an untested segment with labelled rows adds it too while its baseline is being built.
 */
export function learnSegments(
  state: DetectorState,
  window: WindowSummary,
  evidence: SegmentEvidence | null,
  alpha: number,
): DetectorState['segments'] {
  const parts = window.segments ?? [];
  if (parts.length === 0 || window.task === 'regression') return state.segments;
  const next: Record<string, SegmentBaseline> = {};
  for (const part of parts) {
    const base = state.segments?.[part.name] ?? { labelled: 0, correct: 0 };
    if (part.routed) {
      next[part.name] = base;
      continue;
    }
    const test = evidence?.tests.find((t) => t.name === part.name);
    const broken = test ? test.broken : base.broken;
    const healthy = test ? test.pValue >= alpha : part.labelled > 0 && !broken;
    if (!healthy || part.labelled === 0) {
      next[part.name] = { labelled: base.labelled, correct: base.correct, ...(broken ? { broken } : {}) };
      continue;
    }
    const labelled = base.labelled + part.labelled;
    // Whole rows: the z-test counts trials.
    const scale = Math.min(1, SEGMENT_DEFAULTS.segmentBaselineCap / labelled);
    next[part.name] = {
      labelled: Math.round(labelled * scale),
      correct: Math.round((base.correct + part.correct) * scale),
    };
  }
  return next;
}
