// lib/brain/status.ts: one rule for health and what the agent is doing, whether read from the agent's
// state or from the rows it stored; and the accuracy baseline replayed from stored windows equals the
// detector's own, through pending windows, a concept drift and a model change.
import { describe, expect, it } from 'vitest';
import { afterModelChange, detect, initialDetectorState } from '../../lib/brain/detect.ts';
import {
  accuracyBaselineOf,
  factsOfAgent,
  healthOf,
  type IncidentPhase,
  phaseFromStore,
  replayAccuracyBaseline,
  type StatusFacts,
  type StoredWindowFacts,
  statusFrom,
} from '../../lib/brain/status.ts';
import type {
  AgentState,
  DetectorState,
  Finding,
  OpenIncident,
  RemedyAttempt,
  WindowSummary,
} from '../../lib/brain/types.ts';
import { agentState, openIncident } from '../helpers/brain.ts';

const window = (seq: number): WindowSummary => ({
  seq,
  startAt: new Date(seq * 60_000).toISOString(),
  endAt: new Date((seq + 1) * 60_000).toISOString(),
  count: 500,
  labelled: 450,
  correct: 405,
  accuracy: 0.9,
});

// Status reads a finding's kind and state only, not its evidence.
const finding = (kind: Finding['kind'], state: Finding['state']): Finding =>
  ({ kind, state, severity: 'warning', summary: `${kind} is ${state}`, evidence: {} }) as Finding;

const agent = (over: Partial<AgentState> = {}): AgentState =>
  agentState({ cycle: 5, lastWindow: window(4), ...over });

const attempt = (action: RemedyAttempt['action'], outcome: RemedyAttempt['outcome']): RemedyAttempt => ({
  action,
  at: 0,
  outcome,
  detail: '',
});
const incident = (status: IncidentPhase, attempts: RemedyAttempt[] = []): OpenIncident =>
  openIncident('data_quality', { id: 'i1', openedAtCycle: 3, status, attempts });

/** The same moment of an incident as the store tells it: the incident row and its latest remedy action. */
function storeFacts(
  status: string,
  action: { type: string; status: string } | null,
  lastFindings: StatusFacts['lastFindings'] = [],
): StatusFacts {
  return {
    paused: null,
    incident: {
      kind: 'data_quality',
      phase: phaseFromStore(status, action),
      summary: 'missing values in income',
      remedy: action?.type.replace(/^approve:/, '') ?? null,
    },
    lastFindings,
    lastWindowSeq: 4,
  };
}

describe('health and what the agent is doing', () => {
  // Each phase of an incident, as the agent holds it and as the store records it.
  it.each([
    {
      phase: 'open',
      agent: incident('open', [attempt('alert', 'not_recovered')]),
      store: storeFacts('open', null),
      health: 'degraded',
      activity: 'deciding',
    },
    {
      phase: 'awaiting_approval',
      agent: incident('awaiting_approval', [attempt('fallback', 'pending')]),
      store: storeFacts('open', { type: 'approve:fallback', status: 'pending' }),
      health: 'degraded',
      activity: 'awaiting_approval',
    },
    {
      phase: 'mitigating',
      agent: incident('mitigating', [attempt('fallback', 'pending')]),
      store: storeFacts('mitigating', { type: 'fallback', status: 'started' }),
      health: 'degraded',
      activity: 'acting',
    },
    {
      // On fallback while the upstream is still broken: protected, not recovered.
      phase: 'holding',
      agent: incident('holding', [attempt('fallback', 'pending')]),
      store: storeFacts('mitigating', { type: 'fallback', status: 'succeeded' }),
      health: 'degraded',
      activity: 'holding',
    },
    {
      phase: 'verifying',
      agent: incident('verifying', [attempt('fallback', 'pending')]),
      store: storeFacts('verifying', { type: 'fallback', status: 'succeeded' }),
      health: 'recovering',
      activity: 'verifying',
    },
    {
      phase: 'escalated',
      agent: incident('escalated', [attempt('fallback', 'not_recovered')]),
      store: storeFacts('escalated', { type: 'fallback', status: 'succeeded' }),
      health: 'escalated',
      activity: 'waiting_for_human',
    },
  ] as const)('$phase: the agent and the store say $health, $activity', (c) => {
    const fromAgent = statusFrom(factsOfAgent(agent({ openIncident: c.agent })));
    const fromStore = statusFrom(c.store);
    expect(c.store.incident?.phase).toBe(c.phase);
    expect(fromAgent).toMatchObject({ health: c.health, activity: c.activity });
    expect(fromStore).toMatchObject({ health: c.health, activity: c.activity });
    expect(fromStore.doing).toBe(fromAgent.doing);
  });

  it('holding says users are protected, and by what', () => {
    const status = statusFrom(storeFacts('mitigating', { type: 'fallback', status: 'succeeded' }));
    expect(status.doing).toBe(
      'users protected by fallback while the data_quality persists; the model comes back once it has gone',
    );
  });

  it('is recovering once the incident’s own finding eases, whatever the agent is doing', () => {
    const easing = [finding('data_quality', 'recovering')];
    const held = incident('holding', [attempt('fallback', 'pending')]);
    expect(healthOf(agent({ openIncident: held, lastFindings: easing }))).toBe('recovering');
    expect(
      statusFrom(storeFacts('mitigating', { type: 'fallback', status: 'succeeded' }, easing)).health,
    ).toBe('recovering');
    // Another kind's finding easing says nothing about this incident.
    expect(healthOf(agent({ openIncident: held, lastFindings: [finding('latency', 'recovering')] }))).toBe(
      'degraded',
    );
  });

  it('is paused, starting or healthy without an open incident', () => {
    expect(healthOf(agent({ paused: true, openIncident: incident('escalated') }))).toBe('paused');
    expect(healthOf(agent({ lastWindow: null }))).toBe('starting');
    expect(statusFrom(factsOfAgent(agent()))).toEqual({
      health: 'healthy',
      reason: 'no open incident after window 4',
      activity: 'watching',
      doing: 'watching each window',
    });
    expect(
      statusFrom({ paused: 'human:alice: upstream fix', incident: null, lastFindings: [], lastWindowSeq: 4 }),
    ).toMatchObject({ health: 'paused', reason: 'paused by human:alice: upstream fix' });
  });
});

describe('the accuracy baseline shown', () => {
  /**
   * Runs detect over windows of the given accuracies, resetting the detector as the agent does after a
   * model change before the windows listed; answers the detector's states and what the store keeps.
   */
  function runAndStore(accuracies: number[], changesBefore: number[] = []) {
    let state: DetectorState = initialDetectorState();
    const states: DetectorState[] = [];
    const stored: StoredWindowFacts[] = [];
    for (const [seq, accuracy] of accuracies.entries()) {
      const changed = changesBefore.includes(seq);
      if (changed) state = afterModelChange(state);
      const w = { ...window(seq), correct: Math.round(450 * accuracy), accuracy };
      const detected = detect(w, state);
      state = detected.state;
      states.push(state);
      stored.push({
        labelled: w.labelled,
        correct: w.correct,
        findingKinds: detected.findings.map((f) => f.kind),
        afterModelChange: changed,
      });
    }
    return { states, stored };
  }

  it('replays the detector’s number from the store, window by window', () => {
    // 12 healthy windows (450 rows each: later ones wait for 2,000 newer rows), a drop that drops the
    // waiting ones, the recovery, a model change (the next windows' labels are not judged), healthy again.
    const plan = [...Array(12).fill(0.9), 0.6, 0.6, 0.6, ...Array(4).fill(0.9), ...Array(8).fill(0.88)];
    const { states, stored } = runAndStore(plan, [19]);
    const shown = states.map((_, i) => replayAccuracyBaseline(stored.slice(0, i + 1)));
    expect(shown).toEqual(states.map(accuracyBaselineOf));
    // The cases the old replay (every healthy window, at once, forever) got wrong are all in the run.
    expect(Math.max(...shown.map((b) => b.pendingWindows))).toBeGreaterThan(0);
    expect(shown[12]!.windows).toBeLessThan(12);
    expect(shown[19]).toMatchObject({ windows: 0, accuracy: null, ready: false });
    expect(shown[20]!.windows).toBe(0); // the two settling windows after the change judge no labels
    expect(shown[21]!.windows).toBe(1);
    expect(shown.at(-1)).toMatchObject({ accuracy: 0.88, ready: true });
  });
});
