// The incident lifecycle (lib/brain/lifecycle.ts step) on its own: every event kind, and every way a
// remedy can end — failed, rejected, protected, held until the cause goes (or not), verified recovered,
// verified short (undone, or kept as the best model), approved, rejected, expired — with the commands
// each step asks its interpreter for. Windows come in the monitor's shape and go through the real
// detect and decide.
import { describe, expect, it } from 'vitest';
import type { DeploymentFacts } from '../../lib/brain/contracts.ts';
import { holdUntil } from '../../lib/brain/findings/index.ts';
import { initialLifecycleState, REMEDY_MEMORY_MS, step } from '../../lib/brain/lifecycle.ts';
import type {
  InFlight,
  LifecycleCommand,
  LifecycleEvent,
  LifecycleState,
  RemedyResult,
  VerifyResult,
} from '../../lib/brain/lifecycle-types.ts';
import type { Decision, OpenIncident, WindowSummary } from '../../lib/brain/types.ts';
import { DEFAULT_POLICY } from '../../lib/policy/defaults.ts';
import type { Policy } from '../../lib/policy/policy.ts';
import {
  agentState,
  healthyWindow,
  openIncident,
  policyWith,
  segmentPart,
  servingFacts,
} from '../helpers/brain.ts';

const MINUTE = 60_000;
const T = Date.UTC(2026, 0, 15, 12);
const LONG_AGO = T - 30 * 24 * 60 * MINUTE;

const kinds = (commands: LifecycleCommand[]) => commands.map((c) => c.kind);
const only = <K extends LifecycleCommand['kind']>(commands: LifecycleCommand[], kind: K) =>
  commands.filter((c): c is Extract<LifecycleCommand, { kind: K }> => c.kind === kind);

/**
 * Feeds windows (six healthy, then `bad` failing ones: `failing` says how) to a new agent; returns the
 * state and the last step's commands.
 */
function feed(
  bad: number,
  deployment: DeploymentFacts,
  policy: Policy = DEFAULT_POLICY,
  failing: (failed: boolean) => Partial<WindowSummary> = (failed) => (failed ? { failureRate: 0.15 } : {}),
) {
  let state = agentState({ policy: { version: 0, document: policy } });
  let commands: LifecycleCommand[] = [];
  for (let seq = 0; seq < 6 + bad; seq++) {
    const window = healthyWindow(seq, failing(seq >= 6));
    ({ state, commands } = step(state, {
      kind: 'window',
      at: Date.parse(window.endAt),
      window,
      deployment,
      incidentId: `inc-${seq}`,
    }));
  }
  return { state, commands };
}

const decision = (action: Decision['action'], over: Partial<Decision> = {}): Decision => ({
  action,
  rule: 'system-regression-fallback',
  reason: 'failures above the baseline',
  alternatives: [],
  incident: null,
  judgement: 'persistent',
  severity: 'warning',
  strength: 0.9,
  ...over,
});

/** An agent whose open incident of `kind` has the step `inFlight` running for its first attempt. */
function inFlight(
  kind: OpenIncident['kind'],
  flight: InFlight,
  over: Partial<OpenIncident> = {},
): LifecycleState {
  const action = 'action' in flight ? flight.action : flight.decision.action;
  return agentState({
    policy: { version: 0, document: DEFAULT_POLICY },
    cycle: 12,
    deployment: servingFacts(LONG_AGO),
    openIncident: openIncident(kind, {
      status: 'mitigating',
      attempts: [{ action, at: T, outcome: 'pending', detail: '' }],
      ...over,
    }),
    inFlight: flight,
  });
}

const remedy = (action: 'rollback' | 'retrain' | 'fallback' | 'disable'): InFlight => ({
  phase: 'remedy',
  attempt: 0,
  action,
  decision: decision(action),
  actor: 'agent',
});

const applied = (before: number, after: number): LifecycleEvent => ({
  kind: 'remedy-result',
  at: T + MINUTE,
  result: { outcome: 'applied', before, after, detail: 'done' },
  deployment: servingFacts(LONG_AGO, { revision: after }),
});

/** A retrain's candidate rejected: `noBetterModel` says why, `level` is production's measured level. */
const refitRejected = (
  noBetterModel: 'unproven' | 'immaterial',
  level?: { metric: 'accuracy'; value: number; rows: number },
  deployment: DeploymentFacts | null = null,
): LifecycleEvent => ({
  kind: 'remedy-result',
  at: T,
  result: {
    outcome: 'rejected',
    before: 5,
    after: 5,
    detail: 'no better',
    noBetterModel,
    ...(level ? { level } : {}),
  },
  deployment,
});

const verdict = (v: VerifyResult['verdict']): LifecycleEvent => ({
  kind: 'verdict',
  at: T + 20 * MINUTE,
  verdict: { verdict: v, rows: 400, value: 0.8, baseline: 0.9, pValue: 0.01, detail: 'measured' },
});

/** A fallback holding until the inputs clear (deadline T + 30 min); `before` is the revision to restore. */
const holdingOnInputs = (before: number | null): InFlight => ({
  phase: 'holding',
  attempt: 0,
  action: 'fallback',
  hold: 'inputs-clear',
  until: T + 30 * MINUTE,
  before,
  probing: false,
});

/** The incident's timeline rows a step recorded, as phase:key. */
const timeline = (commands: LifecycleCommand[]) =>
  only(commands, 'record-incident').map((c) => `${c.record.step.phase}:${c.record.step.key}`);

describe('a window measured', () => {
  it('records every cycle, opens an incident on a persistent failure and starts the decided remedy', () => {
    const { state, commands } = feed(2, servingFacts(LONG_AGO));
    expect(state.cycle).toBe(8);
    expect(state.lastDecision?.rule).toBe('system-regression-fallback');
    expect(state.openIncident).toMatchObject({ id: 'inc-7', kind: 'failures', status: 'mitigating' });
    expect(state.openIncident?.onsetAt).toBe(healthyWindow(7).startAt);
    expect(kinds(commands)).toEqual(['record-cycle', 'record-action', 'record-incident', 'run-remedy']);
    expect(only(commands, 'record-cycle')[0]).toMatchObject({ cycle: 7, newIncidentId: 'inc-7' });
    expect(only(commands, 'run-remedy')[0]).toMatchObject({
      action: 'fallback',
      key: 'incident:inc-7:0:fallback',
      since: state.openIncident?.onsetAt,
    });
    expect(state.inFlight).toMatchObject({ phase: 'remedy', action: 'fallback' });
  });

  it("falls back on a broken segment's rows only, and not again while its route stands", () => {
    const broker = (failed: boolean) => ({
      segments: ['channel=web', 'channel=broker', 'channel=branch'].map((name) =>
        segmentPart(name, failed && name === 'channel=broker' ? 0.4 : 0.9),
      ),
    });
    const run = (deployment: DeploymentFacts) => feed(2, deployment, DEFAULT_POLICY, broker);
    const { state, commands } = run(servingFacts(LONG_AGO));
    expect(state.openIncident).toMatchObject({ id: 'inc-7', kind: 'segment', segment: 'channel=broker' });
    expect(state.lastDecision?.rule).toBe('segment-ladder');
    expect(only(commands, 'run-remedy')[0]).toMatchObject({ action: 'fallback', segment: 'channel=broker' });
    // Verified against the segment's own pre-failure accuracy (0.9 on its 6 healthy windows), not the model's.
    expect(state.openIncident?.baseline).toEqual({
      metric: 'accuracy',
      value: 0.9,
      rows: 900,
      segment: 'channel=broker',
    });
    // The segment already on the fallback: production answers none of its rows and is not judged on them.
    const routed = run(servingFacts(LONG_AGO, { fallbackSegments: ['channel=broker'] }));
    expect(routed.state.openIncident).toBeNull();
    expect(routed.state.lastDecision?.rule).toBe('healthy');
    // Nor learnt from: its baseline is where it stood when the route was taken (here, before any window).
    expect(routed.state.detector.segments?.['channel=broker']).toEqual({ labelled: 0, correct: 0 });
    expect(routed.state.detector.segments?.['channel=web']?.labelled).toBe(1200);
  });

  it('rolls back a change of the deployment made just before the failure', () => {
    const { commands } = feed(
      2,
      servingFacts(healthyWindow(5).startAt ? Date.parse(healthyWindow(5).startAt) : 0),
    );
    expect(only(commands, 'run-remedy')[0]).toMatchObject({ action: 'rollback', rollbackTo: 4 });
  });

  it('tells decide a remedy is in progress while one is in flight', () => {
    const { state } = feed(2, servingFacts(LONG_AGO));
    const window = healthyWindow(8, { failureRate: 0.15 });
    const next = step(state, {
      kind: 'window',
      at: T,
      window,
      deployment: state.deployment,
      incidentId: 'x',
    });
    expect(next.state.lastDecision?.rule).toBe('remedy-in-progress');
    expect(kinds(next.commands)).toEqual(['record-cycle']);
  });

  it('drops the sequential statistics when another production version serves', () => {
    const { state } = feed(0, servingFacts(LONG_AGO));
    // The calibration CUSUM has drifted up on the old version: a new one starts it again at zero.
    const side = { statistic: 3, observed: 130, expected: 100, rows: 900 };
    state.detector.calibrationCusum = { up: side, down: { ...side, statistic: 0 } };
    const window = healthyWindow(6);
    const moved = step(state, {
      kind: 'window',
      at: T,
      window,
      deployment: servingFacts(LONG_AGO, { productionVersion: 7 }),
      incidentId: 'x',
    });
    expect(moved.state.judgedVersion).toBe(7);
    const same = step(state, {
      kind: 'window',
      at: T,
      window,
      deployment: state.deployment,
      incidentId: 'x',
    });
    expect(same.state.detector.calibrationCusum?.up.statistic).toBeGreaterThan(2);
    expect(moved.state.detector.calibrationCusum?.up.statistic).toBeLessThan(1);
  });

  it('leaves the state it was given as it was', () => {
    const { state } = feed(1, servingFacts(LONG_AGO));
    const before = structuredClone(state);
    const window = healthyWindow(7, { failureRate: 0.15 });
    step(state, { kind: 'window', at: T, window, deployment: state.deployment, incidentId: 'y' });
    expect(state).toEqual(before);
  });
});

describe('a remedy result', () => {
  describe("a segment's fallback route", () => {
    const broker = (failed: boolean) => ({
      segments: ['channel=web', 'channel=broker', 'channel=branch'].map((name) =>
        segmentPart(name, failed && name === 'channel=broker' ? 0.4 : 0.9),
      ),
    });
    const routedFacts = servingFacts(LONG_AGO, { revision: 2, fallbackSegments: ['channel=broker'] });
    /** The broker segment fell, its route was applied: the state and commands after the result. */
    const routed = () => {
      const { state } = feed(2, servingFacts(LONG_AGO), DEFAULT_POLICY, broker);
      return step(state, {
        kind: 'remedy-result',
        at: T + MINUTE,
        result: { outcome: 'applied', before: 1, after: 2, detail: 'serving fallback to channel=broker' },
        deployment: routedFacts,
      });
    };
    /** The next window, under the route, with the broker's production rows still as bad. */
    const nextWindow = (state: LifecycleState, seq: number) => {
      const window = healthyWindow(seq, broker(true));
      return step(state, {
        kind: 'window',
        at: Date.parse(window.endAt),
        window,
        deployment: routedFacts,
        incidentId: `inc-${seq}`,
      });
    };

    it('is verified on the segment rows against the segment level, not left as a shield', () => {
      const { state, commands } = routed();
      expect(state.openIncident).toMatchObject({ kind: 'segment', status: 'verifying' });
      expect(state.inFlight).toMatchObject({ phase: 'verifying', action: 'fallback', before: 1, after: 2 });
      expect(only(commands, 'verify')[0]).toMatchObject({
        baseline: { metric: 'accuracy', value: 0.9, rows: 900, segment: 'channel=broker' },
      });
      expect(timeline(commands)).toEqual(['verifying:0:verify']);
    });

    it('recovered: the incident closes, the route stays, and the routed segment opens nothing more', () => {
      const closed = step(routed().state, verdict('recovered'));
      expect(closed.state.openIncident).toBeNull();
      expect(kinds(closed.commands)).not.toContain('restore');
      const after = nextWindow(closed.state, 9);
      expect(after.state.openIncident).toBeNull();
      expect(after.state.lastFindings.filter((f) => f.state === 'confirmed').map((f) => f.kind)).toEqual([]);
    });

    /** The route fell short; the next window's decision is the ladder's next rung, a retrain. */
    const retraining = () => {
      const short = step(routed().state, verdict('not_recovered'));
      expect(short.state.openIncident?.attempts[0]).toMatchObject({ outcome: 'not_recovered' });
      expect(kinds(short.commands)).not.toContain('restore');
      return nextWindow(short.state, 9);
    };

    it('not recovered: the route stays, and the next rung retrains for the segment', () => {
      const { state, commands } = retraining();
      expect(state.lastDecision).toMatchObject({ rule: 'verification-failed-next-rung', action: 'retrain' });
      // The retrain child is told the segment: its candidate must beat the route, and lifts it if promoted.
      expect(only(commands, 'run-remedy')[0]).toMatchObject({ action: 'retrain', segment: 'channel=broker' });
      expect(kinds(commands)).not.toContain('escalate');
    });

    /** The retrain's result, after the route fell short. */
    const retrained = (result: RemedyResult, deployment: DeploymentFacts) =>
      step(retraining().state, { kind: 'remedy-result', at: T + 10 * MINUTE, result, deployment });

    it('a promoted retrain is verified on the segment rows against the segment level', () => {
      const promoted = retrained(
        { outcome: 'applied', before: 2, after: 4, detail: 'candidate v6 promoted', candidateVersion: 6 },
        servingFacts(LONG_AGO, { revision: 4, productionVersion: 6 }),
      );
      expect(promoted.state.inFlight).toMatchObject({ phase: 'verifying', action: 'retrain' });
      expect(only(promoted.commands, 'verify')[0]).toMatchObject({
        baseline: { metric: 'accuracy', value: 0.9, segment: 'channel=broker' },
      });
    });

    it('a candidate that lost to the route: the route stays and, with no rung left, a human gets the incident', () => {
      const lost = retrained(
        { outcome: 'rejected', before: 2, after: 2, detail: 'candidate v6 did not beat the fallback route' },
        routedFacts,
      );
      // Not "the best model available": the route serves the segment better than production would.
      expect(lost.state.openIncident?.attempts[1]).toMatchObject({ action: 'retrain', outcome: 'rejected' });
      expect(lost.state.openIncident?.attempts[1]?.bestAvailable).toBeUndefined();
      const after = nextWindow(lost.state, 10);
      expect(after.state.lastDecision?.rule).toBe('ladder-exhausted-escalate');
      expect(after.state.openIncident).toMatchObject({ id: 'inc-7', status: 'escalated' });
      expect(kinds(after.commands)).toContain('escalate');
    });
  });

  it('failed or rejected: the attempt ends and the incident is open for the next rung', () => {
    const failed = step(inFlight('failures', remedy('rollback')), {
      kind: 'remedy-result',
      at: T,
      result: { outcome: 'failed', before: null, after: null, detail: 'no revision to roll back to' },
      deployment: null,
    });
    expect(failed.state.openIncident?.attempts[0]).toMatchObject({ outcome: 'failed' });
    expect(failed.state.openIncident?.status).toBe('open');
    expect(failed.state.inFlight).toBeNull();
    expect(failed.state.remedies).toEqual([{ action: 'rollback', at: T }]);
    expect(timeline(failed.commands)).toEqual(['open:0:outcome']);
    expect(only(failed.commands, 'record-action')[0]?.record).toMatchObject({
      type: 'rollback',
      status: 'failed',
    });

    const rejected = step(inFlight('concept_drift', remedy('retrain')), {
      kind: 'remedy-result',
      at: T,
      result: { outcome: 'rejected', before: 5, after: 5, detail: 'no better', noBetterModel: 'unproven' },
      deployment: null,
    });
    expect(rejected.state.openIncident?.attempts[0]).toMatchObject({
      outcome: 'rejected',
      bestAvailable: true,
    });
  });

  it('a refit that could not do materially better: the next window closes the incident as rebaselined and the detector takes the new level', () => {
    const level = { metric: 'accuracy', value: 0.83, rows: 1500 } as const;
    const rejected = step(
      inFlight('concept_drift', remedy('retrain')),
      refitRejected('immaterial', level, servingFacts(LONG_AGO, { revision: 5 })),
    );
    expect(rejected.state.openIncident?.attempts[0]).toMatchObject({ bestAvailable: true, newLevel: level });
    const old = { n: 6, mean: 0.9, meanSq: 0.81 };
    const learnt = {
      ...rejected.state,
      detector: {
        ...rejected.state.detector,
        baselines: { estimatedAccuracy: old, latencyP95: old },
        baselineLabelled: 3000,
        baselineCorrect: 2700,
        baselineWindows: 8,
      },
    };
    const window = healthyWindow(13);
    const next = step(learnt, {
      kind: 'window',
      at: Date.parse(window.endAt),
      window,
      deployment: servingFacts(LONG_AGO, { revision: 5 }),
      incidentId: 'unused',
    });
    expect(next.state.lastDecision).toMatchObject({
      rule: 'level-changed-rebaseline',
      action: 'alert',
      incident: { close: 'rebaselined' },
    });
    expect(next.state.lastDecision?.escalate ?? null).toBeNull();
    expect(next.state.openIncident).toBeNull();
    expect(kinds(next.commands)).not.toContain('escalate');
    // The accuracy baseline is the new level; the old level's label-free estimate is learnt again, the
    // system baselines stay.
    expect(next.state.detector).toMatchObject({
      baselineLabelled: 1500,
      baselineCorrect: 1245,
      baselineWindows: 3,
    });
    expect(next.state.detector.baselines).not.toHaveProperty('estimatedAccuracy');
    expect(next.state.detector.baselines?.latencyP95?.n).toBeGreaterThanOrEqual(6);
  });

  it('protective, the model at fault: users stay protected while the next rung repairs it', () => {
    expect(holdUntil('concept_drift')).toBeNull();
    const next = step(inFlight('concept_drift', remedy('fallback')), applied(5, 6));
    expect(next.state.openIncident?.attempts[0]?.outcome).toBe('protected');
    expect(next.state.inFlight).toBeNull();
    expect(kinds(next.commands)).toEqual(['record-action', 'record-incident']);
  });

  it('protective, the cause outside: holds, probes at a window, restores, verifies, recovers', () => {
    let { state, commands } = step(inFlight('failures', remedy('fallback')), applied(5, 6));
    expect(state.inFlight).toMatchObject({ phase: 'holding', hold: 'probe', before: 5 });
    expect(only(commands, 'hold')).toEqual([{ kind: 'hold', until: T + MINUTE + 30 * MINUTE }]);
    expect(timeline(commands)).toEqual(['mitigating:0:holding']);

    const window = healthyWindow(12);
    ({ state, commands } = step(state, {
      kind: 'window',
      at: T + 2 * MINUTE,
      window,
      deployment: state.deployment,
      incidentId: 'z',
    }));
    expect(only(commands, 'probe')).toEqual([{ kind: 'probe', version: 3 }]);
    // A failing probe: still holding, probed again at the next window.
    const failing = step(state, { kind: 'probe-result', at: T + 3 * MINUTE, ok: false });
    expect(failing.state.inFlight).toMatchObject({ phase: 'holding', probing: false });

    ({ state, commands } = step(state, { kind: 'probe-result', at: T + 3 * MINUTE, ok: true }));
    expect(only(commands, 'restore')[0]).toMatchObject({
      purpose: 'restore',
      revision: 5,
      key: 'incident:inc-1:0:restore',
    });
    ({ state, commands } = step(state, {
      kind: 'restored',
      at: T + 4 * MINUTE,
      deployment: servingFacts(LONG_AGO, { revision: 7 }),
    }));
    expect(state.deployment?.revision).toBe(7);
    expect(only(commands, 'verify')[0]).toMatchObject({
      key: 'incident:inc-1:0:verify',
      baseline: { metric: 'accuracy' },
    });
    expect(state.openIncident?.status).toBe('verifying');

    ({ state, commands } = step(state, verdict('recovered')));
    expect(state.openIncident).toBeNull();
    expect(state.inFlight).toBeNull();
    expect(only(commands, 'record-incident')[0]).toMatchObject({
      record: { status: 'recovered', close: true },
      incident: { attempts: [{ outcome: 'recovered' }] },
    });
  });

  it('holding on inputs: no probe until the finding has cleared; the hold ends unrecovered at its deadline', () => {
    const flight = holdingOnInputs(5);
    const state = inFlight('data_quality', flight, { status: 'holding' });
    state.detector.persistence.data_quality = { state: 'confirmed', badStreak: 3, goodStreak: 0 };
    const early = step(state, { kind: 'timer', at: T + 10 * MINUTE });
    expect(early.state.inFlight).toEqual(flight);
    const late = step(state, { kind: 'timer', at: T + 30 * MINUTE });
    expect(late.state.openIncident?.attempts[0]?.outcome).toBe('not_recovered');
    expect(late.state.openIncident?.status).toBe('open');
  });

  it('verified short: a rollback is undone before the next rung, a retrain stays as the best model', () => {
    let { state, commands } = step(inFlight('latency', remedy('rollback')), applied(5, 6));
    expect(state.detector.settleWindows).toBeGreaterThan(0); // another model serves: the detector starts afresh
    expect(only(commands, 'verify')).toHaveLength(1);
    ({ state, commands } = step(state, verdict('not_recovered')));
    expect(only(commands, 'restore')[0]).toMatchObject({
      purpose: 'undo',
      revision: 5,
      key: 'incident:inc-1:0:undo',
    });
    expect(state.inFlight?.phase).toBe('undoing');
    ({ state, commands } = step(state, { kind: 'restored', at: T, deployment: null }));
    expect(state.openIncident?.attempts[0]?.outcome).toBe('not_recovered');
    expect(timeline(commands)).toEqual(['open:0:outcome']);

    ({ state, commands } = step(inFlight('concept_drift', remedy('retrain')), applied(5, 6)));
    ({ state, commands } = step(state, verdict('not_recovered')));
    expect(only(commands, 'restore')).toEqual([]);
    expect(state.openIncident?.attempts[0]).toMatchObject({ outcome: 'not_recovered', bestAvailable: true });
  });

  it('without a pre-failure baseline the finding having cleared is the recovery', () => {
    const { state, commands } = step(
      inFlight('latency', remedy('rollback'), { baseline: null }),
      applied(5, 6),
    );
    expect(state.openIncident).toBeNull();
    expect(only(commands, 'verify')).toEqual([]);
  });

  it('a step that failed for good ends the attempt as failed', () => {
    const { state } = step(inFlight('latency', remedy('rollback')), {
      kind: 'step-failed',
      at: T,
      error: 'boom',
    });
    expect(state.openIncident?.attempts[0]).toMatchObject({ outcome: 'failed', detail: 'failed: boom' });
    expect(state.inFlight).toBeNull();
  });
});

describe('approvals', () => {
  const policy = policyWith({
    approvals: { fallback: { mode: 'approve', timeout: '10 minutes', onTimeout: 'disable' } },
  });

  function awaiting(): LifecycleState {
    const { state } = feed(2, servingFacts(LONG_AGO), policy);
    return state;
  }

  it('a remedy the policy makes wait asks for an answer, then runs as the approver', () => {
    const state = awaiting();
    expect(state.inFlight?.phase).toBe('approval');
    expect(state.pendingApproval).toMatchObject({ id: 'inc-7:0', action: 'fallback', onTimeout: 'disable' });
    const next = step(state, { kind: 'approval', at: T, approved: true, actor: 'ana', reason: 'go' });
    expect(only(next.commands, 'run-remedy')[0]).toMatchObject({ action: 'fallback', actor: 'human:ana' });
    expect(only(next.commands, 'record-action')[0]?.record).toMatchObject({
      type: 'approve:fallback',
      status: 'succeeded',
    });
    expect(next.state.pendingApproval).toBeNull();
  });

  it('rejected: not taken, the incident is open', () => {
    const next = step(awaiting(), { kind: 'approval', at: T, approved: false, actor: 'ana', reason: 'no' });
    expect(next.state.openIncident?.attempts[0]).toMatchObject({
      outcome: 'rejected',
      detail: 'rejected by ana: no',
    });
    expect(timeline(next.commands)).toEqual(['open:0:not-taken']);
  });

  it('expired: the policy’s onTimeout remedy is taken by the agent', () => {
    const state = awaiting();
    expect(step(state, { kind: 'timer', at: state.pendingApproval!.expiresAt - 1 }).commands).toEqual([]);
    const next = step(state, { kind: 'timer', at: state.pendingApproval!.expiresAt });
    expect(only(next.commands, 'run-remedy')[0]).toMatchObject({ action: 'disable', actor: 'agent' });
    expect(next.state.openIncident?.attempts[0]?.action).toBe('disable');
  });
});

describe('human acts', () => {
  it('pause and resume flip the flag and are audited', () => {
    const request = { actor: 'ana', reason: 'maintenance' };
    const paused = step(agentState(), { kind: 'pause', at: T, request });
    expect(paused.state).toMatchObject({ paused: true, health: 'paused' });
    expect(paused.commands).toEqual([{ kind: 'record-operator-action', type: 'pause', request, cycle: 0 }]);
    expect(step(paused.state, { kind: 'resume', at: T, request }).state.paused).toBe(false);
  });

  it('acknowledge closes the escalated incident', () => {
    const state = agentState({ openIncident: openIncident('stale_data', { status: 'escalated' }) });
    const next = step(state, { kind: 'acknowledge', at: T, request: { actor: 'ana', reason: 'on it' } });
    expect(next.state.openIncident).toBeNull();
    expect(timeline(next.commands)).toEqual(['acknowledged:acknowledged']);
  });

  it('a policy change and a person’s change of the deployment are taken as they come', () => {
    const policy = { version: 3, document: policyWith({ window: { rows: 250 } }) };
    expect(step(agentState(), { kind: 'policy-changed', at: T, policy }).state.policy).toEqual(policy);
    const deployment = servingFacts(T, { revision: 9 });
    expect(step(agentState(), { kind: 'deployment-changed', at: T, deployment }).state.deployment).toEqual(
      deployment,
    );
  });
});

/** An open failures incident whose every rung failed, and the failing window that escalates it. */
function exhaustLadder() {
  const attempts = (['rollback', 'fallback', 'disable'] as const).map((action) => ({
    action,
    at: T,
    outcome: 'failed' as const,
    detail: '',
  }));
  const state = agentState({
    policy: { version: 0, document: DEFAULT_POLICY },
    cycle: 12,
    deployment: servingFacts(LONG_AGO),
    openIncident: openIncident('failures', { attempts }),
  });
  const window = healthyWindow(12, { failureRate: 0.15 });
  const next = step(state, { kind: 'window', at: T, window, deployment: state.deployment, incidentId: 'q' });
  return { state, attempts, next };
}

describe('escalation', () => {
  it('an exhausted ladder hands the incident to a human with the evidence pack', () => {
    const { state, next } = exhaustLadder();
    expect(next.state.openIncident?.status).toBe('escalated');
    expect(next.state.openIncident?.escalatedAt).toBe(T);
    expect(only(next.commands, 'escalate')[0]).toMatchObject({
      key: 'incident:inc-1:escalation',
      pack: { incident: { id: 'inc-1' }, attempts: state.openIncident?.attempts },
    });
  });

  it("unanswered for acceptAfter under policy 'accept': the incident closes rebaselined at the window's level", () => {
    const accept = policyWith({ escalation: { unanswered: 'accept', acceptAfter: '6 hours' } });
    const escalated = (escalatedAt: number) =>
      agentState({
        policy: { version: 1, document: accept },
        cycle: 20,
        deployment: servingFacts(LONG_AGO),
        openIncident: openIncident('concept_drift', { status: 'escalated', escalatedAt }),
      });
    const window = healthyWindow(20, { accuracy: 0.8, labelled: 500 });
    const at = (state: LifecycleState) =>
      step(state, { kind: 'window', at: T, window, deployment: servingFacts(LONG_AGO), incidentId: 'q' });

    const early = at(escalated(T - 5 * 60 * MINUTE));
    expect(early.state.lastDecision?.rule).toBe('escalated-awaiting-human');
    expect(early.state.openIncident?.status).toBe('escalated');

    const late = at(escalated(T - 6 * 60 * MINUTE));
    expect(late.state.lastDecision).toMatchObject({
      rule: 'unanswered-escalation-rebaseline',
      incident: { close: 'rebaselined' },
    });
    expect(late.state.openIncident).toBeNull();
    expect(late.state.detector).toMatchObject({ baselineLabelled: 500, baselineCorrect: 400 });
    expect(kinds(late.commands)).not.toContain('escalate');
  });
});

// What each step writes to the audit trail and the incident's timeline is what operators and the Temporal
// UI read: keys (the idempotency of the writes), actors, statuses, reasons and summaries, exactly.
describe('the audit trail, exactly', () => {
  const record = (commands: LifecycleCommand[], n = 0) => only(commands, 'record-action')[n]?.record;
  const steps = (commands: LifecycleCommand[]) => only(commands, 'record-incident').map((c) => c.record);

  it('starts empty', () => {
    const state = initialLifecycleState('credit');
    expect(state).toMatchObject({
      modelName: 'credit',
      cycle: 0,
      runs: 0,
      paused: false,
      health: 'starting',
    });
    expect([state.openIncident, state.inFlight, state.pendingApproval, state.deployment]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    expect([state.lastFindings, state.remedies]).toEqual([[], []]);
  });

  it('a remedy started by the agent: its audit row, its timeline step and its command', () => {
    const { state, commands } = feed(2, servingFacts(LONG_AGO));
    const { reason, rule } = state.lastDecision!;
    const at = Date.parse(healthyWindow(7).endAt);
    expect(state.openIncident?.attempts).toEqual([
      { action: 'fallback', at, outcome: 'pending', detail: '' },
    ]);
    expect(record(commands)).toEqual({
      key: 'incident:inc-7:0:fallback',
      type: 'fallback',
      actor: 'agent',
      status: 'started',
      reason,
      incidentId: 'inc-7',
      detail: { rule, attempt: 0 },
      beforeRevision: null,
      afterRevision: null,
    });
    expect(steps(commands)).toEqual([
      {
        incidentId: 'inc-7',
        status: 'mitigating',
        close: false,
        step: {
          key: '0:act',
          at: new Date(at).toISOString(),
          phase: 'mitigating',
          summary: `fallback: ${reason}`,
          detail: { rule },
        },
      },
    ]);
    expect(only(commands, 'run-remedy')[0]).toEqual({
      kind: 'run-remedy',
      key: 'incident:inc-7:0:fallback',
      action: 'fallback',
      incidentId: 'inc-7',
      reason: `incident inc-7 (failures): ${rule}`,
      actor: 'agent',
      rollbackTo: null,
      since: healthyWindow(7).startAt,
      retrain: DEFAULT_POLICY.retrain,
      materialGain: DEFAULT_POLICY.verification.tolerance,
    });
    // The next window names the open incident in its cycle record.
    const window = healthyWindow(8, { failureRate: 0.15 });
    const next = step(state, {
      kind: 'window',
      at: Date.parse(window.endAt),
      window,
      deployment: state.deployment,
      incidentId: 'x',
    });
    expect(only(next.commands, 'record-cycle')[0]).toMatchObject({
      openIncidentId: 'inc-7',
      newIncidentId: null,
    });
  });

  it("a remedy's result: the audit row with both revisions, and the remedy remembered for seven days", () => {
    const week = 7 * 24 * 3600 * 1000;
    expect(REMEDY_MEMORY_MS).toBe(week);
    const state = inFlight('latency', remedy('rollback'));
    const now = T + MINUTE;
    state.remedies = [
      { action: 'fallback', at: now - week },
      { action: 'disable', at: now - week + 1 },
    ];
    const { state: next, commands } = step(state, applied(5, 6));
    expect(next.remedies).toEqual([
      { action: 'disable', at: now - week + 1 },
      { action: 'rollback', at: T },
    ]);
    expect(record(commands)).toEqual({
      key: 'incident:inc-1:0:rollback',
      type: 'rollback',
      actor: 'agent',
      status: 'succeeded',
      reason: 'failures above the baseline',
      incidentId: 'inc-1',
      detail: { rule: 'system-regression-fallback', attempt: 0, outcome: 'applied', result: 'done' },
      beforeRevision: 5,
      afterRevision: 6,
    });
    expect(steps(commands)).toEqual([
      {
        incidentId: 'inc-1',
        status: 'verifying',
        close: false,
        step: {
          key: '0:verify',
          at: new Date(now).toISOString(),
          phase: 'verifying',
          summary: 'verifying accuracy against the pre-failure 0.900',
        },
      },
    ]);
    expect(only(commands, 'verify')[0]).toMatchObject({
      key: 'incident:inc-1:0:verify',
      incidentId: 'inc-1',
    });
  });

  it('a failed remedy: the audit row without revisions, the attempt and the timeline say why', () => {
    const { state, commands } = step(inFlight('failures', remedy('disable')), {
      kind: 'remedy-result',
      at: T,
      result: { outcome: 'failed', before: null, after: null, detail: 'registry down' },
      deployment: null,
    });
    expect(record(commands)).toMatchObject({ status: 'failed', beforeRevision: null, afterRevision: null });
    expect(state.openIncident?.attempts[0]).toEqual({
      action: 'disable',
      at: T,
      outcome: 'failed',
      detail: 'registry down',
    });
    expect(state.openIncident?.attempts[0]).not.toHaveProperty('bestAvailable');
    expect(steps(commands).map((r) => r.step)).toEqual([
      {
        key: '0:outcome',
        at: new Date(T).toISOString(),
        phase: 'open',
        summary: 'disable failed: registry down',
        detail: { outcome: 'failed' },
      },
    ]);
  });

  it('a rejected refit that only could not prove itself is the best available, with no new level', () => {
    const level = { metric: 'accuracy', value: 0.83, rows: 1500 } as const;
    const { state } = step(inFlight('concept_drift', remedy('retrain')), refitRejected('unproven', level));
    expect(state.openIncident?.attempts[0]).toMatchObject({ outcome: 'rejected', bestAvailable: true });
    expect(state.openIncident?.attempts[0]).not.toHaveProperty('newLevel');
    const immaterialWithoutLevel = step(
      inFlight('concept_drift', remedy('retrain')),
      refitRejected('immaterial'),
    );
    expect(immaterialWithoutLevel.state.openIncident?.attempts[0]).not.toHaveProperty('newLevel');
  });

  it('protected while the model is repaired: the summary says so', () => {
    const { commands } = step(inFlight('concept_drift', remedy('fallback')), applied(5, 6));
    expect(steps(commands)[0]).toMatchObject({
      status: 'open',
      step: {
        key: '0:outcome',
        summary: 'done; users protected while the model itself is repaired',
        detail: { outcome: 'protected' },
      },
    });
  });

  it('a hold says what it waits for, and ends at its deadline with users still protected', () => {
    const probe = step(inFlight('failures', remedy('fallback')), applied(5, 6));
    expect(probe.state.openIncident?.status).toBe('holding');
    expect(steps(probe.commands)[0]?.step.summary).toBe(
      'fallback in place; holding until the production version answers a probe',
    );
    const inputs = step(inFlight('data_quality', remedy('fallback')), applied(5, 6));
    expect(steps(inputs.commands)[0]?.step.summary).toBe(
      'fallback in place; holding until the data_quality clears and the production version answers a probe',
    );
    // Before its deadline a timer changes nothing; at it the attempt ends, still protected.
    const until = T + MINUTE + 30 * MINUTE;
    expect(step(probe.state, { kind: 'timer', at: until - 1 })).toEqual({ state: probe.state, commands: [] });
    const over = step(probe.state, { kind: 'timer', at: until });
    expect(over.state.openIncident?.attempts[0]).toMatchObject({
      outcome: 'not_recovered',
      detail: 'done; the cause did not go within 30 minutes (users stay protected)',
    });
    expect(over.state.inFlight).toBeNull();
    // While a probe is out the deadline waits for its answer; a failed answer past the deadline ends it.
    const probing = { ...probe.state, inFlight: { ...probe.state.inFlight!, probing: true } as InFlight };
    expect(step(probing, { kind: 'timer', at: until }).state).toEqual(probing);
    const late = step(probing, { kind: 'probe-result', at: until + 1, ok: false });
    expect(late.state.openIncident?.attempts[0]?.outcome).toBe('not_recovered');
    const early = step(probing, { kind: 'probe-result', at: until - 1, ok: false });
    expect(early.state.inFlight).toMatchObject({ phase: 'holding', probing: false });
    expect(early.commands).toEqual([]);
  });

  it('holding on inputs: the probe goes out once the finding has cleared; with no production, verify at once', () => {
    const flight = holdingOnInputs(null);
    const window = healthyWindow(12);
    const at = (state: LifecycleState, deployment: DeploymentFacts | null) =>
      step(state, { kind: 'window', at: T + MINUTE, window, deployment, incidentId: 'z' });
    const cleared = at(inFlight('data_quality', flight, { status: 'holding' }), servingFacts(LONG_AGO));
    expect(only(cleared.commands, 'probe')).toEqual([{ kind: 'probe', version: 3 }]);
    expect(cleared.state.inFlight).toMatchObject({ phase: 'holding', probing: true });
    // A probe already out is not sent again.
    expect(only(at(cleared.state, servingFacts(LONG_AGO)).commands, 'probe')).toEqual([]);
    // No production version to probe: the cause is taken as gone and, with no revision from before the
    // fallback, the verification starts without a restore.
    const none = at(
      inFlight('data_quality', flight, { status: 'holding' }),
      servingFacts(LONG_AGO, { productionVersion: null }),
    );
    expect(kinds(none.commands)).not.toContain('probe');
    expect(kinds(none.commands)).not.toContain('restore');
    expect(none.state.inFlight).toMatchObject({ phase: 'verifying', before: null, after: null });
  });

  it('the restore after the cause has gone names the remedy it undoes', () => {
    const holding = step(inFlight('failures', remedy('fallback')), applied(5, 6)).state;
    const { commands } = step(holding, { kind: 'probe-result', at: T + 2 * MINUTE, ok: true });
    expect(only(commands, 'restore')).toEqual([
      {
        kind: 'restore',
        key: 'incident:inc-1:0:restore',
        purpose: 'restore',
        incidentId: 'inc-1',
        revision: 5,
        reason: 'incident inc-1: the cause has gone; restoring the deployment from before the fallback',
      },
    ]);
  });

  it('verdicts: recovered closes with the verdict; short and unchanged ends the attempt; short and changed is undone', () => {
    const v = {
      verdict: 'recovered' as const,
      rows: 400,
      value: 0.8,
      baseline: 0.9,
      pValue: 0.01,
      detail: 'measured',
    };
    const verifying = step(inFlight('latency', remedy('rollback')), applied(5, 6)).state;
    const recovered = step(verifying, verdict('recovered'));
    expect(recovered.state.openIncident).toBeNull();
    expect(steps(recovered.commands)).toEqual([
      {
        incidentId: 'inc-1',
        status: 'recovered',
        close: true,
        step: {
          key: '0:recovered',
          at: new Date(T + 20 * MINUTE).toISOString(),
          phase: 'recovered',
          summary: 'done; recovered: measured',
          detail: { verdict: v },
        },
      },
    ]);
    expect(only(recovered.commands, 'record-incident')[0]?.incident.attempts[0]).toMatchObject({
      outcome: 'recovered',
      detail: 'done; recovered: measured',
    });

    const short = { ...v, verdict: 'not_recovered' as const };
    const undoing = step(verifying, verdict('not_recovered'));
    expect(only(undoing.commands, 'restore')[0]?.reason).toBe(
      'incident inc-1: rollback did not recover the model; undone',
    );
    const undone = step(undoing.state, { kind: 'restored', at: T, deployment: null });
    expect(steps(undone.commands)[0]?.step).toMatchObject({
      summary: 'done; not_recovered: measured',
      detail: { outcome: 'not_recovered', verdict: short },
    });

    // A rollback that changed nothing (the same revision) has nothing to undo.
    const same = step(
      step(inFlight('latency', remedy('rollback')), applied(5, 5)).state,
      verdict('not_recovered'),
    );
    expect(kinds(same.commands)).not.toContain('restore');
    expect(same.state.openIncident?.attempts[0]).toMatchObject({ outcome: 'not_recovered' });
    expect(same.state.openIncident?.attempts[0]).not.toHaveProperty('bestAvailable');
    expect(steps(same.commands)[0]?.step.detail).toEqual({ outcome: 'not_recovered', verdict: short });
  });

  it('without a baseline the recovery is recorded as the finding having cleared', () => {
    const { commands } = step(inFlight('latency', remedy('rollback'), { baseline: null }), applied(5, 6));
    const [closing] = only(commands, 'record-incident');
    expect(closing?.record).toMatchObject({
      status: 'recovered',
      close: true,
      step: {
        key: '0:recovered',
        summary: 'done; no pre-failure baseline to verify against, the finding cleared',
      },
    });
    expect(closing?.incident.attempts[0]?.outcome).toBe('recovered');
  });

  it('events for a step that is not running change nothing', () => {
    const idle = agentState({ openIncident: openIncident('failures'), deployment: servingFacts(LONG_AGO) });
    const events: LifecycleEvent[] = [
      { kind: 'approval', at: T, approved: true, actor: 'ana', reason: 'go' },
      { kind: 'timer', at: T },
      {
        kind: 'remedy-result',
        at: T,
        result: { outcome: 'applied', before: 5, after: 6, detail: 'x' },
        deployment: null,
      },
      { kind: 'probe-result', at: T, ok: true },
      {
        kind: 'verdict',
        at: T,
        verdict: { verdict: 'recovered', rows: 1, value: 1, baseline: 1, pValue: 1, detail: '' },
      },
      { kind: 'acknowledge', at: T, request: { actor: 'ana', reason: 'seen' } },
    ];
    for (const event of events) {
      const next = step(idle, event);
      expect(next.commands, event.kind).toEqual([]);
      expect(next.state.openIncident, event.kind).toEqual(idle.openIncident);
      expect(next.state.inFlight, event.kind).toBeNull();
    }
    // Nor does an approval's timer once its answer came (the flight moved on to the remedy).
    const running = inFlight('failures', remedy('fallback'));
    expect(step(running, { kind: 'timer', at: T + 365 * 24 * 60 * MINUTE }).commands).toEqual([]);
  });
});

describe('the audit trail of approvals, exactly', () => {
  const policy = (onTimeout: string) =>
    policyWith({ approvals: { fallback: { mode: 'approve', timeout: '10 minutes', onTimeout } } });
  const awaiting = (onTimeout = 'disable') => feed(2, servingFacts(LONG_AGO), policy(onTimeout));
  const approvalRow = (status: string, actor: string, reason: string) => ({
    key: 'incident:inc-7:0:approval',
    type: 'approve:fallback',
    actor,
    status,
    reason,
    incidentId: 'inc-7',
    detail: { rule: 'system-regression-fallback', approvalId: 'inc-7:0' },
  });

  it('asks: a pending row, the incident awaiting, a wait until the timeout', () => {
    const { state, commands } = awaiting();
    const at = Date.parse(healthyWindow(7).endAt);
    const { reason } = state.lastDecision!;
    expect(only(commands, 'record-action').map((c) => c.record)).toEqual([
      approvalRow('pending', 'agent', `fallback waits for approval: ${reason}`),
    ]);
    expect(only(commands, 'await-approval')).toEqual([
      { kind: 'await-approval', approvalId: 'inc-7:0', until: at + 10 * MINUTE },
    ]);
    expect(state.pendingApproval).toEqual({
      id: 'inc-7:0',
      incidentId: 'inc-7',
      action: 'fallback',
      rule: 'system-regression-fallback',
      reason,
      requestedAt: at,
      expiresAt: at + 10 * MINUTE,
      onTimeout: 'disable',
    });
    expect(state.openIncident?.status).toBe('awaiting_approval');
    expect(kinds(commands)).not.toContain('run-remedy');
  });

  it('answered: the approver is audited as a human, and the remedy runs in their name', () => {
    const { state } = awaiting();
    const approved = step(state, { kind: 'approval', at: T, approved: true, actor: 'ana', reason: 'go' });
    expect(only(approved.commands, 'record-action').map((c) => c.record)).toEqual([
      {
        ...approvalRow('succeeded', 'human:ana', 'go'),
        detail: { rule: 'system-regression-fallback', approvalId: 'inc-7:0' },
      },
      expect.objectContaining({ type: 'fallback', actor: 'human:ana', status: 'started' }),
    ]);
    const rejected = step(state, { kind: 'approval', at: T, approved: false, actor: 'ana', reason: 'no' });
    expect(record0(rejected.commands)).toEqual(approvalRow('rejected', 'human:ana', 'no'));
    expect(rejected.state.openIncident?.status).toBe('open');
    expect(rejected.state.pendingApproval).toBeNull();
    expect(rejected.state.inFlight).toBeNull();
    expect(only(rejected.commands, 'record-incident')[0]?.record.step.summary).toBe('rejected by ana: no');
  });

  it('unanswered: expired is audited by the agent, and onTimeout is taken — or, if no remedy, nothing is', () => {
    const { state } = awaiting();
    const expired = step(state, { kind: 'timer', at: state.pendingApproval!.expiresAt });
    expect(record0(expired.commands)).toEqual(
      approvalRow('expired', 'agent', 'nobody answered in 10 minutes; taking disable'),
    );
    expect(expired.state.openIncident?.attempts[0]?.detail).toBe(
      'approval expired after 10 minutes; took the safe action disable',
    );
    expect(expired.state.pendingApproval).toBeNull();

    const alertOnly = awaiting('alert').state;
    const notTaken = step(alertOnly, { kind: 'timer', at: alertOnly.pendingApproval!.expiresAt });
    expect(kinds(notTaken.commands)).toEqual(['record-action', 'record-incident']);
    expect(notTaken.state.openIncident?.attempts[0]).toMatchObject({
      action: 'fallback',
      outcome: 'expired',
      detail: 'approval expired after 10 minutes; took the safe action alert',
    });
    expect(notTaken.state.openIncident?.status).toBe('open');
    expect(notTaken.state.inFlight).toBeNull();
  });

  const record0 = (commands: LifecycleCommand[]) => only(commands, 'record-action')[0]?.record;
});

describe('the audit trail of escalations and human acts, exactly', () => {
  it('the escalation step carries the attempts; the acknowledgement is audited as the person, via their channel', () => {
    const { attempts, next: escalated } = exhaustLadder();
    const reason = escalated.state.lastDecision!.escalate!.reason;
    const escalation = only(escalated.commands, 'record-incident').find(
      (c) => c.record.status === 'escalated',
    );
    expect(escalation?.record).toEqual({
      incidentId: 'inc-1',
      status: 'escalated',
      close: false,
      step: {
        key: 'escalated',
        at: new Date(T).toISOString(),
        phase: 'escalated',
        summary: reason,
        detail: { attempts },
      },
    });

    const ack = step(escalated.state, {
      kind: 'acknowledge',
      at: T + MINUTE,
      request: { actor: 'ana', reason: 'on it', via: 'slack' },
    });
    expect(only(ack.commands, 'record-action')[0]?.record).toEqual({
      key: 'incident:inc-1:acknowledge',
      type: 'acknowledge',
      actor: 'human:ana',
      status: 'succeeded',
      reason: 'on it',
      incidentId: 'inc-1',
      detail: { via: 'slack' },
    });
    expect(only(ack.commands, 'record-incident')[0]?.record).toEqual({
      incidentId: 'inc-1',
      status: 'escalated',
      close: true,
      step: {
        key: 'acknowledged',
        at: new Date(T + MINUTE).toISOString(),
        phase: 'acknowledged',
        summary: 'acknowledged by ana: on it',
      },
    });
    const direct = step(escalated.state, {
      kind: 'acknowledge',
      at: T,
      request: { actor: 'ana', reason: 'ok' },
    });
    expect(only(direct.commands, 'record-action')[0]?.record.detail).toEqual({});
  });

  it('a failed step: the earlier detail is kept; an escalated incident stays escalated; no incident, no record', () => {
    const pending = inFlight('latency', remedy('rollback'), {
      attempts: [{ action: 'rollback', at: T, outcome: 'pending', detail: 'waiting' }],
    });
    const failed = step(pending, { kind: 'step-failed', at: T, error: 'boom' });
    expect(failed.state.openIncident?.attempts[0]?.detail).toBe('waiting; failed: boom');
    expect(failed.state.openIncident?.status).toBe('open');
    expect(failed.state.pendingApproval).toBeNull();

    const escalated = inFlight('latency', remedy('rollback'), { status: 'escalated' });
    expect(step(escalated, { kind: 'step-failed', at: T, error: 'boom' }).state.openIncident?.status).toBe(
      'escalated',
    );
    const ended = inFlight('latency', remedy('rollback'), {
      attempts: [{ action: 'rollback', at: T, outcome: 'failed', detail: 'gone' }],
    });
    expect(
      step(ended, { kind: 'step-failed', at: T, error: 'boom' }).state.openIncident?.attempts[0],
    ).toEqual({
      action: 'rollback',
      at: T,
      outcome: 'failed',
      detail: 'gone',
    });
    const none = step(agentState({ inFlight: remedy('rollback') }), {
      kind: 'step-failed',
      at: T,
      error: 'boom',
    });
    expect(none.state.inFlight).toBeNull();
    expect(none.commands).toEqual([]);
  });
});
