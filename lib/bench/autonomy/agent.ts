// The agent on a case: the stream through the backtest (lib/backtest) with the default policy, exactly
// as `npm run backtest -- stream.jsonl --train-rows <reference rows>` replays it, plus a fallback version;
// then what it served to each row, read back from its report: each window's serving deployment, routed
// as the gateway routes (lib/registry/routing.ts chooseRoute), answered by the report's model artifacts.

import { BACKTEST_ROUTING_SECRET, runBacktest } from '../../backtest/replay.ts';
import type { BacktestReport } from '../../backtest/report.ts';
import type { StreamFile } from '../../backtest/stream-file.ts';
import { loadModel, type ModelAdapter, type ModelArtifact } from '../../models/index.ts';
import { DEFAULT_POLICY } from '../../policy/policy.ts';
import { chooseRoute, routingShare, type ServingDeployment } from '../../registry/routing.ts';
import type { Segment } from '../../segments/segment.ts';
import type { ResponseClass } from './case.ts';
import { type Answer, answer } from './serving.ts';

export interface AgentRun {
  report: BacktestReport;
  answers: Answer[];
}

export async function runAgent(
  stream: StreamFile,
  referenceRows: number,
  fallback: ModelArtifact,
  segments: readonly Segment[] = [],
): Promise<AgentRun> {
  const report = await runBacktest({
    stream,
    policy: DEFAULT_POLICY,
    trainRows: referenceRows,
    fallback,
    segments,
  });
  return { report, answers: await servedAnswers(stream, referenceRows, report, segments) };
}

/** What each replayed row was answered, as the report's windows say the deployment stood. */
export async function servedAnswers(
  stream: StreamFile,
  first: number,
  report: BacktestReport,
  segments: readonly Segment[] = [],
): Promise<Answer[]> {
  const models = new Map<number, ModelAdapter>(
    report.versions.map((v) => [v.version, loadModel(v.artifact)]),
  );
  const answers: Answer[] = new Array(stream.rows.length).fill(null);
  const batches = new Map<number, number[]>();
  let w = 0;
  for (let i = first; i < stream.rows.length; i++) {
    const ts = stream.rows[i]!.ts;
    // Windows are (startAt, endAt]; rows after the last window keep its deployment.
    while (w < report.windows.length - 1 && Date.parse(report.windows[w]!.endAt) < ts) w++;
    const s = report.windows[w]!.serving;
    const v = (n: number | null | undefined) => (n == null ? null : { id: `v${n}`, version: n });
    const deployment: ServingDeployment = {
      revision: s.revision,
      mode: s.mode,
      production: v(s.production),
      fallback: v(s.fallback),
      canary: v(s.canary?.version),
      canaryShare: s.canary?.share ?? 0,
      shadow: null,
      fallbackSegments: segments.filter((seg) => s.fallbackSegments?.includes(seg.name)),
    };
    const route = chooseRoute(
      deployment,
      () => routingShare(BACKTEST_ROUTING_SECRET, stream.rows[i]!.id),
      'unavailable',
      stream.rows[i]!.features,
    );
    if (route.route === 'unavailable') continue;
    const batch = batches.get(route.version.version) ?? [];
    batch.push(i);
    batches.set(route.version.version, batch);
  }
  for (const [version, indices] of batches) {
    const out = await answer(models.get(version)!, stream, indices);
    indices.forEach((i, k) => {
      answers[i] = out[k]!;
    });
  }
  return answers;
}

/**
 * The agent's response from `since` (epoch ms) on, the most consequential first: a promoted retrain, an
 * applied rollback, a protective step (fallback, disable), an escalation, an incident (alert), nothing.
 */
export function responseClass(report: BacktestReport, since: number): ResponseClass {
  const after = (at: string) => Date.parse(at) >= since;
  const applied = (action: string) =>
    report.actions.some((a) => a.action === action && a.outcome === 'applied' && after(a.at));
  if (applied('retrain')) return 'retrain';
  if (applied('rollback')) return 'rollback';
  if (applied('fallback') || applied('disable')) return 'protect';
  if (report.incidents.some((i) => i.timeline.some((t) => t.status === 'escalated' && after(t.at))))
    return 'escalate';
  return report.incidents.some((i) => after(i.openedAt)) ? 'alert' : 'none';
}

/** Every candidate the agent trained: when, and from which onset (it trains on labelled rows since). */
export function candidatesTrained(report: BacktestReport): { at: number; since: number }[] {
  const onset = new Map(report.incidents.map((i) => [i.id, Date.parse(i.onsetAt)]));
  return report.actions
    .filter((a) => a.action === 'retrain' && a.candidate)
    .map((a) => ({ at: Date.parse(a.at), since: onset.get(a.incidentId ?? '') ?? Date.parse(a.at) }));
}

/** Incidents opened, and remedies taken (applied, or a retrain's candidate trained) and escalations, before `before` (epoch ms). */
export function actionsTaken(report: BacktestReport, before = Number.POSITIVE_INFINITY) {
  const earlier = (at: string) => Date.parse(at) < before;
  // A retrain counts once per candidate trained (its canary and promotion are the same action).
  const remedies = report.actions.filter(
    (a) =>
      earlier(a.at) &&
      (a.action === 'retrain'
        ? a.candidate !== undefined
        : ['rollback', 'fallback', 'disable'].includes(a.action) && a.outcome === 'applied'),
  ).length;
  const escalations = report.incidents.filter((i) =>
    i.timeline.some((t) => t.status === 'escalated' && earlier(t.at)),
  ).length;
  return {
    incidents: report.incidents.filter((i) => earlier(i.openedAt)).length,
    actions: remedies + escalations,
  };
}
