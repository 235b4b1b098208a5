// The differential harness (issue 13, item 6): one simulator scenario driven through the real agent
// (test/helpers/scenario-run.ts: time-skipping Temporal, the real worker and activities, SQLite), then the
// same stream replayed by the backtest (lib/backtest/replay.ts) in the same windows, under the same policy,
// from the same deployment. Both sides are reduced to one comparable trace: what was decided in each
// window, which decisions acted, which remedies ran and how they ended, and how each incident ended.
//
// The backtest is fed exactly what the agent saw, through the backtest's own export (lib/backtest/
// export.ts and windows.ts): the predictions and labels as the store received them, the windows the
// agent's monitor cut (MetricWindow), the deployment changes people made (the harness's first deployment
// and, in latency-regression, the slow release) with their versions, and the policy stored for the model.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type DeploymentHistory, readDeploymentsFile } from '../../lib/backtest/deployments.ts';
import { exportStream } from '../../lib/backtest/export.ts';
import { runBacktest } from '../../lib/backtest/replay.ts';
import type { BacktestReport, ReportIncident } from '../../lib/backtest/report.ts';
import { readStreamFile } from '../../lib/backtest/stream-file.ts';
import { exportWindows, readWindowsFile } from '../../lib/backtest/windows.ts';
import type { Store } from '../../lib/db/client.ts';
import { parseModelArtifact } from '../../lib/models/index.ts';
import { parsePolicy } from '../../lib/policy/policy.ts';
import { loadRoutingSecret } from '../../lib/registry/routing-secret.ts';
import { storedSegments } from '../../lib/segments/definition.ts';
import type { Scenario } from '../../lib/sim/scenarios.ts';
import {
  attemptsOf,
  modelNameOf,
  REMEDIES,
  type RunOptions,
  runScenario,
  type ScenarioEnv,
  type ScenarioRunResult,
} from './scenario-run.ts';

/** One window's decision, where it is not 'healthy'. */
export interface WindowDecision {
  window: number;
  action: string;
  rule: string;
}

/** A remedy the agent started, and how its attempt ended. */
export interface RemedyTrace {
  action: string;
  outcome: string;
}

export interface IncidentTrace {
  kind: string;
  /** The window whose decision opened it. */
  openedWindow: number;
  /** recovered, escalated, or open when the stream ended first. */
  outcome: string;
  remedies: RemedyTrace[];
}

/** What one side did with the stream. */
export interface Trace {
  /** Every decision that was not 'healthy', by the window (MetricWindow seq) it judged. */
  decisions: WindowDecision[];
  incidents: IncidentTrace[];
}

export interface DifferentialRun {
  scenario: string;
  seed: number;
  temporal: Trace;
  backtest: Trace;
  run: ScenarioRunResult;
  report: BacktestReport;
}

/** Whether a decision acted: a remedy, or a hand-over to a human. */
function acting(d: WindowDecision): boolean {
  return (REMEDIES as readonly string[]).includes(d.action) || d.rule.endsWith('-escalate');
}

/** The incident statuses the backtest's report names as they are; it reports every other as 'open'. */
const CONCLUDED: readonly string[] = [
  'recovered',
  'rebaselined',
  'escalated',
] satisfies ReportIncident['outcome'][];

/** The agent's trace, from the store it wrote. */
async function temporalTrace(store: Store, name: string): Promise<Trace> {
  const model = await store.model.findUniqueOrThrow({ where: { name } });
  const where = { modelId: model.id };
  const [decisions, incidents, actions] = await Promise.all([
    store.decision.findMany({ where, orderBy: { cycle: 'asc' } }),
    store.incident.findMany({ where, orderBy: { openedAt: 'asc' } }),
    store.action.findMany({ where, orderBy: { createdAt: 'asc' } }),
  ]);
  const openedIn = (id: string) => decisions.find((d) => d.incidentId === id)?.cycle ?? -1;
  return {
    decisions: decisions
      .filter((d) => d.rule !== 'healthy')
      .map((d) => ({ window: d.cycle, action: d.action, rule: d.rule })),
    incidents: incidents.map((i) => ({
      kind: i.kind,
      openedWindow: openedIn(i.id),
      // A closed or escalated incident keeps its status (acknowledged or not); every other status is
      // still open, as in the backtest's report.
      outcome: CONCLUDED.includes(i.status) ? i.status : 'open',
      remedies: attemptsOf(actions, i).map((a) => ({ action: a.action, outcome: a.outcome })),
    })),
  };
}

/** The backtest's trace, its windows numbered as the agent's (the report's seq counts replayed windows). */
function backtestTrace(report: BacktestReport, seqOf: (endAt: string) => number): Trace {
  const window = (seq: number) => seqOf(report.windows[seq]!.endAt);
  return {
    decisions: report.decisions.map((d) => ({ window: window(d.window), action: d.action, rule: d.rule })),
    incidents: report.incidents.map((i) => ({
      kind: i.kind,
      openedWindow: window(i.openedWindow),
      outcome: i.outcome,
      remedies: i.attempts.map((a) => ({ action: a.action, outcome: a.outcome })),
    })),
  };
}

/**
 * The deployment history as exported, with each version behind the harness's HTTP model server replaced
 * by the version that server answers with (v1: startProxyModelServer fronts it): the server is gone when
 * the backtest runs, and its recorded latency and failures are replayed from the stream anyway.
 */
function servedInProcess(history: DeploymentHistory, v1: unknown): DeploymentHistory {
  const artifact = parseModelArtifact(v1);
  return {
    ...history,
    versions: history.versions.map((v) => (v.artifact.kind === 'http' ? { ...v, artifact } : v)),
  };
}

/** Replays what the store recorded of the model through the backtest, in the agent's windows. */
async function backtestOfRun(store: Store, name: string): Promise<{ report: BacktestReport; trace: Trace }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homeostat-differential-'));
  try {
    const [stream, deployments, windows] = ['stream.jsonl', 'deployments.json', 'windows.json'].map((f) =>
      path.join(dir, f),
    ) as [string, string, string];
    await exportStream(store, name, { out: stream, deploymentsOut: deployments });
    await exportWindows(store, name, windows);
    const model = await store.model.findUniqueOrThrow({ where: { name } });
    const v1 = await store.modelVersion.findFirstOrThrow({ where: { modelId: model.id, version: 1 } });
    const policy = parsePolicy(model.policy ?? {});
    if (!policy.ok)
      throw new Error(`${name}: the stored policy does not parse: ${JSON.stringify(policy.issues)}`);
    const history = servedInProcess(readDeploymentsFile(deployments), v1.artifact);
    const report = await runBacktest({
      stream: readStreamFile(stream, {
        schema: history.schema,
        task: history.task,
        ...(history.classes ? { classes: history.classes } : {}),
      }),
      // The policy the agent ran under, as stored for the model.
      policy: policy.policy,
      deployments: history,
      windows: readWindowsFile(windows),
      // The gateway's key of the canary split: the backtest's canary serves the rows the agent's served.
      routingSecret: await loadRoutingSecret(store),
      // The model's segments: judged, routed and verified as the agent's monitor and gateway do.
      segments: storedSegments(model.segments, history.schema),
      source: name,
    });
    const recorded = await store.metricWindow.findMany({
      where: { modelId: model.id },
      select: { seq: true, endAt: true },
    });
    const seqByEnd = new Map(recorded.map((w) => [w.endAt.toISOString(), w.seq]));
    return { report, trace: backtestTrace(report, (endAt) => seqByEnd.get(endAt) ?? -1) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Drives the scenario through the agent, then the backtest over what the agent saw. */
export async function runDifferential(
  senv: ScenarioEnv,
  scenario: Scenario,
  options: RunOptions,
): Promise<DifferentialRun> {
  const run = await runScenario(senv, scenario, options);
  const store = senv.db.store;
  const name = modelNameOf(scenario, options.seed);
  const { report, trace } = await backtestOfRun(store, name);
  return {
    scenario: scenario.id,
    seed: options.seed,
    temporal: await temporalTrace(store, name),
    backtest: trace,
    run,
    report,
  };
}

const show = (d: WindowDecision | undefined) => (d ? `${d.action} (${d.rule})` : 'healthy');
const showIncident = (i: IncidentTrace | undefined) =>
  i
    ? `${i.kind} opened in window ${i.openedWindow}, ${i.outcome}; remedies: ${i.remedies.map((r) => `${r.action} → ${r.outcome}`).join(', ') || 'none'}`
    : 'no incident';

/** The window of the first decision that acted, on either side: where the two may part ways. */
function firstActingWindow(a: Trace, b: Trace): number {
  const windows = [a, b].flatMap((t) => t.decisions.filter(acting).map((d) => d.window));
  return windows.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...windows);
}

/**
 * Where the backtest did not do what the agent did, one line each: the decision of every window up to
 * the first that acted (on either side), then the acting decisions in order, then each incident — its
 * kind, the window that opened it, its remedies and their outcomes, and how it ended. Empty when the two
 * agree. After the first remedy windows are not compared one by one: a remedy takes the agent real
 * activities and child workflows, which can wake an extra cycle, where the backtest applies it at the
 * window's close; what is compared from there on is what was decided and done, and how it ended.
 */
export function disagreements(temporal: Trace, backtest: Trace): string[] {
  const cut = firstActingWindow(temporal, backtest);
  const found = windowDifferences(temporal, backtest, (w) => w <= cut);
  const actedT = temporal.decisions.filter(acting);
  const actedB = backtest.decisions.filter(acting);
  for (let i = 0; i < Math.max(actedT.length, actedB.length); i++) {
    const [t, b] = [actedT[i], actedB[i]];
    if (t?.action !== b?.action || t?.rule !== b?.rule)
      found.push(
        `acting decision ${i + 1}: agent ${t ? `${show(t)} in window ${t.window}` : 'none'}, backtest ${b ? `${show(b)} in window ${b.window}` : 'none'}`,
      );
  }
  for (let i = 0; i < Math.max(temporal.incidents.length, backtest.incidents.length); i++) {
    const [t, b] = [temporal.incidents[i], backtest.incidents[i]];
    const same =
      t &&
      b &&
      t.kind === b.kind &&
      t.outcome === b.outcome &&
      JSON.stringify(t.remedies) === JSON.stringify(b.remedies);
    if (!same) found.push(`incident ${i + 1}: agent ${showIncident(t)}; backtest ${showIncident(b)}`);
  }
  return found;
}

/** The windows (of those `compared`) whose decisions differ, one line each. */
function windowDifferences(
  temporal: Trace,
  backtest: Trace,
  compared: (window: number) => boolean,
): string[] {
  const windows = [...new Set([...temporal.decisions, ...backtest.decisions].map((d) => d.window))]
    .filter(compared)
    .sort((a, b) => a - b);
  return windows.flatMap((w) => {
    const [t, b] = [temporal, backtest].map((side) => side.decisions.find((d) => d.window === w));
    return show(t) === show(b) ? [] : [`window ${w}: agent ${show(t)}, backtest ${show(b)}`];
  });
}

/**
 * The windows after the first acting one whose decisions differ: not a disagreement (see disagreements),
 * but where the two copies of act-and-verify keep different time — a remedy still in progress on one side
 * and concluded on the other. Printed by the test, for the lifecycle rewrite to compare against.
 */
export function timingDifferences(temporal: Trace, backtest: Trace): string[] {
  const cut = firstActingWindow(temporal, backtest);
  return windowDifferences(temporal, backtest, (w) => w > cut);
}
