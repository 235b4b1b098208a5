// The agent's hands: one child workflow per remedy (rollback, fallback, disable, retrain) and per way of
// bringing a candidate into service (canary, shadow), plus the Verify child that judges a recovery.
// Each step is an idempotent activity keyed by the child's own workflow id; a step that changed the
// deployment pushes its compensation, and a child that fails undoes what it did, newest first (saga).
import {
  ApplicationFailure,
  CancellationScope,
  executeChild,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { TrainCandidateRequest, TrainCandidateResult } from '../lib/brain/contracts.ts';
import { type CycleClock, msToNextLook } from '../lib/brain/cycle-clock.ts';
import type { RemedyResult, VerifyResult } from '../lib/brain/lifecycle-types.ts';
import type { VerificationBaseline } from '../lib/brain/types.ts';
import { waitIsOver, waitLimit } from '../lib/brain/waits.ts';
import {
  PYTHON_TASK_QUEUE,
  type PythonTrainingActivities,
  pythonPipelineOf,
} from '../lib/models/trainers.ts';
import type { Policy } from '../lib/policy/policy.ts';
import {
  CANARY_DEFAULTS,
  canaryPoll,
  judgeRecovery,
  labelPace,
  promotionFor,
  recoveryRowsWanted,
} from '../lib/recovery/judge.ts';
import {
  describeComparison,
  describeRoute,
  lostToRoute,
  noMaterialGain,
} from '../lib/recovery/refit-evidence.ts';
import { STEP_OPTIONS } from './activity-options.ts';

const acts = proxyActivities<Activities>(STEP_OPTIONS);
// Training reads and fits on thousands of rows: a longer budget, and a heartbeat shows it is alive.
const training = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  // A training lost with a crashed worker is retried once its heartbeat is missed this long.
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
});
// A `python:<pipeline>` trainer runs on the Python worker's own task queue. Without a Python worker the
// training fails after scheduleToStart instead of waiting for ever.
const python = proxyActivities<PythonTrainingActivities>({
  taskQueue: PYTHON_TASK_QUEUE,
  scheduleToStartTimeout: '10 minutes',
  startToCloseTimeout: '15 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
});

export type { RemedyResult, VerifyResult };

/** What every remedy child is told. */
export interface RemedyInput {
  modelName: string;
  incidentId: string;
  reason: string;
  /** 'agent', or 'human:<name>' when an operator's approval or command started it. */
  actor: string;
  /** The agent's cycles: a waiting child looks again just before each (lib/brain/cycle-clock.ts). */
  cycle: CycleClock;
  /** Rollback: the revision to restore. */
  rollbackTo?: number | null;
  /**
   * A segment incident's segment (lib/segments). Fallback: the segment it serves; absent: every row.
   * Retrain: the candidate must beat the segment's fallback route, and its promotion lifts the route.
   */
  segment?: string;
  /** Retrain: rows received from this instant (ISO, the store's clock) on are the new world: the onset. */
  since?: string;
  retrain?: Policy['retrain'];
  /** Retrain: the smallest gain that matters (the policy's verification tolerance). */
  materialGain?: number;
}

export interface PromotionInput {
  modelName: string;
  incidentId: string;
  reason: string;
  candidateVersion: number;
  productionVersion: number;
  cycle: CycleClock;
  retrain: Policy['retrain'];
  /** A segment the fallback route serves: the promotion hands its rows to the candidate (lifts the route). */
  liftRoute?: string;
}

export interface PromotionResult {
  verdict: 'promoted' | 'aborted';
  before: number;
  after: number;
  detail: string;
}

export interface VerifyInput {
  modelName: string;
  incidentId: string;
  baseline: VerificationBaseline;
  /** Only traffic from this instant (ISO, the store's clock) on counts: what the remedy's deployment served. */
  since: string;
  cycle: CycleClock;
  verification: Policy['verification'];
}

/** Waits for the child's next look, just before the agent's next cycle (lib/brain/cycle-clock.ts says why). */
function untilNextLook(cycle: CycleClock, then: string): Promise<void> {
  return sleep(msToNextLook(cycle, Date.now()), { summary: `wait for the agent's next cycle, then ${then}` });
}

/** Idempotency key of a step: unique per child execution and step, the same on every retry or replay. */
function stepKey(step: string): string {
  return `${workflowInfo().workflowId}:${step}`;
}

/** Compensations pushed as steps succeed and run newest first, even when the workflow is being cancelled. */
class Saga {
  private readonly undo: { name: string; run: () => Promise<unknown> }[] = [];

  push(name: string, run: () => Promise<unknown>): void {
    this.undo.push({ name, run });
  }

  async compensate(): Promise<string[]> {
    const done: string[] = [];
    await CancellationScope.nonCancellable(async () => {
      for (const step of [...this.undo].reverse()) {
        await step.run();
        done.push(step.name);
      }
    });
    return done;
  }
}

function deploymentRequest(input: { modelName: string; incidentId: string; reason: string }, step: string) {
  return {
    modelName: input.modelName,
    key: stepKey(step),
    actor: 'agent',
    reason: input.reason,
    incidentId: input.incidentId,
  };
}

/** Restores the last known good revision (a new revision that records where it came from). */
export async function rollbackWorkflow(input: RemedyInput): Promise<RemedyResult> {
  if (input.rollbackTo == null) {
    return { outcome: 'failed', before: null, after: null, detail: 'no revision to roll back to' };
  }
  const outcome = await acts.restoreDeploymentFor({
    ...deploymentRequest(input, 'rollback'),
    revision: input.rollbackTo,
  });
  return {
    outcome: 'applied',
    before: outcome.before,
    after: outcome.after,
    detail: `restored revision ${input.rollbackTo} as revision ${outcome.after}`,
  };
}

/**
 * Serves the fallback version to everyone, or to one segment's rows while production serves the rest: a
 * protective step, undone by the agent once the cause is gone.
 */
export async function fallbackWorkflow(input: RemedyInput): Promise<RemedyResult> {
  const facts = await acts.describeDeployment({ modelName: input.modelName });
  if (facts.fallbackVersion === null) {
    return {
      outcome: 'failed',
      before: facts.revision,
      after: facts.revision,
      detail: 'no fallback version',
    };
  }
  if (input.segment !== undefined) {
    const routed = [...new Set([...(facts.fallbackSegments ?? []), input.segment])];
    const outcome = await acts.changeDeploymentFor({
      ...deploymentRequest(input, 'fallback'),
      change: { fallbackSegments: routed },
    });
    return {
      outcome: 'applied',
      before: outcome.before,
      after: outcome.after,
      detail: `serving fallback version ${facts.fallbackVersion} to segment ${input.segment}`,
    };
  }
  const outcome = await acts.changeDeploymentFor({
    ...deploymentRequest(input, 'fallback'),
    change: { mode: 'fallback' },
  });
  return {
    outcome: 'applied',
    before: outcome.before,
    after: outcome.after,
    detail: `serving fallback version ${facts.fallbackVersion}`,
  };
}

/**
 * Stops predictions (the gateway answers as the model's disabledResponse says). Before it goes, the
 * production version is probed: the probe's answer is kept so the agent knows whether the model itself is
 * broken (it answers nothing) or its inputs are. The agent restores service once the cause has cleared
 * and a new probe answers.
 */
export async function disableWorkflow(input: RemedyInput): Promise<RemedyResult> {
  const facts = await acts.describeDeployment({ modelName: input.modelName });
  const outcome = await acts.changeDeploymentFor({
    ...deploymentRequest(input, 'disable'),
    change: { mode: 'disabled' },
  });
  const probe =
    facts.productionVersion === null
      ? null
      : await acts.probeVersion({ modelName: input.modelName, version: facts.productionVersion, rows: 20 });
  return {
    outcome: 'applied',
    before: outcome.before,
    after: outcome.after,
    detail: `predictions disabled; production probe ${probe ? (probe.ok ? 'answers' : `fails (${probe.failed} of ${probe.failed + probe.answered})`) : 'not possible'}`,
  };
}

/**
 * Retrain on recent labelled data: wait for enough rows since the onset, train a candidate, compare it
 * with production on held-out recent rows, bring it in by canary, shadow or directly, promote or reject.
 * A failure after the candidate changed the deployment undoes the change and rejects the candidate.
 */
export async function retrainWorkflow(input: RemedyInput): Promise<RemedyResult> {
  const policy = input.retrain;
  if (!policy || !input.since || input.materialGain === undefined)
    throw ApplicationFailure.nonRetryable('retrain needs its policy, onset and material gain');
  const startedAt = Date.now();
  const facts = await acts.describeDeployment({ modelName: input.modelName });
  if (facts.productionVersion === null) {
    return {
      outcome: 'failed',
      before: facts.revision,
      after: facts.revision,
      detail: 'no production version',
    };
  }
  // Wait for the labelled rows of the new world; each attempt is its own key, the trained one is reused.
  // An inconclusive comparison (better, not yet significantly) says how many rows would show it: wait
  // for them before training again.
  let attempt = 0;
  let needed = policy.minRows;
  let inconclusive: Extract<TrainCandidateResult, { status: 'inconclusive' }> | null = null;
  let trained: TrainCandidateResult;
  for (;;) {
    trained = await trainCandidate(policy.trainer, {
      modelName: input.modelName,
      key: stepKey(`train:${attempt}`),
      incidentId: input.incidentId,
      since: input.since,
      minRows: needed,
      holdoutShare: policy.holdoutShare,
      alpha: policy.alpha,
      maxRows: policy.maxRows,
      materialGain: input.materialGain,
      ...(input.segment !== undefined ? { segment: input.segment } : {}),
    });
    if (trained.status === 'inconclusive') {
      inconclusive = trained;
      needed = trained.needed;
    }
    if (trained.status === 'trained') break;
    const wait = {
      startedAt,
      rowsSince: Date.parse(input.since),
      at: Date.now() + msToNextLook(input.cycle, Date.now()),
      rows: trained.rows,
      needed,
      maxWait: policy.maxWait,
    };
    if (waitIsOver(wait)) break;
    attempt++;
    await untilNextLook(input.cycle, `count the labelled rows again (${needed} needed)`);
  }
  if (trained.status !== 'trained' && inconclusive) {
    // Better, but the rows did not show it in time: production stays the best model shown to be so.
    return {
      outcome: 'rejected',
      before: facts.revision,
      after: facts.revision,
      detail: `inconclusive ${waitLimit(policy.maxWait)}: ${describeComparison({ ...inconclusive, rows: inconclusive.holdoutRows })}; ${inconclusive.why}`,
      noBetterModel: 'unproven',
    };
  }
  if (trained.status !== 'trained') {
    return {
      outcome: 'failed',
      before: facts.revision,
      after: facts.revision,
      detail: `only ${trained.rows} labelled rows since the onset; ${trained.needed} needed to retrain`,
    };
  }
  const comparison = describeComparison({ ...trained, rows: trained.holdoutRows });
  const candidate = trained.version;
  if (!trained.better && lostToRoute(trained.route, input.materialGain)) {
    // Lifting the segment's route would not pay (it serves the segment better, or the others would lose):
    // the route stays, and production is not shown to be the best model available (for the segment, the
    // fallback is).
    const why = `did not beat the fallback route: ${describeRoute(trained.route!)} (${comparison})`;
    await acts.setCandidateStatus({
      modelName: input.modelName,
      key: stepKey('reject'),
      version: candidate,
      status: 'rejected',
      reason: why,
    });
    return {
      outcome: 'rejected',
      before: facts.revision,
      after: facts.revision,
      detail: `candidate v${candidate} ${why}`,
      candidateVersion: candidate,
    };
  }
  if (!trained.better) {
    await acts.setCandidateStatus({
      modelName: input.modelName,
      key: stepKey('reject'),
      version: candidate,
      status: 'rejected',
      reason: `did not beat production: ${comparison}`,
    });
    return {
      outcome: 'rejected',
      before: facts.revision,
      after: facts.revision,
      detail: `candidate v${candidate} did not beat production: ${comparison}${trained.immaterial ? `; ${noMaterialGain(input.materialGain)}` : ''}`,
      candidateVersion: candidate,
      ...(trained.immaterial
        ? {
            noBetterModel: 'immaterial',
            level: { metric: trained.metric, value: trained.production, rows: trained.holdoutRows },
          }
        : { noBetterModel: 'unproven' }),
    };
  }

  const promotion: PromotionInput = {
    modelName: input.modelName,
    incidentId: input.incidentId,
    reason: input.reason,
    candidateVersion: candidate,
    productionVersion: facts.productionVersion,
    cycle: input.cycle,
    retrain: policy,
    ...(trained.route ? { liftRoute: trained.route.segment } : {}),
  };
  const way = promotionFor(
    policy,
    facts.mode,
    trained.route?.segment ?? null,
    labelPace(trained.holdoutRows, policy.holdoutShare, Date.parse(input.since), Date.now()),
  );
  if (way.promotion === 'direct') {
    const outcome = await promote(promotion, 'promote');
    return {
      outcome: 'applied',
      before: outcome.before,
      after: outcome.after,
      detail: `candidate v${candidate} promoted (${comparison}${trained.route ? `; ${describeRoute(trained.route)}` : ''})${way.why ? `; ${way.why}` : ''}`,
      candidateVersion: candidate,
    };
  }
  const child = way.promotion === 'canary' ? canaryWorkflow : shadowWorkflow;
  const result = await executeChild(child, {
    workflowId: `${workflowInfo().workflowId}:${way.promotion}`,
    args: [promotion],
    staticSummary: `${way.promotion} of v${candidate} beside production v${facts.productionVersion}`,
  });
  return {
    outcome: result.verdict === 'promoted' ? 'applied' : 'rejected',
    before: facts.revision,
    after: result.after,
    detail: `candidate v${candidate} (${comparison}); ${way.promotion}: ${result.detail}${way.why ? `; ${way.why}` : ''}`,
    candidateVersion: candidate,
  };
}

/**
 * Trains with the model's trainer: in the activity (built-in), or on the Python worker between
 * collecting the rows and registering the candidate it answers, so every candidate is registered alike.
 */
async function trainCandidate(trainer: unknown, req: TrainCandidateRequest): Promise<TrainCandidateResult> {
  const pipeline = pythonPipelineOf(trainer);
  const summary = {
    summary: `train a candidate on the labelled rows since ${req.since} (at least ${req.minRows})`,
  };
  if (pipeline === null) return training.trainCandidate.executeWithOptions(summary, [req]);
  const collected = await training.collectTrainingSet.executeWithOptions(summary, [req]);
  if (collected.status !== 'collected') return collected;
  // The training rows go to the Python worker; registration finds them (and the held-out ones) by id.
  const { status: _, task, schema, classes, training: rows, ...ref } = collected;
  const fitted = await python.trainPipeline({ pipeline, task, schema, classes, ...rows });
  return training.registerCandidate({ ...req, collected: ref, candidate: fitted.artifact });
}

/**
 * Production becomes the candidate; the old production stays as the fallback when there is none. A
 * segment's route the candidate beat is lifted in the same revision: its rows go to the candidate.
 */
async function promote(input: PromotionInput, step: string) {
  const facts = await acts.describeDeployment({ modelName: input.modelName });
  const routed = facts.fallbackSegments ?? [];
  const lift = input.liftRoute !== undefined && routed.includes(input.liftRoute);
  return acts.changeDeploymentFor({
    ...deploymentRequest(input, step),
    reason: `${input.reason}: promote candidate v${input.candidateVersion}${lift ? ` and lift segment ${input.liftRoute}'s fallback route` : ''}`,
    change: {
      mode: 'serving', // a model held on its fallback serves again once repaired
      production: input.candidateVersion,
      canary: null,
      shadow: facts.shadowVersion === input.candidateVersion ? null : undefined,
      fallback: facts.fallbackVersion ?? input.productionVersion,
      ...(lift ? { fallbackSegments: routed.filter((s) => s !== input.liftRoute) } : {}),
    },
  });
}

/** Shared loop of canary and shadow: expose the candidate, compare it sequentially, promote or abort. */
async function trial(input: PromotionInput, mode: 'canary' | 'shadow'): Promise<PromotionResult> {
  const policy = input.retrain;
  const saga = new Saga();
  const exposed = await acts.changeDeploymentFor({
    ...deploymentRequest(input, `${mode}:start`),
    reason: `${input.reason}: ${mode} candidate v${input.candidateVersion}`,
    change:
      mode === 'canary'
        ? { canary: { version: input.candidateVersion, share: policy.canaryShare } }
        : { shadow: input.candidateVersion },
  });
  saga.push(`${mode}:undo`, () =>
    acts.restoreDeploymentFor({
      ...deploymentRequest(input, `${mode}:undo`),
      reason: `${input.reason}: ${mode} of v${input.candidateVersion} undone`,
      revision: exposed.before,
    }),
  );
  const since = await acts.storeTime(); // rows are stamped by the store's clock, not workflow time
  const startedAt = Date.now();
  let look = 0;
  try {
    for (;;) {
      await untilNextLook(input.cycle, 'compare the candidate with production');
      const comparison = await acts.compareServed({
        modelName: input.modelName,
        candidateVersion: input.candidateVersion,
        baselineVersion: input.productionVersion,
        since,
        mode,
      });
      // Looks at milestones of evidence (lib/recovery/judge.ts canaryPoll); the last one must decide.
      const polled = canaryPoll(
        comparison,
        {
          minRows: policy.canaryMinRows,
          alpha: policy.alpha,
          margin: policy.canaryMargin,
          looks: CANARY_DEFAULTS.looks,
        },
        look,
      );
      look = polled.looksTaken;
      const judged = polled.judged;
      if (judged.verdict === 'promote') {
        const outcome = await promote(input, `${mode}:promote`);
        return { verdict: 'promoted', before: exposed.before, after: outcome.after, detail: judged.detail };
      }
      const wait = {
        startedAt,
        rowsSince: startedAt,
        at: Date.now(),
        rows: Math.min(comparison.candidate.rows, comparison.baseline.rows),
        needed: (look + 1) * policy.canaryMinRows,
        maxWait: policy.maxWait,
      };
      if (judged.verdict === 'abort' || waitIsOver(wait)) {
        const why =
          judged.verdict === 'abort'
            ? judged.detail
            : `no decision ${waitLimit(policy.maxWait)}: ${judged.detail}`;
        await saga.compensate();
        await acts.setCandidateStatus({
          modelName: input.modelName,
          key: stepKey(`${mode}:reject`),
          version: input.candidateVersion,
          status: 'rejected',
          reason: why,
        });
        return { verdict: 'aborted', before: exposed.before, after: exposed.before, detail: why };
      }
    }
  } catch (error) {
    await saga.compensate();
    throw error;
  }
}

/** A share of live traffic goes to the candidate; promoted when it is not worse than production. */
export async function canaryWorkflow(input: PromotionInput): Promise<PromotionResult> {
  return trial(input, 'canary');
}

/** The candidate scores every request beside production without answering; promoted on the same test. */
export async function shadowWorkflow(input: PromotionInput): Promise<PromotionResult> {
  return trial(input, 'shadow');
}

/**
 * Waits for fresh evidence and compares it with the pre-failure baseline: recovered when the metric is
 * back within the tolerance (a one-sided test, lib/recovery/judge.ts), not recovered when it is
 * significantly worse or no verdict is possible by policy.verification.maxWait.
 */
export async function verifyWorkflow(input: VerifyInput): Promise<VerifyResult> {
  const startedAt = Date.now();
  for (;;) {
    await untilNextLook(input.cycle, 'measure against the pre-failure baseline');
    const evidence = await acts.measureEvidence({
      modelName: input.modelName,
      metric: input.baseline.metric,
      since: input.since,
      ...(input.baseline.segment !== undefined ? { segment: input.baseline.segment } : {}),
    });
    const judged = judgeRecovery(input.baseline, evidence, {
      tolerance: input.verification.tolerance,
      alpha: input.verification.alpha,
      minRows: input.verification.minRows,
    });
    const result = {
      rows: evidence.rows,
      value: evidence.value,
      baseline: input.baseline.value,
      pValue: judged.pValue,
    };
    if (judged.verdict !== 'insufficient')
      return { verdict: judged.verdict, ...result, detail: judged.detail };
    const wait = {
      startedAt,
      rowsSince: startedAt,
      at: Date.now(),
      rows: evidence.rows,
      needed: recoveryRowsWanted(evidence.rows, input.verification.minRows),
      maxWait: input.verification.maxWait,
    };
    if (waitIsOver(wait)) {
      return {
        verdict: 'not_recovered',
        ...result,
        detail: `no verdict ${waitLimit(input.verification.maxWait)}: ${judged.detail}`,
      };
    }
  }
}
