// The incident lifecycle as a pure state machine: step(state, event) → { state, commands }. It owns the
// agent's judgement (detect, decide), its incidents, approvals, remedy memory (cooldowns and budgets read
// by decide), holds behind protective remedies, verification, undo and escalation. It does no I/O and
// reads no clock: every event carries its time, and what must happen outside (an activity, a child
// workflow, a timer; a simulated effect in the backtest) is a command whose outcome comes back as an event.
//
// One rung of an incident's ladder:
//   decision → [approval] → remedy → applied? ─ no ─→ open (the next decision takes the next rung)
//                                      │ yes
//            a segment's fallback route → verify on the segment's rows (the route stays either way; a
//              retrain that beats it lifts it in its promotion, then is verified on those rows too)
//            protective and the cause is outside the model → holding → cause gone → restore → verify
//            protective and the model is at fault → protected, open (the next rung repairs the model)
//            otherwise → verify → recovered (closed) | not recovered → [undo] → open

import { DEFAULT_POLICY } from '../policy/defaults.ts';
import { durationMs } from '../policy/duration.ts';
import { verificationFor } from '../recovery/judge.ts';
import { baselineFor, levelOf } from './baseline.ts';
import type { Remedy } from './contracts.ts';
import { decide, isRemedy, PROTECTIVE } from './decide.ts';
import {
  afterLevelChange,
  afterModelChange,
  afterProductionChange,
  detect,
  detectSettings,
  initialDetectorState,
  SETTLE_WINDOWS,
} from './detect.ts';
import { findingOf, holdUntil } from './findings/index.ts';
import { withRoutes } from './findings/segment.ts';
import type {
  IncidentStepRecord,
  InFlight,
  LifecycleCommand,
  LifecycleEvent,
  LifecycleState,
  StepResult,
} from './lifecycle-types.ts';
import { healthOf } from './status.ts';
import type { Decision, OpenIncident, RemedyAttempt } from './types.ts';

/** Remedies taken longer ago than this no longer count for cooldowns or budgets. */
export const REMEDY_MEMORY_MS = 7 * 24 * 3600 * 1000;

export function initialLifecycleState(modelName: string): LifecycleState {
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
    policy: null,
    remedies: [],
    pendingApproval: null,
    deployment: null,
    judgedVersion: null,
    inFlight: null,
  };
}

/** The next state and what must happen outside for `event`; `state` is left as it was. */
export function step(state: LifecycleState, event: LifecycleEvent): StepResult {
  const run = new Step(JSON.parse(JSON.stringify(state)) as LifecycleState, event.at);
  run.handle(event);
  run.state.health = healthOf(run.state);
  return { state: run.state, commands: run.commands };
}

/** One step's working copy of the state and the commands it asks for. */
class Step {
  readonly commands: LifecycleCommand[] = [];

  constructor(
    readonly state: LifecycleState,
    private readonly now: number,
  ) {}

  private get policy() {
    return this.state.policy?.document ?? DEFAULT_POLICY;
  }

  handle(event: LifecycleEvent) {
    const s = this.state;
    switch (event.kind) {
      case 'window':
        return this.window(event);
      case 'pause':
      case 'resume':
        s.paused = event.kind === 'pause';
        this.commands.push({
          kind: 'record-operator-action',
          type: event.kind,
          request: event.request,
          cycle: s.cycle,
        });
        return;
      case 'policy-changed':
        s.policy = event.policy;
        return;
      case 'deployment-changed':
        s.deployment = event.deployment;
        return;
      case 'acknowledge':
        return this.acknowledge(event.request);
      case 'approval':
        return this.approval(event);
      case 'timer':
        return this.timer();
      case 'remedy-result':
        return this.remedyResult(event);
      case 'probe-result':
        return this.probeResult(event.ok);
      case 'restored':
        return this.restored(event);
      case 'verdict':
        return this.verdict(event.verdict);
      case 'step-failed':
        return this.stepFailed(event.error);
    }
  }

  // ---- a window measured ----------------------------------------------------------------------------

  private window(event: Extract<LifecycleEvent, { kind: 'window' }>) {
    const s = this.state;
    const { window } = event;
    s.deployment = event.deployment;
    // Another version serves than the one the detector's sequential statistics were built on (a release,
    // a person's revert, a remedy of the agent's): they are dropped.
    const serving = event.deployment?.productionVersion ?? null;
    if (s.lastWindow !== null && s.judgedVersion !== serving) s.detector = afterProductionChange(s.detector);
    // So does a segment's route, taken or lifted: production answers other rows than before, and the
    // labels of its answers from before the change (the routed segment's, say) arrive for a while yet.
    const routes = event.deployment?.fallbackSegments ?? [];
    const judged = s.judgedRoutes ?? [];
    const rerouted = routes.length !== judged.length || routes.some((r) => !judged.includes(r));
    if (s.lastWindow !== null && rerouted)
      s.detector = { ...afterProductionChange(s.detector), settleWindows: SETTLE_WINDOWS };
    s.judgedVersion = serving;
    if (routes.length > 0 || s.judgedRoutes) s.judgedRoutes = routes;
    const detected = detect(
      withRoutes(window, event.deployment?.fallbackSegments),
      s.detector,
      detectSettings(this.policy),
    );
    const decision = decide({
      findings: detected.findings,
      policy: this.policy,
      now: this.now,
      cycle: s.cycle,
      openIncident: s.openIncident,
      deployment: s.deployment,
      remedies: s.remedies,
      remedyInProgress: s.inFlight !== null,
      windowStart: Date.parse(window.startAt),
      level: levelOf(window),
    });
    const opens = decision.incident && 'open' in decision.incident ? decision.incident.open : null;
    this.commands.push({
      kind: 'record-cycle',
      cycle: s.cycle,
      window,
      findings: detected.findings,
      decision,
      openIncidentId: s.openIncident?.id ?? null,
      newIncidentId: opens ? event.incidentId : null,
    });
    const healthyBefore = s.detector;
    s.detector = detected.state;
    s.lastWindow = window;
    s.lastFindings = detected.findings;
    s.lastDecision = decision;
    if (opens) {
      s.openIncident = {
        id: event.incidentId,
        kind: opens.kind,
        openedAtCycle: s.cycle,
        severity: opens.severity,
        openedAt: this.now,
        onsetAt: window.startAt,
        status: 'open',
        attempts: [],
        // The pre-failure level comes from the detector's healthy windows before this one.
        baseline: baselineFor(opens.kind, healthyBefore, window, findingOf(detected.findings, opens.kind)),
      };
      const segment =
        opens.kind === 'segment' ? findingOf(detected.findings, 'segment')?.evidence.segment : null;
      if (segment) s.openIncident.segment = segment;
    } else if (decision.incident && 'close' in decision.incident) {
      const newLevel = s.openIncident?.attempts.at(-1)?.newLevel ?? levelOf(window);
      if (decision.incident.close === 'rebaselined' && newLevel)
        s.detector = afterLevelChange(s.detector, newLevel);
      s.openIncident = null;
    }
    s.cycle += 1;
    this.act(decision);
    this.holdOnWindow();
  }

  /** Starts what a decision calls for: an escalation, or a remedy (after its approval if one is needed). */
  private act(decision: Decision) {
    const incident = this.state.openIncident;
    if (!incident) return;
    if (decision.escalate) return this.escalate(incident, decision.escalate.reason);
    if (!isRemedy(decision.action)) return;
    const attempt = incident.attempts.length;
    incident.attempts.push({ action: decision.action, at: this.now, outcome: 'pending', detail: '' });
    if (!decision.approval) return this.startRemedy(decision.action, decision, 'agent');
    const { timeout, onTimeout } = decision.approval;
    const approvalId = `${incident.id}:${attempt}`;
    this.state.pendingApproval = {
      id: approvalId,
      incidentId: incident.id,
      action: decision.action,
      rule: decision.rule,
      reason: decision.reason,
      requestedAt: this.now,
      expiresAt: this.now + durationMs(timeout),
      onTimeout,
    };
    incident.status = 'awaiting_approval';
    this.state.inFlight = { phase: 'approval', attempt, decision };
    this.approvalRecord('pending', 'agent', `${decision.action} waits for approval: ${decision.reason}`);
    this.commands.push({ kind: 'await-approval', approvalId, until: this.now + durationMs(timeout) });
  }

  // ---- approvals ------------------------------------------------------------------------------------

  private approvalRecord(
    status: 'pending' | 'succeeded' | 'rejected' | 'expired',
    actor: string,
    reason: string,
  ) {
    const flight = this.state.inFlight as Extract<InFlight, { phase: 'approval' }>;
    const incident = this.incident();
    this.commands.push({
      kind: 'record-action',
      record: {
        key: `${this.base(flight.attempt)}:approval`,
        type: `approve:${flight.decision.action}`,
        actor,
        status,
        reason,
        incidentId: incident.id,
        detail: { rule: flight.decision.rule, approvalId: this.state.pendingApproval?.id },
      },
    });
  }

  private approval(event: Extract<LifecycleEvent, { kind: 'approval' }>) {
    const flight = this.state.inFlight;
    if (flight?.phase !== 'approval') return;
    const actor = `human:${event.actor}`;
    this.approvalRecord(event.approved ? 'succeeded' : 'rejected', actor, event.reason);
    this.state.pendingApproval = null;
    if (event.approved) return this.startRemedy(flight.decision.action as Remedy, flight.decision, actor);
    this.notTaken('rejected', `rejected by ${event.actor}: ${event.reason}`);
  }

  /** An approval's timeout or a hold's end has come. */
  private timer() {
    const flight = this.state.inFlight;
    const pending = this.state.pendingApproval;
    if (flight?.phase === 'approval' && pending && this.now >= pending.expiresAt) {
      const { timeout, onTimeout } = flight.decision.approval!;
      this.approvalRecord('expired', 'agent', `nobody answered in ${timeout}; taking ${onTimeout}`);
      this.state.pendingApproval = null;
      const attempt = this.attempt();
      attempt.detail = `approval expired after ${timeout}; took the safe action ${onTimeout}`;
      if (!isRemedy(onTimeout)) return this.notTaken('expired', attempt.detail);
      attempt.action = onTimeout;
      return this.startRemedy(onTimeout, flight.decision, 'agent');
    }
    if (flight?.phase === 'holding' && !flight.probing && this.now >= flight.until) {
      const attempt = this.attempt();
      this.endAttempt(
        'not_recovered',
        `${attempt.detail}; the cause did not go within ${this.policy.verification.maxWait} (users stay protected)`,
      );
    }
  }

  /** The remedy was not taken (rejected, or its approval expired into no remedy): the incident is open. */
  private notTaken(outcome: 'rejected' | 'expired', detail: string) {
    const attempt = this.attempt();
    const n = this.state.inFlight!.attempt;
    Object.assign(attempt, { outcome, detail });
    this.state.inFlight = null;
    this.incident().status = 'open';
    this.incidentStep(`${n}:not-taken`, 'open', detail);
  }

  // ---- the remedy -----------------------------------------------------------------------------------

  private startRemedy(action: Remedy, decision: Decision, actor: string) {
    const incident = this.incident();
    const attempt = incident.attempts.length - 1;
    incident.status = 'mitigating';
    this.state.inFlight = { phase: 'remedy', attempt, action, decision, actor };
    this.remedyRecord('started');
    this.incidentStep(`${attempt}:act`, 'mitigating', `${action}: ${decision.reason}`, {
      rule: decision.rule,
    });
    this.commands.push({
      kind: 'run-remedy',
      key: `${this.base(attempt)}:${action}`,
      action,
      incidentId: incident.id,
      reason: `incident ${incident.id} (${incident.kind}): ${decision.rule}`,
      actor,
      rollbackTo: decision.rollbackTo ?? null,
      ...(incident.segment ? { segment: incident.segment } : {}),
      since: incident.onsetAt,
      retrain: this.policy.retrain,
      materialGain: this.policy.verification.tolerance,
    });
  }

  /** The remedy's audit row, keyed by its child's id: started, then succeeded or failed with its result. */
  private remedyRecord(
    status: 'started' | 'succeeded' | 'failed',
    result?: Extract<LifecycleEvent, { kind: 'remedy-result' }>['result'],
  ) {
    const flight = this.state.inFlight as Extract<InFlight, { phase: 'remedy' }>;
    this.commands.push({
      kind: 'record-action',
      record: {
        key: `${this.base(flight.attempt)}:${flight.action}`,
        type: flight.action,
        actor: flight.actor,
        status,
        reason: flight.decision.reason,
        incidentId: this.incident().id,
        detail: {
          rule: flight.decision.rule,
          attempt: flight.attempt,
          ...(result ? { outcome: result.outcome, result: result.detail } : {}),
        },
        beforeRevision: result?.before ?? null,
        afterRevision: result?.after ?? null,
      },
    });
  }

  private remedyResult(event: Extract<LifecycleEvent, { kind: 'remedy-result' }>) {
    const s = this.state;
    const flight = s.inFlight;
    if (flight?.phase !== 'remedy') return;
    const { result } = event;
    const { action } = flight;
    const attempt = this.attempt();
    s.remedies = [...s.remedies, { action, at: attempt.at }].filter(
      (r) => r.at > this.now - REMEDY_MEMORY_MS,
    );
    this.remedyRecord(result.outcome === 'applied' ? 'succeeded' : 'failed', result);
    attempt.detail = result.detail;
    s.deployment = event.deployment;
    if (result.outcome !== 'applied') {
      if (result.noBetterModel) attempt.bestAvailable = true;
      if (result.noBetterModel === 'immaterial' && result.level) attempt.newLevel = result.level;
      return this.endAttempt(
        result.outcome === 'rejected' ? 'rejected' : 'failed',
        result.detail,
        `${action} ${result.outcome}: ${result.detail}`,
      );
    }
    // Another model serves now: what the detector learnt of the old one (its calibration, its error rate)
    // no longer applies. The pre-failure baseline verification needs is kept on the incident.
    if (action === 'retrain' || action === 'rollback') s.detector = afterModelChange(s.detector);
    if (!PROTECTIVE.includes(action)) return this.startVerify(action, result.before, result.after);
    const incident = this.incident();
    // A segment's route is the segment's remedy, not a shield while another rung repairs the model: it is
    // verified on the segment's own rows, which the fallback answers now, against the segment's own level.
    if (action === 'fallback' && incident.segment !== undefined)
      return this.startVerify(action, result.before, result.after);
    const hold = holdUntil(incident.kind);
    if (!hold) {
      // The model itself is at fault: users stay protected while the next rung repairs it.
      return this.endAttempt(
        'protected',
        `${result.detail}; users protected while the model itself is repaired`,
      );
    }
    // The cause is outside the model. Hold until it is gone, then bring the model back and verify it
    // serves as well as before the failure.
    const until = this.now + durationMs(this.policy.verification.maxWait);
    s.inFlight = {
      phase: 'holding',
      attempt: flight.attempt,
      action,
      hold,
      until,
      before: result.before,
      probing: false,
    };
    incident.status = 'holding';
    this.incidentStep(
      `${flight.attempt}:holding`,
      'mitigating',
      `${action} in place; holding until ${hold === 'inputs-clear' ? `the ${incident.kind} clears and ` : ''}the production version answers a probe`,
    );
    this.commands.push({ kind: 'hold', until });
  }

  // ---- holding behind a protective remedy -----------------------------------------------------------

  /** At each window: once the cause has gone (by the hold's rule), the production version is probed. */
  private holdOnWindow() {
    const flight = this.state.inFlight;
    if (flight?.phase !== 'holding' || flight.probing) return;
    const incident = this.incident();
    const cleared = (this.state.detector.persistence[incident.kind]?.state ?? 'clear') === 'clear';
    if (flight.hold === 'inputs-clear' && !cleared) return;
    const production = this.state.deployment?.productionVersion ?? null;
    if (production === null) return this.causeGone();
    flight.probing = true;
    this.commands.push({ kind: 'probe', version: production });
  }

  private probeResult(ok: boolean) {
    const flight = this.state.inFlight;
    if (flight?.phase !== 'holding') return;
    flight.probing = false;
    if (ok) return this.causeGone();
    if (this.now >= flight.until) this.timer();
  }

  /** The cause has gone: restore the deployment from before the protective remedy, then verify. */
  private causeGone() {
    const flight = this.state.inFlight as Extract<InFlight, { phase: 'holding' }>;
    const incident = this.incident();
    if (flight.before === null) return this.startVerify(flight.action, null, null);
    this.state.inFlight = { phase: 'restoring', attempt: flight.attempt, action: flight.action };
    this.commands.push({
      kind: 'restore',
      key: `${this.base(flight.attempt)}:restore`,
      purpose: 'restore',
      incidentId: incident.id,
      revision: flight.before,
      reason: `incident ${incident.id}: the cause has gone; restoring the deployment from before the ${flight.action}`,
    });
  }

  private restored(event: Extract<LifecycleEvent, { kind: 'restored' }>) {
    const flight = this.state.inFlight;
    this.state.deployment = event.deployment;
    if (flight?.phase === 'restoring') return this.startVerify(flight.action, null, null);
    if (flight?.phase === 'undoing') {
      const attempt = this.attempt();
      this.endAttempt('not_recovered', attempt.detail, attempt.detail, { verdict: flight.verdict });
    }
  }

  // ---- verification ---------------------------------------------------------------------------------

  private startVerify(action: Remedy, before: number | null, after: number | null) {
    const incident = this.incident();
    const n = this.state.inFlight!.attempt;
    const attempt = this.attempt();
    const baseline = incident.baseline;
    if (!baseline) {
      attempt.outcome = 'recovered';
      attempt.detail = `${attempt.detail}; no pre-failure baseline to verify against, the finding cleared`;
      return this.closeRecovered(attempt.detail);
    }
    this.state.inFlight = { phase: 'verifying', attempt: n, action, before, after };
    incident.status = 'verifying';
    this.incidentStep(
      `${n}:verify`,
      'verifying',
      `verifying ${baseline.metric} against the pre-failure ${baseline.value.toPrecision(3)}`,
    );
    this.commands.push({
      kind: 'verify',
      key: `${this.base(n)}:verify`,
      incidentId: incident.id,
      baseline,
      verification: verificationFor(this.policy, baseline.metric),
    });
  }

  private verdict(verdict: Extract<LifecycleEvent, { kind: 'verdict' }>['verdict']) {
    const flight = this.state.inFlight;
    if (flight?.phase !== 'verifying') return;
    const attempt = this.attempt();
    const summary = `${verdict.verdict}: ${verdict.detail}`;
    attempt.detail = `${attempt.detail}; ${summary}`;
    if (verdict.verdict === 'recovered') {
      attempt.outcome = 'recovered';
      return this.closeRecovered(attempt.detail, { verdict });
    }
    // A promoted retrain beat the model it replaced on held-out recent rows and in its canary: undoing it
    // would serve the worse model again, so it stays as the best model available.
    const { action, before, after } = flight;
    if (action === 'retrain') attempt.bestAvailable = true;
    // Any other change that did not help is undone before the next rung: never leave it serving.
    if (!PROTECTIVE.includes(action) && action !== 'retrain' && before !== null && before !== after) {
      const incident = this.incident();
      this.state.inFlight = { phase: 'undoing', attempt: flight.attempt, action, verdict };
      this.commands.push({
        kind: 'restore',
        key: `${this.base(flight.attempt)}:undo`,
        purpose: 'undo',
        incidentId: incident.id,
        revision: before,
        reason: `incident ${incident.id}: ${action} did not recover the model; undone`,
      });
      return;
    }
    this.endAttempt('not_recovered', attempt.detail, attempt.detail, { verdict });
  }

  // ---- ends of an attempt and of an incident --------------------------------------------------------

  /** The attempt ends and the incident is open again: the next decision takes the next rung, or escalates. */
  private endAttempt(
    outcome: RemedyAttempt['outcome'],
    detail: string,
    summary = detail,
    extra: Record<string, unknown> = {},
  ) {
    const attempt = this.attempt();
    const n = this.state.inFlight!.attempt;
    Object.assign(attempt, { outcome, detail });
    this.state.inFlight = null;
    this.state.pendingApproval = null;
    this.incident().status = 'open';
    this.incidentStep(`${n}:outcome`, 'open', summary, { outcome, ...extra });
  }

  private closeRecovered(summary: string, detail?: Record<string, unknown>) {
    const n = this.state.inFlight!.attempt;
    this.incidentStep(`${n}:recovered`, 'recovered', summary, detail, true);
    this.state.inFlight = null;
    this.state.openIncident = null;
  }

  /** Hands the incident to a human and keeps the model as it is (its safe state) until one answers. */
  private escalate(incident: OpenIncident, reason: string) {
    const s = this.state;
    incident.status = 'escalated';
    incident.escalatedAt = this.now;
    this.incidentStep('escalated', 'escalated', reason, { attempts: incident.attempts });
    this.commands.push({
      kind: 'escalate',
      key: `incident:${incident.id}:escalation`,
      incidentId: incident.id,
      pack: {
        reason,
        incident,
        window: s.lastWindow,
        findings: s.lastFindings,
        decision: s.lastDecision,
        attempts: incident.attempts,
        baseline: incident.baseline,
        deployment: s.deployment,
      },
    });
  }

  private acknowledge(request: Extract<LifecycleEvent, { kind: 'acknowledge' }>['request']) {
    const incident = this.state.openIncident;
    if (incident?.status !== 'escalated') return;
    this.commands.push({
      kind: 'record-action',
      record: {
        key: `incident:${incident.id}:acknowledge`,
        type: 'acknowledge',
        actor: `human:${request.actor}`,
        status: 'succeeded',
        reason: request.reason,
        incidentId: incident.id,
        detail: request.via ? { via: request.via } : {},
      },
    });
    this.incidentStep(
      'acknowledged',
      'escalated',
      `acknowledged by ${request.actor}: ${request.reason}`,
      undefined,
      true,
      'acknowledged',
    );
    this.state.openIncident = null;
  }

  /** A step in flight failed for good: its attempt ends as failed, and the next decision moves on. */
  private stepFailed(error: string) {
    const incident = this.state.openIncident;
    this.state.inFlight = null;
    this.state.pendingApproval = null;
    if (!incident) return;
    const attempt = incident.attempts.at(-1);
    if (attempt?.outcome === 'pending') {
      attempt.outcome = 'failed';
      attempt.detail = `${attempt.detail ? `${attempt.detail}; ` : ''}failed: ${error}`;
    }
    if (incident.status !== 'escalated') incident.status = 'open';
  }

  // ---- helpers --------------------------------------------------------------------------------------

  private incident(): OpenIncident {
    return this.state.openIncident!;
  }

  private attempt(): RemedyAttempt {
    return this.incident().attempts.at(-1)!;
  }

  /** Relative key of the open incident's attempt `n`. */
  private base(n: number): string {
    return `incident:${this.incident().id}:${n}`;
  }

  private incidentStep(
    key: string,
    status: IncidentStepRecord['status'],
    summary: string,
    detail?: Record<string, unknown>,
    close = false,
    phase: string = status,
  ) {
    this.commands.push({
      kind: 'record-incident',
      incident: this.incident(),
      record: {
        incidentId: this.incident().id,
        status,
        close,
        step: { key, at: new Date(this.now).toISOString(), phase, summary, ...(detail ? { detail } : {}) },
      },
    });
  }
}
