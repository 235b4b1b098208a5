// The backtest engine: replays a historical stream through the agent's own code in simulated time, and
// simulates the actions on the replayed data. Windows are measured by lib/monitor/measure.ts measureWindow
// (the monitor activity's work without the store); everything after — detect, decide, the incident, its
// approvals, holds, verification, undo and escalation — is lib/brain/lifecycle.ts step(), as in the agent.
// This file only interprets step()'s commands, with simulated effects instead of activities and children.
//
// What is simulated, at the window boundary where a command was given:
// - the deployment is a list of revisions, served through lib/registry/routing.ts chooseRoute: rows keep
//   their recorded prediction (if the file has one) until the first deployment change, and are scored by
//   the serving version afterwards; a disabled model serves nothing (its rows are not traffic);
// - with a deployment history (lib/backtest/deployments.ts), each change a person made is applied at its
//   time as theirs (decide's deployment-change-rollback sees it as the live agent did), and every row is
//   scored by the version serving it then: recorded predictions carry the live agent's remedies;
// - retrain trains a candidate of the production version's kind on the labelled rows since the
//   incident's onset (waiting up to policy.retrain.maxWait for policy.retrain.minRows of them), holds out
//   the most recent share, and promotes it only when it beats production on those rows at
//   policy.retrain.alpha; a canary promotion routes policy.retrain.canaryShare of the traffic to the
//   candidate and judges it at every window as the agent's canary does (lib/recovery/judge.ts
//   judgeCanary); a shadow promotion lets production answer every row while the candidate scores it
//   beside, and judges the candidate's scores against production's on the same rows, as the agent's
//   shadow does;
// - rollback restores the decision's revision, fallback serves the fallback version, disable stops serving;
// - verification waits for policy.verification.minRows labelled rows served since the action and judges
//   them against the pre-failure baseline (lib/recovery/judge.ts), within verification.maxWait;
// - a probe of production (after a protective remedy for failures) answers once the finding has cleared:
//   a backtest has no model server to ask.
// Latency and failures are replayed as recorded: the file cannot say how another version would have fared.

import type { DeploymentFacts, ServedComparison } from '../brain/contracts.ts';
import type { CustomFindingRule } from '../brain/findings/custom.ts';
import { initialLifecycleState, step } from '../brain/lifecycle.ts';
import type {
  LifecycleCommand,
  LifecycleEvent,
  LifecycleState,
  RemedyResult,
} from '../brain/lifecycle-types.ts';
import type { Finding, VerificationBaseline, WindowSummary } from '../brain/types.ts';
import { waitIsOver, waitLimit } from '../brain/waits.ts';
import { cutWindows, type WindowBounds } from '../brain/windows.ts';
import type { ServingMode } from '../domain.ts';
import { rowValidator } from '../ingest/validate.ts';
import {
  builtInTrainerOf,
  loadModel,
  type ModelAdapter,
  type ModelArtifact,
  type TrainerKind,
  trainModel,
} from '../models/index.ts';
import { computeWindowMetrics, type WindowPrediction } from '../monitor/index.ts';
import { measureWindow } from '../monitor/measure.ts';
import type { Policy } from '../policy/policy.ts';
import {
  CANARY_DEFAULTS,
  canaryPoll,
  judgeRecovery,
  labelPace,
  promotionFor,
  recoveryRowsWanted,
} from '../recovery/judge.ts';
import { addScore, emptyTotals, rowScorer, type ScoreTotals } from '../recovery/outcomes.ts';
import {
  compareRollingOrigin,
  compareWithRoute,
  describeComparison,
  describeRoute,
  type FoldScores,
  judgeRefit,
  judgeWithRoute,
  lostToRoute,
  priorRowsWanted,
  rollingOriginFolds,
  scoresWhere,
} from '../recovery/refit-evidence.ts';
import { chooseRoute, routingShare, type ServingDeployment } from '../registry/routing.ts';
import { DEFAULT_SERVING_CACHE_MS } from '../registry/serving-state.ts';
import { inSegment, type Segment } from '../segments/segment.ts';
import type { DeploymentChange, DeploymentHistory } from './deployments.ts';
import { evidenceFor, scoreBoth } from './judgement.ts';
import type { BacktestReport, ReportAction, ReportIncident, ReportVersion, ReportWindow } from './report.ts';
import { BacktestInputError, type StreamFile, type StreamRow } from './stream-file.ts';
import {
  type BacktestVersion,
  concatRows,
  defaultTrainer,
  type LabelledRows,
  type ModelShape,
  makeVersion,
  rowsWhere,
  sliceRows,
  splitHoldout,
  trainVersion,
} from './versions.ts';

export const BACKTEST_DEFAULTS = {
  /** Share of the first rows held out when the backtest trains version 1 itself. */
  holdoutShare: 0.2,
  /** A progress line on stderr every this many windows. */
  progressEvery: 100,
};

export interface BacktestOptions {
  stream: StreamFile;
  policy: Policy;
  /** The production version; or train one on the first `trainRows` rows. */
  model?: ModelArtifact;
  /** With `model`: the first rows are its reference (not replayed); without: version 1 is trained on them. */
  trainRows?: number;
  trainer?: TrainerKind;
  fallback?: ModelArtifact;
  /**
   * The changes people made to the deployment, with the versions they deployed: applied at their times,
   * and every row is then scored by the version serving it. `model` and `fallback`, if given, serve only
   * before the history's first change.
   */
  deployments?: DeploymentHistory;
  /**
   * Window boundaries to judge instead of cutting windows by the policy: the live agent's (--windows).
   * Windows that end before the first replayed row are skipped; rows after the last window are not judged.
   */
  windows?: WindowBounds[];
  /** The user's own finding rules (lib/extensions/finding-rules.ts): the worker's, judged alike. */
  findingRules?: readonly CustomFindingRule[];
  /** The model's segments (lib/segments), measured and judged as the live agent does (--segments). */
  segments?: readonly Segment[];
  /** A remedy the policy makes wait for a human: granted at once, or left to expire into its onTimeout. */
  approvals?: 'grant' | 'expire';
  /**
   * The key of the canary split (lib/registry/routing.ts routingShare): the live gateway's, to route a
   * recorded stream's canary to the rows the live canary served; BACKTEST_ROUTING_SECRET otherwise.
   */
  routingSecret?: string;
  progressEvery?: number;
  onProgress?: (line: string) => void;
  /** Where the stream came from, for the report. */
  source?: string;
}

/** How each replayed row was served: by which version (none: recorded or unserved) and what it answered. */
interface Served {
  version: number | null;
  route: 'recorded' | 'production' | 'canary' | 'fallback' | 'unavailable';
  prediction: string | number | null;
  probabilities?: Record<string, number>;
  confidence: number | null;
}

interface Revision {
  revision: number;
  mode: ServingMode;
  production: number | null;
  fallback: number | null;
  canary: { version: number; share: number } | null;
  /** A version that scores every row beside production without answering (a shadow trial). */
  shadow?: number | null;
  /** The segments the fallback serves while production serves the rest (absent: none). */
  fallbackSegments?: string[];
  changedAt: number;
  changedBy: string;
}

/**
 * The simulated effect of a lifecycle command that waits (workflows/remedies.ts retrain and its canary,
 * verifyWorkflow), looked at again at every window boundary until it answers with its event.
 */
type Effect =
  /**
   * rowsNeeded: an inconclusive comparison asked for this many rows since the onset. segment: a segment
   * incident's, whose fallback route the candidate must beat and its promotion lifts.
   */
  | { kind: 'retrain'; since: number; startedAt: number; rowsNeeded?: number; segment?: string }
  | {
      /** A canary or a shadow of the candidate (workflows/remedies.ts trial). */
      kind: 'trial';
      mode: 'canary' | 'shadow';
      candidate: number;
      production: number;
      since: number;
      look: number;
      before: number;
      /** The held-out comparison that let the candidate into its trial. */
      trained: string;
      /** The segment whose fallback route the promotion lifts. */
      liftRoute?: string;
    }
  | {
      kind: 'verify';
      action: string;
      since: number;
      baseline: VerificationBaseline;
      verification: Policy['verification'];
    };

/** The canary split's key in a backtest: fixed, so a report is reproducible; no client is involved. */
export const BACKTEST_ROUTING_SECRET = 'homeostat-backtest';
export async function runBacktest(options: BacktestOptions): Promise<BacktestReport> {
  const replay = new Replay(options);
  return replay.run();
}

class Replay {
  private readonly shape: ModelShape;
  private readonly rows: StreamRow[];
  private readonly first: number;
  private readonly served: (Served | undefined)[];
  /** What a shadow version scored on the rows production answered while it ran (none: no shadow). */
  private readonly shadowScores: (Pick<Served, 'prediction' | 'confidence' | 'probabilities'> & {
    version: number;
  })[] = [];
  private readonly versions: BacktestVersion[] = [];
  private readonly revisions: Revision[] = [];
  private readonly score: ReturnType<typeof rowScorer>;
  /** The agent's state, moved on only by lib/brain/lifecycle.ts step(). */
  private agent: LifecycleState;
  private effect: Effect | null = null;
  /** Deadlines the lifecycle asked for (approvals, holds), answered by a 'timer' event once passed. */
  private timers: number[] = [];
  private readonly events: LifecycleEvent[] = [];
  private draining = false;
  /** The window boundary being simulated, and what served the window's last rows. */
  private seq = 0;
  private now = 0;
  private servedBy: Revision | null = null;
  private readonly incidents = new Map<string, ReportIncident>();
  private deploymentChanged = false;
  /** The deployment history's changes not applied yet, in time order. */
  private humanChanges: DeploymentChange[] = [];
  private readonly report: BacktestReport;

  constructor(private readonly options: BacktestOptions) {
    const { stream, policy } = options;
    this.shape = {
      schema: stream.schema,
      task: stream.task,
      classes: stream.classes,
      segments: options.segments ?? [],
    };
    const trainRows = options.trainRows ?? 0;
    if (!options.model && !options.deployments && trainRows <= 0) {
      throw new BacktestInputError(
        'give the production model (--model), rows to train it on (--train-rows) or the deployment history (--deployments)',
      );
    }
    if (trainRows >= stream.rows.length) {
      throw new BacktestInputError(
        `--train-rows ${trainRows} leaves nothing to replay: the stream has ${stream.rows.length} rows`,
      );
    }
    if (options.model && options.model.task !== stream.task) {
      throw new BacktestInputError(
        `the model is for a ${options.model.task} task, the stream's is ${stream.task}`,
      );
    }
    if (options.deployments && options.deployments.task !== stream.task) {
      throw new BacktestInputError(
        `the deployment history is of a ${options.deployments.task} model, the stream's task is ${stream.task}`,
      );
    }
    this.rows = stream.rows;
    this.first = trainRows;
    this.served = new Array(stream.rows.length);
    this.agent = { ...initialLifecycleState('backtest'), policy: { version: 0, document: policy } };
    this.score = rowScorer(stream.task, stream.classes);
    this.report = {
      format: 1,
      input: {
        source: options.source ?? null,
        rows: stream.rows.length,
        referenceRows: trainRows,
        replayedRows: stream.rows.length - trainRows,
        from: new Date(stream.rows[trainRows]!.ts).toISOString(),
        to: new Date(stream.rows.at(-1)!.ts).toISOString(),
        task: stream.task,
        classes: stream.classes,
        schema: stream.schema,
        inferred: stream.inferred,
        ignoredColumns: stream.ignoredColumns,
        reordered: stream.reordered,
        recordedPredictions: stream.rows.some((r) => r.prediction !== null),
        ...(options.deployments
          ? {
              deployments: {
                model: options.deployments.model,
                changes: options.deployments.changes.length,
                versions: options.deployments.versions.map((v) => v.version),
              },
            }
          : {}),
      },
      policy,
      versions: [],
      windows: [],
      decisions: [],
      actions: [],
      incidents: [],
      totals: {
        windows: 0,
        confirmedFindings: {},
        decisionsActed: 0,
        incidents: 0,
        recovered: 0,
        rebaselined: 0,
        escalated: 0,
        open: 0,
      },
      notes: [],
    };
  }

  async run(): Promise<BacktestReport> {
    await this.setUpVersions();
    const bounds = this.windowBounds();
    const byLabelTime = this.labelOrder();
    let arrival = this.first;
    let labelled = 0;
    let previousArrival: number | null = this.first > 0 ? this.rows[this.first - 1]!.ts : null;
    for (let seq = 0; seq < bounds.length; seq++) {
      const { startAt, endAt } = bounds[seq]!;
      this.seq = seq;
      this.now = endAt;
      const from = arrival;
      while (arrival < this.rows.length && this.rows[arrival]!.ts <= endAt) arrival++;
      await this.serve(from, arrival, endAt);
      // What served the window's last rows, before the remedies its close may apply.
      const servedBy = this.current;
      // Production's answers are its performance; labels of other versions' answers only show that labels
      // arrive (activities/monitor.ts servedByProduction).
      const labelledInWindow: number[] = [];
      let labelledElsewhere = 0;
      while (labelled < byLabelTime.length && this.rows[byLabelTime[labelled]!]!.labelTs! <= endAt) {
        const i = byLabelTime[labelled++]!;
        if (!this.servedOutput(i)) continue;
        const version = this.served[i]!.version;
        if (version === null || version === this.current.production) labelledInWindow.push(i);
        else labelledElsewhere++;
      }
      const arrivals: number[] = [];
      for (let i = from; i < arrival; i++) if (this.servedOutput(i)) arrivals.push(i);

      const production = this.version(this.current.production);
      const { summary } = measureWindow({
        seq,
        schema: this.shape.schema,
        task: this.shape.task,
        labels: this.shape.classes,
        reference: production?.profile ?? null,
        arrivals: arrivals.map((i) => this.windowPrediction(i, endAt)),
        labelledInWindow: labelledInWindow.map((i) => this.windowPrediction(i, endAt)),
        labelledElsewhere,
        previousArrival: previousArrival === null ? null : new Date(previousArrival),
        startAt: new Date(startAt),
        endAt: new Date(endAt),
        minRows: this.options.policy.window.minRows,
        // A stream names no model: the deployment history's, if given.
        findingRules: {
          modelName: this.options.deployments?.model ?? 'backtest',
          rules: this.options.findingRules ?? [],
        },
        segments: this.options.segments ?? [],
      });
      if (arrivals.length > 0) previousArrival = this.rows[arrivals.at(-1)!]!.ts;
      this.servedBy = servedBy;
      // What waited for this boundary answers first (a verdict, a trained candidate, a deadline), then the
      // window itself: as the agent takes the events that came in while a window was being measured.
      await this.advanceEffect();
      const due = this.timers.filter((t) => t <= endAt);
      this.timers = this.timers.filter((t) => t > endAt);
      if (due.length > 0) await this.dispatch({ kind: 'timer', at: endAt });
      await this.dispatch({
        kind: 'window',
        at: endAt,
        window: summary,
        deployment: this.facts(),
        incidentId: `incident-${this.incidents.size + 1}`,
      });
      if (
        this.options.onProgress &&
        (seq + 1) % (this.options.progressEvery ?? BACKTEST_DEFAULTS.progressEvery) === 0
      ) {
        this.options.onProgress(
          `backtest: window ${seq + 1}/${bounds.length}, ${arrival - this.first} rows, ${this.incidents.size} incident(s)`,
        );
      }
    }
    this.finish();
    return this.report;
  }

  // ---- versions and deployment ------------------------------------------------------------------

  private async setUpVersions(): Promise<void> {
    const { model, fallback, trainRows = 0, deployments } = this.options;
    const reference = trainRows > 0 ? this.labelledRows(0, trainRows, Number.POSITIVE_INFINITY) : null;
    const firstTs = this.rows[this.first]!.ts;
    if (deployments) {
      for (const v of deployments.versions) {
        this.addVersion(
          await makeVersion(this.shape, {
            version: v.version,
            origin: 'deployed',
            artifact: v.artifact,
            reference,
            validation: null,
            profile: v.reference,
          }),
        );
      }
      const initial = deployments.changes.filter((c) => c.at <= firstTs);
      this.humanChanges = deployments.changes.filter((c) => c.at > firstTs);
      if (initial.length > 0 && (model || fallback)) {
        const c = initial.at(-1)!;
        throw new BacktestInputError(
          `--${model ? 'model' : 'fallback'} is not used: the deployment history already deploys production version ${c.production ?? '-'} and fallback version ${c.fallback ?? '-'} (revision ${c.revision}, ${iso(c.at)}) before the first replayed row (${iso(firstTs)})`,
        );
      }
      if (initial.length === 0 && !model) {
        throw new BacktestInputError(
          `the deployment history starts at ${iso(deployments.changes[0]!.at)}, after the first replayed row (${iso(firstTs)}): give the deployment before it (--model, --fallback), or leave the rows before it out of the replay (--train-rows)`,
        );
      }
      // Every row is scored by the version serving it: the recorded answers carry the live agent's remedies.
      this.deploymentChanged = true;
      for (const c of initial) this.pushHumanChange(c);
      if (initial.length > 0) return;
    }
    // Without a deployment history the given versions are 1 and 2; with one, they come after its versions.
    const base = this.versions.reduce((max, v) => Math.max(max, v.version), 0);
    if (model) {
      this.addVersion(
        await makeVersion(this.shape, {
          version: base + 1,
          origin: 'model',
          artifact: model,
          reference,
          validation: null,
        }),
      );
    } else {
      const { training, holdout } = splitHoldout(reference!, BACKTEST_DEFAULTS.holdoutShare);
      const kind = this.options.trainer ?? defaultTrainer(this.shape.task);
      this.addVersion(
        await trainVersion(this.shape, {
          version: base + 1,
          origin: 'trained',
          trainer: { kind, options: {} },
          training,
          holdout,
        }),
      );
    }
    if (fallback) {
      this.addVersion(
        await makeVersion(this.shape, {
          version: base + 2,
          origin: 'fallback',
          artifact: fallback,
          reference,
          validation: null,
        }),
      );
    }
    this.revisions.push({
      revision: 1,
      mode: 'serving',
      production: base + 1,
      fallback: fallback ? base + 2 : null,
      canary: null,
      changedAt: firstTs,
      changedBy: 'backtest',
    });
  }

  /** A change a person made, as a new revision that is theirs (decide tells people's changes from the agent's). */
  private pushHumanChange(c: DeploymentChange): void {
    this.revisions.push({
      revision: (this.revisions.at(-1)?.revision ?? 0) + 1,
      mode: c.mode,
      production: c.production,
      fallback: c.fallback,
      canary: c.canary,
      shadow: c.shadow,
      changedAt: c.at,
      changedBy: c.actor,
    });
  }

  /** Applies a change from the deployment history mid-replay, and reports it. */
  private applyHumanChange(c: DeploymentChange): void {
    const before = this.current.revision;
    this.pushHumanChange(c);
    this.deploymentChanged = true;
    const roles = [
      `production ${c.production === null ? '-' : `v${c.production}`}`,
      `fallback ${c.fallback === null ? '-' : `v${c.fallback}`}`,
      ...(c.canary ? [`canary v${c.canary.version} (${c.canary.share})`] : []),
      ...(c.shadow !== null ? [`shadow v${c.shadow}`] : []),
    ];
    this.recordAction(
      'deployment',
      `by ${c.actor}`,
      `${c.mode}, ${roles.join(', ')} as revision ${this.current.revision} (recorded revision ${c.revision}): ${c.reason}`,
      { revisionBefore: before, revisionAfter: this.current.revision },
      c.at,
    );
  }

  private nextVersionNumber(): number {
    return this.versions.reduce((max, v) => Math.max(max, v.version), 0) + 1;
  }

  private addVersion(version: BacktestVersion): void {
    this.versions.push(version);
    const performance = version.profile?.performance ?? null;
    const entry: ReportVersion = {
      version: version.version,
      origin: version.origin,
      kind: version.artifact.kind,
      artifact: version.artifact,
      trainRows: version.trainRows,
      holdoutRows: version.holdoutRows,
      baseline:
        performance === null
          ? null
          : performance.task === 'regression'
            ? { rmse: performance.rmse, rows: performance.count }
            : { accuracy: performance.accuracy, rows: performance.count },
    };
    this.report.versions.push(entry);
  }

  private version(n: number | null): BacktestVersion | null {
    return n === null ? null : (this.versions.find((v) => v.version === n) ?? null);
  }

  private get current(): Revision {
    return this.revisions.at(-1)!;
  }

  private facts(): DeploymentFacts {
    const c = this.current;
    const good = [...this.revisions]
      .reverse()
      .find((r) => r.revision < c.revision && r.mode === 'serving' && r.production !== c.production);
    return {
      task: this.shape.task,
      revision: c.revision,
      mode: c.mode,
      productionVersion: c.production,
      fallbackVersion: c.fallback,
      canaryVersion: c.canary?.version ?? null,
      canaryShare: c.canary?.share ?? 0,
      shadowVersion: c.shadow ?? null,
      ...(c.fallbackSegments?.length ? { fallbackSegments: c.fallbackSegments } : {}),
      changedAt: c.changedAt,
      changedBy: c.changedBy,
      lastKnownGoodRevision: good?.revision ?? null,
    };
  }

  /** Every change is a new revision, as in the registry. */
  private deploy(
    change: Partial<
      Pick<Revision, 'mode' | 'production' | 'fallback' | 'canary' | 'shadow' | 'fallbackSegments'>
    >,
    at: number,
  ): void {
    const revision = this.current.revision + 1;
    this.revisions.push({ ...this.current, ...change, revision, changedAt: at, changedBy: 'agent' });
    this.deploymentChanged = true;
  }

  /** A new revision with an earlier one's deployment. */
  private restore(revision: number, at: number): void {
    const { mode, production, fallback, canary, shadow, fallbackSegments } = this.revisions.find(
      (r) => r.revision === revision,
    )!;
    this.deploy({ mode, production, fallback, canary, shadow: shadow ?? null, fallbackSegments }, at);
  }

  // ---- serving ----------------------------------------------------------------------------------

  /**
   * Answers rows [from, to) of a window ending at `endAt`: as the deployment at the window's start would
   * have, and from each change of the deployment history (made in the window) on, as it says.
   */
  private async serve(from: number, to: number, endAt: number): Promise<void> {
    let start = from;
    for (let i = from; i <= to; i++) {
      const until = i < to ? this.rows[i]!.ts : endAt;
      // A change applies to the rows received at or after its time.
      while (this.humanChanges.length > 0 && this.humanChanges[0]!.at <= until) {
        await this.serveRows(start, i);
        start = i;
        this.applyHumanChange(this.humanChanges.shift()!);
      }
    }
    await this.serveRows(start, to);
  }

  /** Answers rows [from, to) as the current deployment would. */
  private async serveRows(from: number, to: number): Promise<void> {
    if (from >= to) return;
    const c = this.current;
    const version = (n: number | null) => (n === null ? null : { id: `v${n}`, version: n });
    const deployment: ServingDeployment = {
      revision: c.revision,
      mode: c.mode,
      production: version(c.production),
      fallback: version(c.fallback),
      canary: version(c.canary?.version ?? null),
      canaryShare: c.canary?.share ?? 0,
      shadow: null,
      fallbackSegments: (this.options.segments ?? []).filter((s) => c.fallbackSegments?.includes(s.name)),
    };
    const batches = new Map<number, number[]>();
    for (let i = from; i < to; i++) {
      const row = this.rows[i]!;
      if (!this.deploymentChanged && row.prediction !== null) {
        this.served[i] = {
          version: null,
          route: 'recorded',
          prediction: row.prediction,
          confidence: row.confidence,
        };
        continue;
      }
      const route = chooseRoute(
        deployment,
        () => routingShare(this.options.routingSecret ?? BACKTEST_ROUTING_SECRET, row.id),
        'unavailable',
        row.features,
      );
      if (route.route === 'unavailable') {
        this.served[i] = { version: null, route: 'unavailable', prediction: null, confidence: null };
        continue;
      }
      this.served[i] = {
        version: route.version.version,
        route: route.route,
        prediction: null,
        confidence: null,
      };
      const batch = batches.get(route.version.version) ?? [];
      batch.push(i);
      batches.set(route.version.version, batch);
    }
    for (const [n, indices] of batches) {
      const outputs = await this.version(n)!.model.predict(indices.map((i) => this.rows[i]!.features));
      indices.forEach((i, k) => {
        const out = outputs[k]!;
        Object.assign(this.served[i]!, {
          prediction: out.prediction,
          confidence: out.confidence,
          ...(out.probabilities ? { probabilities: out.probabilities } : {}),
        });
      });
    }
    // A shadow scores what production answered, as the gateway's shadow does; it answers nobody.
    const shadow = c.shadow ?? null;
    const scored = shadow === null ? [] : (batches.get(c.production ?? -1) ?? []);
    if (shadow === null || scored.length === 0) return;
    const outputs = await this.version(shadow)!.model.predict(scored.map((i) => this.rows[i]!.features));
    scored.forEach((i, k) => {
      const out = outputs[k]!;
      this.shadowScores[i] = {
        version: shadow,
        prediction: out.prediction,
        confidence: out.confidence,
        ...(out.probabilities ? { probabilities: out.probabilities } : {}),
      };
    });
  }

  /** Whether the row reached a model: unserved rows (a disabled model) are no traffic, as at the gateway. */
  private servedOutput(i: number): boolean {
    return i >= this.first && this.served[i] !== undefined && this.served[i]!.route !== 'unavailable';
  }

  private windowPrediction(i: number, labelsBy: number): WindowPrediction {
    const row = this.rows[i]!;
    const served = this.served[i]!;
    const at = new Date(row.ts);
    return {
      id: row.id,
      features: row.features,
      output:
        row.error !== null || served.prediction === null
          ? null
          : {
              prediction: served.prediction,
              ...(served.probabilities ? { probabilities: served.probabilities } : {}),
            },
      confidence: served.confidence,
      latencyMs: row.latencyMs,
      error: row.error,
      predictedAt: at,
      receivedAt: at,
      label:
        row.label !== null && row.labelTs! <= labelsBy
          ? { value: row.label, observedAt: new Date(row.labelTs!) }
          : null,
    };
  }

  // ---- windows ------------------------------------------------------------------------------------

  /** Windows of the replayed rows as the policy cuts them (lib/brain/windows.ts). */
  private windowBounds(): WindowBounds[] {
    const { window } = this.options.policy;
    if (this.options.windows) {
      const first = this.rows[this.first]!.ts;
      const bounds = this.options.windows.filter((w) => w.endAt >= first);
      if (bounds.length === 0)
        throw new BacktestInputError(
          `every recorded window ends before the first replayed row (${iso(first)}): the windows are of another stream`,
        );
      const last = this.rows.at(-1)!.ts;
      if (bounds.at(-1)!.endAt < last) {
        const left = this.rows.length - this.indexAt(bounds.at(-1)!.endAt + 1);
        this.note(
          `${left} row(s) after the last recorded window (${iso(bounds.at(-1)!.endAt)}) were not judged`,
        );
      }
      return bounds;
    }
    // Windows are (startAt, endAt]: the first starts just before the first replayed row.
    const ts = this.rows.slice(this.first).map((r) => r.ts);
    return cutWindows(ts, ts[0]! - 1, window);
  }

  /** Replayed rows with a label, in the order their labels arrive. */
  private labelOrder(): number[] {
    const order: number[] = [];
    for (let i = this.first; i < this.rows.length; i++) if (this.rows[i]!.label !== null) order.push(i);
    return order.sort((a, b) => this.rows[a]!.labelTs! - this.rows[b]!.labelTs! || a - b);
  }

  private recordWindow(seq: number, summary: WindowSummary, findings: Finding[], c: Revision): void {
    const entry: ReportWindow = {
      seq,
      startAt: summary.startAt,
      endAt: summary.endAt,
      serving: {
        revision: c.revision,
        mode: c.mode,
        production: c.production,
        fallback: c.fallback,
        ...(c.canary ? { canary: c.canary } : {}),
        ...(c.shadow ? { shadow: c.shadow } : {}),
        ...(c.fallbackSegments?.length ? { fallbackSegments: c.fallbackSegments } : {}),
      },
      summary,
      findings: findings.filter((f) => f.state !== 'clear'),
    };
    this.report.windows.push(entry);
    for (const f of findings) {
      if (f.state !== 'confirmed') continue;
      this.report.totals.confirmedFindings[f.kind] = (this.report.totals.confirmedFindings[f.kind] ?? 0) + 1;
    }
  }

  // ---- the lifecycle, interpreted -----------------------------------------------------------------
  // lib/brain/lifecycle.ts step() judges, decides and moves the incident on, as in the agent; here its
  // commands take effect on the simulated deployment at the boundary where they are given, and what
  // waits (a retrain's labelled rows and canary, a verification's evidence, a deadline) is looked at again
  // at every following boundary. Nothing here decides anything.

  /** Takes `event` after those before it; the events its commands answer with are taken in turn. */
  private async dispatch(event: LifecycleEvent): Promise<void> {
    this.events.push(event);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.events.shift(); next; next = this.events.shift()) {
        const { state, commands } = step(this.agent, next);
        this.agent = state;
        const open = state.openIncident;
        if (open && this.incidents.has(open.id)) this.incidents.get(open.id)!.attempts = open.attempts;
        for (const command of commands) await this.perform(command);
      }
    } finally {
      this.draining = false;
    }
  }

  private async perform(command: LifecycleCommand): Promise<void> {
    const { seq, now } = this;
    switch (command.kind) {
      case 'record-cycle':
        return this.recordCycle(command);
      case 'record-incident': {
        const report = this.incidents.get(command.record.incidentId)!;
        const { step: entry, status, close } = command.record;
        report.attempts = command.incident.attempts;
        report.timeline.push({ window: seq, at: entry.at, status: entry.phase, note: entry.summary });
        if (entry.phase === 'escalated') {
          report.outcome = 'escalated';
          this.report.totals.escalated++;
        }
        if (close && status === 'recovered') this.closeReport(report, entry.at, 'recovered');
        return;
      }
      case 'record-action':
        // The remedies' own rows are the simulation's (below); an approval's answer is the lifecycle's.
        if (command.record.type.startsWith('approve:'))
          this.recordAction(command.record.type, command.record.status, command.record.reason);
        return;
      case 'record-operator-action':
      case 'escalate': // nobody answers in a backtest: the incident stays escalated
        return;
      case 'await-approval':
        if (this.options.approvals === 'expire') {
          this.timers.push(command.until);
          return;
        }
        this.note('approvals are simulated as granted at once (--approvals grant)');
        return this.dispatch({
          kind: 'approval',
          at: now,
          approved: true,
          actor: 'backtest',
          reason: 'granted at once (--approvals grant)',
        });
      case 'hold':
        this.timers.push(command.until);
        return;
      case 'run-remedy':
        return this.runRemedy(command);
      case 'probe': {
        // A backtest cannot probe a model server: production answers again once the finding has cleared.
        const kind = this.agent.openIncident?.kind;
        const cleared = !kind || (this.agent.detector.persistence[kind]?.state ?? 'clear') === 'clear';
        return this.dispatch({ kind: 'probe-result', at: now, ok: cleared });
      }
      case 'restore': {
        const action =
          this.agent.inFlight && 'action' in this.agent.inFlight ? this.agent.inFlight.action : '';
        const before = this.current.revision;
        this.restore(command.revision, now);
        this.recordAction(
          action,
          command.purpose === 'undo' ? 'undone' : 'restored',
          `${command.reason}: restored revision ${command.revision}`,
          { revisionBefore: before, revisionAfter: this.current.revision },
        );
        return this.dispatch({ kind: 'restored', at: now, deployment: this.facts() });
      }
      case 'verify': {
        const action =
          this.agent.inFlight && 'action' in this.agent.inFlight ? this.agent.inFlight.action : '';
        const { baseline, verification } = command;
        this.effect = { kind: 'verify', action, since: now, baseline, verification };
        return;
      }
    }
  }

  /** The window's row, the decision's and the incident it opens or closes, in the report. */
  private recordCycle(command: Extract<LifecycleCommand, { kind: 'record-cycle' }>): void {
    const { decision, window } = command;
    const { seq, now } = this;
    this.recordWindow(seq, window, command.findings, this.servedBy!);
    if (decision.rule !== 'healthy') this.report.decisions.push({ window: seq, at: iso(now), ...decision });
    if (decision.action !== 'none') this.report.totals.decisionsActed++;
    if (decision.incident && 'close' in decision.incident && command.openIncidentId) {
      const report = this.incidents.get(command.openIncidentId)!;
      const { close } = decision.incident;
      report.timeline.push({ window: seq, at: iso(now), status: close, note: decision.reason });
      this.closeReport(report, iso(now), close);
    }
    const opened = this.agent.openIncident;
    if (command.newIncidentId && opened?.id === command.newIncidentId) {
      const { summary } = (decision.incident as { open: { summary: string } }).open;
      const report: ReportIncident = {
        id: opened.id,
        kind: opened.kind,
        severity: opened.severity,
        summary,
        onsetAt: opened.onsetAt,
        openedWindow: seq,
        openedAt: iso(now),
        baseline: opened.baseline,
        attempts: opened.attempts,
        timeline: [{ window: seq, at: iso(now), status: 'open', note: summary }],
        outcome: 'open',
        closedAt: null,
      };
      this.incidents.set(opened.id, report);
      this.report.incidents.push(report);
      this.report.totals.incidents++;
    }
    if (decision.action === 'alert') this.recordAction('alert', 'sent', decision.reason);
  }

  private closeReport(report: ReportIncident, at: string, outcome: 'recovered' | 'rebaselined'): void {
    report.outcome = outcome;
    report.closedAt = at;
    this.report.totals[outcome]++;
  }

  private recordAction(
    action: string,
    outcome: string,
    detail: string,
    extra: Partial<ReportAction> = {},
    at = this.now,
  ) {
    this.report.actions.push({
      window: this.seq,
      at: iso(at),
      incidentId: this.agent.openIncident?.id ?? null,
      action,
      outcome,
      detail,
      ...extra,
    });
  }

  /** A remedy's effect on the simulated deployment (workflows/remedies.ts, without the store). */
  private async runRemedy(command: Extract<LifecycleCommand, { kind: 'run-remedy' }>): Promise<void> {
    const { action } = command;
    const before = this.current.revision;
    const applied = (detail: string) => {
      this.recordAction(action, 'applied', detail, {
        revisionBefore: before,
        revisionAfter: this.current.revision,
      });
      return this.answer({ outcome: 'applied', before, after: this.current.revision, detail });
    };
    switch (action) {
      case 'rollback': {
        const target = this.revisions.find((r) => r.revision === command.rollbackTo);
        if (!target) return this.remedyFailed(action, 'no revision to roll back to');
        this.restore(target.revision, this.now);
        return applied(`restored revision ${target.revision} as revision ${this.current.revision}`);
      }
      case 'fallback':
        if (this.current.fallback === null) return this.remedyFailed(action, 'no fallback version');
        // As workflows/remedies.ts fallbackWorkflow: a segment incident's fallback serves that segment only.
        if (command.segment !== undefined) {
          const routed = [...new Set([...(this.current.fallbackSegments ?? []), command.segment])];
          this.deploy({ fallbackSegments: routed }, this.now);
          return applied(`serving fallback version ${this.current.fallback} to segment ${command.segment}`);
        }
        this.deploy({ mode: 'fallback' }, this.now);
        return applied(`serving fallback version ${this.current.fallback}`);
      case 'disable':
        this.deploy({ mode: 'disabled' }, this.now);
        return applied('predictions disabled');
      case 'retrain':
        this.effect = {
          kind: 'retrain',
          since: Date.parse(command.since),
          startedAt: this.now,
          ...(command.segment !== undefined ? { segment: command.segment } : {}),
        };
        return this.tryRetrain();
      case 'webhook':
        // The user's own system acts outside the replay: the backtest cannot know what it would do.
        return this.remedyFailed(
          action,
          'a webhook remedy asks a system outside the backtest: not simulated',
        );
    }
  }

  /** The remedy's result, with the deployment as it is now, back to the lifecycle. */
  private answer(result: RemedyResult): Promise<void> {
    return this.dispatch({ kind: 'remedy-result', at: this.now, result, deployment: this.facts() });
  }

  private remedyFailed(action: string, detail: string): Promise<void> {
    this.effect = null;
    this.recordAction(action, 'failed', detail);
    const revision = this.current.revision;
    return this.answer({ outcome: 'failed', before: revision, after: revision, detail });
  }

  /** Moves the effect in flight on at a window's close, before the window itself is judged. */
  private async advanceEffect(): Promise<void> {
    const effect = this.effect;
    if (!effect) return;
    if (effect.kind === 'retrain') return this.tryRetrain();
    if (effect.kind === 'trial') return this.judgeTrialNow(effect);
    const { now } = this;
    const measured = evidenceFor(
      effect.baseline.metric,
      this.evidence(effect.since, now, effect.baseline.segment),
    );
    const judged = judgeRecovery(effect.baseline, measured, effect.verification);
    const over = () =>
      waitIsOver({
        startedAt: effect.since,
        rowsSince: effect.since,
        at: now,
        rows: measured.rows,
        needed: recoveryRowsWanted(measured.rows, effect.verification.minRows),
        maxWait: effect.verification.maxWait,
      });
    if (judged.verdict === 'insufficient' && !over()) return;
    this.effect = null;
    const verdict = judged.verdict === 'recovered' ? 'recovered' : 'not_recovered';
    const why =
      judged.verdict === 'insufficient'
        ? `no verdict ${waitLimit(effect.verification.maxWait)}: ${judged.detail}`
        : judged.detail;
    this.recordAction(effect.action, `verified ${verdict.replace('_', ' ')}`, why);
    return this.dispatch({
      kind: 'verdict',
      at: now,
      verdict: {
        verdict,
        rows: measured.rows,
        value: measured.value,
        baseline: effect.baseline.value,
        pValue: judged.pValue,
        detail: why,
      },
    });
  }

  /** As workflows/remedies.ts retrainWorkflow: wait for the rows, train, compare, bring the candidate in. */
  private async tryRetrain(): Promise<void> {
    const pending = this.effect as Extract<Effect, { kind: 'retrain' }>;
    const { now } = this;
    const settings = this.options.policy.retrain;
    const production = this.version(this.current.production);
    const trainer = production ? builtInTrainerOf(production.artifact) : null;
    if (!production) return this.remedyFailed('retrain', 'no production version');
    if (!trainer)
      return this.remedyFailed(
        'retrain',
        'the production version is an HTTP model: a backtest cannot retrain it',
      );
    const data = this.labelledRows(
      Math.max(this.first, this.indexAt(pending.since)),
      this.rows.length,
      now,
      true,
    );
    const over = (needed: number) =>
      waitIsOver({
        startedAt: pending.startedAt,
        rowsSince: pending.since,
        at: now,
        rows: data.rows.length,
        needed,
        maxWait: settings.maxWait,
      });
    if (data.rows.length < settings.minRows) {
      if (over(settings.minRows)) {
        return this.remedyFailed(
          'retrain',
          `only ${data.rows.length} labelled rows since the onset; ${settings.minRows} needed to retrain`,
        );
      }
      return;
    }
    if (data.rows.length < (pending.rowsNeeded ?? 0) && !over(pending.rowsNeeded!)) return;
    // As the retrain activity (activities/retrain.ts): rolling origin over the rows since the onset; the
    // last fold's candidate is the one kept.
    const folds = rollingOriginFolds(data.rows.length, settings.holdoutShare);
    if (folds.length === 0) return;
    const kept: BacktestVersion[] = [];
    const route = this.routeOf(pending.segment);
    // As the retrain activity: a segment incident's refit also learns from the other segments' earlier rows.
    const segment = (this.options.segments ?? []).find((s) => s.name === pending.segment);
    const prior = segment
      ? this.priorRows(
          Math.max(this.first, this.indexAt(pending.since)),
          priorRowsWanted(settings.maxRows, data.rows.length),
          now,
          segment,
        )
      : null;
    const onRoute: { segment: FoldScores; others: FoldScores }[] = [];
    const comparison = await compareRollingOrigin(this.shape.task, folds, async (fold) => {
      const recent = sliceRows(data, 0, fold.trainEnd);
      const training = prior ? concatRows(prior, recent) : recent;
      const tested = sliceRows(data, fold.trainEnd, fold.testEnd);
      let model: ModelAdapter;
      if (fold !== folds.at(-1)) {
        model = loadModel(
          await trainModel(
            trainer.kind,
            this.shape.task,
            this.shape.schema,
            training,
            trainer.options as never,
          ),
        );
      } else {
        const version = await trainVersion(this.shape, {
          version: this.nextVersionNumber(),
          origin: 'retrain',
          trainer,
          training,
          holdout: tested,
          // As the retrain activity: the profile of the rows since the onset, not of the prior rows.
          reference: recent,
        });
        kept.push(version);
        model = version.model;
      }
      const both = await scoreBoth(model, production.model, tested, this.score);
      if (route) {
        // As activities/retrain.ts scoreOnRoute: the segment's rows against the route, the others against production.
        const inside = tested.rows.map((row) => inSegment(row, route.segment));
        onRoute.push({
          segment: await scoreBoth(
            model,
            route.model,
            rowsWhere(tested, (row) => inSegment(row, route.segment)),
            this.score,
          ),
          others: scoresWhere(
            both,
            inside.map((yes) => !yes),
          ),
        });
      }
      return both;
    });
    const candidate = kept[0]!;
    const routed = route
      ? compareWithRoute(
          this.shape.task,
          route.segment.name,
          onRoute.map((f) => f.segment),
          onRoute.map((f) => f.others),
        )
      : null;
    const margin = this.options.policy.verification.tolerance;
    const refit = judgeRefit(comparison, {
      alpha: settings.alpha,
      rows: data.rows.length,
      testShare: settings.holdoutShare,
      maxRows: settings.maxRows,
      materialGain: this.options.policy.verification.tolerance,
    });
    const summary = describeComparison(comparison);
    if (refit.verdict === 'inconclusive' && !over(refit.rowsNeeded)) {
      // Better but not yet significantly: wait for the rows that would show it, then train again.
      pending.rowsNeeded = refit.rowsNeeded;
      return;
    }
    const judged = judgeWithRoute(refit, routed, margin);
    this.effect = null;
    this.addVersion(candidate);
    const info = {
      candidate: { version: candidate.version, trainRows: candidate.trainRows, ...comparison },
    };
    const before = this.current.revision;
    if (refit.verdict !== 'inconclusive' && lostToRoute(routed, margin)) {
      // As workflows/remedies.ts retrainWorkflow: lifting the route would not pay; it stays.
      const detail = `candidate v${candidate.version} did not beat the fallback route: ${describeRoute(routed!)} (${summary})`;
      this.recordAction('retrain', 'rejected', detail, info);
      return this.answer({ outcome: 'rejected', before, after: before, detail });
    }
    if (judged.verdict !== 'better') {
      const why =
        judged.verdict === 'inconclusive'
          ? `inconclusive ${waitLimit(settings.maxWait)}: ${judged.why}`
          : judged.why;
      const detail = `candidate v${candidate.version} did not beat production: ${summary}; ${why}`;
      this.recordAction('retrain', 'rejected', detail, info);
      const rejected = { outcome: 'rejected', before, after: before, detail } as const;
      if (judged.verdict === 'not-better' && judged.immaterial) {
        const { metric, production: value, rows } = comparison;
        return this.answer({ ...rejected, noBetterModel: 'immaterial', level: { metric, value, rows } });
      }
      return this.answer({ ...rejected, noBetterModel: 'unproven' });
    }
    const way = promotionFor(
      settings,
      this.current.mode,
      routed?.segment ?? null,
      labelPace(comparison.rows, settings.holdoutShare, pending.since, now),
    );
    if (way.promotion === 'canary' || way.promotion === 'shadow') {
      // As the agent's trial (workflows/remedies.ts): a canary gets a share of the traffic, routed by
      // prediction id; a shadow scores every row production answers. Either is judged against production
      // at every window from now on.
      const mode = way.promotion;
      this.deploy(
        mode === 'canary'
          ? { canary: { version: candidate.version, share: settings.canaryShare } }
          : { shadow: candidate.version },
        now,
      );
      const detail =
        (mode === 'canary'
          ? `candidate v${candidate.version} (${summary}) serves ${settings.canaryShare} of the traffic as a canary`
          : `candidate v${candidate.version} (${summary}) scores every request beside production as a shadow`) +
        (way.why ? `; ${way.why}` : '');
      this.recordAction('retrain', mode, detail, {
        ...info,
        revisionBefore: before,
        revisionAfter: this.current.revision,
      });
      this.effect = {
        kind: 'trial',
        mode,
        candidate: candidate.version,
        production: production.version,
        since: now,
        look: 0,
        before,
        trained: summary,
        ...(routed ? { liftRoute: routed.segment } : {}),
      };
      return;
    }
    return this.promote(
      candidate.version,
      production.version,
      before,
      `candidate v${candidate.version} promoted (${summary}${routed ? `; ${describeRoute(routed)}` : ''})${way.why ? `; ${way.why}` : ''}`,
      info,
      routed?.segment,
    );
  }

  /**
   * The fallback route serving a segment incident's segment now, with the segment's definition and the
   * route's version (activities/retrain.ts routeOf); none when production serves the segment.
   */
  private routeOf(name: string | undefined): { segment: Segment; model: ModelAdapter } | null {
    if (name === undefined || !this.current.fallbackSegments?.includes(name)) return null;
    const segment = (this.options.segments ?? []).find((s) => s.name === name);
    const fallback = this.version(this.current.fallback);
    return segment && fallback ? { segment, model: fallback.model } : null;
  }

  /**
   * Production becomes the candidate, as the agent promotes one (workflows/remedies.ts promote), lifting
   * the segment's fallback route `liftRoute` in the same revision.
   */
  private promote(
    candidate: number,
    production: number,
    before: number,
    detail: string,
    extra: Partial<ReportAction> = {},
    liftRoute?: string,
  ): Promise<void> {
    const routed = this.current.fallbackSegments ?? [];
    const lift = liftRoute !== undefined && routed.includes(liftRoute);
    this.deploy(
      {
        // A model held on its fallback serves again; the old production stays as the fallback when there is none.
        mode: 'serving',
        production: candidate,
        fallback: this.current.fallback ?? production,
        canary: null,
        shadow: null,
        ...(lift ? { fallbackSegments: routed.filter((s) => s !== liftRoute) } : {}),
      },
      this.now,
    );
    const after = this.current.revision;
    this.recordAction('retrain', 'applied', detail, {
      ...extra,
      revisionBefore: before,
      revisionAfter: after,
    });
    this.effect = null;
    return this.answer({ outcome: 'applied', before, after, detail, candidateVersion: candidate });
  }

  /** A trial's look at a window's close: promote, abort (undone) or go on, as workflows/remedies.ts trial. */
  private judgeTrialNow(pending: Extract<Effect, { kind: 'trial' }>): Promise<void> | undefined {
    const { now } = this;
    const settings = this.options.policy.retrain;
    const comparison = this.servedComparison(pending, now);
    const polled = canaryPoll(
      comparison,
      {
        minRows: settings.canaryMinRows,
        alpha: settings.alpha,
        margin: settings.canaryMargin,
        looks: CANARY_DEFAULTS.looks,
      },
      pending.look,
    );
    pending.look = polled.looksTaken;
    const judged = polled.judged;
    if (judged.verdict === 'promote') {
      const detail = `candidate v${pending.candidate} (${pending.trained}); ${pending.mode}: ${judged.detail}`;
      return this.promote(
        pending.candidate,
        pending.production,
        pending.before,
        detail,
        {},
        pending.liftRoute,
      );
    }
    const over = () =>
      waitIsOver({
        startedAt: pending.since,
        rowsSince: pending.since,
        at: now,
        rows: Math.min(comparison.candidate.rows, comparison.baseline.rows),
        needed: (pending.look + 1) * settings.canaryMinRows,
        maxWait: settings.maxWait,
      });
    if (judged.verdict === 'continue' && !over()) return;
    const why =
      judged.verdict === 'abort'
        ? judged.detail
        : `no decision ${waitLimit(settings.maxWait)}: ${judged.detail}`;
    this.effect = null;
    this.restore(pending.before, now);
    const detail = `candidate v${pending.candidate} (${pending.trained}); ${pending.mode} aborted: ${why}`;
    this.recordAction('retrain', 'rejected', detail, {
      revisionBefore: pending.before,
      revisionAfter: this.current.revision,
    });
    return this.answer({ outcome: 'rejected', before: pending.before, after: pending.before, detail });
  }

  /**
   * Labelled outcomes, by `now`, of a trial since it began (activities/retrain.ts compareServed): a
   * canary's arms are the rows each version answered; a shadow's are the rows production answered, scored
   * by production and by the shadow.
   */
  private servedComparison(
    trial: Pick<Extract<Effect, { kind: 'trial' }>, 'mode' | 'candidate' | 'production' | 'since'>,
    now: number,
  ): ServedComparison {
    const { candidate, production } = trial;
    const arms = { candidate: emptyTotals(), baseline: emptyTotals() };
    for (let i = this.indexAt(trial.since); i < this.rows.length && this.rows[i]!.ts <= now; i++) {
      const version = this.servedOutput(i) ? this.served[i]!.version : null;
      if (trial.mode === 'shadow') {
        const shadow = this.shadowScores[i];
        if (version !== production || shadow?.version !== candidate) continue;
        const p = this.windowPrediction(i, now);
        if (!p.label) continue;
        addScore(arms.baseline, this.score(p));
        const { prediction, probabilities } = shadow;
        const scored =
          prediction === null ? null : { prediction, ...(probabilities ? { probabilities } : {}) };
        addScore(arms.candidate, this.score({ ...p, output: p.output && scored }));
        continue;
      }
      const arm = version === candidate ? arms.candidate : version === production ? arms.baseline : null;
      const p = arm ? this.windowPrediction(i, now) : null;
      if (arm && p?.label) addScore(arm, this.score(p));
    }
    const counts = (t: ScoreTotals) =>
      this.shape.task === 'regression'
        ? { rows: t.rows, sumSquaredError: t.sumSquaredError, sumSquaredErrorSq: t.sumSquaredErrorSq }
        : { rows: t.rows, correct: t.correct };
    return {
      metric: this.shape.task === 'regression' ? 'rmse' : 'accuracy',
      candidate: counts(arms.candidate),
      baseline: counts(arms.baseline),
    };
  }

  // ---- evidence -----------------------------------------------------------------------------------

  /** Index of the first row at or after `ts` (rows are in time order). */
  private indexAt(ts: number): number {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.rows[mid]!.ts < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * A segment incident's prior rows (lib/recovery/refit-evidence.ts priorRowsWanted), as the retrain
   * activity reads them: the most recent `latest` labelled rows before row `to`, less the corrupted ones
   * and the segment's own.
   */
  private priorRows(to: number, latest: number, labelsBy: number, segment: Segment): LabelledRows {
    let from = to;
    for (let n = 0; from > this.first && n < latest; ) {
      const row = this.rows[--from]!;
      if (row.label !== null && row.labelTs! <= labelsBy) n++;
    }
    return rowsWhere(this.labelledRows(from, to, labelsBy, true), (row) => !inSegment(row, segment));
  }

  /**
   * Labelled rows [from, to) whose labels arrived by `labelsBy`; with `clean`, rows with a data-quality
   * problem are left out: never train on corrupted input.
   */
  private labelledRows(from: number, to: number, labelsBy: number, clean = false): LabelledRows {
    const validate = clean ? rowValidator(this.shape.schema) : null;
    const data: LabelledRows = { rows: [], labels: [], timestamps: [], recorded: [] };
    for (let i = from; i < to; i++) {
      const row = this.rows[i]!;
      if (row.label === null || row.labelTs! > labelsBy) continue;
      if (validate && validate(row.features).length > 0) continue;
      data.rows.push(row.features);
      data.labels.push(row.label);
      data.timestamps.push(new Date(row.ts));
      const served = this.served[i];
      data.recorded!.push(
        served?.route === 'recorded' && served.prediction !== null
          ? { prediction: served.prediction, confidence: served.confidence }
          : null,
      );
    }
    return data;
  }

  /**
   * What served traffic since `since` shows, by `now`: the verification's evidence; with `segment`, of
   * that segment's rows only, as activities/evidence.ts measures them.
   */
  private evidence(
    since: number,
    now: number,
    segment?: string,
  ): { totals: ScoreTotals; served: number; failureRate: number | null; latencyP95Ms: number | null } {
    const totals = emptyTotals();
    const predictions: WindowPrediction[] = [];
    const only = segment === undefined ? null : (this.options.segments ?? []).find((s) => s.name === segment);
    for (let i = this.indexAt(since + 1); i < this.rows.length && this.rows[i]!.ts <= now; i++) {
      if (!this.servedOutput(i) || this.answeredBeforeChange(i)) continue;
      if (only !== null && !(only && inSegment(this.rows[i]!.features, only))) continue;
      const p = this.windowPrediction(i, now);
      predictions.push(p);
      if (p.label) addScore(totals, this.score(p));
    }
    const metrics = computeWindowMetrics({
      schema: this.shape.schema,
      task: this.shape.task,
      labels: this.shape.classes,
      reference: null,
      predictions,
      now: new Date(now),
    });
    return {
      totals,
      served: predictions.length,
      failureRate: metrics.system.failureRate,
      latencyP95Ms: metrics.system.latencyMs?.p95 ?? null,
    };
  }

  /**
   * Whether the recorded system answered row i from the deployment before a change the backtest made just
   * before the row: within the gateway's serving cache of the change (DEFAULT_SERVING_CACHE_MS), a row the
   * file records as answered by another version than the one serving it here. The agent's evidence leaves
   * such answers out (activities/evidence.ts reads only the versions the current revision serves), and
   * their recorded latency and failures are the replaced version's.
   */
  private answeredBeforeChange(i: number): boolean {
    const row = this.rows[i]!;
    const served = this.served[i]!;
    if (row.version === null || served.version === null || served.version === row.version) return false;
    const change = this.revisions.findLast((r) => r.changedAt <= row.ts);
    return change !== undefined && row.ts < change.changedAt + DEFAULT_SERVING_CACHE_MS;
  }

  private note(text: string): void {
    if (!this.report.notes.includes(text)) this.report.notes.push(text);
  }

  private finish(): void {
    const totals = this.report.totals;
    totals.windows = this.report.windows.length;
    totals.open = this.report.incidents.filter((i) => i.outcome === 'open').length;
    const inProgress = this.effect?.kind ?? this.agent.inFlight?.phase;
    if (inProgress) this.note(`the stream ended while a ${inProgress} was in progress`);
    if (this.options.deployments) {
      this.note(
        'a deployment history was given: every row was scored by the version serving it in the backtest, not by its recorded prediction',
      );
    } else if (this.report.input.recordedPredictions) {
      this.note('rows kept their recorded predictions until the first simulated deployment change');
    }
    this.note('latency and failures are replayed as recorded, whichever version serves');
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function fmt(x: number | null): string {
  return x === null ? '-' : Number.isFinite(x) ? Number(x.toPrecision(3)).toString() : String(x);
}
