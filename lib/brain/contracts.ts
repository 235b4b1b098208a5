// What the recovery workflows ask of the world: the requests and answers of the activities that change
// deployments, train and judge candidates, measure evidence, keep incidents and the audit trail, send
// escalations and store policies. Types only: the workflows import these, the activities implement them.
//
// Every activity that changes something takes an idempotency `key` (derived by the workflow from its
// own id, never random) and does its change at most once per key: a retried activity, or one re-run
// after a worker crash, finds the change it already made and answers as the first attempt did.
import type { IncidentStatus, ServingMode, Task } from '../domain.ts';
import type { Policy } from '../policy/policy.ts';
import type { RouteComparison } from '../recovery/refit-evidence.ts';

/** Remedies: the actions that change how a model serves. */
export type Remedy = 'rollback' | 'retrain' | 'fallback' | 'disable' | 'webhook';

/** Who did something: 'agent', or 'human:<name>'. */
export type Actor = string;

// ---------------------------------------------------------------- deployment

/** The model's deployment as the decision engine needs it. Times are epoch milliseconds. */
export interface DeploymentFacts {
  task: Task;
  revision: number;
  mode: ServingMode;
  productionVersion: number | null;
  fallbackVersion: number | null;
  canaryVersion: number | null;
  canaryShare: number;
  shadowVersion: number | null;
  /** The segments (lib/segments) the fallback serves while production serves the rest; absent: none. */
  fallbackSegments?: string[];
  /** When the current revision was written, and by whom. */
  changedAt: number;
  changedBy: Actor;
  /**
   * The revision to roll back to: the most recent earlier revision that served (mode 'serving') with a
   * different production version than the current one; null when there is none.
   */
  lastKnownGoodRevision: number | null;
}

export interface DeploymentRequest {
  modelName: string;
  key: string;
  actor: Actor;
  reason: string;
  incidentId: string | null;
}

/** A change in the registry's own vocabulary (lib/registry/revisions.ts deploymentChangeSchema, without reason/actor). */
export interface DeploymentChangeSpec {
  production?: number | null;
  fallback?: number | null;
  canary?: { version: number; share: number } | null;
  shadow?: number | null;
  mode?: ServingMode;
  /** The segments the fallback serves while production serves the rest (lib/registry/revisions.ts). */
  fallbackSegments?: string[];
}

export interface DeploymentOutcome {
  /** Revision before and after; equal when the change asked for what was already in place. */
  before: number;
  after: number;
  /** The audit row (Action) of this change. */
  actionId: string;
}

// ---------------------------------------------------------------- retraining and comparison

export interface TrainCandidateRequest {
  modelName: string;
  key: string;
  incidentId: string | null;
  /** Only rows received at or after this instant (ISO) are used: the failure's onset. */
  since: string;
  /** Fewer labelled rows than this: no candidate (answer `insufficient`). */
  minRows: number;
  /**
   * Share of the most recent labelled rows tested out of time (rolling origin,
   * lib/recovery/refit-evidence.ts) to compare candidate and production.
   */
  holdoutShare: number;
  /** Level of the one-sided paired test that the candidate is better. */
  alpha: number;
  /** An improvement that would take more rows than this to show counts as none. */
  maxRows: number;
  /** The smallest gain that matters (the policy's verification tolerance; judgeRefit's RefitLimits). */
  materialGain: number;
  /**
   * A segment incident's segment: while the fallback route serves it, the candidate must also beat the
   * route on the segment's tested rows (lib/recovery/refit-evidence.ts beatsRoute) to be better.
   */
  segment?: string;
}

export type TrainCandidateResult =
  | {
      status: 'trained';
      version: number;
      trainRows: number;
      holdoutRows: number;
      /** Candidate and production on the same held-out rows: accuracy (classifiers) or RMSE (regression). */
      metric: 'accuracy' | 'rmse';
      candidate: number;
      production: number;
      /** One-sided p-value that the candidate is no better than production (McNemar / paired t). */
      pValue: number;
      /** Significantly better at the request's alpha (lib/recovery/refit-evidence.ts judgeRefit). */
      better: boolean;
      /** Not better, and shown not to be materially better either: production is as good as a refit gets. */
      immaterial: boolean;
      /** The request's segment was routed to the fallback: the candidate against the route on its rows. */
      route?: RouteComparison;
    }
  | { status: 'insufficient'; rows: number; needed: number }
  /**
   * Better so far but not significantly: nothing registered; `needed` rows since the onset would show
   * the improvement seen with power REFIT_POWER. Ask again when they are there.
   */
  | {
      status: 'inconclusive';
      rows: number;
      needed: number;
      metric: 'accuracy' | 'rmse';
      candidate: number;
      production: number;
      pValue: number;
      holdoutRows: number;
      why: string;
    };

/** Labelled outcomes of the rows two versions served (canary) or scored side by side (shadow) since `since`. */
export interface ServedComparisonRequest {
  modelName: string;
  candidateVersion: number;
  baselineVersion: number;
  since: string;
  /** canary: each version's own traffic; shadow: the shadow's scores of the rows production served. */
  mode: 'canary' | 'shadow';
}

export interface OutcomeCounts {
  rows: number;
  /** Classifiers: correct predictions; regression: absent. */
  correct?: number;
  /** Regression: sum of squared errors and of their squares (for a test); classifiers: absent. */
  sumSquaredError?: number;
  sumSquaredErrorSq?: number;
}

export interface ServedComparison {
  metric: 'accuracy' | 'rmse';
  candidate: OutcomeCounts;
  baseline: OutcomeCounts;
}

export interface SetVersionStatusRequest {
  modelName: string;
  key: string;
  version: number;
  status: 'rejected' | 'candidate' | 'retired';
  reason: string;
}

/** Scores a version on a few of its reference rows: does it answer at all (a disabled model's probe). */
export interface ProbeRequest {
  modelName: string;
  version: number;
  rows: number;
}
export interface ProbeResult {
  ok: boolean;
  answered: number;
  failed: number;
  error?: string;
}

// ---------------------------------------------------------------- verification evidence

export type VerifiedMetric = 'accuracy' | 'rmse' | 'latencyP95Ms' | 'failureRate' | 'qualityRate';

/** What served traffic since `since` shows for one metric. */
export interface EvidenceRequest {
  modelName: string;
  metric: VerifiedMetric;
  since: string;
  /** Only the rows of this segment of the model (lib/segments), whichever version answered them. */
  segment?: string;
}

export interface Evidence {
  metric: VerifiedMetric;
  /** Rows the value rests on: labelled rows for accuracy/rmse, predictions otherwise. */
  rows: number;
  /** The metric's value (null without rows). */
  value: number | null;
  /** Accuracy: correct rows; failureRate/qualityRate: failed/flagged rows. */
  successes?: number;
  /** RMSE: the squared errors' sum and the sum of their squares, for a test. */
  sumSquaredError?: number;
  sumSquaredErrorSq?: number;
}

// ---------------------------------------------------------------- incidents, audit, escalation, policy

export interface IncidentUpdate {
  incidentId: string;
  status: IncidentStatus;
  /** Merged into the incident's stored evidence under `steps` (one entry per call, keyed). */
  step?: { key: string; at: string; phase: string; summary: string; detail?: Record<string, unknown> };
  /** Closes the incident (recovered, or an escalation a human acknowledged). */
  close?: boolean;
}

/** An audit row (Action): inserted once per key, then moved through its statuses. */
export interface ActionRecord {
  key: string;
  modelName: string;
  type: string;
  actor: Actor;
  status: 'pending' | 'started' | 'succeeded' | 'failed' | 'compensated' | 'rejected' | 'expired';
  reason: string;
  incidentId: string | null;
  detail?: Record<string, unknown>;
  beforeRevision?: number | null;
  afterRevision?: number | null;
}

export interface EscalationRequest {
  modelName: string;
  incidentId: string;
  key: string;
  /** The evidence pack: windows, tests, actions tried and their verification results. */
  pack: Record<string, unknown>;
}

export interface EscalationResult {
  /** False when no webhook is configured (the dashboard is the only channel). */
  delivered: boolean;
  status: number | null;
  /** Which setting named the webhook (its address stays out of the audit trail); null: none. */
  webhook: 'policy' | 'deployment' | null;
}

/** Asks the user's own system to act (the `webhook` remedy); `key` is the delivery id it answers to. */
export interface WebhookRemedyRequest {
  modelName: string;
  incidentId: string;
  key: string;
  reason: string;
  actor: Actor;
  /** The deployment as it was asked from: the receiver knows what it is asked to change. */
  deployment: DeploymentFacts;
}

export interface WebhookRemedyDelivery {
  status: number;
  /** How long the remedy waits for the answer (the policy's remedyWebhook.timeout). */
  timeout: string;
}

/** What the user's system reports back through the API (POST /v1/models/{model}/remedies/{delivery}/result). */
export interface WebhookRemedyAnswer {
  outcome: 'succeeded' | 'failed';
  detail: string;
  /** Who answered: the API key's name (and the actor it says). */
  actor: Actor;
}

export interface StoredPolicy {
  version: number;
  policy: Policy;
}

export interface SavePolicyRequest {
  modelName: string;
  key: string;
  /** Already validated by the workflow update's validator; validated again before it is stored. */
  policy: unknown;
  actor: Actor;
  reason: string;
}

/** Undo of an audited action: the deployment goes back to the action's `beforeRevision`. */
export interface RevertRequest {
  modelName: string;
  key: string;
  actionId: string;
  actor: Actor;
  reason: string;
}

/** The recovery activities, by name; createActivities returns an object that satisfies this. */
export interface RecoveryActivities {
  // deployment (activities/deployment.ts)
  describeDeployment(req: { modelName: string }): Promise<DeploymentFacts>;
  changeDeploymentFor(req: DeploymentRequest & { change: DeploymentChangeSpec }): Promise<DeploymentOutcome>;
  restoreDeploymentFor(req: DeploymentRequest & { revision: number }): Promise<DeploymentOutcome>;
  revertAction(req: RevertRequest): Promise<DeploymentOutcome>;
  setCandidateStatus(req: SetVersionStatusRequest): Promise<void>;
  probeVersion(req: ProbeRequest): Promise<ProbeResult>;
  // candidates and evidence (activities/retrain.ts, activities/evidence.ts)
  trainCandidate(req: TrainCandidateRequest): Promise<TrainCandidateResult>;
  compareServed(req: ServedComparisonRequest): Promise<ServedComparison>;
  measureEvidence(req: EvidenceRequest): Promise<Evidence>;
  // incidents, audit, escalation, policy (activities/incidents.ts, activities/policy.ts)
  updateIncident(req: IncidentUpdate): Promise<void>;
  recordAction(req: ActionRecord): Promise<{ actionId: string }>;
  sendEscalation(req: EscalationRequest): Promise<EscalationResult>;
  requestWebhookRemedy(req: WebhookRemedyRequest): Promise<WebhookRemedyDelivery>;
  loadPolicy(req: { modelName: string }): Promise<StoredPolicy>;
  savePolicy(req: SavePolicyRequest): Promise<StoredPolicy>;
}
