// Every status Homeostat shows about a model — its health, the accuracy baseline the detector judges
// against, where its incident is, and what the agent is doing — derived once, here. The agent computes
// them from its state (workflows/agent.ts, GET /v1/models/:model/agent); the API's fleet view computes
// them from the rows the agent stored (api/routes/history.ts), through the same rules; the dashboard
// shows one or the other. Pure and zod-free: the workflow bundle imports it.
import type { ActionType, FindingKind, Health, Severity } from '../domain.ts';
import { DETECT_DEFAULTS, initialDetectorState, learnAccuracy, SETTLE_WINDOWS } from './detect.ts';
import { PROTECTIVE } from './remedy-plans.ts';
import type { AgentState, DetectorState, OpenIncident } from './types.ts';

// ---- Incident phase ----

/** Where an open incident is in its life (OpenIncident.status; 'open': the agent chooses its next step). */
export type IncidentPhase = NonNullable<OpenIncident['status']>;

/** An incident's phase from the agent's state (incidents opened before phases existed are open). */
export const phaseOf = (incident: OpenIncident): IncidentPhase => incident.status ?? 'open';

/**
 * An incident's phase from the store: its row's status and its latest action row. The store keeps fewer
 * phases than the agent — a remedy in place while its cause persists is stored as 'mitigating' after the
 * remedy's action succeeded, and an approval wait as 'open' with a pending `approve:<remedy>` action —
 * so those two are read from the action.
 */
export function phaseFromStore(
  status: string,
  latestAction: { type: string; status: string } | null,
): IncidentPhase {
  if (status === 'escalated' || status === 'verifying') return status;
  if (status === 'mitigating') {
    const holding =
      latestAction !== null &&
      (PROTECTIVE as readonly string[]).includes(latestAction.type) &&
      latestAction.status === 'succeeded';
    return holding ? 'holding' : 'mitigating';
  }
  const awaiting = latestAction?.type.startsWith('approve:') === true && latestAction.status === 'pending';
  return awaiting ? 'awaiting_approval' : 'open';
}

// ---- Health and what the agent is doing ----

/** What health and activity are derived from: the same facts in the agent's state and in the store. */
export interface StatusFacts {
  /** Who paused the agent, and why when that is known; null while it runs. */
  paused: string | null;
  /** The open incident; `remedy` is the remedy under way, awaiting approval or in place, if any. */
  incident: {
    kind: string;
    phase: IncidentPhase;
    summary: string;
    remedy: string | null;
  } | null;
  /** The last measured window's findings (kind and persistence state); none before the first window. */
  lastFindings: { kind: string; state: string }[];
  /** Seq of the last measured window; null before the first. */
  lastWindowSeq: number | null;
}

/** What the agent is doing about a model, in one word and one sentence. */
export type AgentActivity =
  | 'paused'
  | 'starting'
  | 'watching'
  | 'deciding'
  | 'awaiting_approval'
  | 'acting'
  | 'holding'
  | 'verifying'
  | 'waiting_for_human';

export interface ModelStatus {
  health: Health;
  /** One sentence that says why the model has this health. */
  reason: string;
  activity: AgentActivity;
  /** One sentence that says what the agent is doing. */
  doing: string;
}

/**
 * A model's health, first match wins:
 * - paused: an operator paused the agent (it neither measures nor acts);
 * - escalated: the open incident was handed to a human;
 * - recovering: there is evidence the model is coming back — the last window's finding of the
 *   incident's kind is `recovering` (the metric is back; the detector waits for consecutive healthy
 *   windows), or a remedy is applied and its result is being verified;
 * - degraded: any other open incident. That includes a remedy under way, awaiting approval, and a
 *   protective remedy (fallback, disable) held while the cause persists: users are protected, but the
 *   model is not serving as it did, and nothing shows it will — "recovering" would promise a recovery
 *   that may never come (the hold can last until verification.maxWait, then the next rung). The
 *   protection shows in what the agent is doing ("holding"), not in the health;
 * - starting: no window measured yet;
 * - healthy: otherwise.
 */
export function statusFrom(facts: StatusFacts): ModelStatus {
  const { paused, incident, lastFindings, lastWindowSeq } = facts;
  if (paused) {
    const why = `paused by ${paused}`;
    return { health: 'paused', reason: why, activity: 'paused', doing: `nothing: ${why}` };
  }
  if (!incident) {
    if (lastWindowSeq === null) {
      return {
        health: 'starting',
        reason: 'no window measured yet',
        activity: 'starting',
        doing: 'waiting for the first window',
      };
    }
    return {
      health: 'healthy',
      reason: `no open incident after window ${lastWindowSeq}`,
      activity: 'watching',
      doing: 'watching each window',
    };
  }
  const about = `${incident.kind} incident (${incident.phase}): ${incident.summary}`;
  const { activity, doing } = activityOf(incident);
  if (incident.phase === 'escalated') return { health: 'escalated', reason: about, activity, doing };
  const easing = lastFindings.some((f) => f.kind === incident.kind && f.state === 'recovering');
  const health = easing || incident.phase === 'verifying' ? 'recovering' : 'degraded';
  return { health, reason: about, activity, doing };
}

function activityOf(incident: NonNullable<StatusFacts['incident']>): Pick<ModelStatus, 'activity' | 'doing'> {
  const remedy = incident.remedy ?? 'a remedy';
  switch (incident.phase) {
    case 'escalated':
      return { activity: 'waiting_for_human', doing: 'holding the model as it is until a human answers' };
    case 'awaiting_approval':
      return { activity: 'awaiting_approval', doing: `waiting for a human to approve ${remedy}` };
    case 'mitigating':
      return { activity: 'acting', doing: `applying ${remedy}` };
    case 'holding':
      return {
        activity: 'holding',
        doing: `users protected by ${remedy} while the ${incident.kind} persists; the model comes back once it has gone`,
      };
    case 'verifying':
      return { activity: 'verifying', doing: `verifying ${remedy} against the pre-failure baseline` };
    case 'open':
      return { activity: 'deciding', doing: 'choosing the next step at the next window' };
  }
}

/** The remedy an agent's incident is working with: its latest attempt's, until that has an outcome. */
function currentRemedy(incident: OpenIncident): ActionType | null {
  const last = incident.attempts?.at(-1);
  return last?.outcome === 'pending' ? last.action : null;
}

/** The facts of an agent's state. */
export function factsOfAgent(state: AgentState): StatusFacts {
  const incident = state.openIncident;
  return {
    paused: state.paused ? 'an operator' : null,
    incident: incident
      ? {
          kind: incident.kind,
          phase: phaseOf(incident),
          summary:
            state.lastFindings.find((f) => f.kind === incident.kind)?.summary ??
            `no ${incident.kind} finding in the last window`,
          remedy: currentRemedy(incident),
        }
      : null,
    lastFindings: state.lastFindings,
    lastWindowSeq: state.lastWindow?.seq ?? null,
  };
}

/** The agent's health (AgentState.health). */
export const healthOf = (state: AgentState): Health => statusFrom(factsOfAgent(state)).health;

/**
 * What an agent is filtered by in the Temporal UI and `temporal workflow list` (lib/search-attributes.ts
 * names them on the server): its model, health, open incident's kind and severity, and the remedy in
 * flight; null where there is none.
 */
export interface AgentIndex {
  model: string;
  health: Health;
  incidentKind: FindingKind | null;
  severity: Severity | null;
  remedy: ActionType | null;
}

export function agentIndexOf(state: AgentState): AgentIndex {
  const incident = state.openIncident;
  return {
    model: state.modelName,
    health: healthOf(state),
    incidentKind: incident?.kind ?? null,
    severity: incident?.severity ?? null,
    remedy: incident ? currentRemedy(incident) : null,
  };
}

// ---- The accuracy baseline ----

/** The accuracy baseline concept drift is judged against, as the detector holds it. */
export interface AccuracyBaseline {
  /** Accuracy of the healthy windows in the baseline; null before any has joined. */
  accuracy: number | null;
  /** Healthy windows it is built from; the detector judges against it once there are enough (`ready`). */
  windows: number;
  ready: boolean;
  /** Healthy windows waiting to join it once enough newer labelled rows have come (detect's baselineLagRows). */
  pendingWindows: number;
}

/** The baseline of a detector state (the agent's, or one replayed from the store). */
export function accuracyBaselineOf(
  detector: Pick<
    DetectorState,
    'baselineLabelled' | 'baselineCorrect' | 'baselineWindows' | 'pendingBaseline'
  >,
): AccuracyBaseline {
  const { baselineLabelled, baselineCorrect, baselineWindows } = detector;
  return {
    accuracy: baselineLabelled > 0 ? baselineCorrect / baselineLabelled : null,
    windows: baselineWindows,
    ready: baselineWindows >= DETECT_DEFAULTS.minBaselineWindows && baselineLabelled > 0,
    pendingWindows: detector.pendingBaseline?.length ?? 0,
  };
}

/** One stored window, as the baseline replay reads it. */
export interface StoredWindowFacts {
  labelled: number;
  /** Correct labelled rows; null for regression windows and windows without labels. */
  correct: number | null;
  /** Kinds of the active findings stored for the window. */
  findingKinds: string[];
  /** The agent put another production model in place (an applied retrain or rollback) before this window. */
  afterModelChange: boolean;
}

/**
 * The detector's accuracy baseline replayed from stored windows, oldest first, with the detector's own
 * rule (findings/concept-drift.ts learnAccuracy): a labelled window without an active finding is healthy and joins the
 * baseline, at once or after `baselineLagRows` newer rows; a concept drift drops the windows still
 * waiting; a model change starts the baseline afresh and the next windows' labels are not judged (they
 * still describe the old model). The store keeps active findings only, so a window whose performance
 * fell without any finding (inputs not yet significantly moved) counts as healthy here: the one case
 * where the replay can differ from the agent's number.
 */
export function replayAccuracyBaseline(windows: StoredWindowFacts[]): AccuracyBaseline {
  let detector: DetectorState = initialDetectorState();
  let settling = 0;
  for (const w of windows) {
    if (w.afterModelChange) {
      detector = initialDetectorState();
      settling = SETTLE_WINDOWS;
    }
    const judged = settling === 0;
    if (settling > 0) settling -= 1;
    const healthy = judged && w.labelled > 0 && w.correct !== null && w.findingKinds.length === 0;
    detector = {
      ...detector,
      ...learnAccuracy(
        detector,
        healthy ? { labelled: w.labelled, correct: w.correct! } : null,
        w.findingKinds.includes('concept_drift'),
      ),
    };
  }
  return accuracyBaselineOf(detector);
}
