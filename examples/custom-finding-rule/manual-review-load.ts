// A business-metric finding rule (docs/extending.md): a credit model's applications whose confidence is
// low go to a person for manual review, and the review team can take only so many. When the window's
// mean confidence falls below the level the team was staffed for, the model costs money even if its
// accuracy has not moved yet. Load it with HOMEOSTAT_FINDING_RULES=examples/custom-finding-rule/manual-review-load.ts
// (worker, backtest and demo alike); `ladders.custom` in the policy says what the agent does about it.
import type { CustomFindingRule } from '../../lib/extensions/finding-rules.ts';

export const MANUAL_REVIEW_DEFAULTS = {
  /** The mean confidence the review team was staffed for. */
  minMeanConfidence: 0.75,
  /** Below this many predictions a window says nothing about the review load. */
  minRows: 30,
};

/** The rule, for a review team staffed for `settings` (the defaults unless told). */
export function manualReviewLoad(settings: Partial<typeof MANUAL_REVIEW_DEFAULTS> = {}): CustomFindingRule {
  const defaults = { ...MANUAL_REVIEW_DEFAULTS, ...settings };
  const { minMeanConfidence, minRows } = defaults;
  return {
    name: 'manual-review-load',
    defaults,
    observe({ window }) {
      const mean = window.meanConfidence ?? null;
      if (window.count < minRows || mean === null) {
        return {
          judged: false,
          bad: false,
          severity: 'info',
          summary: 'too few confident predictions to judge',
        };
      }
      const bad = mean < minMeanConfidence;
      return {
        judged: true,
        bad,
        // A fall past half the way to a coin toss doubles the reviews: critical.
        severity: mean < (minMeanConfidence + 0.5) / 2 ? 'critical' : 'warning',
        summary: bad
          ? `mean confidence ${mean.toFixed(3)} is below the ${minMeanConfidence} the review team is staffed for`
          : 'the manual-review load is within staffing',
        evidence: { meanConfidence: mean, minMeanConfidence },
        // How far below the line, in units of 0.05 confidence: the evidence strength decide weighs.
        margin: bad ? 1 + (minMeanConfidence - mean) / 0.05 : 0,
      };
    },
  };
}

export const rules = [manualReviewLoad()];
