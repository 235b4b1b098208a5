// The backtest report: plain JSON (written with --out), and the readable summary printed on stdout.
import type {
  Decision,
  Finding,
  RemedyAttempt,
  VerificationBaseline,
  WindowSummary,
} from '../brain/types.ts';
import { describeWindows } from '../brain/windows.ts';
import type { FeatureSchema, FindingKind, ServingMode, Task } from '../domain.ts';
import type { ModelArtifact } from '../models/index.ts';
import type { Policy } from '../policy/policy.ts';

export interface ReportWindow {
  seq: number;
  startAt: string;
  endAt: string;
  /**
   * The deployment that served the window's last rows: a change a person made in the window is in it,
   * what the agent did at the window's close is not (it serves the next window).
   */
  serving: {
    revision: number;
    mode: ServingMode;
    production: number | null;
    fallback: number | null;
    /** A canary, the agent's trial or one a person deployed (deployment history). */
    canary?: { version: number; share: number };
    /** A version scoring every row beside production without answering: a shadow trial. */
    shadow?: number;
    /** The segments the fallback serves while production serves the rest (a segment's remedy). */
    fallbackSegments?: string[];
  };
  /** The monitor's digest of the window, exactly as the agent would carry it. */
  summary: WindowSummary;
  /** Findings not in state 'clear'. */
  findings: Finding[];
}

export type ReportDecision = Decision & { window: number; at: string };

export interface ReportAction {
  window: number;
  at: string;
  incidentId?: string | null;
  action: string;
  /**
   * sent (alert), approved, expired, applied, rejected, failed, skipped, verified recovered|not recovered;
   * `by <actor>` for a change of the deployment history (action 'deployment').
   */
  outcome: string;
  detail: string;
  revisionBefore?: number;
  revisionAfter?: number;
  /** Retrain: the candidate and its comparison with production on the held-out rows. */
  candidate?: {
    version: number;
    trainRows: number;
    metric: 'accuracy' | 'rmse';
    candidate: number;
    production: number;
    statistic: number;
    pValue: number;
  };
}

export interface ReportIncident {
  id: string;
  kind: FindingKind;
  severity?: string;
  summary: string;
  /** Start of the window that opened the incident, as the agent takes it: a retrain learns from the rows since. */
  onsetAt: string;
  openedWindow: number;
  openedAt: string;
  baseline: VerificationBaseline | null;
  attempts: RemedyAttempt[];
  /** open → mitigating → verifying → recovered | rebaselined | escalated (or open for the next rung). */
  timeline: { window: number; at: string; status: string; note: string }[];
  /** 'open': the stream ended first. */
  outcome: 'recovered' | 'rebaselined' | 'escalated' | 'open';
  closedAt: string | null;
}

export interface ReportVersion {
  version: number;
  /** deployed: a version of the deployment history (--deployments), with its recorded number. */
  origin: 'model' | 'fallback' | 'trained' | 'retrain' | 'deployed';
  kind: string;
  trainRows: number;
  holdoutRows: number;
  /** The model itself, so a version the backtest trained can be registered or replayed with --model. */
  artifact: ModelArtifact;
  /** Its baseline on held-out (or reference) rows. */
  baseline: { accuracy: number; rows: number } | { rmse: number; rows: number } | null;
}

export interface BacktestReport {
  format: 1;
  input: {
    source: string | null;
    rows: number;
    /** The first rows: the reference (and training data of version 1 with --train-rows); not replayed. */
    referenceRows: number;
    replayedRows: number;
    from: string;
    to: string;
    task: Task;
    classes: string[] | null;
    schema: FeatureSchema;
    inferred: { schema: boolean; task: boolean };
    ignoredColumns: string[];
    reordered: boolean;
    recordedPredictions: boolean;
    /** The deployment history replayed (--deployments): its model, changes and versions. */
    deployments?: { model: string; changes: number; versions: number[] };
  };
  policy: Policy;
  versions: ReportVersion[];
  windows: ReportWindow[];
  /** Every decision but 'healthy'. */
  decisions: ReportDecision[];
  actions: ReportAction[];
  incidents: ReportIncident[];
  totals: {
    windows: number;
    /** Windows in which a finding of the kind was confirmed. */
    confirmedFindings: Partial<Record<FindingKind, number>>;
    /** Decisions whose action was not 'none'. */
    decisionsActed: number;
    incidents: number;
    recovered: number;
    rebaselined: number;
    escalated: number;
    open: number;
  };
  notes: string[];
}

const pct = (x: number | null | undefined) => (x == null ? '-' : `${(100 * x).toFixed(1)} %`);
const num = (x: number | null | undefined) => (x == null ? '-' : Number(x.toPrecision(4)).toString());

/** The report for a reader: what was replayed, what was found, what the agent did and how it ended. */
export function formatSummary(report: BacktestReport): string {
  const { input, totals } = report;
  const lines: string[] = [];
  lines.push(
    `Backtest of ${input.source ?? 'a stream'}: ${input.replayedRows} rows replayed (${input.from} → ${input.to}), ${input.referenceRows} reference rows, ${input.task} task`,
  );
  for (const v of report.versions) {
    const base =
      v.baseline === null
        ? 'no baseline'
        : 'accuracy' in v.baseline
          ? `accuracy ${pct(v.baseline.accuracy)}`
          : `RMSE ${num(v.baseline.rmse)}`;
    lines.push(`  version ${v.version}: ${v.origin} (${v.kind}, ${v.trainRows} training rows), ${base}`);
  }
  const metric = input.task === 'regression' ? 'rmse' : 'accuracy';
  const values = report.windows.map((w) => w.summary[metric]).filter((x): x is number => x != null);
  lines.push('');
  lines.push(
    `Windows: ${totals.windows} (${describeWindows(report.policy.window)}); ${metric} per window from ${num(Math.min(...values))} to ${num(Math.max(...values))}`,
  );
  const confirmed = Object.entries(totals.confirmedFindings);
  lines.push(
    confirmed.length === 0
      ? 'Findings confirmed: none'
      : `Findings confirmed: ${confirmed.map(([kind, n]) => `${kind} in ${n} window(s)`).join(', ')}`,
  );
  const acted = report.decisions.filter((d) => d.action !== 'none' || d.incident || d.escalate);
  lines.push(acted.length === 0 ? 'Decisions that acted: none' : 'Decisions that acted:');
  for (const d of acted) {
    lines.push(`  window ${d.window} (${d.at}): ${d.action} — ${d.rule}: ${d.reason}`);
  }
  const done = report.actions.filter((a) => a.action !== 'alert');
  if (done.length > 0) lines.push('Actions:');
  for (const a of done) lines.push(`  window ${a.window}: ${a.action} ${a.outcome} — ${a.detail}`);
  lines.push(report.incidents.length === 0 ? 'Incidents: none' : 'Incidents:');
  for (const i of report.incidents) {
    const tried = i.attempts.map((a) => `${a.action} → ${a.outcome}`).join(', ') || 'no remedy';
    lines.push(
      `  ${i.id} ${i.kind} (${i.severity ?? '-'}), opened window ${i.openedWindow}: ${i.outcome.toUpperCase()}; ${tried}`,
    );
    for (const t of i.timeline) lines.push(`    window ${t.window} ${t.status}: ${t.note}`);
  }
  lines.push(
    `Totals: ${totals.incidents} incident(s), ${totals.recovered} recovered, ${totals.rebaselined} rebaselined, ${totals.escalated} escalated, ${totals.open} open at the end`,
  );
  for (const note of report.notes) lines.push(`Note: ${note}`);
  return lines.join('\n');
}
