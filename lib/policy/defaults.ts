// The policy's vocabulary and defaults as plain values, without zod: the workflow bundle (the agent,
// decide, detect) reads them, and must load nothing but deterministic, dependency-free code. The schema in
// policy.ts validates documents and fills every missing field from DEFAULT_POLICY, so each default is
// written once, here; what each field means is documented beside its schema.
import type { ActionType, FindingKind } from '../domain.ts';

/** Actions the agent takes to protect or repair a model; 'none' and 'alert' are always allowed. */
export const REMEDIES = ['rollback', 'retrain', 'fallback', 'disable', 'webhook'] as const;
/** How windows close (policy `window.kind`; lib/brain/windows.ts). */
/**
 * A window's `every` when the policy gives none and no agent's cycle stands for it: the backtest's (the
 * live agent's is its cycle interval, HOMEOSTAT_CYCLE_INTERVAL, 1 minute by default).
 */
export const BACKTEST_WINDOW_EVERY = '1 minute';
export const WINDOW_KINDS = ['count', 'time', 'adaptive'] as const;
export type WindowKind = (typeof WINDOW_KINDS)[number];
/** The operating points of detect's error-rate watch (policy `detection.errorRateMode`). */
export const ERROR_RATE_MODES = ['fast', 'conservative'] as const;
export type ErrorRateMode = (typeof ERROR_RATE_MODES)[number];

export const DEFAULT_LADDERS: Record<FindingKind, ActionType[]> = {
  data_quality: ['fallback', 'alert'],
  concept_drift: ['retrain', 'rollback', 'fallback'],
  // Drift without a performance impact only alerts whatever the ladder says; this ladder is for drift that hurts.
  data_drift: ['retrain', 'fallback'],
  anomaly: ['none'],
  latency: ['rollback', 'fallback'],
  failures: ['rollback', 'fallback', 'disable'],
  stale_data: ['alert'],
  custom: ['alert'],
  // Protect, then repair: the segment's own fallback route shields its users; when the fallback falls short
  // on the segment's rows, a retrain on the recent rows (the segment's feature stays a feature) that beats
  // the route lifts it in its promotion's revision.
  segment: ['fallback', 'retrain', 'alert'],
};
export const DEFAULT_COOLDOWNS: Record<(typeof REMEDIES)[number], string> = {
  rollback: '15 minutes',
  retrain: '1 hour',
  fallback: '5 minutes',
  disable: '5 minutes',
  webhook: '15 minutes',
};
export const DEFAULT_BUDGETS: Record<(typeof REMEDIES)[number], { max: number; per: string }> = {
  rollback: { max: 3, per: '1 day' },
  retrain: { max: 3, per: '1 day' },
  fallback: { max: 6, per: '1 day' },
  disable: { max: 2, per: '1 day' },
  webhook: { max: 3, per: '1 day' },
};
/** What the agent does with an escalation nobody answers (policy `escalation.unanswered`). */
export const UNANSWERED_ESCALATION = ['hold', 'accept'] as const;

/** The defaults of one approval entry (policy `approvals.<remedy>`), which has no entry by default. */
export const DEFAULT_APPROVAL = {
  mode: 'auto',
  timeout: '30 minutes',
  onTimeout: 'fallback',
} as const;

/**
 * The policy `{}` stands for: every field at its default. Its type is inferred rather than declared as
 * Policy, which the schema infers from these very defaults; wherever it is used as a Policy, and in
 * policy.test.ts (parsing `{}` gives it back), the two are checked against each other.
 */
export const DEFAULT_POLICY = {
  window: { kind: 'adaptive' as WindowKind, rows: 1000, minRows: 30, maxSpan: '1 hour' },
  detection: {
    alpha: 0.01,
    minEffect: {
      psi: 0.2,
      ks: 0.1,
      accuracyDrop: 0.05,
      errorIncrease: 0.2,
      latencyIncrease: 0.5,
      latencyIncreaseMs: 20,
      failureRate: 0.05,
      missingRate: 0.05,
    },
    persistence: { confirmM: 2, confirmN: 3, clearAfter: 2 },
    staleGapFactor: 10,
    errorRateMode: 'fast' as ErrorRateMode,
  },
  floors: { accuracy: 0.5, failureRate: 0.5 },
  ladders: DEFAULT_LADDERS,
  confidence: { alertAbove: 0.5, actAbove: 0.8 },
  cooldowns: DEFAULT_COOLDOWNS,
  budgets: DEFAULT_BUDGETS,
  approvals: {},
  verification: { minRows: 200, maxWait: '30 minutes', tolerance: 0.02, alpha: 0.05 },
  remedyWebhook: { timeout: '30 minutes' },
  escalation: { unanswered: 'hold' as (typeof UNANSWERED_ESCALATION)[number], acceptAfter: '1 day' },
  retrain: {
    minRows: 300,
    maxRows: 5000,
    holdoutShare: 0.5,
    alpha: 0.05,
    promotion: 'canary' as const,
    canaryShare: 0.2,
    canaryMinRows: 100,
    canaryMargin: 0.02,
    maxWait: '2 hours',
    trainer: 'built-in' as const,
  },
};
