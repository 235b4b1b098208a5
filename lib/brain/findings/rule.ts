// What one kind of finding is, as a unit: how a window is judged for it (observe), the thresholds it is
// judged with (its defaults, beside its rule), how decide ranks and weighs it (priority, margins, a
// collapse that needs protecting at once), which pre-failure level its recovery is verified against, and
// what must be true before a protective remedy taken for it may be undone. One file per kind in this
// folder implements it; index.ts registers them; cross-kind.ts holds the little logic that spans kinds.
// Pure and zod-free: the workflow bundle loads every rule.
import type { FindingKind, Severity } from '../../domain.ts';
import type { Policy } from '../../policy/policy.ts';
import type {
  DetectorState,
  EvidenceByKind,
  FindingFeature,
  FindingOf,
  VerificationBaseline,
  WindowSummary,
} from '../types.ts';

/** What detect reads from a policy: its detection section, window.minRows and floors. */
export interface DetectSettings {
  detection: Policy['detection'];
  minRows: number;
  floors: Policy['floors'];
}

/** The sequential statistics detect carries between windows for the performance finding. */
export type SequentialState = Pick<DetectorState, 'calibrationCusum' | 'errorCusum' | 'rmseCusum'>;

/** One window's judgement for one kind, before persistence turns it into a finding (or none). */
export interface Observation<K extends FindingKind = FindingKind> {
  kind: K;
  /** False when the window cannot tell: persistence is left as it was. */
  judged: boolean;
  bad: boolean;
  severity: Severity;
  summary: string;
  evidence: EvidenceByKind[K];
  features?: FindingFeature[];
  impact?: FindingOf<K>['impact'];
  /** The evidence already spans windows (a CUSUM past its decision interval): confirm on this window. */
  confirmNow?: boolean;
  /**
   * Whether the window's own rows show the failure, for a kind whose evidence can outlast it (a CUSUM
   * stays past its decision interval for a while after a short burst is over). Set, the kind's
   * persistence counts the bad windows that show it (PersistenceState.shown); absent, it does not.
   */
  shown?: boolean;
  /** Sequential statistics after this window, for the kinds that carry them. */
  carry?: SequentialState;
}

/** What a rule observes: the window, the state carried from earlier windows, the policy's settings. */
export interface ObserveInput {
  window: WindowSummary;
  state: DetectorState;
  settings: DetectSettings;
  /**
   * Features with a data-quality problem in this window (cross-kind.ts): a renamed category or a unit
   * change shifts the distribution too, but it is that problem, not drift.
   */
  brokenFeatures: ReadonlySet<string>;
}

/**
 * How a protective remedy (fallback, disable) taken for the kind is undone: once the inputs are clean
 * again ('inputs-clear', measured on the inputs whichever version serves them), once the production
 * version answers again ('probe'), or null: the model itself is at fault, so users stay protected while
 * the next rung repairs it.
 */
export type HoldUntil = 'inputs-clear' | 'probe' | null;

/**
 * Where a kind's failure lies, which decides the remedies that can help: broken `inputs` upstream (no
 * earlier version sees other inputs; never retrain on them), `traffic` itself or its labels (nothing a
 * remedy of the model brings back), the `serving` of the model (a rollback can, a retrain cannot), or the
 * `model`'s own quality (a better model can repair it).
 */
export type FindingOrigin = 'inputs' | 'traffic' | 'serving' | 'model';

export interface FindingRule<K extends FindingKind = FindingKind> {
  kind: K;
  origin: FindingOrigin;
  /** Root causes first (lowest first): broken inputs explain failures, failures a drop in accuracy... */
  priority: number;
  /** The thresholds detect judges the kind with beyond the policy's (docs/agent-logic.md). */
  defaults: Readonly<Record<string, number>>;
  observe(input: ObserveInput): Observation<K>;
  /**
   * Per-test margins of a finding over the thresholds it was judged with (decide's evidence strength):
   * the weaker of effect / minimum effect and significance / its threshold; null where a test is absent.
   */
  margins(finding: FindingOf<K>, policy: Policy): (number | null)[];
  /** The collapse a confirmed finding shows (users must be protected at once), or null. */
  collapse?(finding: FindingOf<K>, policy: Policy): string | null;
  /**
   * The pre-failure level an incident of this kind is verified against (null: nothing can show it), from
   * the detector before the window that opened it; `finding` is the finding that opened it.
   */
  verificationBaseline(
    detector: DetectorState,
    window: WindowSummary | null,
    finding?: FindingOf<K>,
  ): VerificationBaseline | null;
  holdUntil: HoldUntil;
}
