// Is a refit on the rows since a failure's onset better than production? Both the retrain activity and
// the backtest ask it, the same way:
// - rolling origin: the most recent `testShare` of the rows is cut into `folds` consecutive segments;
//   each segment is predicted by a candidate trained on every row before it, and by production. All the
//   tested rows count, not one small holdout, and no candidate ever sees its own future;
// - the paired test of lib/recovery/compare.ts on all those rows, at the policy's alpha;
// - an improvement the rows cannot show yet is "inconclusive", with the rows a test of power
//   REFIT_POWER would need for the improvement seen so far (lib/recovery/sample-size.ts): the retrain
//   waits for them and tries again, up to the policy's limits in rows and time. A refit no better than
//   production is tried again on twice the rows (a drift still under way leaves few rows of the new world
//   at first); an improvement too small to show within the row limit, or none on rows doubled past it,
//   is "not better";
// - "not better" says whether the refit is shown to be *no materially better* either: when even the
//   gain the rows cannot rule out (the one-sided upper confidence bound at alpha) is below the policy's
//   material difference, no model trained on these rows would serve materially better than production.
//   Then the metric's level changed, not the model's quality: there is nothing for a person to repair.
import type { Task } from '../domain.ts';
import { normalQuantile } from '../stats/index.ts';
import { compareScores, type HoldoutComparison } from './compare.ts';
import type { RowScore } from './outcomes.ts';
import { pairedMeanRows, pairedProportionRows } from './sample-size.ts';

/** The power the retrain sizes its evidence for (the conventional 0.8). */
export const REFIT_POWER = 0.8;
/**
 * Consecutive test segments of the rolling origin. Two: the registered candidate (the last segment's)
 * keeps a validation set as large as a single holdout had, and its baseline after a promotion is measured
 * on that many rows (a small segment gave an optimistic baseline that live accuracy then fell short of).
 */
export const REFIT_FOLDS = 2;

/** Train on rows [0, trainEnd), test on rows [trainEnd, testEnd) (row indices in time order). */
export interface Fold {
  trainEnd: number;
  testEnd: number;
}

/** The rolling-origin folds over `rows` time-ordered rows; empty when there are too few to train on. */
export function rollingOriginFolds(rows: number, testShare: number, folds = REFIT_FOLDS): Fold[] {
  const tested = Math.min(rows - 2, Math.round(rows * testShare));
  const segments = Math.min(folds, tested);
  if (segments < 1) return [];
  const start = rows - tested;
  return Array.from({ length: segments }, (_, k) => ({
    trainEnd: start + Math.round((tested * k) / segments),
    testEnd: start + Math.round((tested * (k + 1)) / segments),
  }));
}

/** Scores of the fold's candidate and of production on the fold's test rows, aligned by row. */
export interface FoldScores {
  candidate: readonly (RowScore | null)[];
  production: readonly (RowScore | null)[];
}

/** The paired comparison over every fold's test rows. */
export async function compareRollingOrigin(
  task: Task,
  folds: readonly Fold[],
  scoreFold: (fold: Fold) => Promise<FoldScores>,
): Promise<HoldoutComparison> {
  const candidate: (RowScore | null)[] = [];
  const production: (RowScore | null)[] = [];
  for (const fold of folds) {
    const scores = await scoreFold(fold);
    candidate.push(...scores.candidate);
    production.push(...scores.production);
  }
  return compareScores(task, candidate, production);
}

/** A comparison in one line, as the agent's and the backtest's retrain details state it. */
export function describeComparison(c: {
  metric: HoldoutComparison['metric'];
  candidate: number;
  production: number;
  rows: number;
  pValue: number;
}): string {
  const fmt = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(3)).toString() : String(x));
  return `${c.metric} ${fmt(c.candidate)} vs production ${fmt(c.production)} on ${c.rows} rows tested out of time (p = ${fmt(c.pValue)})`;
}

export type RefitVerdict =
  | { verdict: 'better' }
  /** `immaterial`: the gain the rows cannot rule out is below the material difference too. */
  | { verdict: 'not-better'; immaterial: boolean; why: string }
  /** Wait until the rows since the onset reach `rowsNeeded`, then judge again. */
  | { verdict: 'inconclusive'; rowsNeeded: number; why: string };

export interface RefitLimits {
  alpha: number;
  /** The rows since the onset the comparison was made on, and the share of them tested. */
  rows: number;
  testShare: number;
  /** The most rows the retrain may wait for. */
  maxRows: number;
  /**
   * The smallest gain that matters (the policy's verification tolerance): accuracy points for
   * classifiers, a relative reduction of RMSE for regressors.
   */
  materialGain: number;
}

/**
 * Is the largest gain the comparison cannot rule out (its one-sided upper confidence bound at `alpha`)
 * below `materialGain`? McNemar's paired differences have mean b − c and variance b + c − (b − c)² per
 * row (b, c the shares only the candidate, only production got right); RMSE falls by `materialGain`
 * (relative) when the mean squared error falls by MSE · (1 − (1 − materialGain)²).
 */
export function refitGainImmaterial(
  comparison: HoldoutComparison,
  alpha: number,
  materialGain: number,
): boolean {
  const n = comparison.rows;
  if (n < 2) return false;
  const z = normalQuantile(1 - alpha);
  const effect = comparison.effect;
  if (effect.test === 'mcnemar') {
    const gain = effect.candidateOnly - effect.productionOnly;
    const variance = effect.candidateOnly + effect.productionOnly - gain * gain;
    return gain + z * Math.sqrt(Math.max(0, variance) / n) < materialGain;
  }
  const material = comparison.production ** 2 * (1 - (1 - materialGain) ** 2);
  return effect.meanDifference + (z * effect.sdDifference) / Math.sqrt(n) < material;
}

/** The candidate's gain over production as the material difference is stated: accuracy points, or RMSE's relative fall. */
export function refitGainSeen(comparison: HoldoutComparison): number {
  return comparison.metric === 'accuracy'
    ? comparison.candidate - comparison.production
    : 1 - comparison.candidate / comparison.production;
}

/** How a rejection reads when even the best gain the rows allow is below the material difference. */
export function noMaterialGain(materialGain: number): string {
  return `nor could it do materially better (by ${materialGain} or more)`;
}

/** The verdict on a rolling-origin comparison (see the file's header). */
export function judgeRefit(comparison: HoldoutComparison, limits: RefitLimits): RefitVerdict {
  // Every "not better" below is reached at the row limit: no more rows will come to narrow the gain, so
  // the gain seen is the best estimate there will be. Below the material difference, that is a level
  // change to accept, as much as a gain whose upper bound is below it: no person could repair it either.
  const notBetter = (why: string): RefitVerdict => {
    const { materialGain } = limits;
    const bounded = refitGainImmaterial(comparison, limits.alpha, materialGain);
    const seen = refitGainSeen(comparison);
    const immaterial = bounded || seen < materialGain;
    const because = bounded
      ? noMaterialGain(materialGain)
      : `the gain seen (${seen.toPrecision(2)}) is below the material ${materialGain} and the row limit is reached`;
    return { verdict: 'not-better', immaterial, why: immaterial ? `${why}; ${because}` : why };
  };
  const better =
    comparison.metric === 'accuracy'
      ? comparison.candidate > comparison.production
      : comparison.candidate < comparison.production;
  if (better && comparison.pValue < limits.alpha) return { verdict: 'better' };
  if (!better) {
    // No better yet. While a drift is still unfolding the rows since its onset are mostly of the old world;
    // a refit on twice as many has more of the new one. Doubling keeps the tries few (log₂ of the limit).
    const doubled = 2 * limits.rows;
    if (doubled > limits.maxRows) {
      return notBetter(`the refit does no better than production on ${limits.rows} rows since the onset`);
    }
    return {
      verdict: 'inconclusive',
      rowsNeeded: doubled,
      why: `the refit does no better than production yet on ${limits.rows} rows since the onset; trying again on ${doubled}`,
    };
  }
  const effect = comparison.effect;
  const testedNeeded =
    effect.test === 'mcnemar'
      ? pairedProportionRows(effect.candidateOnly, effect.productionOnly, limits.alpha, REFIT_POWER)
      : pairedMeanRows(effect.meanDifference, effect.sdDifference, limits.alpha, REFIT_POWER);
  const rowsNeeded = Math.max(limits.rows + 1, Math.ceil(testedNeeded / limits.testShare));
  if (rowsNeeded > limits.maxRows) {
    return notBetter(
      `the improvement seen would take ${Number.isFinite(rowsNeeded) ? rowsNeeded : 'unboundedly many'} rows to show, over the limit of ${limits.maxRows}`,
    );
  }
  return {
    verdict: 'inconclusive',
    rowsNeeded,
    why: `better but not yet significantly (p = ${comparison.pValue.toPrecision(2)}); ${rowsNeeded} rows would show it with power ${REFIT_POWER}`,
  };
}

/**
 * A segment incident's candidate against the route that serves the segment now. The fallback version
 * answers a routed segment's rows (a segment incident's first rung); promoting the candidate lifts the
 * route in the same revision, so the candidate then answers them, and answers the other segments in
 * production's place. Beating production on every tested row says neither that it serves the segment
 * better than the route does nor that it serves the others as well as production. So on the tested rows
 * (each fold's candidate, as the rolling origin pairs them) it must do better than the fallback version on
 * the segment's rows, and no worse than production by the material difference on the other rows, or the
 * route stays and the candidate is not promoted. Point estimates decide, not tests: the segment is a
 * small share of the tested rows, and showing "no worse by 0.02" with the power a canary's tenth look
 * has would take thousands of rows per arm (docs/agent-logic.md "Segments").
 */
export interface RouteComparison {
  segment: string;
  metric: HoldoutComparison['metric'];
  /** On the segment's tested rows: the candidate, and the fallback version (the route). */
  candidate: number;
  route: number;
  rows: number;
  /** On the other tested rows: the candidate, and production. */
  others: { candidate: number; production: number; rows: number };
}

/**
 * Pools the folds' paired scores: on the segment's tested rows against the route's version (`production`
 * there is the fallback), and on the other tested rows against production.
 */
export function compareWithRoute(
  task: Task,
  segment: string,
  onSegment: readonly FoldScores[],
  onOthers: readonly FoldScores[],
): RouteComparison {
  const pooled = (folds: readonly FoldScores[]) =>
    compareScores(
      task,
      folds.flatMap((f) => f.candidate),
      folds.flatMap((f) => f.production),
    );
  const own = pooled(onSegment);
  const rest = pooled(onOthers);
  return {
    segment,
    metric: own.metric,
    candidate: own.candidate,
    route: own.production,
    rows: own.rows,
    others: { candidate: rest.candidate, production: rest.production, rows: rest.rows },
  };
}

/** The scores of the rows `keep` marks, by row (a fold's other rows, out of all its tested rows). */
export function scoresWhere(scores: FoldScores, keep: readonly boolean[]): FoldScores {
  return {
    candidate: scores.candidate.filter((_, i) => keep[i]),
    production: scores.production.filter((_, i) => keep[i]),
  };
}

/**
 * Lifting the route serves the segment better and the others not materially worse (`margin`: the
 * policy's material difference, accuracy points or a relative rise of RMSE). None of the segment's rows
 * tested: not shown.
 */
export function beatsRoute(c: RouteComparison, margin: number): boolean {
  if (c.rows === 0) return false;
  const { others } = c;
  if (c.metric === 'accuracy')
    return c.candidate > c.route && (others.rows === 0 || others.candidate >= others.production - margin);
  return c.candidate < c.route && (others.rows === 0 || others.candidate <= others.production * (1 + margin));
}

export function describeRoute(c: RouteComparison): string {
  const fmt = (x: number) => Number(x.toPrecision(3));
  return `on segment ${c.segment}'s ${c.rows} tested rows ${c.metric} ${fmt(c.candidate)} vs its fallback route ${fmt(c.route)}, on the other ${c.others.rows} ${fmt(c.others.candidate)} vs production ${fmt(c.others.production)}`;
}

/** A refit better than production is not better when lifting the segment's route would not pay (beatsRoute). */
export function judgeWithRoute(
  verdict: RefitVerdict,
  route: RouteComparison | null,
  margin: number,
): RefitVerdict {
  if (verdict.verdict !== 'better' || route === null || beatsRoute(route, margin)) return verdict;
  return {
    verdict: 'not-better',
    immaterial: false,
    why: `lifting the fallback route would not pay: ${describeRoute(route)}`,
  };
}

/** The candidate lost to the segment's route (judgeWithRoute), not to production. */
export function lostToRoute(route: RouteComparison | undefined | null, margin: number): boolean {
  return route != null && !beatsRoute(route, margin);
}

/**
 * A segment incident's refit also learns from the other segments' rows before the onset. The segment
 * finding showed a change confined to one segment (the others held, window after window), so those rows
 * are of the world that still holds; without them the refit learns the unchanged segments from the few
 * rows since the onset alone and serves them worse than production (measured on segment-failure: 0.85
 * against production's 0.873 in its canary, short of non-inferiority). The segment's own earlier rows
 * are left out: they are of the world that changed. The most recent such rows, up to the retrain's
 * limit of rows (`retrain.maxRows`) with the rows since the onset; they only ever train, never test.
 */
export function priorRowsWanted(maxRows: number, sinceOnset: number): number {
  return Math.max(0, maxRows - sinceOnset);
}
