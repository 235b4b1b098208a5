// lib/monitor: window metrics against hand-computed small cases, the label-free estimate and its
// calibration check on synthetic probabilities, data-quality counts on crafted rows, drift on simulator
// scenarios, and the JSON round trip of what is stored.
import { describe, expect, it } from 'vitest';
import type { FeatureRow, FeatureSchema } from '../../lib/domain.ts';
import { rowValidator, VALUE_PROBLEMS } from '../../lib/ingest/validate.ts';
import type { ModelOutput } from '../../lib/models/types.ts';
import {
  buildReferenceProfile,
  computeWindowMetrics,
  evaluateOutputs,
  type ReferenceProfile,
  summarizeForAgent,
  type WindowInput,
  type WindowMetrics,
  type WindowPrediction,
} from '../../lib/monitor/index.ts';
import { creditDefault, creditDefaultLogit, demand, sigmoid } from '../../lib/sim/demo-models.ts';
import { Random } from '../../lib/sim/random.ts';
import { SCENARIOS } from '../../lib/sim/scenarios.ts';
import { generateStream, type SimEvent } from '../../lib/sim/stream.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const ONE_FEATURE: FeatureSchema = [{ name: 'x', type: 'numeric', nullable: true }];

/** A prediction at second i, with no output, label or latency unless given. */
function prediction(i: number, init: Partial<WindowPrediction> = {}): WindowPrediction {
  return {
    id: `p${i}`,
    features: { x: i },
    output: null,
    confidence: null,
    latencyMs: null,
    error: null,
    predictedAt: at(i),
    receivedAt: at(i),
    label: null,
    ...init,
  };
}

/** A classifier's prediction with its label; `probabilities` are given as the model sent them. */
function classified(
  i: number,
  predicted: string,
  truth: string | null,
  probabilities?: Record<string, number>,
): WindowPrediction {
  return prediction(i, {
    output: probabilities ? { prediction: predicted, probabilities } : { prediction: predicted },
    label: truth === null ? null : { value: truth, observedAt: at(i + 60) },
  });
}

function metricsOf(input: Partial<WindowInput> & Pick<WindowInput, 'task' | 'predictions'>): WindowMetrics {
  return computeWindowMetrics({ schema: ONE_FEATURE, reference: null, now: at(10_000), ...input });
}

function close(actual: number | null | undefined, expected: number, digits = 12): void {
  expect(actual).not.toBeNull();
  expect(actual).toBeCloseTo(expected, digits);
}

describe('performance on labelled rows', () => {
  // truth → prediction: a→a, a→a, a→b, b→b, b→a, c→c, c→c, c→a. 'd' is declared but never occurs.
  //   a: TP 2, predicted 4, support 3 → P 1/2, R 2/3, F1 4/7
  //   b: TP 1, predicted 2, support 2 → P 1/2, R 1/2, F1 1/2
  //   c: TP 2, predicted 2, support 3 → P 1,   R 2/3, F1 4/5
  const pairs = [
    ['a', 'a', 0.7],
    ['a', 'a', 0.6],
    ['a', 'b', 0.2],
    ['b', 'b', 0.5],
    ['b', 'a', 0.3],
    ['c', 'c', 0.9],
    ['c', 'c', 0.8],
    ['c', 'a', 0.1],
  ] as const;
  const multiclass = metricsOf({
    task: 'multiclass',
    labels: ['a', 'b', 'c', 'd'],
    // The probability of the true class is the third entry; the rest is spread over the other classes.
    predictions: pairs.map(([truth, predicted, pTruth], i) => {
      const others = ['a', 'b', 'c', 'd'].filter((c) => c !== truth);
      const probabilities = Object.fromEntries(others.map((c) => [c, (1 - pTruth) / 3]));
      return classified(i, predicted, truth, { ...probabilities, [truth]: pTruth });
    }),
  });

  it('computes accuracy and macro precision, recall and F1 over the classes that occur', () => {
    const performance = multiclass.performance;
    if (performance?.task !== 'multiclass') throw new Error('expected multiclass performance');
    expect(performance.count).toBe(8);
    expect(performance.correct).toBe(5);
    close(performance.accuracy, 5 / 8);
    expect(performance.averaging).toBe('macro');
    expect(performance.perClass.map((c) => c.label)).toEqual(['a', 'b', 'c']);
    close(performance.precision, (1 / 2 + 1 / 2 + 1) / 3);
    close(performance.recall, (2 / 3 + 1 / 2 + 2 / 3) / 3);
    close(performance.f1, (4 / 7 + 1 / 2 + 4 / 5) / 3);
    expect(performance.rocAuc).toBeNull();
  });

  it('computes log-loss from the probability of the true class', () => {
    const expected = -pairs.reduce((sum, [, , p]) => sum + Math.log(p), 0) / pairs.length;
    if (multiclass.performance?.task === 'regression') throw new Error('expected a classifier');
    close(multiclass.performance?.logLoss, expected);
  });

  // Binary, positive class 'yes' (the second label). truth, prediction, P(yes):
  const binaryRows = [
    ['yes', 'yes', 0.9],
    ['yes', 'yes', 0.7],
    ['yes', 'no', 0.4],
    ['yes', 'yes', 0.7],
    ['no', 'yes', 0.7],
    ['no', 'no', 0.4],
    ['no', 'no', 0.2],
    ['no', 'no', 0.1],
    ['no', 'yes', 0.8],
  ] as const;
  const binaryWith = (asConfidence: boolean) =>
    metricsOf({
      task: 'binary',
      labels: ['no', 'yes'],
      predictions: binaryRows.map(([truth, predicted, pYes], i) =>
        asConfidence
          ? { ...classified(i, predicted, truth), confidence: predicted === 'yes' ? pYes : 1 - pYes }
          : classified(i, predicted, truth, { no: 1 - pYes, yes: pYes }),
      ),
    });

  /** AUC by brute force: over all (positive, negative) pairs, 1 if the positive scores higher, ½ on a tie. */
  function pairwiseAuc(): number {
    const positives = binaryRows.filter(([truth]) => truth === 'yes').map(([, , p]) => p);
    const negatives = binaryRows.filter(([truth]) => truth === 'no').map(([, , p]) => p);
    let wins = 0;
    for (const p of positives) for (const n of negatives) wins += p > n ? 1 : p === n ? 0.5 : 0;
    return wins / (positives.length * negatives.length);
  }

  it('reports precision, recall and F1 of the positive class for a binary task', () => {
    const performance = binaryWith(false).performance;
    if (performance?.task !== 'binary') throw new Error('expected binary performance');
    // TP 3, FP 2, FN 1, TN 3.
    expect(performance.positiveClass).toBe('yes');
    close(performance.accuracy, 6 / 9);
    close(performance.precision, 3 / 5);
    close(performance.recall, 3 / 4);
    close(performance.f1, 2 / 3);
  });

  it('computes ROC AUC by ranks with ties counted half, as the pairwise count does', () => {
    const performance = binaryWith(false).performance;
    if (performance?.task !== 'binary') throw new Error('expected binary performance');
    expect(pairwiseAuc()).toBe(14.5 / 20); // the hand count: 5 + 3.5 + 2.5 + 3.5 wins out of 4 × 5 pairs
    close(performance.rocAuc, pairwiseAuc());
  });

  it('rebuilds binary probabilities from a confidence alone', () => {
    const fromProbabilities = binaryWith(false).performance;
    const fromConfidence = binaryWith(true).performance;
    if (fromProbabilities?.task !== 'binary' || fromConfidence?.task !== 'binary') throw new Error('binary');
    const expectedLogLoss =
      -binaryRows.reduce((sum, [truth, , p]) => sum + Math.log(truth === 'yes' ? p : 1 - p), 0) / 9;
    close(fromProbabilities.logLoss, expectedLogLoss);
    close(fromConfidence.logLoss, expectedLogLoss);
    close(fromConfidence.rocAuc, pairwiseAuc());
  });

  it('computes RMSE, MAE, R² and mean error for regression', () => {
    // scikit-learn's documentation example: MAE 0.5, MSE 0.375, R² 0.948608137...
    const truth = [3, -0.5, 2, 7];
    const predicted = [2.5, 0, 2, 8];
    const { performance } = metricsOf({
      task: 'regression',
      predictions: truth.map((y, i) =>
        prediction(i, { output: { prediction: predicted[i]! }, label: { value: y, observedAt: at(i + 5) } }),
      ),
    });
    if (performance?.task !== 'regression') throw new Error('expected regression performance');
    close(performance.mae, 0.5);
    close(performance.rmse, Math.sqrt(0.375));
    close(performance.r2, 1 - 1.5 / 29.1875); // SS_res 1.5, SS_tot 29.1875
    close(performance.meanError, 0.25);
  });

  it('reports label coverage and delay', () => {
    const delays = [10, 20, 30, 40];
    const { labels } = metricsOf({
      task: 'binary',
      labels: ['0', '1'],
      predictions: [
        ...delays.map((d, i) =>
          prediction(i, { output: { prediction: '1' }, label: { value: '1', observedAt: at(i + d) } }),
        ),
        prediction(4, { output: { prediction: '0' } }),
        prediction(5, { output: { prediction: '0' }, label: { value: 'maybe', observedAt: at(100) } }),
      ],
    });
    expect(labels.labelled).toBe(5);
    close(labels.coverage, 5 / 6);
    expect(labels.invalid).toBe(1);
    // Delays 10, 20, 30, 40 and 95 seconds: numpy's default quantiles.
    close(labels.delaySeconds?.p50, 30);
    close(labels.delaySeconds?.p95, 40 + 0.8 * 55);
  });
});

describe('invalid outputs, errors and system metrics', () => {
  it('counts each kind of invalid output and scores only valid ones', () => {
    const labelled = (i: number, value: unknown) =>
      prediction(i, {
        output: { prediction: value as number },
        label: { value: 2, observedAt: at(i + 1) },
      });
    const metrics = metricsOf({
      task: 'regression',
      options: { outputRange: { min: 0 } },
      predictions: [
        labelled(0, 1.5),
        labelled(1, Number.NaN),
        labelled(2, 'abc'),
        labelled(3, -2),
        prediction(4),
        prediction(5, { error: 'timeout' }),
      ],
    });
    expect(metrics.outputs.byReason).toEqual({
      missing_output: 1,
      not_a_number: 2,
      unknown_class: 0,
      out_of_range: 1,
    });
    expect(metrics.outputs.invalid).toBe(4);
    expect(metrics.outputs.errors).toBe(1);
    close(metrics.outputs.errorRate, 1 / 6);
    close(metrics.system.failureRate, 5 / 6);
    expect(metrics.performance?.count).toBe(1);
  });

  it('ignores invalid class probabilities and confidences without dropping the prediction', () => {
    const metrics = metricsOf({
      task: 'binary',
      labels: ['0', '1'],
      predictions: [
        classified(0, '1', '1', { '0': 0.2, '1': 0.8 }),
        classified(1, '1', '1', { '0': 0.7, '1': 0.8 }), // sums to 1.5
        classified(2, '0', '0', { '0': 0.5, '2': 0.5 }), // unknown class
        { ...classified(3, '0', '0'), confidence: 1.2 },
        classified(4, 'maybe', '0'),
      ],
    });
    expect(metrics.outputs.invalidProbabilities).toBe(2);
    expect(metrics.outputs.invalidConfidence).toBe(1);
    expect(metrics.outputs.byReason.unknown_class).toBe(1);
    if (metrics.performance?.task !== 'binary') throw new Error('expected binary performance');
    expect(metrics.performance.count).toBe(4);
    expect(metrics.performance.withProbabilities).toBe(1);
    expect(metrics.confidence?.count).toBe(1);
  });

  const latencies = [10, 20, 30, 40, null, 1000];
  const arrivals = [10, 20, 30, 630, 640, 650];
  const traffic = arrivals.map((s, i) =>
    prediction(s, { output: { prediction: '0' }, latencyMs: latencies[i]!, error: i === 5 ? 'boom' : null }),
  );

  it('reports latency percentiles, throughput and the gaps in traffic', () => {
    const { system } = metricsOf({
      task: 'binary',
      labels: ['0', '1'],
      predictions: traffic,
      previousArrival: at(0),
      windowStart: at(0),
      now: at(700),
    });
    expect(system.latencyMs?.count).toBe(5);
    close(system.latencyMs?.p50, 30);
    close(system.latencyMs?.p95, 40 + 0.8 * 960, 9);
    close(system.latencyMs?.p99, 40 + 0.96 * 960, 9);
    close(system.failureRate, 1 / 6);
    close(system.arrivals.throughputPerMinute, (6 * 60) / 700);
    expect(system.arrivals.lastArrival).toBe(at(650).toISOString());
    close(system.arrivals.secondsSinceLastArrival, 50);
    close(system.arrivals.longestGapSeconds, 600);
    // Without a reference the usual gap is the window's own mean: (650 - 10) / 5.
    expect(system.arrivals.usualSource).toBe('window');
    close(system.arrivals.usualInterArrivalSeconds, 128);
    close(system.arrivals.longestGapRatio, 600 / 128);
  });

  it('compares gaps with the reference arrival rate when the profile has one', () => {
    const reference = buildReferenceProfile({
      schema: ONE_FEATURE,
      task: 'binary',
      labels: ['0', '1'],
      rows: Array.from({ length: 101 }, (_, i) => ({ x: i })),
      timestamps: Array.from({ length: 101 }, (_, i) => at(10 * i)),
    });
    const { system } = metricsOf({
      task: 'binary',
      labels: ['0', '1'],
      reference,
      predictions: traffic,
      previousArrival: at(0),
      now: at(700),
    });
    expect(system.arrivals.usualSource).toBe('reference');
    close(system.arrivals.gapRatio, 5);
    close(system.arrivals.longestGapRatio, 60);
    // Without windowStart the window starts at its first arrival.
    close(system.arrivals.windowSeconds, 690);
  });

  it('says so when there is no traffic at all', () => {
    const { system, rows, performance, confidence } = metricsOf({
      task: 'binary',
      labels: ['0', '1'],
      predictions: [],
      previousArrival: at(0),
      now: at(7200),
    });
    expect(rows).toBe(0);
    expect(performance).toBeNull();
    expect(confidence).toBeNull();
    expect(system.failureRate).toBeNull();
    close(system.arrivals.secondsSinceLastArrival, 7200);
    expect(system.arrivals.gapRatio).toBeNull();
  });
});

/** Binary rows whose P(positive) is uniform on [0, 1]; the label is drawn from the true probability. */
function syntheticScores(
  seed: number,
  count: number,
  report: (p: number) => number,
  labelShare = 1,
): WindowPrediction[] {
  const rng = new Random(seed);
  return Array.from({ length: count }, (_, i) => {
    const p = rng.next();
    const reported = report(p);
    const predicted = reported >= 0.5 ? '1' : '0';
    const truth = rng.bernoulli(p) ? '1' : '0';
    return classified(i, predicted, rng.bernoulli(labelShare) ? truth : null, {
      '0': 1 - reported,
      '1': reported,
    });
  });
}

const calibrated = (p: number) => p;
/** Pushes probabilities towards 0 and 1: the model is right less often than it claims. */
const overConfident = (p: number) => p ** 4 / (p ** 4 + (1 - p) ** 4);

describe('label-free performance estimate (CBPE)', () => {
  const binary = { task: 'binary' as const, labels: ['0', '1'] };

  it('matches realised accuracy on calibrated probabilities, within a binomial bound', () => {
    const metrics = metricsOf({ ...binary, predictions: syntheticScores(1, 4000, calibrated, 0.5) });
    const { estimate, performance } = metrics;
    if (!estimate || performance?.task !== 'binary') throw new Error('expected an estimate and performance');
    const bound = 3 * Math.sqrt((performance.accuracy * (1 - performance.accuracy)) / performance.count);
    expect(Math.abs(estimate.expectedAccuracy - performance.accuracy)).toBeLessThan(bound);
    expect(estimate.expectedF1).not.toBeNull();
    expect(Math.abs(estimate.expectedF1! - performance.f1)).toBeLessThan(0.05);
    if (!estimate.calibration.judged) throw new Error('expected a judged calibration');
    expect(estimate.calibration.calibrated).toBe(true);
    expect(Math.abs(estimate.calibration.z!)).toBeLessThan(3);
    expect(estimate.trustworthy).toBe(true);
    expect(estimate.trustBasis).toBe('window');
  });

  it('flags over-confident probabilities as miscalibrated and the estimate as untrustworthy', () => {
    const { estimate } = metricsOf({ ...binary, predictions: syntheticScores(2, 1000, overConfident) });
    if (!estimate?.calibration.judged) throw new Error('expected a judged calibration');
    expect(estimate.calibration.calibrated).toBe(false);
    expect(estimate.calibration.gap).toBeLessThan(-0.05);
    expect(estimate.calibration.ece).toBeGreaterThan(estimate.calibration.eceNoise + 0.05);
    expect(estimate.calibration.message).toMatch(/^miscalibrated/);
    expect(estimate.trustworthy).toBe(false);
  });

  it('rarely flags calibrated windows of few labels', () => {
    // 40 windows of 150 labelled calibrated rows; the rule flags about 1 % of such windows.
    const flagged = Array.from({ length: 40 }, (_, seed) => {
      const { estimate } = metricsOf({
        ...binary,
        predictions: syntheticScores(100 + seed, 150, calibrated),
      });
      return estimate?.calibration.judged === true && !estimate.calibration.calibrated;
    }).filter(Boolean).length;
    expect(flagged).toBeLessThanOrEqual(2);
  });

  it("falls back on the reference's calibration while a window has too few labels", () => {
    const referenceFrom = (report: (p: number) => number) => {
      const rows = syntheticScores(3, 2000, report);
      return buildReferenceProfile({
        schema: ONE_FEATURE,
        ...binary,
        rows: rows.map((r) => r.features),
        outputs: rows.map((r): ModelOutput => ({ ...r.output!, confidence: null })),
        truth: rows.map((r) => r.label!.value),
      });
    };
    const window = syntheticScores(4, 500, calibrated, 0.05);
    for (const [report, trusted] of [
      [calibrated, true],
      [overConfident, false],
    ] as const) {
      const { estimate } = metricsOf({ ...binary, reference: referenceFrom(report), predictions: window });
      expect(estimate?.calibration).toMatchObject({ judged: false, reason: 'too_small' });
      expect(estimate?.trustBasis).toBe('reference');
      expect(estimate?.trustworthy).toBe(trusted);
    }
    const { estimate } = metricsOf({ ...binary, predictions: window });
    expect(estimate?.trustBasis).toBe('none');
    expect(estimate?.trustworthy).toBe(false);
  });

  it('reports confidence quantiles, low-confidence share and normalised entropy', () => {
    const confidences = [0.5, 0.55, 0.7, 0.9, 1];
    const { confidence } = metricsOf({
      ...binary,
      predictions: confidences.map((c, i) => ({ ...classified(i, '1', null), confidence: c })),
    });
    expect(confidence?.count).toBe(5);
    close(confidence?.mean, 0.73);
    close(confidence?.p50, 0.7);
    close(confidence?.lowConfidenceShare, 2 / 5);
    const entropy = (c: number) => (c === 1 ? 0 : -(c * Math.log2(c) + (1 - c) * Math.log2(1 - c)));
    close(confidence?.meanEntropy, confidences.reduce((sum, c) => sum + entropy(c), 0) / 5);
  });
});

describe('data quality', () => {
  const schema: FeatureSchema = [
    { name: 'n1', type: 'numeric', min: 0, max: 10, nullable: false },
    { name: 'n2', type: 'numeric', nullable: true },
    { name: 'c', type: 'categorical', categories: ['a', 'b'], nullable: false },
    { name: 'b', type: 'boolean', nullable: false },
  ];
  // Crafted rows; the comments name each violation.
  const rows = [
    { n1: 5, n2: 1, c: 'a', b: true },
    { n1: null, n2: null, c: 'b', b: false }, // n1 null
    { n2: 2, c: 'a', b: true }, // n1 missing
    { n1: 'x', n2: 3, c: 'z', b: 'true' }, // n1 type, c unseen, b type
    { n1: 11, n2: 4, c: 3, b: true }, // n1 out of range, c type
    { n1: -1, n2: 5, c: 'z', b: null, extra: 1 }, // n1 out of range, c unseen, b null
    { n1: 3, n2: 6, c: 'y', b: false }, // c unseen
  ] as FeatureRow[];

  it('counts each violation per feature, as ingestion names them', () => {
    const { quality, drift } = metricsOf({
      schema,
      task: 'regression',
      predictions: rows.map((features, i) => prediction(i, { features })),
    });
    const byName = Object.fromEntries(quality.map((q) => [q.name, q]));
    expect(byName.n1?.problems).toEqual({
      missing: 1,
      null: 1,
      type: 1,
      out_of_range: 2,
      unseen_category: 0,
    });
    close(byName.n1?.nullRate, 2 / 7);
    close(byName.n1?.invalidRate, 5 / 7);
    expect(byName.n2?.problems).toEqual({
      missing: 0,
      null: 0,
      type: 0,
      out_of_range: 0,
      unseen_category: 0,
    });
    close(byName.n2?.nullRate, 1 / 7);
    expect(byName.c?.problems).toEqual({ missing: 0, null: 0, type: 1, out_of_range: 0, unseen_category: 3 });
    expect(byName.c?.unseenValues).toEqual([
      { value: 'z', rows: 2 },
      { value: 'y', rows: 1 },
    ]);
    expect(byName.b?.problems).toEqual({ missing: 0, null: 1, type: 1, out_of_range: 0, unseen_category: 0 });
    // Out-of-range numbers still count as values for drift; wrong types do not.
    expect(drift.features.map((d) => d.currentN)).toEqual([4, 6, 6, 5]);
    // Ingestion flags the same values with the same problems.
    const flags = rows.flatMap(rowValidator(schema));
    for (const q of quality) {
      for (const problem of VALUE_PROBLEMS) {
        const flagged = flags.filter((v) => v.feature === q.name && v.problem === problem).length;
        expect(q.problems[problem], `${q.name} ${problem}`).toBe(flagged);
      }
    }
  });

  it("reads only a row's own fields, whatever the features are named", () => {
    // Names an object inherits a property under: a row without them must count them missing, not read
    // Object.prototype's function (a type problem) or the row's prototype.
    const inherited: FeatureSchema = [
      { name: 'constructor', type: 'numeric', nullable: false },
      { name: 'toString', type: 'boolean', nullable: false },
      { name: '__proto__', type: 'numeric', nullable: false },
    ];
    // JSON.parse makes "__proto__" an own field, as a request body parsed by the API does.
    const rows = [JSON.parse('{"__proto__": 3, "constructor": 1}'), {}] as FeatureRow[];
    const { quality, drift } = metricsOf({
      schema: inherited,
      task: 'regression',
      predictions: rows.map((features, i) => prediction(i, { features })),
    });
    const missing = (n: number) => ({ missing: n, null: 0, type: 0, out_of_range: 0, unseen_category: 0 });
    expect(quality.map((q) => [q.name, q.problems])).toEqual([
      ['constructor', missing(1)],
      ['toString', missing(2)],
      ['__proto__', missing(1)],
    ]);
    expect(drift.features.map((d) => d.currentN)).toEqual([1, 0, 1]);
    // Ingestion names the same problems.
    expect(rows.flatMap(rowValidator(inherited)).map((v) => `${v.feature} ${v.problem}`)).toEqual([
      'toString missing',
      'constructor missing',
      'toString missing',
      '__proto__ missing',
    ]);
  });

  it('flags a column gone constant and a null rate that grew, against the reference', () => {
    const rng = new Random(5);
    const sample = (nullShare: number) => ({
      n1: rng.int(0, 10),
      n2: rng.bernoulli(nullShare) ? null : rng.normal(),
      c: rng.pick(['a', 'b']),
      b: rng.bernoulli(0.5),
    });
    const reference = buildReferenceProfile({
      schema,
      task: 'regression',
      rows: Array.from({ length: 2000 }, () => sample(0.05)),
    });
    const windowOf = (count: number) =>
      metricsOf({
        schema,
        task: 'regression',
        reference,
        predictions: Array.from({ length: count }, (_, i) =>
          prediction(i, { features: { ...sample(0.6), c: 'a' } }),
        ),
      });
    const byName = Object.fromEntries(windowOf(200).quality.map((q) => [q.name, q]));
    expect(byName.c?.constant).toBe(true);
    expect(byName.n1?.constant).toBe(false);
    expect(byName.n2?.nullRateChange?.pValue).toBeLessThan(1e-10);
    expect(byName.n2?.nullRateChange?.cohensH).toBeGreaterThan(0.8);
    expect(byName.n1?.nullRateChange?.pValue).toBe(1);
    // Ten rows are too few to call a column constant.
    expect(windowOf(10).quality.find((q) => q.name === 'c')?.constant).toBeNull();
  });
});

// ---- drift on the simulator --------------------------------------------------------------------------

/** The perfect credit model: P(default) from the world's own logit, on the features it receives. */
function serve(row: FeatureRow): ModelOutput {
  const p = sigmoid(creditDefaultLogit(row));
  return {
    prediction: p >= 0.5 ? '1' : '0',
    confidence: Math.max(p, 1 - p),
    probabilities: { '0': 1 - p, '1': p },
  };
}

function stream(scenarioId: string, seed: number, count: number): SimEvent[] {
  const scenario = SCENARIOS.find((s) => s.id === scenarioId);
  if (!scenario) throw new Error(`no scenario ${scenarioId}`);
  return [...generateStream({ model: creditDefault, scenario, seed, count })];
}

function toPredictions(events: SimEvent[]): WindowPrediction[] {
  return events.map((e) => {
    const { confidence, ...output } = serve(e.features);
    return {
      id: e.predictionId,
      features: e.features,
      output: e.failed ? null : output,
      confidence: e.failed ? null : confidence,
      latencyMs: e.latencyMs,
      error: e.failed ? 'inference failed' : null,
      predictedAt: new Date(e.ts),
      receivedAt: new Date(e.ts),
      label: e.label === null ? null : { value: e.label, observedAt: new Date(e.labelTs!) },
    };
  });
}

const referenceEvents = stream('steady', 1, 5000);
const creditReference: ReferenceProfile = buildReferenceProfile({
  schema: creditDefault.schema,
  task: 'binary',
  labels: ['0', '1'],
  rows: referenceEvents.map((e) => e.features),
  outputs: referenceEvents.map((e) => serve(e.features)),
  truth: referenceEvents.map((e) => e.label),
  timestamps: referenceEvents.map((e) => new Date(e.ts)),
});

/** The window after the scenario's onset (2,500 rows), against the steady reference. */
function creditWindow(scenarioId: string, seed = 2): WindowMetrics {
  const predictions = toPredictions(stream(scenarioId, seed, 5000).slice(2500));
  return computeWindowMetrics({
    schema: creditDefault.schema,
    task: 'binary',
    labels: ['0', '1'],
    reference: creditReference,
    predictions,
    previousArrival: predictions[0]!.receivedAt,
    now: new Date(predictions[predictions.length - 1]!.receivedAt.getTime() + 1000),
  });
}

/** Significant after Benjamini–Hochberg at q = 0.05. */
const flagged = (metrics: WindowMetrics) =>
  metrics.drift.features.filter((d) => (d.adjustedPValue ?? 1) < 0.05).map((d) => d.name);

function driftOf(metrics: WindowMetrics, name: string) {
  const drift = metrics.drift.features.find((d) => d.name === name);
  if (!drift?.judged) throw new Error(`${name} was not judged`);
  return drift;
}

describe('drift against the reference profile', () => {
  const unitChange = creditWindow('unit-change');

  it('flags the feature a unit change broke, and only that one', () => {
    const income = driftOf(unitChange, 'income');
    expect(income.test).toBe('kolmogorov_smirnov');
    expect(income.pValue).toBeLessThan(0.001);
    expect(income.psi).toBeGreaterThan(0.25);
    expect(income.referenceN).toBe(5000);
    expect(income.currentN).toBe(2500);
    expect(flagged(unitChange)).toEqual(['income']);
    expect(unitChange.quality.find((q) => q.name === 'income')?.problems.out_of_range).toBe(2500);
    // The model sees enormous incomes and stops predicting default: the predictions drift too.
    expect(unitChange.drift.prediction).toMatchObject({ judged: true, test: 'chi_square' });
    expect(unitChange.drift.prediction.judged && unitChange.drift.prediction.pValue).toBeLessThan(0.001);
  });

  it('flags the features a covariate shift moved, and not those it left alone', () => {
    const shift = creditWindow('abrupt-covariate-shift');
    for (const name of ['age', 'income', 'channel']) {
      const drift = driftOf(shift, name);
      expect(drift.pValue, name).toBeLessThan(0.001);
      expect(drift.psi, name).toBeGreaterThan(0.25);
    }
    const channel = driftOf(shift, 'channel');
    if (channel.test !== 'chi_square') throw new Error('channel is categorical');
    expect(channel.jensenShannon).toBeGreaterThan(0.1);
    expect(channel.cramersV).toBeGreaterThan(0.1);
    // "debt, credit and loan features are unchanged"
    for (const name of ['debt_to_income', 'credit_utilization', 'loan_amount', 'late_payments_12m', 'term']) {
      expect(flagged(shift), name).not.toContain(name);
    }
  });

  it('flags nothing on a steady stream', () => {
    const steady = creditWindow('steady', 3);
    expect(flagged(steady)).toEqual([]);
    expect(steady.drift.prediction.judged && steady.drift.prediction.pValue).toBeGreaterThan(0.001);
    expect(steady.estimate?.trustworthy).toBe(true);
  });

  it('says a window is too small to judge instead of testing it', () => {
    const predictions = toPredictions(stream('unit-change', 2, 2520).slice(2500));
    const metrics = computeWindowMetrics({
      schema: creditDefault.schema,
      task: 'binary',
      labels: ['0', '1'],
      reference: creditReference,
      predictions,
      now: at(0),
    });
    for (const drift of [...metrics.drift.features, metrics.drift.prediction]) {
      expect(drift).toMatchObject({ judged: false, reason: 'too_small', currentN: expect.any(Number) });
      expect(drift.judged === false && drift.message).toMatch(
        /^too small to judge: the window has \d+ values/,
      );
    }
    expect(metrics.estimate?.calibration).toMatchObject({ judged: false, reason: 'too_small' });
  });

  it('does not judge drift without a reference, or with one of another task', () => {
    const predictions = toPredictions(stream('steady', 4, 100));
    for (const reference of [null, { ...creditReference, task: 'regression' as const }]) {
      const metrics = computeWindowMetrics({
        schema: creditDefault.schema,
        task: 'binary',
        reference,
        predictions,
        now: at(0),
      });
      expect(metrics.reference).toBe(reference === null ? 'none' : 'incompatible');
      expect(metrics.drift.features.every((d) => !d.judged && d.reason === 'no_reference')).toBe(true);
      expect(metrics.classes).toEqual(['0', '1']); // observed, sorted
    }
  });

  it('summarises a window for the agent in a few fields', () => {
    const summary = summarizeForAgent(unitChange);
    expect(summary.count).toBe(2500);
    expect(summary.featuresJudged).toBe(13);
    expect(summary.featuresDrifted).toBe(1);
    expect(summary.drift[0]).toMatchObject({ name: 'income', test: 'kolmogorov_smirnov' });
    expect(summary.drift).toHaveLength(5);
    expect(summary.quality).toEqual([
      // Out of the schema's range, and more precisely the reference in other units.
      expect.objectContaining({ name: 'income', mainProblem: 'rescaled', misread: '×1000', invalidRate: 1 }),
    ]);
    expect(summary.estimateTrustworthy).toBe(false);
    expect(summary.accuracy).toBe(
      unitChange.performance?.task === 'binary' && unitChange.performance.accuracy,
    );
    expect(JSON.stringify(summary).length).toBeLessThan(3000);
  });
});

describe('drift of a regressor', () => {
  it('tests predicted values as a numeric distribution and flags a unit change in price', () => {
    const scenario = (id: string) => SCENARIOS.find((s) => s.id === id)!;
    const events = (id: string, seed: number) =>
      [...generateStream({ model: demand, scenario: scenario(id), seed, count: 5000 })].slice(2500);
    const predictionsOf = (list: SimEvent[]) =>
      list.map((e, i) =>
        prediction(i, {
          features: e.features,
          output: { prediction: demand.expectedLabel(e.features) },
          label: e.label === null ? null : { value: e.label, observedAt: at(i + 120) },
        }),
      );
    const referenceRows = events('steady', 1);
    const reference = buildReferenceProfile({
      schema: demand.schema,
      task: 'regression',
      rows: referenceRows.map((e) => e.features),
      outputs: referenceRows.map((e) => ({ prediction: demand.expectedLabel(e.features), confidence: null })),
      truth: referenceRows.map((e) => e.label),
    });
    const metrics = computeWindowMetrics({
      schema: demand.schema,
      task: 'regression',
      reference,
      predictions: predictionsOf(events('demand-price-in-cents', 2)),
      now: at(5000),
    });
    expect(flagged(metrics)).toEqual(['price']);
    expect(metrics.drift.prediction).toMatchObject({ judged: true, test: 'kolmogorov_smirnov' });
    expect(metrics.drift.prediction.judged && metrics.drift.prediction.pValue).toBeLessThan(0.001);
    expect(metrics.drift.confidence).toBeNull();
    expect(metrics.estimate).toBeNull();
    expect(metrics.performance).toMatchObject({ task: 'regression' });
    expect(reference.performance).toMatchObject({ task: 'regression' });
    // The window's error dwarfs the reference's: the model forecasts near-zero sales for "expensive" items.
    if (metrics.performance?.task !== 'regression' || reference.performance?.task !== 'regression') {
      throw new Error('expected regression performance');
    }
    expect(metrics.performance.rmse).toBeGreaterThan(2 * reference.performance.rmse);
  });
});

describe('reference profile', () => {
  it('keeps a bounded, order-independent sample and PSI bins per numeric feature', () => {
    const rng = new Random(6);
    const rows = Array.from({ length: 12_000 }, () => ({ x: Math.round(rng.normal(0, 1) * 100) / 100 }));
    const profile = buildReferenceProfile({ schema: ONE_FEATURE, task: 'regression', rows });
    const shuffled = buildReferenceProfile({
      schema: ONE_FEATURE,
      task: 'regression',
      rows: [...rows].reverse(),
    });
    expect(shuffled.features).toStrictEqual(profile.features);
    const distribution = profile.features[0]?.distribution;
    if (distribution?.type !== 'numeric') throw new Error('expected a numeric distribution');
    expect(distribution.count).toBe(12_000);
    expect(distribution.sample).toHaveLength(5000);
    expect(distribution.sample).toEqual([...distribution.sample].sort((a, b) => a - b));
    expect(distribution.edges).toHaveLength(9);
    expect(distribution.counts.reduce((a, b) => a + b, 0)).toBe(12_000);
  });

  it('holds the baseline performance, calibration and prediction distribution', () => {
    expect(creditReference.classes).toEqual(['0', '1']);
    expect(creditReference.performance).toMatchObject({ task: 'binary', positiveClass: '1' });
    expect(creditReference.calibration).toMatchObject({ judged: true, calibrated: true });
    expect(creditReference.prediction).toMatchObject({ type: 'categorical', categories: ['0', '1'] });
    expect(creditReference.confidence?.metrics.count).toBe(5000);
    expect(creditReference.arrivals?.meanInterArrivalSeconds).toBeCloseTo(1 / 5, 1); // 5 per second
  });

  it('rejects inputs that are not aligned with the rows', () => {
    expect(() =>
      buildReferenceProfile({ schema: ONE_FEATURE, task: 'regression', rows: [{ x: 1 }], truth: [1, 2] }),
    ).toThrow(RangeError);
    expect(() =>
      evaluateOutputs({ task: 'regression', outputs: [{ prediction: 1, confidence: null }], truth: [] }),
    ).toThrow(RangeError);
  });
});

describe('JSON round trip', () => {
  it('stores the reference profile, the window metrics and the summary as plain JSON', () => {
    const metrics = creditWindow('unit-change');
    for (const value of [creditReference, metrics, summarizeForAgent(metrics)]) {
      expect(JSON.parse(JSON.stringify(value))).toStrictEqual(value);
    }
  });
});
