// The per-model policy: one declarative, validated document that says how the agent watches a model and
// what it may do about it. Every field has a default, written next to it, so `{}` is a sound policy
// (`prefault` runs a missing section through its own schema, which fills in the field defaults); an
// invalid policy is rejected with a message per field and never half-applied. Workflows import only types.
import { z } from 'zod';
import { ACTION_TYPES, FINDING_KINDS } from '../domain.ts';
import { DURATION_PATTERN } from './duration.ts';

/** A Temporal-style duration: '90s', '15 minutes', '6 hours', '1 day'. */
export const durationSchema = z
  .string()
  .regex(DURATION_PATTERN, 'a duration such as "90s", "15 minutes", "6 hours" or "1 day"');

const fraction = z.number().min(0).max(1);
/** Actions the agent takes to protect or repair a model; 'none' and 'alert' are always allowed. */
export const REMEDIES = ['rollback', 'retrain', 'fallback', 'disable'] as const;
/** The operating points of detect's error-rate watch (policy `detection.errorRateMode`). */
export const ERROR_RATE_MODES = ['fast', 'conservative'] as const;
export type ErrorRateMode = (typeof ERROR_RATE_MODES)[number];
const remedy = z.enum(REMEDIES);

const approvalSchema = z
  .object({
    /** auto: act at once; approve: wait for a human, then take `onTimeout` when nobody answered. */
    mode: z.enum(['auto', 'approve']).default('auto'),
    timeout: durationSchema.default('30 minutes'),
    /** The safe action taken when an approval expires: protect users, never optimise unasked. */
    onTimeout: z.enum(['none', 'alert', 'fallback', 'disable']).default('fallback'),
  })
  .strict();

const budgetSchema = z.object({ max: z.number().int().min(0), per: durationSchema }).strict();

const persistenceSchema = z
  .object({
    /** A finding is confirmed when at least `confirmM` of the last `confirmN` windows are bad. */
    confirmM: z.number().int().min(1).default(2),
    confirmN: z.number().int().min(1).default(3),
    /** ...and cleared after `clearAfter` consecutive good windows (hysteresis). */
    clearAfter: z.number().int().min(1).default(2),
  })
  .strict()
  .refine((p) => p.confirmM <= p.confirmN, {
    message: 'confirmM cannot exceed confirmN',
    path: ['confirmM'],
  });

export const policySchema = z
  .object({
    window: z
      .object({
        /** count: every `rows` predictions; time: every `every`. */
        kind: z.enum(['count', 'time']).default('time'),
        rows: z.number().int().min(10).max(1_000_000).default(1000),
        every: durationSchema.default('1 minute'),
        /** Below this many rows (or labels, for performance) a window says it cannot judge. */
        minRows: z.number().int().min(1).default(30),
      })
      .strict()
      .prefault({}),
    detection: z
      .object({
        /** Significance after Benjamini–Hochberg correction across features. */
        alpha: z.number().gt(0).lt(0.5).default(0.01),
        /** Practical relevance: a finding also needs an effect at least this large. */
        minEffect: z
          .object({
            psi: z.number().min(0).default(0.2),
            ks: fraction.default(0.1),
            jensenShannon: fraction.default(0.1),
            accuracyDrop: fraction.default(0.05),
            /** Relative increase of an error metric (RMSE, MAE) for regression. */
            errorIncrease: z.number().min(0).default(0.2),
            latencyIncrease: z.number().min(0).default(0.5),
            /** ...and by at least this many milliseconds: sub-millisecond models double on any hiccup. */
            latencyIncreaseMs: z.number().min(0).default(20),
            failureRate: fraction.default(0.05),
            missingRate: fraction.default(0.05),
          })
          .strict()
          .prefault({}),
        persistence: persistenceSchema.prefault({}),
        /** Inter-arrival gap, in multiples of the usual one, that counts as traffic stopping. */
        staleGapFactor: z.number().min(1).default(10),
        /**
         * How a classifier's error rate trades false alarms for delay (workflows/detect.ts
         * ERROR_RATE_MODE_SETTINGS; docs/agent-logic.md "Choosing the error-rate mode"): `fast` finds a small rise
         * sooner than Page–Hinkley with fewer false alarms; `conservative` raises fewer false alarms
         * than ADWIN and still finds a rise sooner than it.
         */
        errorRateMode: z.enum(ERROR_RATE_MODES).default('fast'),
      })
      .strict()
      .prefault({}),
    /** Critical collapse: past these the agent protects users at once, before diagnosing. */
    floors: z
      .object({
        accuracy: fraction.default(0.5),
        failureRate: fraction.default(0.5),
      })
      .strict()
      .prefault({}),
    /** What to try, in order, per finding kind; the next rung is taken when verification fails. */
    ladders: z
      .partialRecord(z.enum(FINDING_KINDS), z.array(z.enum(ACTION_TYPES)).min(1).max(6))
      .default({})
      .transform((given) => ({ ...DEFAULT_LADDERS, ...given })),
    /** Evidence strength (0–1) below which the agent only alerts, and above which it acts. */
    confidence: z
      .object({ alertAbove: fraction.default(0.5), actAbove: fraction.default(0.8) })
      .strict()
      .refine((c) => c.alertAbove <= c.actAbove, {
        message: 'alertAbove cannot exceed actAbove',
        path: ['alertAbove'],
      })
      .prefault({}),
    cooldowns: z
      .partialRecord(remedy, durationSchema)
      .default({})
      .transform((given) => ({ ...DEFAULT_COOLDOWNS, ...given })),
    budgets: z
      .partialRecord(remedy, budgetSchema)
      .default({})
      .transform((given) => ({ ...DEFAULT_BUDGETS, ...given })),
    approvals: z.partialRecord(remedy, approvalSchema).default({}),
    verification: z
      .object({
        /** Fresh labelled rows needed before a recovery is judged. */
        minRows: z.number().int().min(10).default(200),
        /** Give up and climb the ladder (or escalate) when recovery is not shown by then. */
        maxWait: durationSchema.default('30 minutes'),
        /** Recovered = not worse than the pre-failure baseline by more than this (absolute). */
        tolerance: fraction.default(0.02),
        alpha: z.number().gt(0).lt(0.5).default(0.05),
      })
      .strict()
      .prefault({}),
    /** How a retrained candidate is judged and brought into service. */
    retrain: z
      .object({
        /** Labelled rows since the onset needed to train; the agent waits (up to maxWait) for them. */
        minRows: z.number().int().min(20).default(300),
        /** Most recent share of those rows held out to compare candidate and production. */
        holdoutShare: z.number().gt(0).lt(0.9).default(0.3),
        /** A candidate must beat production on the held-out rows at this significance. */
        alpha: z.number().gt(0).lt(0.5).default(0.05),
        /** canary: a share of live traffic first; shadow: scored beside production; direct: promote at once. */
        promotion: z.enum(['canary', 'shadow', 'direct']).default('canary'),
        canaryShare: z.number().gt(0).lt(1).default(0.2),
        /** Labelled rows the canary (or shadow) needs before it can be promoted. */
        canaryMinRows: z.number().int().min(10).default(100),
        /** The canary may be worse than production by at most this (absolute accuracy, relative RMSE). */
        canaryMargin: fraction.default(0.02),
        /** Give up (reject the candidate) when training data or canary evidence is not there by then. */
        maxWait: durationSchema.default('2 hours'),
      })
      .strict()
      .prefault({}),
    /** Where escalations go (signed, retried POST to an http or https URL); none: the dashboard only. */
    escalationWebhook: z.url({ protocol: /^https?$/ }).optional(),
  })
  .strict();

export const DEFAULT_LADDERS: Record<(typeof FINDING_KINDS)[number], (typeof ACTION_TYPES)[number][]> = {
  data_quality: ['fallback', 'alert'],
  concept_drift: ['retrain', 'rollback', 'fallback'],
  // Drift without a performance impact only alerts whatever the ladder says; this ladder is for drift that hurts.
  data_drift: ['retrain', 'fallback'],
  anomaly: ['none'],
  latency: ['rollback', 'fallback'],
  failures: ['rollback', 'fallback', 'disable'],
  stale_data: ['alert'],
};
export const DEFAULT_COOLDOWNS: Record<(typeof REMEDIES)[number], string> = {
  rollback: '15 minutes',
  retrain: '1 hour',
  fallback: '5 minutes',
  disable: '5 minutes',
};
export const DEFAULT_BUDGETS: Record<(typeof REMEDIES)[number], { max: number; per: string }> = {
  rollback: { max: 3, per: '1 day' },
  retrain: { max: 3, per: '1 day' },
  fallback: { max: 6, per: '1 day' },
  disable: { max: 2, per: '1 day' },
};

export type Policy = z.infer<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

export interface PolicyIssue {
  path: string;
  message: string;
}

/** Validates a policy document; on failure, every problem with its path and nothing else. */
export function parsePolicy(
  input: unknown,
): { ok: true; policy: Policy } | { ok: false; issues: PolicyIssue[] } {
  const result = policySchema.safeParse(input ?? {});
  if (result.success) return { ok: true, policy: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((i) => ({
      path: i.path.map(String).join('.') || '(policy)',
      message: i.message,
    })),
  };
}

export const DEFAULT_POLICY: Policy = policySchema.parse({});
