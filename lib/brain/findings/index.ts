// The registry of finding rules: one per FindingKind, checked by the compiler (a kind without a rule, or
// a rule filed under another kind, does not compile). Adding a kind: docs/agent-logic.md, "How to add a
// finding kind".
import type { FindingKind } from '../../domain.ts';
import type { Policy } from '../../policy/policy.ts';
import type { DetectorState, Finding, FindingOf, VerificationBaseline, WindowSummary } from '../types.ts';
import { anomaly } from './anomaly.ts';
import { conceptDrift } from './concept-drift.ts';
import { custom } from './custom.ts';
import { dataDrift } from './data-drift.ts';
import { dataQuality } from './data-quality.ts';
import { failures } from './failures.ts';
import { latency } from './latency.ts';
import type { FindingRule, HoldUntil } from './rule.ts';
import { segment } from './segment.ts';
import { staleData } from './stale-data.ts';

export const FINDING_RULES = {
  data_drift: dataDrift,
  concept_drift: conceptDrift,
  anomaly,
  data_quality: dataQuality,
  latency,
  failures,
  stale_data: staleData,
  custom,
  segment,
} as const satisfies { [K in FindingKind]: FindingRule<K> } & Record<FindingKind, FindingRule>;

type Rules = { [K in FindingKind]: FindingRule<K> };

/** The rule of a kind, typed for that kind. */
export function ruleOf<K extends FindingKind>(kind: K): Rules[K] {
  return (FINDING_RULES as Rules)[kind];
}

/** A finding's margins over the thresholds it was judged with, by its kind's rule. */
export function marginsOf<K extends FindingKind>(f: FindingOf<K>, policy: Policy): (number | null)[] {
  return (ruleOf(f.kind) as FindingRule<K>).margins(f, policy);
}

/** The collapse a finding shows, by its kind's rule (null: none, or the kind has no collapse). */
export function collapseOf<K extends FindingKind>(f: FindingOf<K>, policy: Policy): string | null {
  return (ruleOf(f.kind) as FindingRule<K>).collapse?.(f, policy) ?? null;
}

/** The pre-failure level an incident of `kind`, opened by `finding`, is verified against. */
export function verificationBaselineOf<K extends FindingKind>(
  kind: K,
  detector: DetectorState,
  window: WindowSummary | null,
  finding?: FindingOf<K>,
): VerificationBaseline | null {
  return (ruleOf(kind) as FindingRule<K>).verificationBaseline(detector, window, finding);
}

/** The finding of `kind` among `findings`, typed as that kind's (its evidence as its rule writes it). */
export function findingOf<K extends FindingKind>(
  findings: readonly Finding[],
  kind: K,
): FindingOf<K> | undefined {
  return findings.find((f) => f.kind === kind) as FindingOf<K> | undefined;
}

/** What must be true before a protective remedy taken for `kind` may be undone (rule.ts HoldUntil). */
export const holdUntil = (kind: FindingKind): HoldUntil => FINDING_RULES[kind].holdUntil;

export type { FindingOrigin, FindingRule, HoldUntil } from './rule.ts';
