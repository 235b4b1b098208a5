// The autonomy benchmark's instrument (lib/bench/autonomy): its baselines do what their sources do,
// and its scores are computed as the notes define them.
import { describe, expect, it } from 'vitest';
import {
  adwinRefit,
  BASELINE_DEFAULTS,
  type BaselineContext,
  noAgent,
  oracle,
} from '../../lib/bench/autonomy/baselines.ts';
import type { CaseRow } from '../../lib/bench/autonomy/case.ts';
import { datasetDrift } from '../../lib/bench/autonomy/dataset-drift.ts';
import { APPROACHES, type Approach, scoreAnswers, streamOf } from '../../lib/bench/autonomy/run-case.ts';
import { type Answer, lossScale, MAX_REGRESSION_LOSS, rowLoss } from '../../lib/bench/autonomy/serving.ts';
import type { FeatureSchema } from '../../lib/domain.ts';
import { loadModel, trainModel } from '../../lib/models/index.ts';
import { Random } from '../../lib/sim/random.ts';
import { createDriftSequence } from '../../lib/sim/synthetic/concept-drift.ts';
import { createSineStream } from '../../lib/sim/synthetic/sine.ts';

const REFERENCE = 1000;
const START = Date.parse('2025-01-01T00:00:00Z');

/** Sine function 2 (SINE2), then from replayed row `change` its reverse: every label flips. */
function sineRows(total: number, change: number | null): CaseRow[] {
  const concepts = [createSineStream({ seed: 1, classificationFunction: 2 })];
  if (change !== null) concepts.push(createSineStream({ seed: 2, classificationFunction: 3 }));
  const stream = createDriftSequence({
    seed: 3,
    concepts,
    positions: change === null ? [] : [REFERENCE + change],
    width: 1,
  });
  return Array.from({ length: total }, (_, i) => {
    const { x, y } = stream.next();
    // One row a second, labels 5 s later.
    return { ts: START + i * 1000, labelTs: START + i * 1000 + 5000, features: x, label: y };
  });
}

async function context(rows: CaseRow[]): Promise<BaselineContext> {
  const stream = streamOf(rows);
  const train = async (indices: number[]) =>
    loadModel(
      await trainModel('logistic-regression', stream.task, stream.schema, {
        rows: indices.map((i) => stream.rows[i]!.features),
        labels: indices.map((i) => stream.rows[i]!.label!),
      }),
    );
  return {
    stream,
    first: REFERENCE,
    initial: await train(Array.from({ length: REFERENCE }, (_, i) => i)),
    refit: train,
    scale: lossScale(stream, REFERENCE),
    referenceMae: 0,
  };
}

const errorRate = (ctx: BaselineContext, answers: Answer[], from: number, to: number) => {
  let wrong = 0;
  for (let i = from; i < to; i++) wrong += rowLoss(ctx.scale, answers[i]!, ctx.stream.rows[i]!.label);
  return wrong / (to - from);
};

describe('ADWIN + refit', () => {
  it('refits on the last N labelled rows when ADWIN alarms on the error stream, and serves the refit at once', async () => {
    const change = 1500;
    const ctx = await context(sineRows(REFERENCE + 4000, change));
    const run = await adwinRefit(ctx);
    expect(run.refits.length).toBeGreaterThan(0);
    const first = run.refits.find((r) => r.at > REFERENCE + change)!;
    // Within a few hundred rows of the flip, on the most recent labelled rows: a label comes 5 s (rows)
    // after its row, so row `at - 5` is the last one labelled when row `at` arrives.
    expect(first.at - (REFERENCE + change)).toBeLessThan(400);
    expect(first.trainedOn).toHaveLength(BASELINE_DEFAULTS.refitRows);
    expect(Math.max(...first.trainedOn)).toBe(first.at - 5);
    // The refit serves from the alarm's row on, and only from there.
    const none = await noAgent(ctx);
    const refitModel = await ctx.refit(first.trainedOn);
    const after = Array.from({ length: ctx.stream.rows.length - first.at }, (_, k) => first.at + k);
    const refitAnswers = (await refitModel!.predict(after.map((i) => ctx.stream.rows[i]!.features))).map(
      (o) => o.prediction,
    );
    const nextRefit = run.refits.find((r) => r.at > first.at)?.at ?? ctx.stream.rows.length;
    expect(run.answers.slice(REFERENCE, first.at)).toEqual(none.answers.slice(REFERENCE, first.at));
    expect(run.answers.slice(first.at, nextRefit)).toEqual(refitAnswers.slice(0, nextRefit - first.at));
    expect(run.answers.slice(first.at, nextRefit)).not.toEqual(none.answers.slice(first.at, nextRefit));
  });

  it('does not refit on a stationary stream', async () => {
    const ctx = await context(sineRows(REFERENCE + 3000, null));
    expect((await adwinRefit(ctx)).refits).toEqual([]);
  });
});

describe("Evidently's dataset-drift rule", () => {
  const schema: FeatureSchema = ['a', 'b', 'c', 'd'].map((name) => ({
    name,
    type: 'numeric',
    nullable: false,
  }));
  const rows = (seed: number, shifted: string[]) => {
    const rng = new Random(seed);
    return Array.from({ length: 500 }, () =>
      Object.fromEntries(schema.map((s) => [s.name, rng.normal(shifted.includes(s.name) ? 1 : 0, 1)])),
    );
  };
  const reference = rows(1, []);

  it('calls dataset drift when half of the columns drift', () => {
    const result = datasetDrift(schema, reference, rows(2, ['a', 'b']));
    expect(result.columns.filter((c) => c.drifted).map((c) => c.name)).toEqual(['a', 'b']);
    expect(result.share).toBe(0.5);
    expect(result.drifted).toBe(true);
  });

  it('does not call it when fewer than half drift', () => {
    const result = datasetDrift(schema, reference, rows(3, ['c']));
    expect(result.columns.filter((c) => c.drifted).map((c) => c.name)).toEqual(['c']);
    expect(result.drifted).toBe(false);
  });

  it('tests categories by chi-square and two values by the z-test, as Evidently does', () => {
    const cats: FeatureSchema = [
      { name: 'colour', type: 'categorical', categories: ['r', 'g', 'b'], nullable: false },
      { name: 'flag', type: 'boolean', nullable: false },
    ];
    const make = (seed: number, pRed: number) => {
      const rng = new Random(seed);
      return Array.from({ length: 400 }, () => ({
        colour: rng.bernoulli(pRed) ? 'r' : rng.pick(['g', 'b']),
        flag: rng.bernoulli(0.5),
      }));
    };
    const result = datasetDrift(cats, make(1, 0.33), make(2, 0.8));
    expect(result.columns.map((c) => [c.name, c.test, c.drifted])).toEqual([
      ['colour', 'chisquare', true],
      ['flag', 'z', false],
    ]);
    expect(result.drifted).toBe(true);
  });
});

describe('oracle', () => {
  it('serves version 1 until K rows after the change, then a refit on the first K rows after it', async () => {
    const change = 1200;
    const ctx = await context(sineRows(REFERENCE + 4000, change));
    const run = await oracle(ctx, { kind: 'concept', at: change });
    const K = BASELINE_DEFAULTS.oracleRows;
    const at = REFERENCE + change;
    expect(run.refits.map((r) => r.at)).toEqual([at + K]);
    expect(run.refits[0]!.trainedOn).toEqual(Array.from({ length: K }, (_, k) => at + k));
    const none = await noAgent(ctx);
    expect(run.answers.slice(REFERENCE, at + K)).toEqual(none.answers.slice(REFERENCE, at + K));
    // From row at + K on, the refit answers every row: it has learnt the flipped concept.
    const refit = await ctx.refit(run.refits[0]!.trainedOn);
    const after = ctx.stream.rows.slice(at + K).map((r) => r.features);
    const refitAnswers = (await refit!.predict(after)).map((o) => o.prediction);
    expect(run.answers.slice(at + K)).toEqual(refitAnswers);
    expect(errorRate(ctx, run.answers, at + K, ctx.stream.rows.length)).toBeLessThan(0.2);
  });

  it('keeps version 1 through an upstream fault', async () => {
    const ctx = await context(sineRows(REFERENCE + 2000, null));
    const run = await oracle(ctx, { kind: 'fault', at: 500, until: 900 });
    expect(run.refits).toEqual([]);
    expect(run.answers).toEqual((await noAgent(ctx)).answers);
  });
});

describe('scores', () => {
  // Two reference rows (labels 0, 2, for the regression scale) and four replayed rows, answered by hand.
  const rows = (labels: (number | string)[]): CaseRow[] =>
    labels.map((label, i) => ({
      ts: START + i * 1000,
      labelTs: START + i * 1000,
      features: { x: i },
      label,
    }));
  const byHand = (task: Partial<Record<Approach, Answer[]>>) =>
    Object.fromEntries(APPROACHES.map((a) => [a, task[a] ?? task.oracle!])) as Record<Approach, Answer[]>;

  it('gives the oracle a regret of 0 against itself', () => {
    const stream = streamOf(rows([0, 1, 0, 1, 1, 0]));
    const answers = byHand({ oracle: [null, null, '0', '1', '0', '0'] });
    const { regret } = scoreAnswers(stream, 2, lossScale(stream, 2), answers);
    expect(regret.oracle).toBe(0);
    expect(regret.noAgent).toBe(0);
  });

  it('scores a classification case by hand: Σ(loss − oracle loss) / rows, an unanswered row is wrong', () => {
    const stream = streamOf(rows([0, 1, 0, 1, 1, 0]));
    // Replayed labels 0 1 1 0. Oracle right on all four; the agent wrong on one and unanswered on one.
    const answers = byHand({
      oracle: [null, null, '0', '1', '1', '0'],
      agent: [null, null, '0', '0', null, '0'],
    });
    const { loss, regret } = scoreAnswers(stream, 2, lossScale(stream, 2), answers);
    expect(loss.agent).toBe(2 / 4);
    expect(regret.agent).toBe(2 / 4);
  });

  it('scores a regression case by hand: absolute error in reference sd, capped, unanswered as the reference mean', () => {
    // Reference labels 0 and 2: mean 1, sd √2; replayed labels 1, 3, 5, 101 (22 values make it regression).
    const labels = [0, 2, 1, 3, 5, 101, ...Array.from({ length: 20 }, (_, i) => 10 + i)];
    const stream = streamOf(rows(labels));
    expect(stream.task).toBe('regression');
    const scale = lossScale(stream, 2);
    expect(scale.sd).toBeCloseTo(Math.SQRT2, 12);
    const truth = labels.slice(2);
    const oracleAnswers: Answer[] = [null, null, ...truth];
    const agent: Answer[] = [null, null, 2, null, 5, 1, ...truth.slice(4)];
    const { regret } = scoreAnswers(stream, 2, scale, byHand({ oracle: oracleAnswers, agent }));
    // |2 − 1| / √2, unanswered: |1 − 3| / √2, exact: 0, |1 − 101| / √2 capped at 3; the rest exact.
    const expected = (1 / Math.SQRT2 + 2 / Math.SQRT2 + 0 + MAX_REGRESSION_LOSS) / truth.length;
    expect(regret.agent).toBeCloseTo(expected, 12);
  });
});
