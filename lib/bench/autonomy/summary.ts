// Per-family figures of the autonomy benchmark, for bench/results/autonomy.json and docs/benchmarks.md.
import { APPROACHES, type Approach, type CaseResult } from './run-case.ts';

/** The goals on held-out seeds (issue 14). */
export const AUTONOMY_GOALS = {
  rightResponse: 0.95,
  retrainsOnCorruptedInput: 0,
  /** The agent's regret at most this share of ADWIN + refit's, and never above no agent's. */
  regretShareOfAdwin: 1 / 3,
  falseIncidentsPerMillionRows: 1,
  falseActionsPerMillionRows: 0,
};

export interface FamilySummary {
  family: string;
  cases: number;
  rightResponseRate: number;
  /** Mean over the cases of the per-row regret against the oracle. */
  regret: Record<Approach, number>;
  /** The agent's regret over ADWIN + refit's (null when ADWIN's is not above 0). */
  agentRegretOverAdwin: number | null;
  retrainsOnCorruptedInput: CaseResult['retrainsOnCorruptedInput'];
  falseIncidentsPerMillionRows: number;
  falseActionsPerMillionRows: number;
  /** Median over the cases that opened an incident after their change; null if none did. */
  medianDetectionDelayRows: number | null;
  responses: Record<string, number>;
  replayedRows: number;
  wallSeconds: number;
}

const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function summarise(family: string, results: readonly CaseResult[]): FamilySummary {
  const rows = results.reduce((a, r) => a + r.replayedRows, 0);
  const regret = Object.fromEntries(
    APPROACHES.map((a) => [a, mean(results.map((r) => r.regret[a]))]),
  ) as Record<Approach, number>;
  const responses: Record<string, number> = {};
  for (const r of results) responses[r.response] = (responses[r.response] ?? 0) + 1;
  const sum = (f: (r: CaseResult) => number) => results.reduce((a, r) => a + f(r), 0);
  return {
    family,
    cases: results.length,
    rightResponseRate: results.length === 0 ? 0 : results.filter((r) => r.right).length / results.length,
    regret,
    agentRegretOverAdwin: regret.adwinRefit > 0 ? regret.agent / regret.adwinRefit : null,
    retrainsOnCorruptedInput: {
      agent: sum((r) => r.retrainsOnCorruptedInput.agent),
      adwinRefit: sum((r) => r.retrainsOnCorruptedInput.adwinRefit),
      datasetDriftRefit: sum((r) => r.retrainsOnCorruptedInput.datasetDriftRefit),
    },
    falseIncidentsPerMillionRows: rows === 0 ? 0 : (sum((r) => r.falseIncidents) * 1e6) / rows,
    falseActionsPerMillionRows: rows === 0 ? 0 : (sum((r) => r.falseActions) * 1e6) / rows,
    medianDetectionDelayRows: median(
      results.flatMap((r) => (r.detectionDelayRows === null ? [] : [r.detectionDelayRows])),
    ),
    responses,
    replayedRows: rows,
    wallSeconds: sum((r) => r.wallMs) / 1000,
  };
}

/** Families in first-seen order, then every case together as 'all'. */
export function summariseSet(results: readonly CaseResult[]): FamilySummary[] {
  const families = [...new Set(results.map((r) => r.family))];
  return [
    ...families.map((f) =>
      summarise(
        f,
        results.filter((r) => r.family === f),
      ),
    ),
    summarise('all', results),
  ];
}
