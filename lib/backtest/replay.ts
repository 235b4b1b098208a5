// The backtest engine: replays a historical stream through the agent's own Monitor → Detect → Decide code
// in simulated time, and simulates the actions on the replayed data. Windows are measured by
// activities/monitor.ts measureWindow (the monitor activity's work without the store), judged by
// workflows/detect.ts detect, and decided by workflows/decide.ts decide; nothing here re-implements them.
//
// What is simulated, at the window boundary where the decision was taken:
// - the deployment is a list of revisions, served through lib/registry/routing.ts chooseRoute: rows keep
//   their recorded prediction (if the file has one) until the first deployment change, and are scored by
//   the serving version afterwards; a disabled model serves nothing (its rows are not traffic);
// - with a deployment history (lib/backtest/deployments.ts), each change a person made is applied at its
//   time as theirs (decide's deployment-change-rollback sees it as the live agent did), and every row is
//   scored by the version serving it then: recorded predictions carry the live agent's remedies;
// - a promoted retrain or a rollback resets what the detector learnt of the old model, as the agent does
//   (workflows/detect.ts afterModelChange); a person's change of the production version drops only its
//   sequential statistics (afterProductionChange);
// - retrain trains a candidate of the production version's kind on the labelled rows since the
//   incident's onset (waiting up to policy.retrain.maxWait for policy.retrain.minRows of them), holds out
//   the most recent share, and promotes it only when it beats production on those rows at
//   policy.retrain.alpha; a canary promotion routes policy.retrain.canaryShare of the traffic to the
//   candidate and judges it at every window as the agent's canary does (lib/recovery/judge.ts
//   judgeCanary); a shadow promotion is simulated as a direct one;
// - rollback restores the decision's revision, fallback serves the fallback version, disable stops serving;
// - verification waits for policy.verification.minRows labelled rows served since the action and judges
//   them against the pre-failure baseline (lib/recovery/judge.ts), within verification.maxWait.
// Latency and failures are replayed as recorded: the file cannot say how another version would have fared.
import type { DeploymentFacts, ServedComparison } from '../../activities/contracts.ts';
import { measureWindow } from '../../activities/monitor.ts';
import { baselineFor } from '../../workflows/baseline.ts';
import { decide } from '../../workflows/decide.ts';
import {
  afterModelChange,
  afterProductionChange,
  type DetectSettings,
  detect,
  initialDetectorState,
} from '../../workflows/detect.ts';
import type {
  Decision,
  DetectorState,
  Finding,
  OpenIncident,
  RemedyAttempt,
  RemedyRecord,
  WindowSummary,
} from '../../workflows/types.ts';
import type { FindingKind, ServingMode, Severity } from '../domain.ts';
import { rowValidator } from '../ingest/validate.ts';
import { builtInTrainerOf, type ModelArtifact, type TrainerKind } from '../models/index.ts';
import { computeWindowMetrics, type WindowPrediction } from '../monitor/index.ts';
import { durationMs } from '../policy/duration.ts';
import type { Policy } from '../policy/policy.ts';
import { CANARY_DEFAULTS, judgeCanary, verificationFor } from '../recovery/judge.ts';
import { addScore, emptyTotals, rowScorer, type ScoreTotals } from '../recovery/outcomes.ts';
import { chooseRoute, routingShare, type ServingDeployment } from '../registry/routing.ts';
import type { DeploymentChange, DeploymentHistory } from './deployments.ts';
import { compareCandidate, judgeEvidence } from './judgement.ts';
import type { BacktestReport, ReportAction, ReportIncident, ReportVersion, ReportWindow } from './report.ts';
import { BacktestInputError, type StreamFile, type StreamRow } from './stream-file.ts';
import {
  type BacktestVersion,
  defaultTrainer,
  type LabelledRows,
  type ModelShape,
  makeVersion,
  splitHoldout,
  trainVersion,
} from './versions.ts';
import type { WindowBounds } from './windows.ts';

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
  /** A remedy the policy makes wait for a human: granted at once, or left to expire into its onTimeout. */
  approvals?: 'grant' | 'expire';
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
  changedAt: number;
  changedBy: string;
}

/** A remedy in flight: decide may not start another while one is (DecisionContext.remedyInProgress). */
type Pending =
  | { kind: 'approval'; decision: Decision; expiresAt: number }
  | { kind: 'retrain'; since: number; deadline: number }
  | { kind: 'holding'; action: Remedy; before: number; deadline: number }
  | { kind: 'verify'; action: Remedy; since: number; deadline: number; before: number; after: number }
  | {
      kind: 'canary';
      candidate: number;
      production: number;
      since: number;
      deadline: number;
      look: number;
      before: number;
      /** The held-out comparison that let the candidate into its canary. */
      trained: string;
    };

type Remedy = 'rollback' | 'retrain' | 'fallback' | 'disable';
/** Remedies that protect users while the cause is outside the model (workflows/agent.ts PROTECTIVE). */
const PROTECTIVE = new Set<string>(['fallback', 'disable']);

/** The canary split's key in a backtest: fixed, so a report is reproducible; no client is involved. */
export const BACKTEST_ROUTING_SECRET = 'homeostat-backtest';
/**
 * Incidents whose cause is outside the model, behind which a protective remedy holds until it is gone
 * (workflows/agent.ts HOLD_UNTIL; a backtest cannot probe a failing server, so failures hold until the
 * finding clears too). For the others the model itself is at fault: the protective step only protects.
 */
const HOLD_KINDS = new Set<FindingKind>(['data_quality', 'stale_data', 'failures']);
type IncidentOpening = { kind: FindingKind; severity: Severity; summary: string };
type IncidentStep = NonNullable<OpenIncident['status']> | 'recovered';

interface Incident {
  state: OpenIncident;
  report: ReportIncident;
}

export async function runBacktest(options: BacktestOptions): Promise<BacktestReport> {
  const replay = new Replay(options);
  return replay.run();
}

class Replay {
  private readonly shape: ModelShape;
  private readonly rows: StreamRow[];
  private readonly first: number;
  private readonly served: (Served | undefined)[];
  private readonly versions: BacktestVersion[] = [];
  private readonly revisions: Revision[] = [];
  private readonly settings: DetectSettings;
  private readonly score: ReturnType<typeof rowScorer>;
  private detector: DetectorState = initialDetectorState();
  private remedies: RemedyRecord[] = [];
  private incident: Incident | null = null;
  private pending: Pending | null = null;
  private deploymentChanged = false;
  /** The deployment history's changes not applied yet, in time order. */
  private humanChanges: DeploymentChange[] = [];
  private incidentCount = 0;
  private readonly report: BacktestReport;

  constructor(private readonly options: BacktestOptions) {
    const { stream, policy } = options;
    this.shape = { schema: stream.schema, task: stream.task, classes: stream.classes };
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
    this.settings = { detection: policy.detection, minRows: policy.window.minRows, floors: policy.floors };
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
      const from = arrival;
      while (arrival < this.rows.length && this.rows[arrival]!.ts <= endAt) arrival++;
      await this.serve(from, arrival, endAt, seq);
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
      });
      if (arrivals.length > 0) previousArrival = this.rows[arrivals.at(-1)!]!.ts;
      const detected = detect(summary, this.detector, this.settings);
      const before = this.detector;
      this.detector = detected.state;
      await this.advancePending(seq, endAt);
      const decision = decide({
        findings: detected.findings,
        policy: this.options.policy,
        now: endAt,
        cycle: seq,
        openIncident: this.incident?.state ?? null,
        deployment: this.facts(),
        remedies: this.remedies,
        remedyInProgress: this.pending !== null,
        // As the agent passes it: a deployment change is the suspected cause when it came before this.
        windowStart: startAt,
        retrainAgain: true,
      });
      this.recordWindow(seq, summary, detected.findings, servedBy);
      await this.apply(decision, summary, before, endAt);
      if (
        this.options.onProgress &&
        (seq + 1) % (this.options.progressEvery ?? BACKTEST_DEFAULTS.progressEvery) === 0
      ) {
        this.options.onProgress(
          `backtest: window ${seq + 1}/${bounds.length}, ${arrival - this.first} rows, ${this.incidentCount} incident(s)`,
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
      changedAt: c.at,
      changedBy: c.actor,
    });
  }

  /** Applies a change from the deployment history mid-replay, and reports it. */
  private applyHumanChange(c: DeploymentChange, seq: number): void {
    const before = this.current.revision;
    // Another version serves: the old one's error charts and CUSUMs go, its baselines stay, as in the agent.
    if (c.production !== this.current.production) this.detector = afterProductionChange(this.detector);
    this.pushHumanChange(c);
    this.deploymentChanged = true;
    const roles = [
      `production ${c.production === null ? '-' : `v${c.production}`}`,
      `fallback ${c.fallback === null ? '-' : `v${c.fallback}`}`,
      ...(c.canary ? [`canary v${c.canary.version} (${c.canary.share})`] : []),
    ];
    this.recordAction(
      seq,
      c.at,
      'deployment',
      `by ${c.actor}`,
      `${c.mode}, ${roles.join(', ')} as revision ${this.current.revision} (recorded revision ${c.revision}): ${c.reason}`,
      { revisionBefore: before, revisionAfter: this.current.revision },
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
      shadowVersion: null,
      changedAt: c.changedAt,
      changedBy: c.changedBy,
      lastKnownGoodRevision: good?.revision ?? null,
    };
  }

  /** Every change is a new revision, as in the registry. */
  private deploy(
    change: Partial<Pick<Revision, 'mode' | 'production' | 'fallback' | 'canary'>>,
    at: number,
  ): void {
    const revision = this.current.revision + 1;
    this.revisions.push({ ...this.current, ...change, revision, changedAt: at, changedBy: 'agent' });
    this.deploymentChanged = true;
  }

  /** A new revision with an earlier one's deployment. */
  private restore(revision: number, at: number): void {
    const { mode, production, fallback, canary } = this.revisions.find((r) => r.revision === revision)!;
    this.deploy({ mode, production, fallback, canary }, at);
  }

  // ---- serving ----------------------------------------------------------------------------------

  /**
   * Answers rows [from, to) of a window ending at `endAt`: as the deployment at the window's start would
   * have, and from each change of the deployment history (made in the window) on, as it says.
   */
  private async serve(from: number, to: number, endAt: number, seq: number): Promise<void> {
    let start = from;
    for (let i = from; i <= to; i++) {
      const until = i < to ? this.rows[i]!.ts : endAt;
      // A change applies to the rows received at or after its time.
      while (this.humanChanges.length > 0 && this.humanChanges[0]!.at <= until) {
        await this.serveRows(start, i);
        start = i;
        this.applyHumanChange(this.humanChanges.shift()!, seq);
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
      const route = chooseRoute(deployment, routingShare(BACKTEST_ROUTING_SECRET, row.id), 'unavailable');
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

  /** Windows of the replayed rows as the policy cuts them: every `rows` arrivals, or every `every`. */
  private windowBounds(): { startAt: number; endAt: number }[] {
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
    const start = this.rows[this.first]!.ts - 1;
    const last = this.rows.at(-1)!.ts;
    const bounds: { startAt: number; endAt: number }[] = [];
    if (window.kind === 'count') {
      let startAt = start;
      for (let i = this.first; i < this.rows.length; i += window.rows) {
        let end = Math.min(i + window.rows, this.rows.length) - 1;
        // Rows that share a timestamp share a window.
        while (end + 1 < this.rows.length && this.rows[end + 1]!.ts === this.rows[end]!.ts) end++;
        const endAt = this.rows[end]!.ts;
        if (endAt <= startAt) continue;
        bounds.push({ startAt, endAt });
        startAt = endAt;
        i = end + 1 - window.rows;
      }
    } else {
      const every = durationMs(window.every);
      for (let startAt = start; startAt < last; startAt += every)
        bounds.push({ startAt, endAt: startAt + every });
    }
    return bounds;
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

  // ---- decisions and actions ----------------------------------------------------------------------
  // The agent's act-and-verify (workflows/agent.ts runRemedy) in simulated time: a remedy is applied at
  // the decision's window boundary, and what it waits for (labelled rows to train on, a finding to clear
  // behind a protective step, verification evidence) is looked at again at every following boundary.

  private async apply(decision: Decision, window: WindowSummary, before: DetectorState, now: number) {
    const seq = window.seq;
    if (decision.rule !== 'healthy') this.report.decisions.push({ window: seq, at: iso(now), ...decision });
    if (decision.action !== 'none') this.report.totals.decisionsActed++;
    if (decision.incident && 'open' in decision.incident)
      this.openIncident(decision.incident.open, window, before, now);
    else if (decision.incident && 'close' in decision.incident && this.incident) {
      this.closeIncident(seq, now, decision.reason);
    }
    if (decision.action === 'alert') this.recordAction(seq, now, 'alert', 'sent', decision.reason);
    if (!this.incident) return;
    if (decision.escalate) this.escalate(decision.escalate.reason, seq, now);
    else if (isRemedy(decision.action)) await this.runRemedy(decision, seq, now);
  }

  private openIncident(
    open: IncidentOpening,
    window: WindowSummary,
    before: DetectorState,
    now: number,
  ): void {
    const id = `incident-${++this.incidentCount}`;
    // As the agent does: the onset is the start of the window that opened the incident, and the
    // baseline comes from the detector's healthy windows before it.
    const baseline = baselineFor(open.kind, before, window);
    this.incident = {
      state: {
        id,
        kind: open.kind,
        openedAtCycle: window.seq,
        severity: open.severity,
        openedAt: now,
        onsetAt: window.startAt,
        status: 'open',
        attempts: [],
        baseline,
      },
      report: {
        id,
        kind: open.kind,
        severity: open.severity,
        summary: open.summary,
        onsetAt: window.startAt,
        openedWindow: window.seq,
        openedAt: iso(now),
        baseline,
        attempts: [],
        timeline: [{ window: window.seq, at: iso(now), status: 'open', note: open.summary }],
        outcome: 'open',
        closedAt: null,
      },
    };
    this.incident.report.attempts = this.incident.state.attempts!;
    this.report.incidents.push(this.incident.report);
    this.report.totals.incidents++;
  }

  private step(status: IncidentStep, seq: number, now: number, note: string): void {
    const incident = this.incident!;
    if (status !== 'recovered') incident.state.status = status;
    incident.report.timeline.push({ window: seq, at: iso(now), status, note });
  }

  private closeIncident(seq: number, now: number, note: string): void {
    this.step('recovered', seq, now, note);
    this.incident!.report.outcome = 'recovered';
    this.incident!.report.closedAt = iso(now);
    this.report.totals.recovered++;
    this.incident = null;
    this.pending = null;
  }

  /** Hands the incident to a human and holds the model as it is: nobody answers in a backtest. */
  private escalate(reason: string, seq: number, now: number): void {
    this.step('escalated', seq, now, reason);
    this.incident!.report.outcome = 'escalated';
    this.report.totals.escalated++;
    this.pending = null;
  }

  private recordAction(
    seq: number,
    now: number,
    action: string,
    outcome: string,
    detail: string,
    extra: Partial<ReportAction> = {},
  ) {
    this.report.actions.push({
      window: seq,
      at: iso(now),
      incidentId: this.incident?.state.id ?? null,
      action,
      outcome,
      detail,
      ...extra,
    });
  }

  private attempt(): RemedyAttempt {
    return this.incident!.state.attempts!.at(-1)!;
  }

  /** The attempt ends and the incident is open again: decide takes the next rung, or escalates. */
  private reopen(outcome: RemedyAttempt['outcome'], detail: string, seq: number, now: number): void {
    Object.assign(this.attempt(), { outcome, detail });
    this.pending = null;
    this.step('open', seq, now, `${this.attempt().action} ${outcome.replace('_', ' ')}: ${detail}`);
  }

  private async runRemedy(decision: Decision, seq: number, now: number): Promise<void> {
    this.incident!.state.attempts!.push({ action: decision.action, at: now, outcome: 'pending', detail: '' });
    const approval = decision.approval;
    if (approval && this.options.approvals === 'expire') {
      this.pending = { kind: 'approval', decision, expiresAt: now + durationMs(approval.timeout) };
      this.step('awaiting_approval', seq, now, `${decision.action} waits for approval: ${decision.reason}`);
      return;
    }
    if (approval) this.note('approvals are simulated as granted at once (--approvals grant)');
    await this.startRemedy(decision.action as Remedy, decision.rollbackTo ?? null, decision.reason, seq, now);
  }

  private async startRemedy(
    action: Remedy,
    rollbackTo: number | null,
    reason: string,
    seq: number,
    now: number,
  ) {
    this.attempt().action = action;
    this.remedies.push({ action, at: now });
    this.step('mitigating', seq, now, `${action}: ${reason}`);
    const before = this.current.revision;
    const applied = (detail: string, extra: Partial<ReportAction> = {}) => {
      this.recordAction(seq, now, action, 'applied', detail, {
        revisionBefore: before,
        revisionAfter: this.current.revision,
        ...extra,
      });
      this.attempt().detail = detail;
      return this.afterApplied(action, before, seq, now);
    };
    const failed = (detail: string) => {
      this.recordAction(seq, now, action, 'failed', detail);
      this.reopen('failed', detail, seq, now);
    };
    switch (action) {
      case 'rollback': {
        const target = this.revisions.find((r) => r.revision === rollbackTo);
        if (!target) return failed('no revision to roll back to');
        this.restore(target.revision, now);
        // Another model serves now: what the detector learnt of the old one no longer applies.
        this.detector = afterModelChange(this.detector);
        return applied(`restored revision ${target.revision} as revision ${this.current.revision}`);
      }
      case 'fallback':
        if (this.current.fallback === null) return failed('no fallback version');
        this.deploy({ mode: 'fallback' }, now);
        return applied(`serving fallback version ${this.current.fallback}`);
      case 'disable':
        this.deploy({ mode: 'disabled' }, now);
        return applied('predictions disabled');
      case 'retrain':
        this.pending = {
          kind: 'retrain',
          since: Date.parse(this.incident!.state.onsetAt!),
          deadline: now + durationMs(this.options.policy.retrain.maxWait),
        };
        return this.tryRetrain(seq, now);
    }
  }

  /** Protective steps hold until the finding clears; the others are verified at once. */
  private afterApplied(action: Remedy, before: number, seq: number, now: number): void {
    const after = this.current.revision;
    if (PROTECTIVE.has(action) && !HOLD_KINDS.has(this.incident!.state.kind)) {
      // The model itself is at fault: users stay protected while the next rung repairs it.
      const detail = `${this.attempt().detail}; users protected while the model itself is repaired`;
      Object.assign(this.attempt(), { outcome: 'protected', detail });
      this.pending = null;
      this.step('open', seq, now, detail);
      return;
    }
    if (PROTECTIVE.has(action)) {
      const deadline = now + durationMs(this.options.policy.verification.maxWait);
      this.pending = { kind: 'holding', action, before, deadline };
      this.step(
        'holding',
        seq,
        now,
        `${action} in place; waiting for the ${this.incident!.state.kind} to clear`,
      );
      return;
    }
    this.verify(action, before, after, seq, now);
  }

  private verify(action: Remedy, before: number, after: number, seq: number, now: number): void {
    const incident = this.incident!;
    if (!incident.state.baseline) {
      Object.assign(this.attempt(), { outcome: 'recovered' });
      this.attempt().detail += '; no pre-failure baseline to verify against, the finding cleared';
      this.closeIncident(seq, now, this.attempt().detail);
      return;
    }
    const deadline = now + durationMs(this.options.policy.verification.maxWait);
    this.pending = { kind: 'verify', action, since: now, deadline, before, after };
    const b = incident.state.baseline;
    this.step('verifying', seq, now, `verifying ${b.metric} against the pre-failure ${fmt(b.value)}`);
  }

  /** Moves the remedy in flight on at a window's close, before decide sees the state. */
  private async advancePending(seq: number, now: number): Promise<void> {
    const pending = this.pending;
    if (!pending || !this.incident) return;
    switch (pending.kind) {
      case 'approval': {
        if (now < pending.expiresAt) return;
        const { onTimeout, timeout } = pending.decision.approval!;
        this.recordAction(
          seq,
          now,
          pending.decision.action,
          'expired',
          `nobody answered in ${timeout}; taking ${onTimeout}`,
        );
        this.pending = null;
        if (isRemedy(onTimeout))
          return this.startRemedy(onTimeout, null, `approval expired: ${onTimeout}`, seq, now);
        return this.reopen(
          'expired',
          `approval expired after ${timeout}; took the safe action ${onTimeout}`,
          seq,
          now,
        );
      }
      case 'retrain':
        return this.tryRetrain(seq, now);
      case 'canary':
        return this.judgeCanaryNow(pending, seq, now);
      case 'holding': {
        const cleared = (this.detector.persistence[this.incident.state.kind]?.state ?? 'clear') === 'clear';
        if (!cleared) {
          if (now >= pending.deadline) {
            const detail = `${this.attempt().detail}; the ${this.incident.state.kind} did not clear within ${this.options.policy.verification.maxWait} (users stay protected)`;
            this.reopen('not_recovered', detail, seq, now);
          }
          return;
        }
        this.restore(pending.before, now);
        this.recordAction(
          seq,
          now,
          pending.action,
          'restored',
          `the ${this.incident.state.kind} cleared; restored revision ${pending.before}`,
        );
        return this.verify(pending.action, pending.before, this.current.revision, seq, now);
      }
      case 'verify': {
        const baseline = this.incident.state.baseline ?? null;
        const judged = judgeEvidence(
          baseline,
          this.evidence(pending.since, now),
          verificationFor(this.options.policy, baseline?.metric ?? null),
        );
        if (judged.verdict === 'insufficient' && now < pending.deadline) return;
        const verdict = judged.verdict === 'recovered' ? 'recovered' : 'not_recovered';
        const why =
          judged.verdict === 'insufficient'
            ? `no verdict by ${this.options.policy.verification.maxWait}: ${judged.detail}`
            : judged.detail;
        const detail = `${this.attempt().detail}; ${verdict}: ${why}`;
        this.recordAction(seq, now, pending.action, `verified ${verdict.replace('_', ' ')}`, why);
        if (verdict === 'recovered') {
          Object.assign(this.attempt(), { outcome: 'recovered', detail });
          return this.closeIncident(seq, now, detail);
        }
        // As the agent (workflows/agent.ts): a promoted retrain beat the model it replaced, so it stays as the
        // best model available; any other change that did not help is undone before the next rung.
        const improvedRetrain = pending.action === 'retrain';
        if (improvedRetrain) this.attempt().bestAvailable = true;
        if (!PROTECTIVE.has(pending.action) && !improvedRetrain && pending.before !== pending.after) {
          this.restore(pending.before, now);
          this.recordAction(seq, now, pending.action, 'undone', `restored revision ${pending.before}`);
        }
        return this.reopen('not_recovered', detail, seq, now);
      }
    }
  }

  private async tryRetrain(seq: number, now: number): Promise<void> {
    const pending = this.pending as Extract<Pending, { kind: 'retrain' }>;
    const settings = this.options.policy.retrain;
    const production = this.version(this.current.production);
    const trainer = production ? builtInTrainerOf(production.artifact) : null;
    const failed = (detail: string) => {
      this.recordAction(seq, now, 'retrain', 'failed', detail);
      this.reopen('failed', detail, seq, now);
    };
    if (!production) return failed('no production version');
    if (!trainer) return failed('the production version is an HTTP model: a backtest cannot retrain it');
    const data = this.labelledRows(
      Math.max(this.first, this.indexAt(pending.since)),
      this.rows.length,
      now,
      true,
    );
    if (data.rows.length < settings.minRows) {
      if (now >= pending.deadline) {
        failed(
          `only ${data.rows.length} labelled rows since the onset; ${settings.minRows} needed to retrain`,
        );
      }
      return;
    }
    const { training, holdout } = splitHoldout(data, settings.holdoutShare);
    const candidate = await trainVersion(this.shape, {
      version: this.nextVersionNumber(),
      origin: 'retrain',
      trainer,
      training,
      holdout,
    });
    this.addVersion(candidate);
    const comparison = await compareCandidate(
      this.shape,
      candidate.model,
      production.model,
      holdout,
      this.score,
    );
    const summary = `${comparison.metric} ${fmt(comparison.candidate)} vs production ${fmt(comparison.production)} on ${holdout.rows.length} held-out rows (p = ${fmt(comparison.pValue)})`;
    const better =
      comparison.metric === 'accuracy'
        ? comparison.candidate > comparison.production
        : comparison.candidate < comparison.production;
    const info = {
      candidate: { version: candidate.version, trainRows: training.rows.length, ...comparison },
    };
    if (!better || comparison.pValue >= settings.alpha) {
      const detail = `candidate v${candidate.version} did not beat production: ${summary}`;
      this.recordAction(seq, now, 'retrain', 'rejected', detail, info);
      // As the agent: production is the best model available for the recent data (decide escalates).
      this.attempt().bestAvailable = true;
      return this.reopen('rejected', detail, seq, now);
    }
    const before = this.current.revision;
    if (settings.promotion === 'canary') {
      // As the agent's canary (workflows/remedies.ts trial): a share of the traffic, routed by prediction
      // id, goes to the candidate, which is judged against production at every window from now on.
      this.deploy({ canary: { version: candidate.version, share: settings.canaryShare } }, now);
      const detail = `candidate v${candidate.version} (${summary}) serves ${settings.canaryShare} of the traffic as a canary`;
      this.recordAction(seq, now, 'retrain', 'canary', detail, {
        ...info,
        revisionBefore: before,
        revisionAfter: this.current.revision,
      });
      this.attempt().detail = detail;
      this.pending = {
        kind: 'canary',
        candidate: candidate.version,
        production: production.version,
        since: now,
        deadline: now + durationMs(settings.maxWait),
        look: 0,
        before,
        trained: summary,
      };
      return;
    }
    if (settings.promotion !== 'direct') {
      this.note(`retrain promotion '${settings.promotion}' is simulated as a direct promotion`);
    }
    this.promote(
      candidate.version,
      production.version,
      before,
      `candidate v${candidate.version} promoted (${summary})`,
      seq,
      now,
      info,
    );
  }

  /** Production becomes the candidate, as the agent promotes one (workflows/remedies.ts promote); then verified. */
  private promote(
    candidate: number,
    production: number,
    before: number,
    detail: string,
    seq: number,
    now: number,
    extra: Partial<ReportAction> = {},
  ): void {
    this.deploy(
      {
        // A model held on its fallback serves again; the old production stays as the fallback when there is none.
        mode: 'serving',
        production: candidate,
        fallback: this.current.fallback ?? production,
        canary: null,
      },
      now,
    );
    // Another model serves now: what the detector learnt of the old one no longer applies.
    this.detector = afterModelChange(this.detector);
    this.recordAction(seq, now, 'retrain', 'applied', detail, {
      ...extra,
      revisionBefore: before,
      revisionAfter: this.current.revision,
    });
    this.attempt().detail = detail;
    this.pending = null;
    this.verify('retrain', before, this.current.revision, seq, now);
  }

  /** A canary's look at a window's close: promote, abort (undone) or go on, as workflows/remedies.ts trial. */
  private judgeCanaryNow(pending: Extract<Pending, { kind: 'canary' }>, seq: number, now: number): void {
    const settings = this.options.policy.retrain;
    const comparison = this.servedComparison(pending.candidate, pending.production, pending.since, now);
    const ready = Math.min(comparison.candidate.rows, comparison.baseline.rows) >= settings.canaryMinRows;
    if (ready) pending.look++;
    const judged = judgeCanary(comparison, {
      minRows: settings.canaryMinRows,
      alpha: settings.alpha,
      margin: settings.canaryMargin,
      looks: CANARY_DEFAULTS.looks,
      ...(ready ? { look: pending.look } : {}),
    });
    if (judged.verdict === 'promote') {
      const detail = `candidate v${pending.candidate} (${pending.trained}); canary: ${judged.detail}`;
      this.promote(pending.candidate, pending.production, pending.before, detail, seq, now);
      return;
    }
    if (judged.verdict === 'continue' && now < pending.deadline) return;
    const why =
      judged.verdict === 'abort' ? judged.detail : `no decision by ${settings.maxWait}: ${judged.detail}`;
    this.restore(pending.before, now);
    const detail = `candidate v${pending.candidate} (${pending.trained}); canary aborted: ${why}`;
    this.recordAction(seq, now, 'retrain', 'rejected', detail, {
      revisionBefore: pending.before,
      revisionAfter: this.current.revision,
    });
    this.reopen('rejected', detail, seq, now);
  }

  /** Labelled outcomes, by `now`, of the rows each version served since `since` (activities/retrain.ts compareServed). */
  private servedComparison(
    candidate: number,
    production: number,
    since: number,
    now: number,
  ): ServedComparison {
    const arms = { candidate: emptyTotals(), baseline: emptyTotals() };
    for (let i = this.indexAt(since); i < this.rows.length && this.rows[i]!.ts <= now; i++) {
      const version = this.servedOutput(i) ? this.served[i]!.version : null;
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
   * Labelled rows [from, to) whose labels arrived by `labelsBy`; with `clean`, rows with a data-quality
   * problem are left out: never train on corrupted input.
   */
  private labelledRows(from: number, to: number, labelsBy: number, clean = false): LabelledRows {
    const validate = clean ? rowValidator(this.shape.schema) : null;
    const data: LabelledRows = { rows: [], labels: [], timestamps: [] };
    for (let i = from; i < to; i++) {
      const row = this.rows[i]!;
      if (row.label === null || row.labelTs! > labelsBy) continue;
      if (validate && validate(row.features).length > 0) continue;
      data.rows.push(row.features);
      data.labels.push(row.label);
      data.timestamps.push(new Date(row.ts));
    }
    return data;
  }

  /** What served traffic since `since` shows, by `now`: the verification's evidence. */
  private evidence(
    since: number,
    now: number,
  ): { totals: ScoreTotals; served: number; failureRate: number | null; latencyP95Ms: number | null } {
    const totals = emptyTotals();
    const predictions: WindowPrediction[] = [];
    for (let i = this.indexAt(since + 1); i < this.rows.length && this.rows[i]!.ts <= now; i++) {
      if (!this.servedOutput(i)) continue;
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

  private note(text: string): void {
    if (!this.report.notes.includes(text)) this.report.notes.push(text);
  }

  private finish(): void {
    const totals = this.report.totals;
    totals.windows = this.report.windows.length;
    totals.open = this.report.incidents.filter((i) => i.outcome === 'open').length;
    if (this.pending) this.note(`the stream ended while a ${this.pending.kind} was in progress`);
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

function isRemedy(action: string): action is 'rollback' | 'retrain' | 'fallback' | 'disable' {
  return action === 'rollback' || action === 'retrain' || action === 'fallback' || action === 'disable';
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function fmt(x: number | null): string {
  return x === null ? '-' : Number.isFinite(x) ? Number(x.toPrecision(3)).toString() : String(x);
}
