// The per-model agent: a long-running entity workflow that runs Monitor → Detect → Decide → record,
// then sleeps on a durable timer. Its state survives worker crashes and is carried through continueAsNew.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { decide } from './decide.ts';
import { detect, initialDetectorState } from './detect.ts';
import { pauseUpdate, resumeUpdate, statusQuery } from './messages.ts';
import type { AgentInput, AgentState, Health, PauseRequest } from './types.ts';

const { monitorWindow, recordCycle, recordOperatorAction } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: ['ModelNotFound'],
  },
});

export const AGENT_DEFAULTS = { cycleInterval: '1 minute', maxCyclesPerRun: 500 } as const;

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

function validateOperatorRequest(request: PauseRequest): void {
  // Update validators must be synchronous: a returned promise would be ignored and nothing rejected.
  if (typeof request?.reason !== 'string' || request.reason.trim() === '') {
    throw new Error('reason is required');
  }
  if (typeof request.actor !== 'string' || request.actor.trim() === '') throw new Error('actor is required');
}

function healthOf(state: AgentState): Health {
  if (state.paused) return 'paused';
  // The same rule as the fleet view (api/routes/history.ts): an open incident whose finding is easing
  // is recovering, otherwise degraded.
  const incident = state.openIncident;
  if (incident) {
    const easing = state.lastFindings.some((f) => f.kind === incident.kind && f.state === 'recovering');
    return easing ? 'recovering' : 'degraded';
  }
  return state.lastWindow ? 'healthy' : 'starting';
}

export async function agentWorkflow(input: AgentInput): Promise<never> {
  const state: AgentState = input.state ?? initialState(input.modelName);
  const cycleInterval = input.cycleInterval ?? AGENT_DEFAULTS.cycleInterval;
  const maxCyclesPerRun = input.maxCyclesPerRun ?? AGENT_DEFAULTS.maxCyclesPerRun;
  const { workflowId } = workflowInfo();
  let wake = false;

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

  // A new agent measures at once; a continued run first waits out the interval its predecessor began.
  let sleepFirst = input.state !== undefined;
  for (let cyclesThisRun = 0; ; cyclesThisRun++) {
    if (sleepFirst) {
      await condition(() => wake, cycleInterval);
      wake = false;
    }
    sleepFirst = true;
    if (!state.paused) {
      const cycle = state.cycle;
      const window = await monitorWindow({ modelName: state.modelName, seq: cycle });
      const detected = detect(window, state.detector);
      const decision = decide({ findings: detected.findings, openIncident: state.openIncident });
      const incidentId = 'open' in (decision.incident ?? {}) ? uuid4() : null;
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
      state.detector = detected.state;
      state.lastWindow = window;
      state.lastFindings = detected.findings;
      state.lastDecision = decision;
      if (decision.incident && 'open' in decision.incident && incidentId) {
        state.openIncident = { id: incidentId, kind: decision.incident.open.kind, openedAtCycle: cycle };
      } else if (decision.incident && 'close' in decision.incident) {
        state.openIncident = null;
      }
      state.cycle = cycle + 1;
      state.health = healthOf(state);
    }

    if (workflowInfo().continueAsNewSuggested || cyclesThisRun + 1 >= maxCyclesPerRun) {
      // Never hand over mid-update: the next run must start from a state no handler is still changing.
      await condition(allHandlersFinished);
      state.runs += 1;
      await continueAsNew<typeof agentWorkflow>({ ...input, state });
    }
  }
}
