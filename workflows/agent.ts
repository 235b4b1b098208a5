// The per-model agent: a long-running entity workflow that interprets the incident lifecycle
// (lib/brain/lifecycle.ts). Every cycle it measures a window and hands it to step(), with the updates of
// people (pause, approvals, acknowledge, revert, policy) as further events; it carries out the commands
// step() returns — activities, child workflows, timers — and feeds their outcomes back as events. Events
// are taken one at a time, in order, so nothing else ever writes the state; work that waits (a remedy, a
// verification, an approval) runs beside the loop, so monitoring never stops. State survives worker
// crashes and is carried through continueAsNew.
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { AGENT_DEFAULTS } from '../lib/agent-defaults.ts';
import type { Remedy } from '../lib/brain/contracts.ts';
import { cycleClock, cycleStartMs, msToNextCycle } from '../lib/brain/cycle-clock.ts';
import { initialLifecycleState, step } from '../lib/brain/lifecycle.ts';
import type {
  LifecycleCommand,
  LifecycleEvent,
  LifecycleState,
  RemedyResult,
} from '../lib/brain/lifecycle-types.ts';
import { type AgentIndex, agentIndexOf } from '../lib/brain/status.ts';
import type {
  AgentInput,
  AgentState,
  AgentStatus,
  ApprovalAnswer,
  OpenWindow,
  PauseRequest,
} from '../lib/brain/types.ts';
import { spokenDuration } from '../lib/policy/duration.ts';
import { SEARCH_ATTRIBUTES } from '../lib/search-attributes.ts';
import { STEP_OPTIONS, WEBHOOK_OPTIONS } from './activity-options.ts';
import {
  acknowledgeUpdate,
  approveUpdate,
  cycleClockQuery,
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
  retrainWorkflow,
  rollbackWorkflow,
  verifyWorkflow,
} from './remedies.ts';
import { webhookRemedyWorkflow } from './webhook-remedy.ts';

const { monitorWindow, recordCycle, recordOperatorAction } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: ['ModelNotFound'],
  },
});
const acts = proxyActivities<Activities>(STEP_OPTIONS);
// An escalation that could not be delivered is audited, and the dashboard remains the channel.
const escalation = proxyActivities<Activities>(WEBHOOK_OPTIONS);

const REMEDY_WORKFLOWS = {
  rollback: rollbackWorkflow,
  retrain: retrainWorkflow,
  fallback: fallbackWorkflow,
  disable: disableWorkflow,
  webhook: webhookRemedyWorkflow,
} satisfies Record<Remedy, (input: RemedyInput) => Promise<RemedyResult>>;

function requireText(value: unknown, name: string): void {
  if (typeof value !== 'string' || value.trim() === '') throw new Error(`${name} is required`);
}

function validateOperatorRequest(request: PauseRequest): void {
  // Update validators must be synchronous: a returned promise would be ignored and nothing rejected.
  requireText(request?.reason, 'reason');
  requireText(request.actor, 'actor');
}

/**
 * Keeps the agent's search attributes (lib/search-attributes.ts) equal to its state, so that the Temporal
 * UI filters agents by health, incident and remedy. Only a changed value is upserted: each upsert is an
 * event in the history. A continued run starts from the attributes its predecessor left.
 */
function searchAttributeIndexer(): (state: AgentState) => void {
  const roles = Object.keys(SEARCH_ATTRIBUTES) as (keyof AgentIndex)[];
  const { typedSearchAttributes } = workflowInfo();
  const published = new Map(
    roles.map((role) => [role, typedSearchAttributes.get(SEARCH_ATTRIBUTES[role]) ?? null]),
  );
  return (state) => {
    const index = agentIndexOf(state);
    const changed = roles.filter((role) => index[role] !== published.get(role));
    if (changed.length === 0) return;
    upsertSearchAttributes(changed.map((role) => ({ key: SEARCH_ATTRIBUTES[role], value: index[role] })));
    for (const role of changed) published.set(role, index[role]);
  };
}

export async function agentWorkflow(input: AgentInput): Promise<never> {
  let state: LifecycleState = input.state ?? initialLifecycleState(input.modelName);
  const cycleInterval = input.cycleInterval ?? AGENT_DEFAULTS.cycleInterval;
  const clock = cycleClock(input.cycleAnchor ?? Date.now(), cycleInterval);
  const maxCyclesPerRun = input.maxCyclesPerRun ?? AGENT_DEFAULTS.maxCyclesPerRun;
  const { maxWindowsPerCycle } = AGENT_DEFAULTS;
  const { workflowId } = workflowInfo();
  const { modelName } = state;
  let wake = false;
  /** The window the last cycle found still open (the status query shows it). */
  let openWindow: OpenWindow | undefined;
  /** Commands running beside the loop (children, probes, timers): a run hands over only once none is. */
  let beside = 0;

  // ---- the event queue: one event at a time, through step(), its commands carried out in order ----
  let queue: Promise<void> = Promise.resolve();
  const index = searchAttributeIndexer();
  /** Takes `event` after every event before it; resolves once its commands are done (rejects if one failed). */
  function dispatch(event: LifecycleEvent): Promise<void> {
    const taken = queue.then(async () => {
      const next = step(state, event);
      state = next.state;
      index(state);
      for (const command of next.commands) await perform(command);
    });
    queue = taken.catch(() => undefined);
    return taken;
  }
  /** Runs `work` beside the loop; its outcome comes back as an event, a failure as 'step-failed'. */
  function besideLoop(what: string, work: () => Promise<LifecycleEvent | null>): void {
    beside++;
    void (async () => {
      try {
        const event = await work();
        if (event) await dispatch(event);
      } catch (error) {
        // A step that failed for good (a non-retryable activity error) ends this attempt, not the agent:
        // the next decision sees a failed attempt and takes the next rung, or escalates.
        log.error('a lifecycle step failed', { what, error: String(error) });
        await dispatch({ kind: 'step-failed', at: Date.now(), error: String(error) }).catch(() => undefined);
      } finally {
        beside--;
      }
    })();
  }
  const readDeployment = () => acts.describeDeployment({ modelName });

  async function perform(command: LifecycleCommand): Promise<void> {
    switch (command.kind) {
      case 'record-cycle':
        return recordCycle({
          modelName,
          cycle: command.cycle,
          idempotencyKey: `${workflowId}:cycle:${command.cycle}`,
          window: command.window,
          findings: command.findings,
          decision: command.decision,
          openIncidentId: command.openIncidentId,
          newIncidentId: command.newIncidentId,
        });
      case 'record-incident':
        await acts.updateIncident(command.record);
        return;
      case 'record-action':
        await acts.recordAction({ ...command.record, key: `${workflowId}:${command.record.key}`, modelName });
        return;
      case 'record-operator-action':
        return recordOperatorAction({
          modelName,
          type: command.type,
          request: command.request,
          cycle: command.cycle,
          key: uuid4(),
        });
      case 'await-approval':
        return besideLoop('approval', async () => {
          const answered = await condition(
            () => state.pendingApproval?.id !== command.approvalId,
            Math.max(1, command.until - Date.now()),
            { summary: `wait for a person to approve, until ${new Date(command.until).toISOString()}` },
          );
          return answered ? null : { kind: 'timer', at: Date.now() };
        });
      case 'hold':
        return besideLoop('hold', async () => {
          const ended = await condition(
            () => state.inFlight?.phase !== 'holding',
            Math.max(1, command.until - Date.now()),
            { summary: `hold the remedy in place until ${new Date(command.until).toISOString()}` },
          );
          return ended ? null : { kind: 'timer', at: Date.now() };
        });
      case 'run-remedy':
        return besideLoop(command.action, async () => {
          const remedyInput: RemedyInput = {
            modelName,
            incidentId: command.incidentId,
            reason: command.reason,
            actor: command.actor,
            cycle: clock,
            rollbackTo: command.rollbackTo,
            ...(command.segment ? { segment: command.segment } : {}),
            since: command.since,
            retrain: command.retrain,
            materialGain: command.materialGain,
          };
          let result: RemedyResult;
          try {
            result = await executeChild(REMEDY_WORKFLOWS[command.action], {
              workflowId: `${workflowId}:${command.key}`,
              args: [remedyInput],
              staticSummary: `${command.action} ${modelName} (incident ${command.incidentId})`,
              staticDetails: command.reason,
            });
          } catch (error) {
            result = {
              outcome: 'failed',
              before: null,
              after: null,
              detail: `the ${command.action} workflow failed: ${String(error)}`,
            };
          }
          return { kind: 'remedy-result', at: Date.now(), result, deployment: await readDeployment() };
        });
      case 'probe':
        return besideLoop('probe', async () => {
          const probe = await acts.probeVersion({ modelName, version: command.version, rows: 20 });
          return { kind: 'probe-result', at: Date.now(), ok: probe.ok };
        });
      case 'restore':
        return besideLoop(command.purpose, async () => {
          await acts.restoreDeploymentFor({
            modelName,
            key: `${workflowId}:${command.key}`,
            actor: 'agent',
            reason: command.reason,
            incidentId: command.incidentId,
            revision: command.revision,
          });
          return { kind: 'restored', at: Date.now(), deployment: await readDeployment() };
        });
      case 'verify':
        return besideLoop('verify', async () => {
          // Only traffic from now on counts, by the store's clock (rows are stamped by it).
          const since = await acts.storeTime();
          const verdict = await executeChild(verifyWorkflow, {
            workflowId: `${workflowId}:${command.key}`,
            staticSummary: `verify ${modelName} against its pre-failure baseline (incident ${command.incidentId})`,
            args: [
              {
                modelName,
                incidentId: command.incidentId,
                baseline: command.baseline,
                since,
                cycle: clock,
                verification: command.verification,
              },
            ],
          });
          return { kind: 'verdict', at: Date.now(), verdict };
        });
      case 'escalate':
        return besideLoop('escalation', async () => {
          const key = `${workflowId}:${command.key}`;
          try {
            await escalation.sendEscalation({
              modelName,
              incidentId: command.incidentId,
              key,
              pack: { ...command.pack, workflowId },
            });
          } catch (error) {
            log.error('escalation webhook could not be delivered', { error: String(error) });
            await acts.recordAction({
              key: `${key}:undelivered`,
              modelName,
              type: 'escalate',
              actor: 'agent',
              status: 'failed',
              reason: `webhook not delivered: ${String(error)}`,
              incidentId: command.incidentId,
            });
          }
          return null;
        });
    }
  }

  // ---- queries and updates: people's acts are events like any other ----
  setHandler(statusQuery, (): AgentStatus => (openWindow ? { ...state, openWindow } : state));
  setHandler(cycleClockQuery, () => clock);
  // Pause and resume are one toggle: refuse a no-op, then the lifecycle flips the flag and audits it.
  const operatorToggle = (kind: 'pause' | 'resume') => async (request: PauseRequest) => {
    const pausing = kind === 'pause';
    if (state.paused === pausing) {
      throw ApplicationFailure.create({
        type: pausing ? 'AlreadyPaused' : 'NotPaused',
        message: pausing ? 'agent is already paused' : 'agent is not paused',
      });
    }
    await dispatch({ kind, at: Date.now(), request });
    if (!pausing) wake = true; // run a cycle now rather than at the end of the current sleep
    return state;
  };
  setHandler(pauseUpdate, operatorToggle('pause'), { validator: validateOperatorRequest });
  setHandler(resumeUpdate, operatorToggle('resume'), { validator: validateOperatorRequest });

  const validateApproval = (answer: ApprovalAnswer) => {
    validateOperatorRequest(answer);
    const pending = state.pendingApproval;
    if (!pending) throw new Error('no action is waiting for approval');
    if (answer.approvalId !== pending.id) {
      throw new Error(`approval ${answer.approvalId} is not the pending one (${pending.id})`);
    }
  };
  const answerApproval = (approved: boolean) => async (answer: ApprovalAnswer) => {
    await dispatch({
      kind: 'approval',
      at: Date.now(),
      approved,
      actor: answer.actor,
      reason: answer.reason,
    });
    return state;
  };
  setHandler(approveUpdate, answerApproval(true), { validator: validateApproval });
  setHandler(rejectUpdate, answerApproval(false), { validator: validateApproval });

  setHandler(
    acknowledgeUpdate,
    async (request) => {
      await dispatch({ kind: 'acknowledge', at: Date.now(), request });
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
        modelName,
        key: uuid4(),
        actionId: request.actionId,
        actor: `human:${request.actor}`,
        reason: request.reason,
      });
      await dispatch({ kind: 'deployment-changed', at: Date.now(), deployment: await readDeployment() });
      return state;
    },
    {
      validator: (request) => {
        validateOperatorRequest(request);
        requireText(request.actionId, 'actionId');
        if (state.inFlight)
          throw new Error('a remedy is in progress; wait for it to finish (or pause) before reverting');
      },
    },
  );

  setHandler(
    setPolicyUpdate,
    async (request) => {
      const stored = await acts
        .savePolicy({
          modelName,
          key: uuid4(),
          policy: request.policy,
          actor: `human:${request.actor}`,
          reason: request.reason,
        })
        .catch((error: unknown) => {
          // The document is validated by the API and by savePolicy, which refuses an invalid one for
          // good (InvalidPolicy): the update fails with its issues, and nothing changes.
          const cause = error instanceof ActivityFailure ? error.cause : undefined;
          if (cause instanceof ApplicationFailure && cause.type === 'InvalidPolicy') {
            throw ApplicationFailure.create({ type: 'InvalidPolicy', message: cause.message });
          }
          throw error;
        });
      const policy = { version: stored.version, document: stored.policy };
      await dispatch({ kind: 'policy-changed', at: Date.now(), policy });
      return state;
    },
    { validator: validateOperatorRequest },
  );

  // ---- the loop: a cycle measures the window the rule has closed ----
  if (!state.policy) {
    const stored = await acts.loadPolicy({ modelName });
    const policy = { version: stored.version, document: stored.policy };
    await dispatch({ kind: 'policy-changed', at: Date.now(), policy });
  }
  // A new agent measures at once; a continued run first waits for the next cycle of the grid.
  let sleepFirst = input.state !== undefined;
  // A new agent's first window opens with it.
  let windowOpenedAt = input.windowOpenedAt ?? (input.state ? undefined : clock.anchorMs);
  for (let cyclesThisRun = 0; ; cyclesThisRun++) {
    if (sleepFirst) {
      await condition(() => wake, msToNextCycle(clock, Date.now()), {
        summary: `wait for the next cycle (every ${spokenDuration(cycleInterval)})`,
      });
      wake = false;
    }
    sleepFirst = true;
    // The window since the last one, once the policy's rule has closed it (until then the cycle has
    // nothing to judge); after a gap, the windows the backlog is cut into, a bounded number a cycle
    // (lib/brain/windows.ts).
    const cycleAt = cycleStartMs(clock, Date.now());
    for (let measured = 0; !state.paused && measured < maxWindowsPerCycle; measured++) {
      const window = await monitorWindow.executeWithOptions({ summary: `measure window ${state.cycle}` }, [
        {
          modelName,
          seq: state.cycle,
          cycleMs: clock.intervalMs,
          ...(windowOpenedAt === undefined ? {} : { openedForMs: cycleAt - windowOpenedAt }),
        },
      ]);
      if ('open' in window) {
        openWindow = window;
        break;
      }
      openWindow = undefined;
      // A window of a backlog opens the next where it ended, in the store's time.
      windowOpenedAt = window.behind ? undefined : cycleAt;
      const deployment = await readDeployment();
      await dispatch({ kind: 'window', at: Date.now(), window, deployment, incidentId: uuid4() });
      if (!window.behind) break;
    }
    if (workflowInfo().continueAsNewSuggested || cyclesThisRun + 1 >= maxCyclesPerRun) {
      // Children do not outlive a run: let the work beside the loop finish (the loop keeps measuring), and
      // never hand over mid-update: the next run must start from a state no handler is still changing.
      if (beside > 0) continue;
      await condition(allHandlersFinished);
      await continueAsNew<typeof agentWorkflow>({
        ...input,
        cycleAnchor: clock.anchorMs,
        ...(windowOpenedAt === undefined ? {} : { windowOpenedAt }),
        state: { ...state, runs: state.runs + 1 },
      });
    }
  }
}
