// State and messages of the per-model agent. Plain JSON: it crosses activity boundaries, workflow
// queries and continueAsNew, so no Dates, Maps or class instances.
import type { ActionType, FindingKind, FindingState, Severity } from '../lib/domain.ts';

/** What the monitor measured over one window of traffic. */
export interface WindowSummary {
  seq: number;
  startAt: string;
  endAt: string;
  /** Predictions that arrived in the window. */
  count: number;
  /** Of those, how many have ground truth so far. */
  labelled: number;
  correct: number;
  /** correct / labelled, or null when nothing is labelled yet. */
  accuracy: number | null;
}

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  state: FindingState;
  summary: string;
  evidence: Record<string, number | string | null>;
}

/** Per-kind persistence: a finding is confirmed after `confirmAfter` consecutive bad windows. */
export interface PersistenceState {
  state: FindingState;
  badStreak: number;
  goodStreak: number;
}

export interface DetectorState {
  /** Labelled predictions and correct ones over the healthy windows that form the baseline. */
  baselineLabelled: number;
  baselineCorrect: number;
  baselineWindows: number;
  persistence: Partial<Record<FindingKind, PersistenceState>>;
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
    | { close: 'recovered' }
    | null;
}

export type Health = 'healthy' | 'degraded' | 'recovering' | 'escalated' | 'paused' | 'starting';

export interface OpenIncident {
  id: string;
  kind: FindingKind;
  openedAtCycle: number;
}

export interface AgentState {
  modelName: string;
  /** Completed monitoring cycles over the agent's whole life (survives continueAsNew). */
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
}

export interface AgentInput {
  modelName: string;
  /** Time between monitoring cycles (a Temporal duration: '1 minute', '30s', or milliseconds). */
  cycleInterval?: string | number;
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
