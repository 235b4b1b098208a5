// Reads an agent's workflow history for bench:fleet: when each cycle was due and when it ran, how long
// workflow tasks waited and ran, and how many events and bytes a cycle adds to the run.
import type { Timestamp } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import proto from '@temporalio/proto';

const { temporal } = proto;

type History = proto.temporal.api.history.v1.IHistory;
const EventType = temporal.api.enums.v1.EventType;

/** The activity that opens every cycle (workflows/agent.ts): its scheduling is the cycle running. */
const CYCLE_ACTIVITY = 'closedWindowsSince';

export interface HistoryFigures {
  events: number;
  bytes: number;
  /** Bytes of the run's input: the agent state carried over by continueAsNew. */
  inputBytes: number;
  cycles: number;
  /** Per cycle after a sleep: the cycle's first activity scheduled minus the end of the sleep, ms. */
  cycleLagMs: number[];
  /** Per cycle: that activity's start minus its scheduling (waiting for an activity slot), ms. */
  activityScheduleToStartMs: number[];
  /** Per workflow task: scheduled to started (waiting for the worker), ms. */
  workflowTaskWaitMs: number[];
  /** Per workflow task: started to completed (the worker running the workflow code), ms. */
  workflowTaskRunMs: number[];
  /** Events in the run when the server first suggested continue-as-new, if it did. */
  continueAsNewSuggestedAt: number | null;
  /** The start delay of the run (the jitter of lib/temporal.ts), ms. */
  startDelayMs: number;
}

const ms = (ts: Timestamp | null | undefined) => tsToMs(ts);
const durationMs = (d: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  d ? Number(d.seconds ?? 0) * 1000 + (d.nanos ?? 0) / 1e6 : 0;

/** `cycleIntervalMs` tells the cycle's sleep from other timers (a remedy's hold, an approval's timeout). */
export function historyFigures(history: History, cycleIntervalMs: number): HistoryFigures {
  const events = history.events ?? [];
  const figures: HistoryFigures = {
    events: events.length,
    bytes: temporal.api.history.v1.History.encode(history).finish().length,
    inputBytes: 0,
    cycles: 0,
    cycleLagMs: [],
    activityScheduleToStartMs: [],
    workflowTaskWaitMs: [],
    workflowTaskRunMs: [],
    continueAsNewSuggestedAt: null,
    startDelayMs: 0,
  };
  const cycleTimers = new Map<string, number>(); // timer id → when it was due
  const scheduledAt = new Map<string, { at: number; cycle: boolean }>(); // event id → time
  let dueCycle: number | null = null;
  for (const [index, e] of events.entries()) {
    const at = ms(e.eventTime);
    const id = String(e.eventId);
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        const a = e.workflowExecutionStartedEventAttributes!;
        figures.inputBytes = (a.input?.payloads ?? []).reduce((n, p) => n + (p.data?.length ?? 0), 0);
        figures.startDelayMs = durationMs(a.firstWorkflowTaskBackoff);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        scheduledAt.set(id, { at, cycle: false });
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
        const a = e.workflowTaskStartedEventAttributes!;
        const scheduled = scheduledAt.get(String(a.scheduledEventId));
        if (scheduled) figures.workflowTaskWaitMs.push(at - scheduled.at);
        scheduledAt.set(`wft-started:${id}`, { at, cycle: false });
        if (a.suggestContinueAsNew && figures.continueAsNewSuggestedAt === null)
          figures.continueAsNewSuggestedAt = index + 1;
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
        const started = scheduledAt.get(
          `wft-started:${e.workflowTaskCompletedEventAttributes!.startedEventId}`,
        );
        if (started) figures.workflowTaskRunMs.push(at - started.at);
        break;
      }
      case EventType.EVENT_TYPE_TIMER_STARTED: {
        const a = e.timerStartedEventAttributes!;
        const timeout = durationMs(a.startToFireTimeout);
        if (Math.abs(timeout - cycleIntervalMs) < 1) cycleTimers.set(a.timerId!, at + timeout);
        break;
      }
      case EventType.EVENT_TYPE_TIMER_FIRED: {
        const due = cycleTimers.get(e.timerFiredEventAttributes!.timerId!);
        if (due !== undefined) dueCycle = due;
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const cycle = e.activityTaskScheduledEventAttributes!.activityType?.name === CYCLE_ACTIVITY;
        scheduledAt.set(id, { at, cycle });
        if (!cycle) break;
        figures.cycles++;
        if (dueCycle !== null) figures.cycleLagMs.push(at - dueCycle);
        dueCycle = null;
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const scheduled = scheduledAt.get(String(e.activityTaskStartedEventAttributes!.scheduledEventId));
        if (scheduled?.cycle) figures.activityScheduleToStartMs.push(at - scheduled.at);
        break;
      }
    }
  }
  return figures;
}
