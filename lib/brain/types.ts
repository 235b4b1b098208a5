// State and messages of the per-model agent. Plain JSON: it crosses activity boundaries, workflow
// queries and continueAsNew, so no Dates, Maps or class instances.

import type { BernoulliCusumState } from '../detectors/bernoulli-cusum.ts';
import type { ActionType, FindingKind, FindingState, Health, Severity } from '../domain.ts';
import type { DriftDigest, QualityDigest } from '../monitor/summary.ts';
import type { Policy } from '../policy/policy.ts';
import type { SampleSums } from '../stats/welch.ts';
import type { DeploymentFacts } from './contracts.ts';
import type { AnomalyEvidence } from './findings/anomaly.ts';
import type { ConceptDriftEvidence } from './findings/concept-drift.ts';
import type { CustomEvidence, CustomVerdict } from './findings/custom.ts';
import type { DataDriftEvidence } from './findings/data-drift.ts';
import type { DataQualityEvidence } from './findings/data-quality.ts';
import type { FailuresEvidence } from './findings/failures.ts';
import type { LatencyEvidence } from './findings/latency.ts';
import type { SegmentBaseline, SegmentEvidence } from './findings/segment.ts';
import type { StaleDataEvidence } from './findings/stale-data.ts';
import type { InFlight } from './lifecycle-types.ts';

/**
 * The live window the policy's rule (lib/brain/windows.ts) has not closed by this cycle: nothing to judge
 * yet, and nothing stored; the agent asks again at the next cycle.
 */
export interface OpenWindow {
  open: true;
  seq: number;
  startAt: string;
  /** Predictions that arrived in it so far (at most the rule's `rows` + 1 are counted). */
  count: number;
}

/**
 * What the monitor measured over one window of traffic: the agent's digest of the window's metrics
 * (lib/monitor summarizeForAgent; the full metrics stay in MetricWindow.metrics). Every field after
 * `accuracy` is optional because histories recorded before the full monitor carry only the first
 * seven, and a replayed or continued agent must still read them.
 */
export interface WindowSummary {
  seq: number;
  startAt: string;
  endAt: string;
  /** Predictions that arrived in the window. */
  count: number;
  /**
   * The window is one of several a gap was cut into (lib/brain/windows.ts liveWindowEnd), and more of
   * the backlog waits: the agent measures the next at once.
   */
  behind?: boolean;
  /**
   * Labelled rows performance is measured on: the predictions whose labels arrived during the window,
   * whatever window the prediction itself arrived in (so label delay does not hide concept drift).
   */
  labelled: number;
  correct: number;
  /** correct / labelled, or null when nothing is labelled yet. */
  accuracy: number | null;
  /** Whether the serving version's reference profile was used. */
  reference?: 'used' | 'none' | 'incompatible';
  task?: 'binary' | 'multiclass' | 'regression';
  /** Below this many rows (policy.window.minRows) the window says it cannot judge. */
  minRows?: number;
  f1?: number | null;
  /**
   * Binary classifiers: of the labelled rows with a probability, how many were positive, how many the
   * model expected (Σ p) and the variance of that count under the model (Σ p(1 − p)).
   */
  positives?: number;
  expectedPositives?: number;
  positivesVariance?: number;
  positivesRows?: number;
  /** Mean log-loss of the labelled rows (classifiers with probabilities). */
  logLoss?: number | null;
  rmse?: number | null;
  mae?: number | null;
  /** The serving version's baseline on its reference (validation) rows; null without one. */
  referenceAccuracy?: number | null;
  referenceRmse?: number | null;
  referenceLogLoss?: number | null;
  /**
   * Labels received in the window for answers another version gave (the fallback while production was
   * shielded, a canary's share, the version a retrain or rollback replaced): they show that labels
   * arrive, but `labelled` and the performance fields count only production's answers. Absent in
   * windows measured before the split (all labels were production's then).
   */
  labelledElsewhere?: number;
  /** Rows of the window's own arrivals that have a label so far, and their share. */
  labelCoverage?: number | null;
  labelDelayP95Seconds?: number | null;
  /** Label-free (confidence-based) estimate over the window's arrivals. */
  estimatedAccuracy?: number | null;
  estimateTrustworthy?: boolean;
  referenceMeanConfidence?: number | null;
  meanConfidence?: number | null;
  errorRate?: number | null;
  invalidOutputRate?: number | null;
  failureRate?: number | null;
  latencyP50Ms?: number | null;
  latencyP95Ms?: number | null;
  throughputPerMinute?: number | null;
  secondsSinceLastArrival?: number | null;
  gapRatio?: number | null;
  /** Where the usual time between arrivals behind the gap ratios comes from. */
  usualArrivalSource?: 'reference' | 'window' | null;
  longestGapRatio?: number | null;
  featuresJudged?: number;
  /** The judged features with the largest PSI, worst first (at most a few). */
  drift?: WindowDrift[];
  predictionPsi?: number | null;
  predictionDriftPValue?: number | null;
  /** Features with a quality issue, worst first (at most a few). */
  quality?: WindowQuality[];
  /**
   * Classifiers: the 0/1 error stream of the labelled rows in label-arrival order, run-length encoded
   * (lib/monitor errorRuns: alternating runs of correct and wrong, correct first); absent when the
   * window has too many runs to carry, and detect then uses the window's counts.
   */
  errorRuns?: number[];
  /** The verdicts of the user's own finding rules on the window (findings/custom.ts); absent: none loaded. */
  custom?: CustomVerdict[];
  /**
   * The model's segments (lib/segments), each measured on its own rows by the same monitor code as the
   * window; absent when the model has none.
   */
  segments?: SegmentWindow[];
}

/** One segment's part of a window: its rows, performance and drift (lib/monitor/measure.ts). */
export interface SegmentWindow {
  name: string;
  /** Predictions of the segment that arrived in the window. */
  count: number;
  /** The segment's rows whose labels arrived in the window, production's answers only. */
  labelled: number;
  correct: number;
  accuracy: number | null;
  rmse: number | null;
  /**
   * Regression: the squared errors of its labelled rows with a valid prediction, as sums (n, Σe², Σe⁴;
   * RegressionPerformance.squaredErrors). The segment rule tests its mean squared error on them, no rows
   * needed; the sums of two windows add to their union's. Absent for classifiers and in windows measured
   * before segments of regressors were judged.
   */
  squaredErrors?: SampleSums;
  /**
   * Its features whose drift was tested: against the segment's own reference (driftReference), or else
   * the serving version's whole population's, without the feature that defines the segment.
   */
  featuresJudged: number;
  /**
   * The segment's most shifted feature (largest PSI) against that reference, its adjusted p-value
   * corrected across the segment's features; null when none was judged.
   */
  drift: WindowDrift | null;
  /**
   * 'segment': drift was measured against the segment's own reference (ReferenceProfile.segments), and
   * the data_drift rule judges it. Absent: against the whole population's, shown and not judged.
   */
  driftReference?: 'segment';
  predictionPsi: number | null;
  /**
   * The fallback answers the segment's rows (a segment remedy's route, DeploymentFacts.fallbackSegments):
   * production is not judged on it. Set by the lifecycle from the deployment the window was measured under.
   */
  routed?: boolean;
}

/** One drifted feature and one feature with a quality issue, as the monitor digests them. */
export type WindowDrift = DriftDigest;
export type WindowQuality = QualityDigest;

/** What detect measured for a finding, per kind (each kind's rule in lib/brain/findings declares its own). */
export interface EvidenceByKind {
  data_drift: DataDriftEvidence;
  concept_drift: ConceptDriftEvidence;
  anomaly: AnomalyEvidence;
  data_quality: DataQualityEvidence;
  latency: LatencyEvidence;
  failures: FailuresEvidence;
  stale_data: StaleDataEvidence;
  custom: CustomEvidence;
  segment: SegmentEvidence;
}

export type FindingEvidence = EvidenceByKind[FindingKind];

export interface FindingFeature {
  name: string;
  /** The feature's share of the finding's effect (e.g. its PSI over the PSI of all listed), in [0, 1]. */
  contribution: number;
  test: string;
  statistic: number | null;
  pValue: number | null;
  effect: number | null;
}

/** A finding of one kind, with that kind's evidence. */
export interface FindingOf<K extends FindingKind> {
  kind: K;
  severity: Severity;
  state: FindingState;
  summary: string;
  evidence: EvidenceByKind[K];
  /** Features involved, ranked by contribution (data drift and data quality). */
  features?: FindingFeature[];
  /** Data drift only: whether performance suffers with it ('unknown' without labels or an estimate). */
  impact?: 'none' | 'degraded' | 'unknown';
  /** The windows the finding has been bad in, most recent last. */
  windows?: number[];
  /**
   * Confirmed on evidence that spans windows (a CUSUM past its decision interval), but fewer than
   * `confirmM` of the last `confirmN` judged windows show the failure in their own rows: a short burst
   * (a batch of wrong labels) drives a CUSUM past its interval, and it stays there for hundreds of rows
   * after the burst is over. Decide opens no incident on it until later windows show it too.
   */
  transient?: true;
}

/** A finding: a union discriminated by kind, so its evidence is read as the kind's rule wrote it. */
export type Finding = { [K in FindingKind]: FindingOf<K> }[FindingKind];

/** Per-kind persistence: confirmed when M of the last N judged windows are bad (policy.detection.persistence). */
export interface PersistenceState {
  state: FindingState;
  badStreak: number;
  goodStreak: number;
  /** The last N judgements, oldest first (1 bad, 0 good); absent in states from before M-of-N. */
  recent?: number[];
  /** Seqs of the recent bad windows. */
  badWindows?: number[];
  /**
   * The last N judgements by the windows' own rows (1: they show the failure), oldest first; kept for
   * the kinds whose observations tell them apart from evidence carried over windows (Observation.shown).
   */
  shown?: number[];
}

/** Running baseline of a metric over healthy windows (exponentially weighted after `n` reaches its cap). */
export interface RunningBaseline {
  n: number;
  mean: number;
  /** Mean of squares, for a standard deviation. */
  meanSq: number;
}

/** One side of a CUSUM, with what it has accumulated since it last stood at zero. */
export interface CusumSide {
  statistic: number;
  observed: number;
  expected: number;
  rows: number;
  /** Σ of the windows' variances of `observed` (calibration: Σ p(1 − p)); absent in older states. */
  variance?: number;
}

export interface DetectorState {
  /** Labelled predictions and correct ones over the healthy windows that form the baseline. */
  baselineLabelled: number;
  baselineCorrect: number;
  baselineWindows: number;
  persistence: Partial<Record<FindingKind, PersistenceState>>;
  /** Healthy-window baselines of p95 latency, failure rate, regression error, estimated accuracy. */
  baselines?: Partial<
    Record<
      | 'latencyP95'
      | 'failureRate'
      | 'rmse'
      | 'estimatedAccuracy'
      | 'throughput'
      | 'labelShare'
      | 'labelDelayP95',
      RunningBaseline
    >
  >;
  /**
   * Two-sided CUSUM of the per-window calibration-in-the-large z-scores (positives against Σ p), in z
   * units, with the positives and expected positives accumulated while it is above zero.
   */
  calibrationCusum?: { up: CusumSide; down: CusumSide };
  /** Some prediction has arrived: only then does a window without any mean that traffic stopped. */
  trafficSeen?: boolean;
  /** Windows still to pass after a model change before labelled rows are judged again. */
  settleWindows?: number;
  /**
   * Bernoulli CUSUM charts of the per-row error stream against the baseline error rate
   * (lib/detectors BernoulliCusum); absent in states from before it, which start it afresh.
   */
  errorCusum?: BernoulliCusumState;
  /**
   * Healthy windows not yet in the accuracy baseline (labelled and correct rows), oldest first: they join
   * it once enough newer rows have come (detect's baselineLagRows). Absent in older states: none.
   */
  pendingBaseline?: { labelled: number; correct: number }[];
  /**
   * One-sided CUSUM of the regression windows' RMSE z-scores against the healthy baseline, with the
   * windows' RMSE (observed) and the baseline (expected) summed while it is above zero, in windows
   * (rows). Absent in states from before it.
   */
  rmseCusum?: CusumSide;
  /**
   * Regression windows' RMSE held back from the baseline while the RMSE CUSUM is above zero or a finding
   * is only suspected: they join it when neither holds, or after regressionBaselineLagWindows newer
   * windows, and are dropped if a finding is confirmed, so a rise never becomes the baseline it is
   * measured against (findings/concept-drift.ts learnRmse).
   */
  pendingRmse?: number[];
  /**
   * Per segment (lib/segments), the labelled and correct rows of its healthy windows; a regressor's, its
   * rows and the sums of their squared errors (findings/segment.ts).
   */
  segments?: Record<string, SegmentBaseline>;
}

export interface Alternative {
  action: ActionType;
  rejectedBecause: string;
}

export interface Decision {
  action: ActionType;
  /** Name of the rule that fired (docs/agent-logic.md lists them). */
  rule: string;
  reason: string;
  alternatives: Alternative[];
  incident:
    | { open: { kind: FindingKind; severity: Severity; summary: string } }
    /** rebaselined: no model does materially better; the new level becomes the detector's baseline. */
    | { close: 'recovered' | 'rebaselined' }
    | null;
  /** Noise (a transient or unconfirmed signal) or a persistent failure; null when nothing is wrong. */
  judgement: 'noise' | 'persistent' | null;
  severity: Severity | null;
  /** Strength of the evidence behind the action, in [0, 1] (policy.confidence compares it). */
  strength: number | null;
  /** Set when the policy makes a human approve the action first. */
  approval?: { timeout: string; onTimeout: 'none' | 'alert' | 'fallback' | 'disable' } | null;
  /** Hand the incident to a human: the ladder or the budget is exhausted, or nothing can be done. */
  escalate?: { reason: string } | null;
  /** Rollback only: the revision to restore. */
  rollbackTo?: number | null;
}

export type { Health };

export interface OpenIncident {
  id: string;
  kind: FindingKind;
  openedAtCycle: number;
  severity: Severity;
  /** Epoch ms (workflow time) the incident opened. */
  openedAt: number;
  /** Start of the window that confirmed it (ISO, the store's clock): retraining data starts here. */
  onsetAt: string;
  /** Where the incident is in its life; 'open' means the agent may choose its next step. */
  status: 'open' | 'awaiting_approval' | 'mitigating' | 'holding' | 'verifying' | 'escalated';
  /** Remedies tried for this incident, in order, with what verification made of them. */
  attempts: RemedyAttempt[];
  /** The pre-failure baseline verification compares with (the detector's healthy windows). */
  baseline: VerificationBaseline | null;
  /** Epoch ms (workflow time) the incident was handed to a human; absent until it is. */
  escalatedAt?: number;
  /** A `segment` incident: the segment it is about, which a fallback serves on its own. */
  segment?: string;
}

/** One remedy the agent took (or tried to take) for an incident. */
export interface RemedyAttempt {
  action: ActionType;
  /** Epoch ms (workflow time) the attempt started. */
  at: number;
  outcome: 'pending' | 'recovered' | 'not_recovered' | 'failed' | 'rejected' | 'expired' | 'protected';
  detail: string;
  /**
   * After this retrain, production is the best model available for the recent data: the refit did no
   * better than production on held-out recent rows (rejected), or it beat the model it replaced and
   * stays, though verification found it short of the pre-failure baseline (not_recovered).
   */
  bestAvailable?: boolean;
  /**
   * The rejected refit could not have served materially better either (refit-evidence.ts judgeRefit
   * `immaterial`): the metric's level changed, not the model's quality, and nothing is left to repair.
   * Production's level on the rows since the onset: the baseline the agent takes if it accepts it.
   */
  newLevel?: MetricLevel;
}

/** A model's measured level of its task metric, and the labelled rows it was measured on. */
export interface MetricLevel {
  metric: 'accuracy' | 'rmse';
  value: number;
  rows: number;
}

/** The pre-failure level of the metric an incident hurt, from the last healthy windows. */
export interface VerificationBaseline {
  metric: 'accuracy' | 'rmse' | 'latencyP95Ms' | 'failureRate' | 'qualityRate';
  value: number;
  /** Rows (or windows, for latency) the value rests on; its spread where the metric has one. */
  rows: number;
  sd?: number | null;
  /**
   * Measured on this segment's rows only (lib/segments), whichever version answered them: a `segment`
   * incident is verified on the segment's own rows against the segment's own pre-failure level.
   */
  segment?: string;
}

/** A remedy waiting for a human (policy.approvals). */
export interface PendingApproval {
  id: string;
  incidentId: string;
  action: ActionType;
  rule: string;
  reason: string;
  /** Epoch ms (workflow time). */
  requestedAt: number;
  expiresAt: number;
  onTimeout: 'none' | 'alert' | 'fallback' | 'disable';
}

/** A remedy taken, for cooldowns and budgets. */
export interface RemedyRecord {
  action: ActionType;
  /** Epoch ms (workflow time). */
  at: number;
}

export interface AgentState {
  modelName: string;
  /**
   * Windows measured over the agent's whole life (survives continueAsNew): at most one a cycle (none
   * while the policy's rule keeps the window open), several in a cycle that catches up after a gap. The
   * next window's number.
   */
  cycle: number;
  paused: boolean;
  health: Health;
  detector: DetectorState;
  openIncident: OpenIncident | null;
  lastWindow: WindowSummary | null;
  lastFindings: Finding[];
  lastDecision: Decision | null;
  /** How many times this agent has continued as new, for operators and tests. */
  runs: number;
  /** The model's active policy and its version (0: the defaults, nothing stored); null until loaded. */
  policy: { version: number; document: Policy } | null;
  /** Remedies of the last days (cooldowns and budgets), oldest first. */
  remedies: RemedyRecord[];
  pendingApproval: PendingApproval | null;
  /** The deployment as last read (refreshed every cycle). */
  deployment: DeploymentFacts | null;
  /**
   * The production version whose rows the detector's sequential statistics (error charts, CUSUMs) were
   * built on; when another one serves, they are dropped (detect.ts afterProductionChange).
   */
  judgedVersion: number | null;
  /**
   * The segments the fallback answered (DeploymentFacts.fallbackSegments) while those statistics were
   * built: a route taken or lifted changes the rows production answers, and they are dropped too. Absent
   * while no segment was ever routed.
   */
  judgedRoutes?: string[];
  /** The step of the open incident running beside the loop (lib/brain/lifecycle.ts). */
  inFlight: InFlight | null;
}

/**
 * What the agent's status query answers: its state and, when its last cycle found the window since the
 * last one still open (lib/brain/windows.ts), that window.
 */
export type AgentStatus = AgentState & { openWindow?: OpenWindow };

export interface AgentInput {
  modelName: string;
  /** Time between monitoring cycles (a Temporal duration: '1 minute', '30s', or milliseconds). */
  cycleInterval?: string | number;
  /**
   * Workflow time (ms) of the agent's first cycle: every later cycle, in this run and the runs
   * continueAsNew starts, falls a whole number of intervals after it (lib/brain/cycle-clock.ts).
   */
  cycleAnchor?: number;
  /**
   * Workflow time of the cycle the open window opened at (the one that closed the last window). Absent
   * (an agent continued from a run that did not carry it, or catching up): the store's close of the last
   * window stands for it.
   */
  windowOpenedAt?: number;
  /**
   * Upper bound of cycles per workflow run. Temporal suggests continueAsNew by history size; this
   * bound keeps runs short even when a cycle's history is small, and lets tests force a new run.
   */
  maxCyclesPerRun?: number;
  /** State carried from the previous run by continueAsNew. */
  state?: AgentState;
}

export interface PauseRequest {
  reason: string;
  actor: string;
  /** The API key the request came through, when it came through the API. */
  via?: string;
}

/** An operator's answer to a pending approval. */
export interface ApprovalAnswer extends PauseRequest {
  approvalId: string;
}

export interface AcknowledgeRequest extends PauseRequest {
  incidentId: string;
}

export interface RevertActionRequest extends PauseRequest {
  actionId: string;
}

export interface PolicyChangeRequest extends PauseRequest {
  /** The whole policy document (lib/policy); validated before anything changes. */
  policy: unknown;
}
