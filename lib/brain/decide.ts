// Decide: maps findings and the agent's situation to one decision. Pure and deterministic (it runs inside
// the agent workflow: no I/O, clock or randomness); every decision names the rule that fired
// (decision-rules.ts), the evidence strength behind it and the alternatives it rejected.
// docs/agent-logic.md explains each rule.
//
// Order of judgement: a remedy in flight or a human's turn stops everything; a critical collapse protects
// users at once, even inside an open incident; an open incident is carried on (next rung, close, watch);
// otherwise the most causal confirmed finding is judged, weighed by its evidence strength, and opens an
// incident. Each finding kind's priority, margins and collapse are its rule's (lib/brain/findings); the
// remedies come from remedy-plans.ts.

import type { Severity } from '../domain.ts';
import { durationMs } from '../policy/duration.ts';
import type { Policy } from '../policy/policy.ts';
import type { DeploymentFacts } from './contracts.ts';
import type { DecisionRule } from './decision-rules.ts';
import { collapseOf, FINDING_RULES, marginsOf } from './findings/index.ts';
import { trafficStopped } from './findings/stale-data.ts';
import {
  guardRejects,
  isRemedy,
  judge,
  ladderRungs,
  onsetOf,
  type Plan,
  PROTECTIVE,
  remedyText,
  type Situation,
  walk,
} from './remedy-plans.ts';
import type {
  Alternative,
  Decision,
  Finding,
  MetricLevel,
  OpenIncident,
  RemedyAttempt,
  RemedyRecord,
} from './types.ts';

export { DECISION_RULES, type DecisionRule } from './decision-rules.ts';
export { isRemedy, PROTECTIVE } from './remedy-plans.ts';

export interface DecisionContext {
  findings: Finding[];
  /** The model's active policy (lib/policy): ladders, confidence thresholds, cooldowns, budgets, approvals. */
  policy: Policy;
  /** Workflow time, epoch ms (cooldowns and budgets are measured from it). */
  now: number;
  cycle: number;
  openIncident: OpenIncident | null;
  /** Null before the model's first deployment, or when it could not be read. */
  deployment: DeploymentFacts | null;
  /** Remedies taken recently, oldest first. */
  remedies: RemedyRecord[];
  /** An action, approval wait or verification is in flight: decide must not start another. */
  remedyInProgress: boolean;
  /**
   * Start of the window being judged, epoch ms on the store's clock — the clock deployment changes are
   * stamped with. Workflow time can run ahead of it (a time-skipping test server), so "was the deployment
   * changed just before the failure" compares store times. Falls back to `now`.
   */
  windowStart?: number;
  /** The serving model's measured level in the window being judged (baseline.ts levelOf). */
  level?: MetricLevel | null;
}

/** Outcomes after which the next rung is taken. */
const FAILED_OUTCOMES: readonly RemedyAttempt['outcome'][] = [
  'not_recovered',
  'failed',
  'rejected',
  'expired',
];
/** Incident statuses in which the agent is busy with a remedy (the agent also says so in remedyInProgress). */
const BUSY_STATUSES: readonly OpenIncident['status'][] = [
  'awaiting_approval',
  'mitigating',
  'holding',
  'verifying',
];
const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
/** Multiplies the evidence margin: a critical finding needs less margin to be acted on. */
const SEVERITY_WEIGHT: Record<Severity, number> = { info: 0.75, warning: 1, critical: 1.5 };

// ---- evidence strength ----------------------------------------------------------------------------

/**
 * Evidence strength in [0, 1]: m = the best test's margin (each test, by the finding kind's rule: the
 * weaker of effect over the policy's minEffect and significance over its threshold; 1 when the evidence
 * carries neither, since detect flagged it), times the severity weight; strength = m / (m + 0.5). A
 * finding just at its thresholds (m = 1) is 0.67 (alert by default), twice past them 0.8 (act by default).
 */
export function evidenceStrength(f: Finding, policy: Policy): number {
  const margins = marginsOf(f, policy).filter((x): x is number => x !== null && !Number.isNaN(x));
  const m = (margins.length > 0 ? Math.max(...margins) : 1) * SEVERITY_WEIGHT[f.severity];
  if (m === Number.POSITIVE_INFINITY) return 1;
  return Math.round((m / (m + 0.5)) * 1000) / 1000;
}

/** The collapse a confirmed finding shows, by its kind's rule, or null. */
function collapse(f: Finding, policy: Policy): string | null {
  return f.state === 'confirmed' ? collapseOf(f, policy) : null;
}

// ---- decisions ------------------------------------------------------------------------------------

/** What a decision rests on: noise or persistent, how severe, how strong the evidence. */
interface Basis {
  judgement: Decision['judgement'];
  severity: Severity | null;
  strength: number | null;
}

/** Root causes first (each kind's rule gives its priority), the more severe first within a kind. */
function primary(findings: Finding[]): Finding | undefined {
  return [...findings].sort(
    (a, b) =>
      FINDING_RULES[a.kind].priority - FINDING_RULES[b.kind].priority ||
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity],
  )[0];
}

/** Suspect, or confirmed by evidence its recent windows no longer show (Finding.transient): not persistent yet. */
const notYetPersistent = (f: Finding) =>
  f.state === 'suspect' || (f.state === 'confirmed' && f.transient === true);

function basisOf(f: Finding | undefined, policy: Policy): Basis {
  if (!f) return { judgement: null, severity: null, strength: null };
  return {
    judgement: notYetPersistent(f) ? 'noise' : 'persistent',
    severity: f.severity,
    strength: evidenceStrength(f, policy),
  };
}

function decision(
  ctx: DecisionContext,
  plan: Omit<Plan, 'acts'>,
  basis: Basis,
  incident: Decision['incident'] = null,
): Decision {
  const approval = isRemedy(plan.action) ? ctx.policy.approvals[plan.action] : undefined;
  return {
    action: plan.action,
    rule: plan.rule,
    reason: plan.reason,
    alternatives: plan.alternatives,
    incident,
    judgement: basis.judgement,
    severity: basis.severity,
    strength: basis.strength,
    approval:
      approval?.mode === 'approve' ? { timeout: approval.timeout, onTimeout: approval.onTimeout } : null,
    escalate: plan.escalate ? { reason: plan.escalate } : null,
    rollbackTo: plan.action === 'rollback' ? (ctx.deployment?.lastKnownGoodRevision ?? null) : null,
  };
}

const opens = (f: Finding, severity: Severity = f.severity): Decision['incident'] => ({
  open: { kind: f.kind, severity, summary: f.summary },
});

function watch(rule: DecisionRule, reason: string, alternatives: Alternative[] = []): Omit<Plan, 'acts'> {
  return { rule, action: 'none', reason, alternatives };
}

/** Users first: a collapse not yet shielded gets a fallback (or a disable) before anything else. */
function protectFromCollapse(ctx: DecisionContext): Decision | null {
  const collapsed = ctx.findings
    .map((f) => ({ f, why: collapse(f, ctx.policy) }))
    .filter((c): c is { f: Finding; why: string } => c.why !== null);
  const first = primary(collapsed.map((c) => c.f));
  const mode = ctx.deployment?.mode;
  if (!first || mode === 'fallback' || mode === 'disabled') return null;
  const why = collapsed.find((c) => c.f === first)?.why ?? '';
  const incident = ctx.openIncident;
  const s: Situation = {
    ctx,
    kind: first.kind,
    // A shield that worked before (and was lifted since) is raised again; one that could not be applied
    // or that a human refused is not.
    tried: (incident?.attempts ?? [])
      .filter((a) => a.outcome === 'failed' || a.outcome === 'rejected')
      .map((a) => a.action),
    onset: onsetOf(ctx, incident),
  };
  const w = walk(PROTECTIVE, s);
  const basis: Basis = { ...basisOf(first, ctx.policy), severity: 'critical' };
  const change = incident ? null : opens(first, 'critical');
  const alternatives = [
    ...w.rejected,
    {
      action: 'retrain' as const,
      rejectedBecause: 'users first: diagnose and repair once they are protected',
    },
  ];
  if (w.remedy)
    return decision(
      ctx,
      {
        rule: 'critical-collapse-protect',
        action: w.remedy,
        reason: `critical collapse: ${why}: ${w.remedy}`,
        alternatives,
      },
      basis,
      change,
    );
  return decision(
    ctx,
    {
      rule: w.budgetBlocked ? 'budget-exhausted-escalate' : 'ladder-exhausted-escalate',
      action: 'alert',
      reason: `critical collapse: ${why}, and users cannot be protected automatically`,
      alternatives,
      escalate: `critical collapse (${why}); neither fallback nor disable can be taken`,
    },
    basis,
    change,
  );
}

/**
 * A promoted retrain that improved on the model it replaced but fell short of the baseline was trained on
 * the first rows after the onset (retrain.minRows of them, as soon as they were there); by the time
 * verification judged it, far more have come. One more retrain on all of them, while the budget allows:
 * part of the same repair, so the retrain cooldown (meant to keep separate incidents from retraining
 * back to back) does not hold it. Its candidate must beat the serving retrain on held-out recent rows,
 * else production stays the best model available and the agent escalates.
 */
function retrainAgain(
  s: Situation,
  incident: OpenIncident,
  last: RemedyAttempt,
  basis: Basis,
): Decision | null {
  const { ctx } = s;
  const retrains = (incident.attempts ?? []).filter((a) => a.action === 'retrain').length;
  if (
    last.action !== 'retrain' ||
    last.outcome !== 'not_recovered' ||
    last.bestAvailable !== true ||
    retrains !== 1 ||
    !ctx.policy.ladders[incident.kind].includes('retrain')
  )
    return null;
  if (guardRejects('retrain', s)?.budget) return null;
  return decision(
    ctx,
    {
      rule: 'retrain-again-on-more-rows',
      action: 'retrain',
      reason: `incident ${incident.id}: retrain improved on the old model but fell short (${last.detail || 'no detail'}); next: retrain once more on every row since the onset`,
      alternatives: [],
    },
    basis,
  );
}

/** The incident's next rung after a failed or protective attempt; escalates when none is left. */
function nextRung(ctx: DecisionContext, incident: OpenIncident, last: RemedyAttempt): Decision {
  const attempts = incident.attempts ?? [];
  const s: Situation = {
    ctx,
    kind: incident.kind,
    tried: attempts.map((a) => a.action),
    onset: onsetOf(ctx, incident),
  };
  const own = ctx.findings.find((f) => f.kind === incident.kind);
  // The incident persists whatever the current window shows: verification said so.
  const basis: Basis = {
    ...basisOf(own, ctx.policy),
    judgement: 'persistent',
    severity: own?.severity ?? incident.severity ?? null,
  };
  const protectedNow = last.outcome === 'protected';
  // After a retrain production is the best model available for the recent data (a refit did no better,
  // or the refit serves and is short of the baseline): a fallback or a disable would only serve worse.
  const bestAvailable =
    attempts.some((a) => a.bestAvailable === true) && FINDING_RULES[incident.kind].origin === 'model';
  const ladder = ladderRungs(s);
  const rungs = ladder.filter((r) => !(protectedNow || bestAvailable) || !PROTECTIVE.includes(r));
  const w = walk(rungs, s);
  if (bestAvailable) {
    for (const r of ladder.filter((r) => PROTECTIVE.includes(r) && !s.tried.includes(r)))
      w.rejected.push({
        action: r,
        rejectedBecause:
          'production is the best model available for the recent data: a fallback would serve worse',
      });
  }
  const after = `${last.action} ${last.outcome.replace('_', ' ')} (${last.detail || 'no detail'})`;
  if (w.remedy) {
    const rule: DecisionRule = protectedNow ? 'protected-then-repair' : 'verification-failed-next-rung';
    return decision(
      ctx,
      {
        rule,
        action: w.remedy,
        reason: `incident ${incident.id}: ${after}; next: ${remedyText(w.remedy, ctx)}`,
        alternatives: w.rejected,
      },
      basis,
    );
  }
  // Users are shielded and a repair rung is only cooling down (the retrain of an incident just closed,
  // say): it applies again when the cooldown lapses, so the incident waits for it instead of going to a
  // human with a rung untried. The cooldown keeps remedies from following each other back to back; it
  // does not say the remedy is useless.
  if (protectedNow && w.cooling.length > 0)
    return decision(
      ctx,
      {
        rule: 'protected-awaiting-cooldown',
        action: 'none',
        reason: `incident ${incident.id}: ${after}; next: ${w.cooling[0]} once its cooldown lapses (users stay protected meanwhile)`,
        alternatives: [
          ...w.rejected,
          { action: 'alert', rejectedBecause: `a rung is left: ${w.cooling[0]}, after its cooldown` },
        ],
      },
      basis,
    );
  // No other rung repairs: before handing the incident over, the one retry a short retrain earns.
  const again = retrainAgain(s, incident, last, basis);
  if (again) return again;
  const tried = attempts.map((a) => `${a.action} (${a.outcome})`).join(', ');
  if (bestAvailable && last.newLevel && !w.budgetBlocked)
    return decision(
      ctx,
      {
        rule: 'level-changed-rebaseline',
        action: 'alert',
        reason: `incident ${incident.id}: ${after}; no model trained on the recent data would serve materially better: the level changed, not the model (nothing for a person to repair): ${last.newLevel.metric} ${Number(last.newLevel.value.toPrecision(3))} on ${last.newLevel.rows} rows since the onset becomes the baseline`,
        alternatives: w.rejected,
      },
      basis,
      { close: 'rebaselined' },
    );
  if (bestAvailable && !w.budgetBlocked)
    return decision(
      ctx,
      {
        rule: 'no-better-model-escalate',
        action: 'alert',
        reason: `incident ${incident.id}: ${after}; production is the best model available for the recent data`,
        alternatives: w.rejected,
        escalate: `tried ${tried}; no model available does better on the recent data, and it is short of the baseline: accepting the new level, or changing the model's design or features, is a human's call`,
      },
      basis,
    );
  return decision(
    ctx,
    {
      rule: w.budgetBlocked ? 'budget-exhausted-escalate' : 'ladder-exhausted-escalate',
      action: 'alert',
      reason: `incident ${incident.id}: ${after}; no rung of the ${incident.kind} ladder is left`,
      alternatives: w.rejected,
      escalate: `tried ${tried}; ${w.budgetBlocked ? 'remedy budgets are exhausted' : 'the ladder is exhausted'}`,
    },
    basis,
  );
}

function carryIncident(ctx: DecisionContext, incident: OpenIncident): Decision {
  // Traffic stopping outranks whatever the open incident is about: nothing the agent does can bring it
  // back, so the open incident goes to a human now.
  const stopped = ctx.findings.find(
    (f) => f.kind === 'stale_data' && f.state === 'confirmed' && trafficStopped(f),
  );
  if (stopped && incident.kind !== 'stale_data') {
    const plan = judge(stopped, { ctx, kind: 'stale_data', tried: [], onset: onsetOf(ctx, incident) });
    return decision(ctx, plan, basisOf(stopped, ctx.policy));
  }
  const last = incident.attempts?.at(-1);
  if (last && (FAILED_OUTCOMES.includes(last.outcome) || last.outcome === 'protected'))
    return nextRung(ctx, incident, last);
  const own = ctx.findings.find((f) => f.kind === incident.kind);
  if (!own)
    return decision(
      ctx,
      watch(
        'findings-cleared-close-incident',
        `no ${incident.kind} finding remains; incident ${incident.id} recovered`,
      ),
      basisOf(undefined, ctx.policy),
      { close: 'recovered' },
    );
  const basis = basisOf(own, ctx.policy);
  if (own.state !== 'confirmed')
    return decision(
      ctx,
      watch(
        'incident-recovering-keep-watching',
        `incident ${incident.id}: ${incident.kind} is ${own.state}; waiting for consecutive healthy windows`,
        [{ action: 'none', rejectedBecause: 'closing now could flap if the next window is bad again' }],
      ),
      basis,
    );
  const s: Situation = { ctx, kind: own.kind, tried: [], onset: onsetOf(ctx, incident) };
  const plan = judge(own, s);
  const strength = basis.strength ?? 0;
  const { alertAbove, actAbove } = ctx.policy.confidence;
  if (plan.acts && strength >= actAbove)
    return decision(
      ctx,
      {
        ...plan,
        rule: 'open-incident-now-actionable',
        reason: `incident ${incident.id}: ${plan.rule}: ${plan.reason}`,
      },
      basis,
    );
  // Persistence is evidence too: a finding only moderately past its thresholds (an accuracy drop between
  // minEffect and twice it) that is still confirmed a whole confirmation span (persistence.confirmN
  // windows) after the alert is no chance reading, and every remedy judges itself before it stays (a
  // retrain's candidate must beat production out of time, then pass a canary or shadow; a rollback or a
  // fallback is verified and undone when it does not help). A noise blip clears within that span. Not
  // for input drift: its plan acts on a fall in performance this window shows, while what persisted was
  // the drift, which alone is no reason to act.
  const windowsSinceAlert = ctx.cycle - incident.openedAtCycle;
  const span = ctx.policy.detection.persistence.confirmN;
  if (
    plan.acts &&
    own.kind !== 'data_drift' &&
    strength >= alertAbove &&
    incident.attempts.length === 0 &&
    !notYetPersistent(own) &&
    windowsSinceAlert >= span
  )
    return decision(
      ctx,
      {
        ...plan,
        rule: 'open-incident-persistent-actionable',
        reason: `incident ${incident.id}: still confirmed ${windowsSinceAlert} windows after the alert (strength ${strength} < actAbove ${actAbove}, persistent over ${span} windows): ${plan.rule}: ${plan.reason}`,
      },
      basis,
    );
  const others = ctx.findings
    .filter((f) => f.kind !== incident.kind && f.state === 'confirmed')
    .map((f) => f.kind);
  return decision(
    ctx,
    watch(
      'one-incident-at-a-time',
      `incident ${incident.id} (${incident.kind}) is already open${others.length > 0 ? `; also confirmed: ${others.join(', ')}` : ''}`,
      [
        { action: 'alert', rejectedBecause: 'the operator was already alerted for this incident' },
        ...(plan.acts
          ? [{ action: plan.action, rejectedBecause: `${plan.rule}: evidence not strong enough to act` }]
          : []),
      ],
    ),
    basis,
  );
}

function openNew(ctx: DecisionContext): Decision {
  const confirmed = ctx.findings.filter((f) => f.state === 'confirmed' && !notYetPersistent(f));
  const top = primary(confirmed);
  if (!top) {
    const suspect = primary(ctx.findings.filter(notYetPersistent));
    if (suspect)
      return decision(
        ctx,
        watch(
          'not-yet-persistent-keep-watching',
          `${suspect.kind} is ${suspect.state === 'suspect' ? 'suspect' : 'not shown by its recent windows yet'}: ${suspect.summary}`,
          [{ action: 'alert', rejectedBecause: 'not confirmed over consecutive windows yet: may be noise' }],
        ),
        basisOf(suspect, ctx.policy),
      );
    const easing = primary(ctx.findings.filter((f) => f.state === 'recovering'));
    if (easing)
      return decision(
        ctx,
        watch('recovering-keep-watching', `${easing.kind} is recovering: ${easing.summary}`),
        basisOf(easing, ctx.policy),
      );
    return decision(ctx, watch('healthy', 'no finding'), basisOf(undefined, ctx.policy));
  }
  const basis = basisOf(top, ctx.policy);
  const strength = basis.strength ?? 0;
  const { alertAbove, actAbove } = ctx.policy.confidence;
  const plan = judge(top, { ctx, kind: top.kind, tried: [], onset: onsetOf(ctx, null) });
  if (strength < alertAbove)
    return decision(
      ctx,
      watch(
        'weak-evidence-keep-watching',
        `${top.kind} confirmed but weak: strength ${strength} < ${alertAbove}`,
        [
          {
            action: plan.action,
            rejectedBecause: `weak evidence (strength ${strength} < alertAbove ${alertAbove})`,
          },
        ],
      ),
      { ...basis, judgement: 'noise' },
    );
  if (plan.acts && strength < actAbove)
    return decision(
      ctx,
      {
        rule: 'moderate-evidence-alert',
        action: 'alert',
        reason: `${top.kind} confirmed: ${top.summary}; strength ${strength} < actAbove ${actAbove}: alert only`,
        alternatives: [
          {
            action: plan.action,
            rejectedBecause: `${plan.rule}: evidence strength ${strength} < actAbove ${actAbove}`,
          },
          ...plan.alternatives,
        ],
      },
      basis,
      opens(top),
    );
  return decision(ctx, plan, basis, opens(top));
}

/**
 * Policy `escalation.unanswered: 'accept'`: an escalation about the model's own quality that nobody
 * answered within `acceptAfter` is closed as a level change, the level the model serves at now becoming
 * the baseline, so that the agent is free to act on the next incident instead of holding for good. Not
 * while the model is shielded (the shield's level is not the model's), nor for broken inputs, latency,
 * failures or stale data (their level is harm, not a new normal), nor without labelled rows to measure.
 */
function acceptUnanswered(ctx: DecisionContext, incident: OpenIncident): Decision | null {
  const { unanswered, acceptAfter } = ctx.policy.escalation;
  const level = ctx.level;
  if (
    unanswered !== 'accept' ||
    incident.escalatedAt === undefined ||
    ctx.now - incident.escalatedAt < durationMs(acceptAfter) ||
    FINDING_RULES[incident.kind].origin !== 'model' ||
    incident.attempts.at(-1)?.outcome === 'protected' ||
    !level
  )
    return null;
  return decision(
    ctx,
    {
      rule: 'unanswered-escalation-rebaseline',
      action: 'alert',
      reason: `incident ${incident.id}: escalated and unanswered for ${acceptAfter}; the policy accepts the best available model: ${level.metric} ${Number(level.value.toPrecision(3))} on ${level.rows} rows becomes the baseline`,
      alternatives: [{ action: 'none', rejectedBecause: "policy escalation.unanswered is 'accept'" }],
    },
    basisOf(
      ctx.findings.find((f) => f.kind === incident.kind),
      ctx.policy,
    ),
    { close: 'rebaselined' },
  );
}

export function decide(ctx: DecisionContext): Decision {
  const incident = ctx.openIncident;
  const busy =
    ctx.remedyInProgress ||
    (incident !== null && BUSY_STATUSES.includes(incident.status)) ||
    incident?.attempts?.at(-1)?.outcome === 'pending';
  if (busy)
    return decision(
      ctx,
      watch(
        'remedy-in-progress',
        `incident ${incident?.id ?? '-'}: a remedy, approval or verification is in flight`,
        [{ action: 'alert', rejectedBecause: 'one remedy at a time: its outcome decides the next step' }],
      ),
      basisOf(primary(ctx.findings.filter((f) => f.state === 'confirmed')), ctx.policy),
    );
  // An escalation waits for a human, but users are still protected meanwhile: a collapse is shielded.
  if (incident?.status === 'escalated')
    return (
      protectFromCollapse(ctx) ??
      acceptUnanswered(ctx, incident) ??
      decision(
        ctx,
        watch(
          'escalated-awaiting-human',
          `incident ${incident.id} is escalated; holding until a human acknowledges`,
        ),
        basisOf(
          ctx.findings.find((f) => f.kind === incident.kind),
          ctx.policy,
        ),
      )
    );
  return protectFromCollapse(ctx) ?? (incident ? carryIncident(ctx, incident) : openNew(ctx));
}
