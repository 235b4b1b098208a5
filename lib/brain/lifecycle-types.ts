// The incident lifecycle's vocabulary: what happens to an agent (events), what it asks its interpreter to do
// (commands), and what a remedy and a verification report back. lib/brain/lifecycle.ts step() maps one
// event and the agent's state to the next state and its commands; workflows/agent.ts interprets the
// commands with activities, child workflows and timers, lib/backtest/replay.ts with simulated effects.
// Plain JSON throughout: events and commands cross the workflow sandbox and the state crosses continueAsNew.

import type { Policy } from '../policy/policy.ts';
import type { DeploymentFacts, Remedy, WebhookRemedyAnswer } from './contracts.ts';
import type { HoldUntil } from './findings/index.ts';
import type {
  AgentState,
  Decision,
  Finding,
  MetricLevel,
  OpenIncident,
  PauseRequest,
  RemedyAttempt,
  VerificationBaseline,
  WindowSummary,
} from './types.ts';

/** What a remedy child reports: applied (the deployment changed as asked), rejected or failed. */
export interface RemedyResult {
  outcome: 'applied' | 'rejected' | 'failed';
  /** Revision before the remedy and after it (equal when nothing changed). */
  before: number | null;
  after: number | null;
  detail: string;
  candidateVersion?: number;
  /**
   * Retrain: rejected because the refit did no better than production on held-out recent rows;
   * 'immaterial' when it could not do materially better either (refit-evidence.ts judgeRefit).
   */
  noBetterModel?: 'unproven' | 'immaterial';
  /** With noBetterModel 'immaterial': production's level on the rows the refit was tested on. */
  level?: MetricLevel;
  /** Webhook: the result the user's system reported (absent: none came); a retried report is checked against it. */
  reported?: WebhookRemedyAnswer;
}

/** What the verification of a remedy concluded against the pre-failure baseline. */
export interface VerifyResult {
  verdict: 'recovered' | 'not_recovered';
  rows: number;
  value: number | null;
  baseline: number;
  pValue: number | null;
  detail: string;
}

/**
 * The step of the open incident's current attempt that is running beside the monitoring loop; decide is
 * told a remedy is in progress while there is one. `attempt` indexes the incident's attempts.
 */
export type InFlight =
  | { phase: 'approval'; attempt: number; decision: Decision }
  /** `actor`: 'agent', or 'human:<name>' who approved it. */
  | { phase: 'remedy'; attempt: number; action: Remedy; decision: Decision; actor: string }
  | {
      phase: 'holding';
      attempt: number;
      action: Remedy;
      hold: NonNullable<HoldUntil>;
      /** Epoch ms: the cause has not gone by then, and users stay protected. */
      until: number;
      /** The revision from before the protective remedy, restored once the cause has gone. */
      before: number | null;
      /** A probe of the production version is out. */
      probing: boolean;
    }
  | { phase: 'restoring'; attempt: number; action: Remedy }
  | { phase: 'verifying'; attempt: number; action: Remedy; before: number | null; after: number | null }
  | { phase: 'undoing'; attempt: number; action: Remedy; verdict: VerifyResult };

/** The agent's state as the lifecycle owns it: AgentState with the step in flight. */
export type LifecycleState = AgentState;

interface At {
  /** Epoch ms of the interpreter's clock (workflow time; the window's end in a backtest). */
  at: number;
}

export type LifecycleEvent = At &
  (
    | {
        kind: 'window';
        window: WindowSummary;
        /** The deployment as read just after the window was measured; null when there is none. */
        deployment: DeploymentFacts | null;
        /** The id an incident opened by this window takes (the interpreter's: a uuid, a counter). */
        incidentId: string;
      }
    | { kind: 'remedy-result'; result: RemedyResult; deployment: DeploymentFacts | null }
    | { kind: 'probe-result'; ok: boolean }
    | { kind: 'restored'; deployment: DeploymentFacts | null }
    | { kind: 'verdict'; verdict: VerifyResult }
    | { kind: 'approval'; approved: boolean; actor: string; reason: string }
    /** A deadline the lifecycle asked for (an approval's timeout, a hold's end) may have passed. */
    | { kind: 'timer' }
    /** A step in flight failed for good (a non-retryable activity error): its attempt ends as failed. */
    | { kind: 'step-failed'; error: string }
    | { kind: 'pause' | 'resume'; request: PauseRequest }
    | { kind: 'acknowledge'; request: PauseRequest }
    /** A person changed the deployment (the revert update): it is read again. */
    | { kind: 'deployment-changed'; deployment: DeploymentFacts | null }
    | { kind: 'policy-changed'; policy: { version: number; document: Policy } }
  );

/** A step of an incident, for its stored timeline (activities updateIncident). */
export interface IncidentStepRecord {
  incidentId: string;
  status: 'open' | 'mitigating' | 'verifying' | 'recovered' | 'escalated';
  close: boolean;
  step: { key: string; at: string; phase: string; summary: string; detail?: Record<string, unknown> };
}

/** An audited action (activities recordAction); `key` is relative: the interpreter makes it unique. */
export interface ActionRecord {
  key: string;
  type: string;
  actor: string;
  status: 'pending' | 'started' | 'succeeded' | 'failed' | 'rejected' | 'expired';
  reason: string;
  incidentId: string;
  detail?: Record<string, unknown>;
  beforeRevision?: number | null;
  afterRevision?: number | null;
}

/** What the escalation hands a human (the webhook's pack, without the interpreter's own ids). */
export interface EscalationPack {
  reason: string;
  incident: OpenIncident;
  window: WindowSummary | null;
  findings: Finding[];
  decision: Decision | null;
  attempts: RemedyAttempt[];
  baseline: VerificationBaseline | null;
  deployment: DeploymentFacts | null;
}

/**
 * What step() asks for. `key`s are relative to the agent (the interpreter prefixes its own id) and name
 * the step for idempotency; every command whose work ends answers with the event named beside it.
 */
export type LifecycleCommand =
  | {
      kind: 'record-cycle';
      cycle: number;
      window: WindowSummary;
      findings: Finding[];
      decision: Decision;
      openIncidentId: string | null;
      newIncidentId: string | null;
    }
  /** `incident`: the incident as it stands after the step (its attempts), for a simulated timeline. */
  | { kind: 'record-incident'; record: IncidentStepRecord; incident: OpenIncident }
  | { kind: 'record-action'; record: ActionRecord }
  | { kind: 'record-operator-action'; type: 'pause' | 'resume'; request: PauseRequest; cycle: number }
  /** Answered by 'approval', or by 'timer' once `until` has passed. */
  | { kind: 'await-approval'; approvalId: string; until: number }
  /** Answered by 'remedy-result' with the deployment read after it. */
  | {
      kind: 'run-remedy';
      key: string;
      action: Remedy;
      incidentId: string;
      reason: string;
      actor: string;
      rollbackTo: number | null;
      /** A segment incident's segment: a fallback then serves that segment only. */
      segment?: string;
      /** Onset of the incident (ISO, store clock): a retrain learns from the rows since. */
      since: string;
      retrain: Policy['retrain'];
      /** The smallest gain a retrain must be able to show to matter: the verification tolerance. */
      materialGain: number;
    }
  /** Answered by 'probe-result'. */
  | { kind: 'probe'; version: number }
  /** Answered by 'timer' once `until` has passed, unless the hold ended before. */
  | { kind: 'hold'; until: number }
  /** A new revision with an earlier one's deployment; answered by 'restored'. */
  | {
      kind: 'restore';
      key: string;
      purpose: 'restore' | 'undo';
      incidentId: string;
      revision: number;
      reason: string;
    }
  /** Answered by 'verdict'; only traffic from the moment it starts counts. */
  | {
      kind: 'verify';
      key: string;
      incidentId: string;
      baseline: VerificationBaseline;
      verification: Policy['verification'];
    }
  | { kind: 'escalate'; key: string; incidentId: string; pack: EscalationPack };

export interface StepResult {
  state: LifecycleState;
  commands: LifecycleCommand[];
}
