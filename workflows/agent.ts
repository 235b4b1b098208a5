// The per-model agent: a long-running entity workflow that runs Monitor → Detect → Decide → Act → Verify.
// Each cycle measures a window, detects, decides and records; a remedy the decision calls for runs beside
// the loop (so monitoring never stops while a retrain or a verification waits) as child workflows, and
// its outcome feeds the next decision. State survives worker crashes and is carried through continueAsNew.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  log,
  patched,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Remedy } from '../activities/contracts.ts';
import type { Activities } from '../activities/index.ts';
import { durationMs } from '../lib/policy/duration.ts';
import { DEFAULT_POLICY, parsePolicy } from '../lib/policy/policy.ts';
import { verificationFor } from '../lib/recovery/judge.ts';
import { STEP_OPTIONS } from './activity-options.ts';
import { baselineFor } from './baseline.ts';
import { decide, isRemedy, PROTECTIVE } from './decide.ts';
import {
  afterModelChange,
  afterProductionChange,
  detect,
  detectSettings,
  initialDetectorState,
} from './detect.ts';
import {
  acknowledgeUpdate,
  approveUpdate,
  pauseUpdate,
  rejectUpdate,
  resumeUpdate,
  revertUpdate,
  setPolicyUpdate,
  statusQuery,
} from './messages.ts';
import {
  disableWorkflow,
  fallbackWorkflow,
  type RemedyInput,
  type RemedyResult,
  retrainWorkflow,
  rollbackWorkflow,
  verifyWorkflow,
} from './remedies.ts';
import type {
  AgentInput,
  AgentState,
  ApprovalAnswer,
  Decision,
  Health,
  OpenIncident,
  PauseRequest,
  RemedyAttempt,
} from './types.ts';

const { monitorWindow, recordCycle, recordOperatorAction } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: ['ModelNotFound'],
  },
});
const acts = proxyActivities<Activities>(STEP_OPTIONS);
// An escalation that cannot be delivered must not hold the agent forever: about an hour of retries,
// then the failure is audited and the dashboard remains the channel.
const escalation = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    maximumAttempts: 10,
  },
});

export const AGENT_DEFAULTS = { cycleInterval: '1 minute', maxCyclesPerRun: 500 } as const;

/** Remedies taken longer ago than this no longer count for cooldowns or budgets. */
const REMEDY_MEMORY_MS = 7 * 24 * 3600 * 1000;

const REMEDY_WORKFLOWS = {
  rollback: rollbackWorkflow,
  retrain: retrainWorkflow,
  fallback: fallbackWorkflow,
  disable: disableWorkflow,
} satisfies Record<Remedy, (input: RemedyInput) => Promise<RemedyResult>>;

/**
 * Failures whose cause lies outside the model, and what shows it has gone: then a protective remedy is
 * held until it has, and the deployment from before it is restored and verified. Other kinds are the
 * model's own fault: the protection stays while the next rung of the ladder repairs the model.
 */
const HOLD_UNTIL: Partial<Record<string, 'inputs-clear' | 'probe'>> = {
  data_quality: 'inputs-clear', // measured on the inputs, whichever version serves them
  stale_data: 'inputs-clear',
  failures: 'probe', // the production version (its model server) answers again
};

function initialState(modelName: string): AgentState {
  return {
    modelName,
    cycle: 0,
    paused: false,
    health: 'starting',
    detector: initialDetectorState(),
    openIncident: null,
    lastWindow: null,
    lastFindings: [],
    lastDecision: null,
    runs: 0,
  };
}

/** Some attempt of the open incident left production the best model available (decide's retrainAgain). */
function bestModelServing(incident: OpenIncident | null | undefined): boolean {
  return incident?.attempts?.some((a) => a.bestAvailable === true) ?? false;
}

function requireText(value: unknown, name: string): void {
  if (typeof value !== 'string' || value.trim() === '') throw new Error(`${name} is required`);
}

function validateOperatorRequest(request: PauseRequest): void {
  // Update validators must be synchronous: a returned promise would be ignored and nothing rejected.
  requireText(request?.reason, 'reason');
  requireText(request.actor, 'actor');
}

function healthOf(state: AgentState): Health {
  if (state.paused) return 'paused';
  // The same rule as the fleet view (api/routes/history.ts): an escalated incident is escalated; an open
  // one whose finding is easing, or whose remedy is being verified, is recovering; otherwise degraded.
  const incident = state.openIncident;
  if (incident) {
    if (incident.status === 'escalated') return 'escalated';
    const easing = state.lastFindings.some((f) => f.kind === incident.kind && f.state === 'recovering');
    return easing || incident.status === 'verifying' ? 'recovering' : 'degraded';
  }
  return state.lastWindow ? 'healthy' : 'starting';
}

export async function agentWorkflow(input: AgentInput): Promise<never> {
  const state: AgentState = input.state ?? initialState(input.modelName);
  const cycleInterval = input.cycleInterval ?? AGENT_DEFAULTS.cycleInterval;
  const maxCyclesPerRun = input.maxCyclesPerRun ?? AGENT_DEFAULTS.maxCyclesPerRun;
  const { workflowId } = workflowInfo();
  let wake = false;
  // Histories recorded before the recovery engine only monitored, detected and recorded; they replay on
  // that path. Every new run (including one continued from such a history) takes the engine's path.
  const recovery = patched('recovery-engine');
  /** The remedy, approval wait, escalation or verification running beside the loop. */
  let inFlight: Promise<void> | null = null;
  let approvalAnswer: { approved: boolean; answer: ApprovalAnswer } | null = null;
  /** Counts the production models a remedy put in place, so a cycle in flight does not undo a reset. */
  let modelChanges = 0;

  setHandler(statusQuery, () => state);
  // Pause and resume are one toggle: refuse a no-op, flip the flag, audit who did it and why.
  const operatorToggle = (type: 'pause' | 'resume') => async (request: PauseRequest) => {
    const pausing = type === 'pause';
    if (state.paused === pausing) {
      throw ApplicationFailure.create({
        type: pausing ? 'AlreadyPaused' : 'NotPaused',
        message: pausing ? 'agent is already paused' : 'agent is not paused',
      });
    }
    state.paused = pausing;
    state.health = healthOf(state);
    await recordOperatorAction({
      modelName: state.modelName,
      type,
      request,
      cycle: state.cycle,
      key: uuid4(),
    });
    if (!pausing) wake = true; // run a cycle now rather than at the end of the current sleep
    return state;
  };
  setHandler(pauseUpdate, operatorToggle('pause'), { validator: validateOperatorRequest });
  setHandler(resumeUpdate, operatorToggle('resume'), { validator: validateOperatorRequest });

  if (recovery) {
    const validateApproval = (answer: ApprovalAnswer) => {
      validateOperatorRequest(answer);
      const pending = state.pendingApproval;
      if (!pending) throw new Error('no action is waiting for approval');
      if (answer.approvalId !== pending.id) {
        throw new Error(`approval ${answer.approvalId} is not the pending one (${pending.id})`);
      }
    };
    const answerApproval = (approved: boolean) => async (answer: ApprovalAnswer) => {
      approvalAnswer = { approved, answer };
      await condition(() => approvalAnswer === null); // the remedy took the answer and moved on
      return state;
    };
    setHandler(approveUpdate, answerApproval(true), { validator: validateApproval });
    setHandler(rejectUpdate, answerApproval(false), { validator: validateApproval });

    setHandler(
      acknowledgeUpdate,
      async (request) => {
        const incident = state.openIncident!;
        await acts.recordAction({
          key: `${workflowId}:incident:${incident.id}:acknowledge`,
          modelName: state.modelName,
          type: 'acknowledge',
          actor: `human:${request.actor}`,
          status: 'succeeded',
          reason: request.reason,
          incidentId: incident.id,
          detail: request.via ? { via: request.via } : {},
        });
        await acts.updateIncident({
          incidentId: incident.id,
          status: 'escalated',
          close: true,
          step: {
            key: 'acknowledged',
            at: new Date().toISOString(),
            phase: 'acknowledged',
            summary: `acknowledged by ${request.actor}: ${request.reason}`,
          },
        });
        state.openIncident = null;
        state.health = healthOf(state);
        return state;
      },
      {
        validator: (request) => {
          validateOperatorRequest(request);
          const incident = state.openIncident;
          if (incident?.status !== 'escalated') throw new Error('no escalated incident to acknowledge');
          if (request.incidentId !== incident.id) {
            throw new Error(`incident ${request.incidentId} is not the escalated one (${incident.id})`);
          }
        },
      },
    );

    setHandler(
      revertUpdate,
      async (request) => {
        await acts.revertAction({
          modelName: state.modelName,
          key: uuid4(),
          actionId: request.actionId,
          actor: `human:${request.actor}`,
          reason: request.reason,
        });
        state.deployment = await acts.describeDeployment({ modelName: state.modelName });
        return state;
      },
      {
        validator: (request) => {
          validateOperatorRequest(request);
          requireText(request.actionId, 'actionId');
          if (inFlight)
            throw new Error('a remedy is in progress; wait for it to finish (or pause) before reverting');
        },
      },
    );

    setHandler(
      setPolicyUpdate,
      async (request) => {
        const stored = await acts.savePolicy({
          modelName: state.modelName,
          key: uuid4(),
          policy: request.policy,
          actor: `human:${request.actor}`,
          reason: request.reason,
        });
        state.policy = { version: stored.version, document: stored.policy };
        return state;
      },
      {
        validator: (request) => {
          validateOperatorRequest(request);
          const parsed = parsePolicy(request.policy);
          if (!parsed.ok) {
            throw new Error(
              `invalid policy: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
            );
          }
        },
      },
    );
  }

  const policy = () => state.policy?.document ?? DEFAULT_POLICY;

  /** One step of an incident, on its stored record (the dashboard's timeline reads them). */
  async function incidentStep(
    incident: OpenIncident,
    key: string,
    status: 'open' | 'mitigating' | 'verifying' | 'recovered' | 'escalated',
    summary: string,
    detail?: Record<string, unknown>,
    close = false,
  ) {
    await acts.updateIncident({
      incidentId: incident.id,
      status,
      close,
      step: { key, at: new Date().toISOString(), phase: status, summary, ...(detail ? { detail } : {}) },
    });
  }

  /** Hands the incident to a human and keeps the model as it is (its safe state) until one answers. */
  async function escalate(incident: OpenIncident, reason: string): Promise<void> {
    incident.status = 'escalated';
    state.health = healthOf(state);
    await incidentStep(incident, 'escalated', 'escalated', reason, { attempts: incident.attempts ?? [] });
    try {
      await escalation.sendEscalation({
        modelName: state.modelName,
        incidentId: incident.id,
        key: `${workflowId}:incident:${incident.id}:escalation`,
        pack: {
          reason,
          incident,
          window: state.lastWindow,
          findings: state.lastFindings,
          decision: state.lastDecision,
          attempts: incident.attempts ?? [],
          baseline: incident.baseline ?? null,
          deployment: state.deployment ?? null,
          workflowId,
        },
      });
    } catch (error) {
      log.error('escalation webhook could not be delivered', { error: String(error) });
      await acts.recordAction({
        key: `${workflowId}:incident:${incident.id}:escalation:undelivered`,
        modelName: state.modelName,
        type: 'escalate',
        actor: 'agent',
        status: 'failed',
        reason: `webhook not delivered: ${String(error)}`,
        incidentId: incident.id,
      });
    }
  }

  /** Waits for a human's answer to a remedy that needs approval; null when the remedy may go ahead. */
  async function awaitApproval(
    incident: OpenIncident,
    decision: Decision,
    attempt: RemedyAttempt,
    base: string,
  ): Promise<{ action: Remedy | null; actor: string }> {
    const approval = decision.approval!;
    const now = Date.now();
    state.pendingApproval = {
      id: `${incident.id}:${incident.attempts!.length - 1}`,
      incidentId: incident.id,
      action: decision.action,
      rule: decision.rule,
      reason: decision.reason,
      requestedAt: now,
      expiresAt: now + durationMs(approval.timeout),
      onTimeout: approval.onTimeout,
    };
    incident.status = 'awaiting_approval';
    const record = (
      status: 'pending' | 'succeeded' | 'rejected' | 'expired',
      actor: string,
      reason: string,
    ) =>
      acts.recordAction({
        key: `${base}:approval`,
        modelName: state.modelName,
        type: `approve:${decision.action}`,
        actor,
        status,
        reason,
        incidentId: incident.id,
        detail: { rule: decision.rule, approvalId: state.pendingApproval?.id },
      });
    await record('pending', 'agent', `${decision.action} waits for approval: ${decision.reason}`);
    const answered = await condition(() => approvalAnswer !== null, approval.timeout);
    const answer = approvalAnswer;
    state.pendingApproval = null;
    approvalAnswer = null;
    if (answered && answer) {
      const actor = `human:${answer.answer.actor}`;
      await record(answer.approved ? 'succeeded' : 'rejected', actor, answer.answer.reason);
      if (answer.approved) return { action: decision.action as Remedy, actor };
      attempt.outcome = 'rejected';
      attempt.detail = `rejected by ${answer.answer.actor}: ${answer.answer.reason}`;
      return { action: null, actor };
    }
    const fallbackAction = approval.onTimeout;
    await record('expired', 'agent', `nobody answered in ${approval.timeout}; taking ${fallbackAction}`);
    attempt.detail = `approval expired after ${approval.timeout}; took the safe action ${fallbackAction}`;
    if (isRemedy(fallbackAction)) {
      attempt.action = fallbackAction;
      return { action: fallbackAction, actor: 'agent' };
    }
    attempt.outcome = 'expired';
    return { action: null, actor: 'agent' };
  }

  /**
   * Act and verify for one rung of the incident's ladder. Leaves the incident closed (recovered), or
   * open with the attempt's outcome for the next decision, or escalated.
   */
  async function runRemedy(incident: OpenIncident, decision: Decision): Promise<void> {
    incident.attempts ??= [];
    const n = incident.attempts.length;
    const attempt: RemedyAttempt = {
      action: decision.action,
      at: Date.now(),
      outcome: 'pending',
      detail: '',
    };
    incident.attempts.push(attempt);
    const base = `${workflowId}:incident:${incident.id}:${n}`;
    let action = decision.action as Remedy;
    let actor = 'agent';
    if (decision.approval) {
      const approved = await awaitApproval(incident, decision, attempt, base);
      if (!approved.action) {
        incident.status = 'open';
        await incidentStep(incident, `${n}:not-taken`, 'open', attempt.detail);
        return;
      }
      action = approved.action;
      actor = approved.actor;
    }

    incident.status = 'mitigating';
    const remedyKey = `${base}:${action}`;
    const audit = (status: 'started' | 'succeeded' | 'failed', result?: RemedyResult) =>
      acts.recordAction({
        key: remedyKey,
        modelName: state.modelName,
        type: action,
        actor,
        status,
        reason: decision.reason,
        incidentId: incident.id,
        detail: {
          rule: decision.rule,
          attempt: n,
          ...(result ? { outcome: result.outcome, result: result.detail } : {}),
        },
        beforeRevision: result?.before ?? null,
        afterRevision: result?.after ?? null,
      });
    await audit('started');
    await incidentStep(incident, `${n}:act`, 'mitigating', `${action}: ${decision.reason}`, {
      rule: decision.rule,
    });
    const remedyInput: RemedyInput = {
      modelName: state.modelName,
      incidentId: incident.id,
      reason: `incident ${incident.id} (${incident.kind}): ${decision.rule}`,
      actor,
      pollInterval: cycleInterval,
      rollbackTo: decision.rollbackTo ?? null,
      since: incident.onsetAt ?? (await acts.storeTime()),
      retrain: policy().retrain,
    };
    let result: RemedyResult;
    try {
      result = await executeChild(REMEDY_WORKFLOWS[action], { workflowId: remedyKey, args: [remedyInput] });
    } catch (error) {
      result = {
        outcome: 'failed',
        before: null,
        after: null,
        detail: `the ${action} workflow failed: ${String(error)}`,
      };
    }
    state.remedies = [...(state.remedies ?? []), { action, at: attempt.at }].filter(
      (r) => r.at > Date.now() - REMEDY_MEMORY_MS,
    );
    await audit(result.outcome === 'applied' ? 'succeeded' : 'failed', result);
    attempt.detail = result.detail;
    state.deployment = await acts.describeDeployment({ modelName: state.modelName });
    if (result.outcome !== 'applied') {
      attempt.outcome = result.outcome === 'rejected' ? 'rejected' : 'failed';
      if (result.noBetterModel) attempt.bestAvailable = true;
      incident.status = 'open';
      await incidentStep(incident, `${n}:outcome`, 'open', `${action} ${result.outcome}: ${result.detail}`, {
        outcome: attempt.outcome,
      });
      return;
    }

    if (action === 'retrain' || action === 'rollback') {
      // Another model serves now: what the detector learnt of the old one (its calibration, its error
      // rate) no longer applies. The pre-failure baseline verification needs is kept on the incident.
      state.detector = afterModelChange(state.detector);
      modelChanges++;
    }
    let since = await acts.storeTime();
    if (PROTECTIVE.includes(action)) {
      const hold = HOLD_UNTIL[incident.kind];
      if (!hold) {
        // The model itself is at fault: users stay protected while the next rung repairs it.
        attempt.outcome = 'protected';
        attempt.detail = `${result.detail}; users protected while the model itself is repaired`;
        incident.status = 'open';
        await incidentStep(incident, `${n}:outcome`, 'open', attempt.detail, { outcome: attempt.outcome });
        return;
      }
      // The cause is outside the model. Hold until it is gone, then bring the model back and verify it
      // serves as well as before the failure.
      incident.status = 'holding';
      await incidentStep(
        incident,
        `${n}:holding`,
        'mitigating',
        `${action} in place; holding until ${hold === 'inputs-clear' ? `the ${incident.kind} clears and ` : ''}the production version answers a probe`,
      );
      const holdUntil = Date.now() + durationMs(policy().verification.maxWait);
      let safe = false;
      while (!safe && Date.now() < holdUntil) {
        const ready =
          hold === 'inputs-clear'
            ? await condition(
                () => (state.detector.persistence[incident.kind]?.state ?? 'clear') === 'clear',
                Math.max(1, holdUntil - Date.now()),
              )
            : !(await condition(() => false, cycleInterval)); // a failing server: probe once a cycle
        if (!ready) break;
        const production = state.deployment?.productionVersion ?? null;
        const probe =
          production === null
            ? { ok: true }
            : await acts.probeVersion({ modelName: state.modelName, version: production, rows: 20 });
        safe = probe.ok;
        if (!safe && hold === 'inputs-clear') await condition(() => false, cycleInterval);
      }
      if (!safe) {
        attempt.outcome = 'not_recovered';
        attempt.detail = `${result.detail}; the cause did not go within ${policy().verification.maxWait} (users stay protected)`;
        incident.status = 'open';
        await incidentStep(incident, `${n}:outcome`, 'open', attempt.detail, { outcome: attempt.outcome });
        return;
      }
      if (result.before !== null) {
        await acts.restoreDeploymentFor({
          modelName: state.modelName,
          key: `${base}:restore`,
          actor: 'agent',
          reason: `incident ${incident.id}: the cause has gone; restoring the deployment from before the ${action}`,
          incidentId: incident.id,
          revision: result.before,
        });
        state.deployment = await acts.describeDeployment({ modelName: state.modelName });
      }
      since = await acts.storeTime();
    }

    const baseline = incident.baseline;
    if (!baseline) {
      attempt.outcome = 'recovered';
      attempt.detail = `${result.detail}; no pre-failure baseline to verify against, the finding cleared`;
      await closeRecovered(incident, n, attempt.detail);
      return;
    }
    incident.status = 'verifying';
    state.health = healthOf(state);
    await incidentStep(
      incident,
      `${n}:verify`,
      'verifying',
      `verifying ${baseline.metric} against the pre-failure ${baseline.value.toPrecision(3)}`,
    );
    const verdict = await executeChild(verifyWorkflow, {
      workflowId: `${base}:verify`,
      args: [
        {
          modelName: state.modelName,
          incidentId: incident.id,
          baseline,
          since,
          pollInterval: cycleInterval,
          verification: verificationFor(policy(), baseline.metric),
        },
      ],
    });
    const summary = `${verdict.verdict}: ${verdict.detail}`;
    if (verdict.verdict === 'recovered') {
      attempt.outcome = 'recovered';
      attempt.detail = `${result.detail}; ${summary}`;
      await closeRecovered(incident, n, attempt.detail, verdict);
      return;
    }
    attempt.outcome = 'not_recovered';
    attempt.detail = `${result.detail}; ${summary}`;
    // A promoted retrain beat the model it replaced on held-out recent rows and in its canary: undoing it
    // would serve the worse model again, so it stays as the best model available (verifications that
    // ended before this patch undid it, as any change that did not recover the model).
    const improvedRetrain = action === 'retrain' && patched('keep-improved-retrain');
    if (improvedRetrain) attempt.bestAvailable = true;
    // Any other change that did not help is undone before the next rung: never leave it serving.
    if (
      !PROTECTIVE.includes(action) &&
      !improvedRetrain &&
      result.before !== null &&
      result.before !== result.after
    ) {
      await acts.restoreDeploymentFor({
        modelName: state.modelName,
        key: `${base}:undo`,
        actor: 'agent',
        reason: `incident ${incident.id}: ${action} did not recover the model; undone`,
        incidentId: incident.id,
        revision: result.before,
      });
      state.deployment = await acts.describeDeployment({ modelName: state.modelName });
    }
    incident.status = 'open';
    await incidentStep(incident, `${n}:outcome`, 'open', attempt.detail, {
      outcome: attempt.outcome,
      verdict,
    });
  }

  async function closeRecovered(incident: OpenIncident, n: number, summary: string, verdict?: object) {
    await incidentStep(
      incident,
      `${n}:recovered`,
      'recovered',
      summary,
      verdict ? { verdict } : undefined,
      true,
    );
    if (state.openIncident?.id === incident.id) state.openIncident = null;
    state.health = healthOf(state);
  }

  /** Starts what a decision calls for beside the loop; the loop goes on measuring meanwhile. */
  function act(decision: Decision): void {
    const incident = state.openIncident;
    if (!incident) return;
    const task = decision.escalate
      ? () => escalate(incident, decision.escalate!.reason)
      : isRemedy(decision.action)
        ? () => runRemedy(incident, decision)
        : null;
    if (!task) return;
    inFlight = (async () => {
      try {
        await task();
      } catch (error) {
        // A step that failed for good (a non-retryable activity error) ends this attempt, not the agent:
        // the next decision sees a failed attempt and takes the next rung, or escalates.
        log.error('remedy failed', { incident: incident.id, action: decision.action, error: String(error) });
        const attempt = incident.attempts?.at(-1);
        if (attempt?.outcome === 'pending') {
          attempt.outcome = 'failed';
          attempt.detail = `${attempt.detail ? `${attempt.detail}; ` : ''}failed: ${String(error)}`;
        }
        if (incident.status !== 'escalated') incident.status = 'open';
      } finally {
        inFlight = null;
        state.pendingApproval = null;
        state.health = healthOf(state);
        // The next decision comes at the next regular cycle: a cycle run at once would judge a window of
        // a few seconds, which holds no traffic and reads as traffic stopping.
      }
    })();
  }

  // A new agent measures at once; a continued run first waits out the interval its predecessor began.
  let sleepFirst = input.state !== undefined;
  if (recovery && !state.policy) {
    const stored = await acts.loadPolicy({ modelName: state.modelName });
    state.policy = { version: stored.version, document: stored.policy };
  }
  for (let cyclesThisRun = 0; ; cyclesThisRun++) {
    if (sleepFirst) {
      await condition(() => wake, cycleInterval);
      wake = false;
    }
    sleepFirst = true;
    if (!state.paused) {
      const cycle = state.cycle;
      const changesBefore = modelChanges;
      const window = await monitorWindow({ modelName: state.modelName, seq: cycle });
      if (recovery) {
        state.deployment = await acts.describeDeployment({ modelName: state.modelName });
        // Another version serves than the one the detector's statistics were built on (a release, a
        // person's revert, a remedy of the agent's); patched: runs begun before kept them.
        const serving = state.deployment.productionVersion;
        if (
          state.judgedVersion !== undefined &&
          state.judgedVersion !== serving &&
          patched('production-change-resets-charts')
        )
          state.detector = afterProductionChange(state.detector);
        state.judgedVersion = serving;
      }
      const detected = recovery
        ? detect(
            window,
            state.detector,
            // Runs begun under an earlier revision of detect judge as they did (detect.ts DetectRevision).
            detectSettings(policy(), {
              revision: patched('detect-revision-3') ? 3 : patched('detect-revision-2') ? 2 : 1,
            }),
          )
        : detect(window, state.detector);
      const decision = decide({
        findings: detected.findings,
        policy: policy(),
        now: Date.now(),
        cycle,
        openIncident: state.openIncident,
        deployment: state.deployment ?? null,
        remedies: state.remedies ?? [],
        remedyInProgress: inFlight !== null,
        windowStart: Date.parse(window.startAt),
        // Asked only where it matters (an open incident with a retrain kept as the best model there is),
        // so that other runs record no marker; runs begun before escalated at once.
        ...(bestModelServing(state.openIncident)
          ? { retrainAgain: patched('retrain-again-on-more-rows') }
          : {}),
      });
      const opens = decision.incident && 'open' in decision.incident ? decision.incident.open : null;
      const incidentId = opens ? uuid4() : null;
      await recordCycle({
        modelName: state.modelName,
        cycle,
        idempotencyKey: `${workflowId}:cycle:${cycle}`,
        window,
        findings: detected.findings,
        decision,
        openIncidentId: state.openIncident?.id ?? null,
        newIncidentId: incidentId,
      });
      const baselineBefore = state.detector;
      // A remedy that changed the model while this cycle was measuring has reset the detector; the
      // window just judged still describes the old model, so its state is reset the same way.
      state.detector = modelChanges === changesBefore ? detected.state : afterModelChange(detected.state);
      state.lastWindow = window;
      state.lastFindings = detected.findings;
      state.lastDecision = decision;
      if (opens && incidentId) {
        const incident: OpenIncident = { id: incidentId, kind: opens.kind, openedAtCycle: cycle };
        if (recovery) {
          Object.assign(incident, {
            severity: opens.severity,
            openedAt: Date.now(),
            onsetAt: window.startAt,
            status: 'open',
            attempts: [],
          } satisfies Partial<OpenIncident>);
          incident.baseline = baselineFor(incident.kind, baselineBefore, window);
        }
        state.openIncident = incident;
      } else if (decision.incident && 'close' in decision.incident) {
        state.openIncident = null;
      }
      if (recovery) act(decision);
      state.cycle = cycle + 1;
      state.health = healthOf(state);
    }

    if (workflowInfo().continueAsNewSuggested || cyclesThisRun + 1 >= maxCyclesPerRun) {
      // Children do not outlive a run: let the remedy in flight finish (the loop keeps measuring), and
      // never hand over mid-update: the next run must start from a state no handler is still changing.
      if (inFlight) continue;
      await condition(allHandlersFinished);
      state.runs += 1;
      await continueAsNew<typeof agentWorkflow>({ ...input, state });
    }
  }
}
