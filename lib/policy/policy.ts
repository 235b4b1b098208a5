// The per-model policy: one declarative, validated document that says how the agent watches a model and
// what it may do about it. Every field has a default (lib/policy/defaults.ts, read here), so `{}` is a
// sound policy (`prefault` runs a missing section through its own schema, which fills in the field
// defaults); an invalid policy is rejected with a message per field and never half-applied. This module
// loads zod: the API and activities validate with it, the workflow bundle imports only its types.
import { z } from 'zod';
import { ACTION_TYPES, FINDING_KINDS } from '../domain.ts';
import { BUILT_IN_TRAINER, PYTHON_PIPELINES, PYTHON_TRAINER_PREFIX } from '../models/trainers.ts';
import {
  DEFAULT_APPROVAL,
  DEFAULT_BUDGETS,
  DEFAULT_COOLDOWNS,
  DEFAULT_LADDERS,
  DEFAULT_POLICY,
  ERROR_RATE_MODES,
  REMEDIES,
  UNANSWERED_ESCALATION,
  WINDOW_KINDS,
} from './defaults.ts';
import { DURATION_PATTERN } from './duration.ts';

export {
  DEFAULT_BUDGETS,
  DEFAULT_COOLDOWNS,
  DEFAULT_LADDERS,
  DEFAULT_POLICY,
  ERROR_RATE_MODES,
  type ErrorRateMode,
  REMEDIES,
} from './defaults.ts';

/** A Temporal-style duration: '90s', '15 minutes', '6 hours', '1 day'. */
export const durationSchema = z
  .string()
  .regex(DURATION_PATTERN, 'a duration such as "90s", "15 minutes", "6 hours" or "1 day"');

const fraction = z.number().min(0).max(1);
const minEffect = DEFAULT_POLICY.detection.minEffect;
const persistenceDefaults = DEFAULT_POLICY.detection.persistence;
const remedy = z.enum(REMEDIES);

const approvalSchema = z
  .object({
    /** auto: act at once; approve: wait for a human, then take `onTimeout` when nobody answered. */
    mode: z.enum(['auto', 'approve']).default(DEFAULT_APPROVAL.mode),
    timeout: durationSchema.default(DEFAULT_APPROVAL.timeout),
    /** The safe action taken when an approval expires: protect users, never optimise unasked. */
    onTimeout: z.enum(['none', 'alert', 'fallback', 'disable']).default(DEFAULT_APPROVAL.onTimeout),
  })
  .strict();

const budgetSchema = z.object({ max: z.number().int().min(0), per: durationSchema }).strict();

const persistenceSchema = z
  .object({
    /** A finding is confirmed when at least `confirmM` of the last `confirmN` windows are bad. */
    confirmM: z.number().int().min(1).default(persistenceDefaults.confirmM),
    confirmN: z.number().int().min(1).default(persistenceDefaults.confirmN),
    /** ...and cleared after `clearAfter` consecutive good windows (hysteresis). */
    clearAfter: z.number().int().min(1).default(persistenceDefaults.clearAfter),
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
        /**
         * count: every `rows` predictions; time: every `every`; adaptive: `every` once it holds `minRows`
         * rows, sooner at `rows`, at the latest `maxSpan` (lib/brain/windows.ts says why).
         */
        kind: z.enum(WINDOW_KINDS).default(DEFAULT_POLICY.window.kind),
        rows: z.number().int().min(10).max(1_000_000).default(DEFAULT_POLICY.window.rows),
        /**
         * A time window's span, an adaptive one's once it can judge. Absent: the agent's cycle interval
         * (the backtest's: BACKTEST_WINDOW_EVERY), so that a window is a cycle on every agent.
         */
        every: durationSchema.optional(),
        /** Below this many rows (or labels, for performance) a window says it cannot judge. */
        minRows: z.number().int().min(1).default(DEFAULT_POLICY.window.minRows),
        maxSpan: durationSchema.default(DEFAULT_POLICY.window.maxSpan),
      })
      .strict()
      .prefault({}),
    detection: z
      .object({
        /** Significance after Benjamini–Hochberg correction across features. */
        alpha: z.number().gt(0).lt(0.5).default(DEFAULT_POLICY.detection.alpha),
        /** Practical relevance: a finding also needs an effect at least this large. */
        minEffect: z
          .object({
            psi: z.number().min(0).default(minEffect.psi),
            ks: fraction.default(minEffect.ks),
            accuracyDrop: fraction.default(minEffect.accuracyDrop),
            /** Relative increase of an error metric (RMSE, MAE) for regression. */
            errorIncrease: z.number().min(0).default(minEffect.errorIncrease),
            latencyIncrease: z.number().min(0).default(minEffect.latencyIncrease),
            /** ...and by at least this many milliseconds: sub-millisecond models double on any hiccup. */
            latencyIncreaseMs: z.number().min(0).default(minEffect.latencyIncreaseMs),
            failureRate: fraction.default(minEffect.failureRate),
            missingRate: fraction.default(minEffect.missingRate),
          })
          .strict()
          .prefault({}),
        persistence: persistenceSchema.prefault({}),
        /** Inter-arrival gap, in multiples of the usual one, that counts as traffic stopping. */
        staleGapFactor: z.number().min(1).default(DEFAULT_POLICY.detection.staleGapFactor),
        /**
         * How a classifier's error rate trades false alarms for delay (lib/brain/findings/concept-drift.ts
         * ERROR_RATE_MODE_SETTINGS; docs/agent-logic.md "Choosing the error-rate mode"): `fast` finds a small rise
         * sooner than Page–Hinkley with fewer false alarms; `conservative` raises fewer false alarms
         * than ADWIN and still finds a rise sooner than it.
         */
        errorRateMode: z.enum(ERROR_RATE_MODES).default(DEFAULT_POLICY.detection.errorRateMode),
      })
      .strict()
      .prefault({}),
    /** Critical collapse: past these the agent protects users at once, before diagnosing. */
    floors: z
      .object({
        accuracy: fraction.default(DEFAULT_POLICY.floors.accuracy),
        failureRate: fraction.default(DEFAULT_POLICY.floors.failureRate),
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
      .object({
        alertAbove: fraction.default(DEFAULT_POLICY.confidence.alertAbove),
        actAbove: fraction.default(DEFAULT_POLICY.confidence.actAbove),
      })
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
        minRows: z.number().int().min(10).default(DEFAULT_POLICY.verification.minRows),
        /** Give up and climb the ladder (or escalate) when recovery is not shown by then. */
        maxWait: durationSchema.default(DEFAULT_POLICY.verification.maxWait),
        /** Recovered = not worse than the pre-failure baseline by more than this (absolute). */
        tolerance: fraction.default(DEFAULT_POLICY.verification.tolerance),
        alpha: z.number().gt(0).lt(0.5).default(DEFAULT_POLICY.verification.alpha),
      })
      .strict()
      .prefault({}),
    /** How a retrained candidate is judged and brought into service. */
    retrain: z
      .object({
        /** Labelled rows since the onset needed to train; the agent waits (up to maxWait) for them. */
        minRows: z.number().int().min(20).default(DEFAULT_POLICY.retrain.minRows),
        /**
         * While a refit is better but not yet significantly, the agent waits for the rows that would show
         * it (power 0.8), up to this many rows since the onset (and maxWait); a smaller improvement is none.
         */
        maxRows: z.number().int().min(20).default(DEFAULT_POLICY.retrain.maxRows),
        /**
         * Most recent share of those rows on which candidate and production are compared out of time: each
         * of two consecutive segments is predicted by a candidate trained on all rows before it.
         */
        holdoutShare: z.number().gt(0).lt(0.9).default(DEFAULT_POLICY.retrain.holdoutShare),
        /** A candidate must beat production on the tested rows at this significance. */
        alpha: z.number().gt(0).lt(0.5).default(DEFAULT_POLICY.retrain.alpha),
        /** canary: a share of live traffic first; shadow: scored beside production; direct: promote at once. */
        promotion: z.enum(['canary', 'shadow', 'direct']).default(DEFAULT_POLICY.retrain.promotion),
        canaryShare: z.number().gt(0).lt(1).default(DEFAULT_POLICY.retrain.canaryShare),
        /** Labelled rows the canary (or shadow) needs before it can be promoted. */
        canaryMinRows: z.number().int().min(10).default(DEFAULT_POLICY.retrain.canaryMinRows),
        /** The canary may be worse than production by at most this (absolute accuracy, relative RMSE). */
        canaryMargin: fraction.default(DEFAULT_POLICY.retrain.canaryMargin),
        /** Give up (reject the candidate) when training data or canary evidence is not there by then. */
        maxWait: durationSchema.default(DEFAULT_POLICY.retrain.maxWait),
        /**
         * Who trains the candidate: 'built-in' (production's own mljs kind and options) or
         * 'python:<pipeline>' (the Python worker, python/homeostat_trainer; the candidate is ONNX). An
         * external trainer (command or webhook) is not accepted here yet: a policy arrives through the API,
         * and where the worker connects or what it runs must be an admin's decision (api/secrets.ts).
         */
        trainer: z
          .union([
            z.literal(BUILT_IN_TRAINER),
            z.enum(PYTHON_PIPELINES.map((p) => `${PYTHON_TRAINER_PREFIX}${p}` as const)),
          ])
          .default(DEFAULT_POLICY.retrain.trainer),
      })
      .strict()
      .refine((r) => r.maxRows >= r.minRows, {
        message: 'retrain.maxRows must be at least retrain.minRows',
        path: ['maxRows'],
      })
      .prefault({}),
    /**
     * An escalation nobody answers. `hold` (the default): the model stays as it is until a person
     * acknowledges; protection from a collapse keeps working meanwhile. `accept`: after `acceptAfter`
     * without an answer, an incident about the model's own quality (concept drift, drift with impact)
     * whose model is not shielded takes the level it now serves at as the new baseline and closes
     * `rebaselined`, so the agent can act on what comes next; a shielded model, broken inputs, latency,
     * failures and stale data keep holding, because accepting those levels would accept harm.
     */
    escalation: z
      .object({
        unanswered: z.enum(UNANSWERED_ESCALATION).default(DEFAULT_POLICY.escalation.unanswered),
        acceptAfter: durationSchema.default(DEFAULT_POLICY.escalation.acceptAfter),
      })
      .strict()
      .prefault({}),
    /**
     * The `webhook` remedy (docs/extending.md): a signed POST asks the user's own system (a rollout
     * controller, a CI job) to act, and the agent waits up to `timeout` for the result it reports back
     * (POST /v1/models/{model}/remedies/{delivery}/result); no answer by then is a failed remedy. Without
     * a url the remedy never applies. Like escalationWebhook, only admins set or read the url.
     */
    remedyWebhook: z
      .object({
        url: z.url({ protocol: /^https?$/ }).optional(),
        timeout: durationSchema.default(DEFAULT_POLICY.remedyWebhook.timeout),
      })
      .strict()
      .prefault({}),
    /** Where escalations go (signed, retried POST to an http or https URL); none: the dashboard only. */
    escalationWebhook: z.url({ protocol: /^https?$/ }).optional(),
  })
  .strict();

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
