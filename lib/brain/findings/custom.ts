// custom: the finding of the user's own rules (docs/extending.md). A user's rule is not run here: it runs
// where a window is measured (lib/extensions/finding-rules.ts, called by the monitor activity and by the
// backtest alike), and its verdict is carried in the window summary (`custom`). So the workflow replays a
// recorded verdict and never the user's code: a changed or throwing rule cannot make a history
// non-deterministic or fail a workflow task. This rule turns those verdicts into one observation, which
// detect's persistence (M of N windows, hysteresis) and decide then treat like any other kind's; the
// policy's `ladders.custom` says what the agent does about it (by default it alerts).
import type { Severity } from '../../domain.ts';
import type { WindowMetrics } from '../../monitor/window.ts';
import type { WindowSummary } from '../types.ts';
import type { FindingRule, Observation } from './rule.ts';

/** The part of an observation a user's rule gives (rule.ts Observation): no kind, no carried statistics. */
export type CustomObservation = Pick<Observation, 'judged' | 'bad' | 'severity' | 'summary'> & {
  /** The numbers behind the verdict, shown with the finding. */
  evidence?: Record<string, number | string | boolean | null>;
  /**
   * How far past its threshold the measured value is (1: at it, 2: twice as far), the rule's margin
   * (rule.ts FindingRule.margins), which decide weighs into the evidence strength; absent: 1.
   */
  margin?: number;
};

/** What a user's rule reads: the model, the window's digest and the window's full metrics. */
export interface CustomObserveInput {
  modelName: string;
  window: Omit<WindowSummary, 'custom'>;
  metrics: WindowMetrics;
}

/**
 * A finding rule of the user's own (docs/extending.md; examples/custom-finding-rule): a pure function of
 * one window, named, with its thresholds beside it as each built-in rule keeps its (rule.ts FindingRule).
 * Persistence across windows, strength, the incident and the ladder are the core's, as for every kind.
 */
export interface CustomFindingRule {
  /** Lower case, digits and dashes; unique among the loaded rules. */
  name: string;
  defaults?: FindingRule['defaults'];
  observe(input: CustomObserveInput): CustomObservation;
}

/** A user rule's verdict on one window, as the window summary carries it. */
export type CustomVerdict = CustomObservation & {
  rule: string;
  /** The rule threw or answered something that is not an observation: not judged, and why. */
  error?: string;
};

export interface CustomEvidence {
  window: number;
  /** Every user rule's verdict on the window, in the order the rules were loaded. */
  rules: CustomVerdict[];
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export const custom: FindingRule<'custom'> = {
  kind: 'custom',
  // What the user measures is the model's business, which a better model can repair; the user's ladder
  // decides which remedies are tried (a webhook to their own rollout system, for one).
  origin: 'model',
  // After every built-in kind: a root cause the built-in rules see explains a business metric's fall.
  priority: 7,
  defaults: {},
  observe({ window }): Observation<'custom'> {
    const rules = window.custom ?? [];
    const judged = rules.filter((v) => v.judged);
    const bad = judged.filter((v) => v.bad);
    const worst = bad.reduce<Severity>(
      (s, v) => (SEVERITY_RANK[v.severity] > SEVERITY_RANK[s] ? v.severity : s),
      'info',
    );
    return {
      kind: 'custom',
      judged: judged.length > 0,
      bad: bad.length > 0,
      severity: bad.length > 0 ? worst : 'info',
      summary:
        bad.length > 0
          ? bad.map((v) => `${v.rule}: ${v.summary}`).join('; ')
          : judged.length > 0
            ? 'every custom rule is satisfied'
            : 'no custom rule judged the window',
      evidence: { window: window.seq, rules },
    };
  },
  margins(finding) {
    return finding.evidence.rules.filter((v) => v.bad).map((v) => v.margin ?? null);
  },
  // A user's metric has no pre-failure level the verify child can measure: an applied remedy closes the
  // incident, and the rule opens a new one if its metric is still bad.
  verificationBaseline: (_detector, _window: WindowSummary | null) => null,
  holdUntil: null,
};
