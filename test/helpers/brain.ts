// Builders of the brain's inputs shared by the unit tests of decide, status and the lifecycle: a policy
// from a (partial) document, an open incident and an agent's state, each with plausible defaults.
import type { DeploymentFacts } from '../../lib/brain/contracts.ts';
import { initialLifecycleState } from '../../lib/brain/lifecycle.ts';
import type { AgentState, Finding, OpenIncident, WindowDrift, WindowSummary } from '../../lib/brain/types.ts';
import { type Policy, parsePolicy } from '../../lib/policy/policy.ts';
import type { Random } from '../../lib/sim/random.ts';

/** The policy a document gives, defaults filled in; throws with the issues of an invalid one. */
export function policyWith(input: unknown): Policy {
  const parsed = parsePolicy(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.policy;
}

/** An incident of `kind` open since cycle 8 at `openedAt`, with no attempt yet. */
export function openIncident(
  kind: Finding['kind'],
  over: Partial<OpenIncident> = {},
  openedAt = Date.UTC(2026, 0, 15, 11, 40),
): OpenIncident {
  return {
    id: 'inc-1',
    kind,
    openedAtCycle: 8,
    severity: 'warning',
    openedAt,
    onsetAt: new Date(openedAt).toISOString(),
    status: 'open',
    attempts: [],
    baseline: { metric: 'accuracy', value: 0.9, rows: 4000 },
    ...over,
  };
}

/** A freshly started agent of the model 'credit', then `over`. */
export function agentState(over: Partial<AgentState> = {}): AgentState {
  return { ...initialLifecycleState('credit'), ...over };
}

/** A binary model served by version 3 (revision 5) with version 1 as its fallback, changed at `changedAt`. */
export function servingFacts(changedAt: number, over: Partial<DeploymentFacts> = {}): DeploymentFacts {
  return {
    task: 'binary',
    revision: 5,
    mode: 'serving',
    productionVersion: 3,
    fallbackVersion: 1,
    canaryVersion: null,
    canaryShare: 0,
    shadowVersion: null,
    changedAt,
    changedBy: 'human:ops',
    lastKnownGoodRevision: 4,
    ...over,
  };
}

// ---- windows in the monitor's shape ----

export const FEATURES = ['income', 'age', 'debt_to_income', 'channel'];

export function stableDrift(): WindowDrift[] {
  return FEATURES.map((name) => ({
    name,
    test: name === 'channel' ? 'chi_square' : 'kolmogorov_smirnov',
    statistic: 0.02,
    pValue: 0.6,
    adjustedPValue: 0.9,
    psi: 0.01,
  }));
}

/** A healthy window of 500 predictions, 450 labelled at accuracy 0.9, with a reference. */
export function healthyWindow(seq: number, over: Partial<WindowSummary> = {}): WindowSummary {
  const labelled = over.labelled ?? 450;
  const accuracy = over.accuracy === undefined ? 0.9 : over.accuracy;
  return {
    seq,
    startAt: new Date(seq * 100_000).toISOString(),
    endAt: new Date((seq + 1) * 100_000).toISOString(),
    count: 500,
    labelled,
    correct: accuracy === null ? 0 : Math.round(labelled * accuracy),
    accuracy,
    reference: 'used',
    task: 'binary',
    referenceAccuracy: 0.9,
    estimatedAccuracy: 0.9,
    estimateTrustworthy: true,
    referenceMeanConfidence: 0.9,
    failureRate: 0.002,
    latencyP95Ms: 60 + (seq % 3),
    throughputPerMinute: 300 + (seq % 2) * 6,
    gapRatio: 2,
    longestGapRatio: 6,
    labelDelayP95Seconds: 150,
    featuresJudged: FEATURES.length,
    drift: stableDrift(),
    quality: [],
    positives: 100,
    expectedPositives: 100,
    positivesVariance: 70,
    positivesRows: labelled,
    ...over,
  };
}

/** One segment's part of a window (WindowSummary.segments): `labelled` rows labelled at `accuracy`. */
export function segmentPart(
  name: string,
  accuracy: number,
  labelled = 150,
): NonNullable<WindowSummary['segments']>[number] {
  const correct = Math.round(labelled * accuracy);
  return {
    name,
    count: labelled,
    labelled,
    correct,
    accuracy: correct / labelled,
    rmse: null,
    featuresJudged: 0,
    drift: null,
    predictionPsi: null,
  };
}

/**
 * A regressor's segment part as the monitor measures it: `rows` labelled rows whose errors are drawn
 * with standard deviation `sd` — normal, or Student's t with `df` degrees of freedom scaled to that sd
 * (heavier tails than a model's usual errors) — carried as the sums of their squared errors.
 */
export function regressionSegmentPart(
  name: string,
  rng: Random,
  { rows = 150, sd = 1, df }: { rows?: number; sd?: number; df?: number } = {},
): NonNullable<WindowSummary['segments']>[number] {
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < rows; i++) {
    let error = rng.normal();
    if (df !== undefined) {
      let chi = 0;
      for (let k = 0; k < df; k++) chi += rng.normal() ** 2;
      error = (error / Math.sqrt(chi / df)) * Math.sqrt((df - 2) / df);
    }
    const squared = (sd * error) ** 2;
    sum += squared;
    sumSquares += squared * squared;
  }
  return {
    name,
    count: rows,
    labelled: rows,
    correct: 0,
    accuracy: null,
    rmse: Math.sqrt(sum / rows),
    squaredErrors: { n: rows, sum, sumSquares },
    featuresJudged: 0,
    drift: null,
    predictionPsi: null,
  };
}
