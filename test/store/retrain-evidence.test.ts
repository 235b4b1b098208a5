// Retraining, served comparisons and verification evidence over the store, on SQLite and PostgreSQL: the
// credit-default demo model with a real trained production version, fed labelled traffic from a drifted
// concept (after the onset, a rate shock makes indebted applicants default far more often), retrained
// on it, its candidate served beside production by canary and shadow, and the traffic measured. Every
// expected number is computed here directly from the rows written.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEvidenceActivities } from '../../activities/evidence.ts';
import { createRetrainActivities } from '../../activities/retrain.ts';
import type { FeatureRow } from '../../lib/domain.ts';
import { loadModel, type ModelArtifact, parseModelArtifact } from '../../lib/models/index.ts';
import { changeDeployment } from '../../lib/registry/revisions.ts';
import { registerVersion } from '../../lib/registry/versions.ts';
import {
  creditDefault,
  creditDefaultLogit,
  demand,
  demandLogMean,
  drawUnits,
  sigmoid,
} from '../../lib/sim/demo-models.ts';
import { Random } from '../../lib/sim/random.ts';
import { findScenario, type Scenario } from '../../lib/sim/scenarios.ts';
import { generateStream } from '../../lib/sim/stream.ts';
import { quantile } from '../../lib/stats/index.ts';
import { CREDIT_LABELS, creditData } from '../helpers/credit-model.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase } from '../helpers/db.ts';

const ONSET = '2026-03-01T00:00:00.000Z';
/** Canary and shadow traffic starts a day after the onset, well after the training traffic ends. */
const TRIAL = '2026-03-02T00:00:00.000Z';
const EVENTS = 1200;

/** The credit concept drift with a stronger rate shock, from the first event on. */
const drift: Scenario = {
  ...findScenario('concept-drift')!,
  onset: 0,
  transform: {
    label: (row, rng) =>
      rng.bernoulli(sigmoid(creditDefaultLogit(row) + 20 * ((row.debt_to_income as number) - 0.3))) ? 1 : 0,
  },
};

interface Written {
  id: string;
  features: FeatureRow;
  label: string | null;
  prediction: string | null;
  error: string | null;
  latencyMs: number | null;
  flagged: boolean;
}

describeEachProvider('retraining and evidence on %s', (provider) => {
  let db: TestDatabase;
  let modelId: string;
  let productionId: string;
  let productionArtifact: ModelArtifact;
  let incidentId: string;
  /** The drifted traffic since the onset that training may use, in time order, with production's answers. */
  let usable: (Written & { productionAnswer: string })[];
  const acts = () => ({ ...createRetrainActivities(db.store), ...createEvidenceActivities(db.store) });

  async function writePredictions(
    rows: (Written & { versionId: string; source: string; at: Date; shadowOf?: string })[],
  ): Promise<void> {
    await db.store.prediction.createMany({
      data: rows.map((r) => ({
        id: r.id,
        modelId,
        versionId: r.versionId,
        source: r.source,
        features: r.features,
        output: r.prediction === null ? undefined : { prediction: r.prediction },
        latencyMs: r.latencyMs,
        error: r.error,
        quality: r.flagged ? { violations: [{ feature: 'income', problem: 'out_of_range' }] } : undefined,
        shadowOf: r.shadowOf ?? null,
        predictedAt: r.at,
        receivedAt: r.at,
      })),
    });
    const labelled = rows.filter((r) => r.label !== null);
    await db.store.label.createMany({
      data: labelled.map((r) => ({
        modelId,
        predictionId: r.id,
        value: r.label!,
        observedAt: r.at,
        receivedAt: r.at,
      })),
    });
  }

  const predictWith = async (artifact: ModelArtifact, rows: FeatureRow[]) =>
    (await loadModel(artifact).predict(rows)).map((o) => String(o.prediction));

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    const model = await db.store.model.create({
      data: { name: 'credit', task: 'binary', featureSchema: creditDefault.schema, labels: CREDIT_LABELS },
    });
    modelId = model.id;
    const production = await registerVersion(db.store, 'credit', {
      train: { trainer: 'logistic-regression', options: { steps: 200 } },
      data: creditData(1000, 11),
    });
    productionId = production.id;
    productionArtifact = parseModelArtifact(production.artifact);
    await changeDeployment(db.store, 'credit', {
      production: 1,
      reason: 'first deployment',
      actor: 'human:test',
    });
    incidentId = (
      await db.store.incident.create({
        data: {
          modelId,
          status: 'mitigating',
          kind: 'concept_drift',
          severity: 'critical',
          summary: 'drift',
        },
      })
    ).id;

    const events = [
      ...generateStream({ model: creditDefault, scenario: drift, seed: 5, count: EVENTS, startTime: ONSET }),
    ];
    const predictions = await predictWith(
      productionArtifact,
      events.map((e) => e.features),
    );
    const served = events.map((e, i) => ({
      id: e.predictionId,
      features: e.features,
      label: e.label === null ? null : String(e.label),
      prediction: e.failed ? null : predictions[i]!,
      error: e.failed ? 'model timeout' : null,
      latencyMs: e.latencyMs,
      // Every 40th row arrived with a quality problem: it must never be trained on.
      flagged: i % 40 === 7,
      versionId: productionId,
      source: 'logged',
      at: new Date(e.ts),
      productionAnswer: predictions[i]!,
    }));
    // Before the onset (old world) and shadow copies: neither is the new world's traffic.
    const before = served
      .slice(0, 30)
      .map((r, i) => ({ ...r, id: `old-${i}`, at: new Date(Date.parse(ONSET) - 60_000 + i) }));
    const shadows = served
      .slice(0, 30)
      .map((r) => ({ ...r, id: `${r.id}:shadow`, source: 'shadow', shadowOf: r.id }));
    await writePredictions([...served, ...before, ...shadows]);
    usable = served
      .filter((r) => r.label !== null && !r.flagged)
      .sort((a, b) => a.at.getTime() - b.at.getTime() || (a.id < b.id ? -1 : 1));
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
  });

  const request = (key: string) => ({
    modelName: 'credit',
    key,
    incidentId,
    since: ONSET,
    minRows: 300,
    holdoutShare: 0.3,
    alpha: 0.05,
    maxRows: 5000,
    materialGain: 0.02,
  });

  it('trains a candidate that beats production on the recent rows tested out of time, once per key', async () => {
    const first = await acts().trainCandidate(request('retrain:0'));
    if (first.status !== 'trained') throw new Error(`not trained: ${JSON.stringify(first)}`);
    // Rolling origin over the most recent 30 %: two segments, each predicted by a candidate trained on
    // every row before it; the last segment's candidate is the one registered.
    const tested = Math.round(usable.length * 0.3);
    const lastTrainEnd = usable.length - tested + Math.round(tested / 2);
    expect(first).toMatchObject({
      version: 2,
      metric: 'accuracy',
      trainRows: lastTrainEnd,
      holdoutRows: tested,
      better: true,
    });
    // Production's accuracy on the tested rows, from its own answers to them.
    const testedRows = usable.slice(usable.length - tested);
    const productionRight = testedRows.filter((r) => r.label === r.productionAnswer).length;
    expect(first.production).toBeCloseTo(productionRight / tested, 12);
    expect(first.candidate).toBeGreaterThan(first.production + 0.05);
    expect(first.pValue).toBeLessThan(0.05);

    const version = await db.store.modelVersion.findFirstOrThrow({ where: { modelId, version: 2 } });
    expect(version).toMatchObject({ status: 'candidate', parentVersionId: productionId, incidentId });
    expect(version.trainingWindow).toMatchObject({
      from: ONSET,
      rows: lastTrainEnd,
      key: 'retrain:0',
    });
    // Registered like any version: a reference profile and metrics on the rows after its training rows.
    const metrics = version.metrics as Record<string, unknown>;
    expect(metrics).toMatchObject({ count: usable.length - lastTrainEnd, evaluatedOn: 'validation' });
    expect(version.referenceStats).not.toBeNull();

    // A retry with the same key (a worker crashed after registering) answers the same, registers nothing.
    expect(await acts().trainCandidate(request('retrain:0'))).toEqual(first);
    expect(await db.store.modelVersion.count({ where: { modelId } })).toBe(2);

    // Another key trains again on the same rows: the same candidate, as a new version.
    const again = await acts().trainCandidate(request('retrain:1'));
    expect(again).toEqual({ ...first, version: 3 });
    const artifacts = await db.store.modelVersion.findMany({
      where: { modelId, version: { in: [2, 3] } },
      orderBy: { version: 'asc' },
    });
    expect(artifacts[1]!.artifact).toEqual(artifacts[0]!.artifact);
  }, 60_000);

  it('registers one candidate when two attempts with one key run at once', async () => {
    // A retry started while a slow first attempt still runs: both train; only one may register.
    const before = await db.store.modelVersion.count({ where: { modelId } });
    const [a, b] = await Promise.all([
      acts().trainCandidate(request('retrain:concurrent')),
      acts().trainCandidate(request('retrain:concurrent')),
    ]);
    expect(a.status).toBe('trained');
    expect(b).toEqual(a);
    expect(await db.store.modelVersion.count({ where: { modelId } })).toBe(before + 1);
    const registered = await db.store.modelVersion.findMany({
      where: { modelId, idempotencyKey: 'retrain:concurrent' },
    });
    expect(registered).toHaveLength(1);
  }, 60_000);

  it('retrains a regressor: RMSE on the held-out rows, judged by a paired t-test', async () => {
    const model = await db.store.model.create({
      data: { name: 'units', task: 'regression', featureSchema: demand.schema },
    });
    const rng = new Random(3);
    const reference = Array.from({ length: 800 }, () => demand.sampleRow(rng));
    await registerVersion(db.store, 'units', {
      train: { trainer: 'linear-regression' },
      data: { rows: reference, labels: reference.map((row) => demand.label(row, rng)) },
    });
    await changeDeployment(db.store, 'units', {
      production: 1,
      reason: 'first deployment',
      actor: 'human:test',
    });
    // A competitor closes: from the first event on every store sells twice as much for the same inputs.
    // Training reads only features and labels.
    const scenario: Scenario = {
      ...findScenario('demand-concept-drift')!,
      onset: 0,
      transform: { label: (row, r) => drawUnits(2 * Math.exp(demandLogMean(row)), r) },
    };
    const events = [...generateStream({ model: demand, scenario, seed: 4, count: 800, startTime: ONSET })];
    await db.store.prediction.createMany({
      data: events.map((e) => ({
        id: `units-${e.predictionId}`,
        modelId: model.id,
        source: 'logged',
        features: e.features,
        predictedAt: new Date(e.ts),
        receivedAt: new Date(e.ts),
      })),
    });
    const labelled = events.filter((e) => e.label !== null);
    await db.store.label.createMany({
      data: labelled.map((e) => ({
        modelId: model.id,
        predictionId: `units-${e.predictionId}`,
        value: e.label!,
        observedAt: new Date(e.ts),
      })),
    });
    const answer = await acts().trainCandidate({
      ...request('units:0'),
      modelName: 'units',
      incidentId: null,
    });
    if (answer.status !== 'trained') throw new Error(`not trained: ${JSON.stringify(answer)}`);
    const tested = Math.round(labelled.length * 0.3);
    expect(answer).toMatchObject({
      metric: 'rmse',
      trainRows: labelled.length - tested + Math.round(tested / 2),
      holdoutRows: tested,
      better: true,
    });
    expect(answer.candidate).toBeLessThan(answer.production);
    expect(answer.pValue).toBeLessThan(0.05);
  }, 60_000);

  it('answers inconclusive, registering nothing, while the improvement is not yet significant', async () => {
    const versions = await db.store.modelVersion.count({ where: { modelId } });
    // The same clear improvement, judged at a level no few hundred rows can reach: wait for more rows.
    const strict = { ...request('retrain:strict'), alpha: 1e-9 };
    const answer = await acts().trainCandidate(strict);
    if (answer.status !== 'inconclusive') throw new Error(`not inconclusive: ${JSON.stringify(answer)}`);
    expect(answer.rows).toBe(usable.length);
    expect(answer.needed).toBeGreaterThan(usable.length);
    expect(answer.needed).toBeLessThanOrEqual(5000);
    expect(answer.candidate).toBeGreaterThan(answer.production);
    expect(answer.pValue).toBeGreaterThanOrEqual(1e-9);
    expect(await db.store.modelVersion.count({ where: { modelId } })).toBe(versions);

    // Past the row limit the same improvement counts as none: a candidate, registered and not better.
    const capped = await acts().trainCandidate({
      ...strict,
      key: 'retrain:capped',
      maxRows: answer.needed - 1,
    });
    expect(capped).toMatchObject({ status: 'trained', better: false });
    expect(await db.store.modelVersion.count({ where: { modelId } })).toBe(versions + 1);
  }, 60_000);

  it('answers insufficient below minRows and registers nothing', async () => {
    const versions = await db.store.modelVersion.count({ where: { modelId } });
    const answer = await acts().trainCandidate({ ...request('retrain:few'), minRows: usable.length + 1 });
    expect(answer).toEqual({ status: 'insufficient', rows: usable.length, needed: usable.length + 1 });
    const late = await acts().trainCandidate({ ...request('retrain:late'), since: '2030-01-01T00:00:00Z' });
    expect(late).toEqual({ status: 'insufficient', rows: 0, needed: 300 });
    expect(await db.store.modelVersion.count({ where: { modelId } })).toBe(versions);
  });

  /** Canary traffic of both versions and shadow copies of production's, after TRIAL. */
  async function writeTrial() {
    const candidate = await db.store.modelVersion.findFirstOrThrow({ where: { modelId, version: 2 } });
    const candidateArtifact = parseModelArtifact(candidate.artifact);
    const events = [
      ...generateStream({ model: creditDefault, scenario: drift, seed: 9, count: 400, startTime: TRIAL }),
    ];
    const features = events.map((e) => e.features);
    const [byCandidate, byProduction] = await Promise.all([
      predictWith(candidateArtifact, features),
      predictWith(productionArtifact, features),
    ]);
    const rows = events.map((e, i) => {
      const toCandidate = i % 5 === 0;
      return {
        id: `trial-${i}`,
        features: e.features,
        label: e.label === null ? null : String(e.label),
        prediction: e.failed ? null : (toCandidate ? byCandidate : byProduction)[i]!,
        // One answer of each version is not a class at all: an invalid output, a failure, never scored.
        ...(i === 10 || i === 11 ? { prediction: 'maybe' } : {}),
        error: e.failed ? 'model timeout' : null,
        latencyMs: e.failed ? null : e.latencyMs,
        flagged: i % 50 === 3,
        versionId: toCandidate ? candidate.id : productionId,
        source: 'gateway',
        at: new Date(e.ts),
        candidatePrediction: byCandidate[i]!,
      };
    });
    const shadows = rows
      .filter((r) => r.versionId === productionId)
      .map((r) => ({
        ...r,
        id: `${r.id}:shadow`,
        prediction: r.candidatePrediction,
        error: null,
        versionId: candidate.id,
        source: 'shadow',
        shadowOf: r.id,
      }));
    await writePredictions([...rows, ...shadows]);
    return { rows, shadows, candidateId: candidate.id };
  }

  let trial: Awaited<ReturnType<typeof writeTrial>>;

  const scored = (rows: { label: string | null; prediction: string | null; error: string | null }[]) => {
    const valid = rows.filter(
      (r) => r.label !== null && r.error === null && CREDIT_LABELS.includes(r.prediction!),
    );
    return { rows: valid.length, correct: valid.filter((r) => r.prediction === r.label).length };
  };

  it('counts the labelled outcomes of a canary and of a shadow', async () => {
    trial = await writeTrial();
    const canary = await acts().compareServed({
      modelName: 'credit',
      candidateVersion: 2,
      baselineVersion: 1,
      since: TRIAL,
      mode: 'canary',
    });
    expect(canary).toEqual({
      metric: 'accuracy',
      candidate: scored(trial.rows.filter((r) => r.versionId === trial.candidateId)),
      baseline: scored(trial.rows.filter((r) => r.versionId === productionId)),
    });
    expect(canary.candidate.rows).toBeGreaterThan(60);

    const shadow = await acts().compareServed({
      modelName: 'credit',
      candidateVersion: 2,
      baselineVersion: 1,
      since: TRIAL,
      mode: 'shadow',
    });
    // Shadow scores against the label of the request production served; only rows both answered usably.
    const primaries = new Map(trial.rows.map((r) => [r.id, r]));
    const pairs = trial.shadows
      .map((s) => ({ shadow: s, primary: primaries.get(s.shadowOf)! }))
      .filter((p) => scored([p.shadow]).rows === 1 && scored([p.primary]).rows === 1);
    expect(shadow).toEqual({
      metric: 'accuracy',
      candidate: scored(pairs.map((p) => p.shadow)),
      baseline: scored(pairs.map((p) => p.primary)),
    });
    expect(shadow.candidate.rows).toBe(shadow.baseline.rows);
    expect(shadow.candidate.correct!).toBeGreaterThan(shadow.baseline.correct!);
  });

  it('measures evidence over the model’s own traffic since an instant', async () => {
    const since = TRIAL;
    // The deployment the trial's traffic came from: production with the candidate as its canary.
    await changeDeployment(db.store, 'credit', {
      canary: { version: 2, share: 0.2 },
      reason: 'canary',
      actor: 'human:test',
    });
    const own = trial.rows; // shadow copies are not the model's traffic
    const measure = (metric: 'accuracy' | 'latencyP95Ms' | 'failureRate' | 'qualityRate') =>
      acts().measureEvidence({ modelName: 'credit', metric, since });

    const expected = scored(own);
    expect(await measure('accuracy')).toEqual({
      metric: 'accuracy',
      rows: expected.rows,
      successes: expected.correct,
      value: expected.correct / expected.rows,
    });
    const latencies = own.filter((r) => r.latencyMs !== null).map((r) => r.latencyMs!);
    expect(await measure('latencyP95Ms')).toEqual({
      metric: 'latencyP95Ms',
      rows: latencies.length,
      value: quantile(latencies, 0.95),
    });
    // A failure is a request without a usable answer: an error or an output that is not a class.
    const failed = own.filter((r) => r.error !== null || !CREDIT_LABELS.includes(r.prediction!)).length;
    expect(failed).toBeGreaterThan(2);
    expect(await measure('failureRate')).toEqual({
      metric: 'failureRate',
      rows: own.length,
      successes: failed,
      value: failed / own.length,
    });
    const flagged = own.filter((r) => r.flagged).length;
    expect(await measure('qualityRate')).toEqual({
      metric: 'qualityRate',
      rows: own.length,
      successes: flagged,
      value: flagged / own.length,
    });
    expect(
      await acts().measureEvidence({
        modelName: 'credit',
        metric: 'accuracy',
        since: '2030-01-01T00:00:00Z',
      }),
    ).toEqual({ metric: 'accuracy', rows: 0, successes: 0, value: null });
  });

  it("leaves out the answers of versions the deployment no longer serves (the gateway's cache may still give them)", async () => {
    await changeDeployment(db.store, 'credit', { canary: null, reason: 'canary ended', actor: 'human:test' });
    const byProduction = trial.rows.filter((r) => r.versionId === productionId);
    expect(byProduction.length).toBeLessThan(trial.rows.length);
    const expected = scored(byProduction);
    expect(await acts().measureEvidence({ modelName: 'credit', metric: 'accuracy', since: TRIAL })).toEqual({
      metric: 'accuracy',
      rows: expected.rows,
      successes: expected.correct,
      value: expected.correct / expected.rows,
    });
    const failures = await acts().measureEvidence({
      modelName: 'credit',
      metric: 'failureRate',
      since: TRIAL,
    });
    expect(failures.rows).toBe(byProduction.length);
  });

  it("measures a segment's evidence on that segment's rows only, whichever version answered them", async () => {
    await db.store.model.update({ where: { name: 'credit' }, data: { segments: [{ by: 'channel' }] } });
    try {
      const byProduction = trial.rows.filter((r) => r.versionId === productionId);
      const web = byProduction.filter((r) => r.features.channel === 'web');
      expect(web.length).toBeGreaterThan(10);
      expect(web.length).toBeLessThan(byProduction.length / 2);
      const measure = (metric: 'accuracy' | 'failureRate', segment: string) =>
        acts().measureEvidence({ modelName: 'credit', metric, since: TRIAL, segment });
      const expected = scored(web);
      expect(await measure('accuracy', 'channel=web')).toEqual({
        metric: 'accuracy',
        rows: expected.rows,
        successes: expected.correct,
        value: expected.correct / expected.rows,
      });
      expect((await measure('failureRate', 'channel=web')).rows).toBe(web.length);
      // A segment the model no longer defines: no rows, so the verification ends without a verdict.
      expect(await measure('accuracy', 'channel=fax')).toEqual({
        metric: 'accuracy',
        rows: 0,
        successes: 0,
        value: null,
      });
    } finally {
      await db.store.model.update({ where: { name: 'credit' }, data: { segments: [] } });
    }
  });

  it('measures RMSE with the sums a test needs', async () => {
    const model = await db.store.model.create({
      data: {
        name: 'demand',
        task: 'regression',
        featureSchema: [{ name: 'x', type: 'numeric', nullable: false }],
      },
    });
    const truth = [3, 5, 8, 2, 7, 10];
    const predicted = [2.5, 5, 10, 1, 7.5, 12];
    const at = new Date(TRIAL);
    await db.store.prediction.createMany({
      data: truth.map((_, i) => ({
        id: `demand-${i}`,
        modelId: model.id,
        source: 'logged',
        features: { x: i },
        // The last row failed: it has no answer to score.
        ...(i === 5 ? { error: 'boom' } : { output: { prediction: predicted[i]! } }),
        predictedAt: at,
        receivedAt: at,
      })),
    });
    await db.store.label.createMany({
      data: truth.map((y, i) => ({
        modelId: model.id,
        predictionId: `demand-${i}`,
        value: y,
        observedAt: at,
      })),
    });
    const errors = truth.slice(0, 5).map((y, i) => (predicted[i]! - y) ** 2);
    const sse = errors.reduce((s, e) => s + e, 0);
    const evidence = await acts().measureEvidence({ modelName: 'demand', metric: 'rmse', since: TRIAL });
    expect(evidence).toMatchObject({ metric: 'rmse', rows: 5 });
    expect(evidence.value).toBeCloseTo(Math.sqrt(sse / 5), 12);
    expect(evidence.sumSquaredError).toBeCloseTo(sse, 12);
    expect(evidence.sumSquaredErrorSq).toBeCloseTo(
      errors.reduce((s, e) => s + e * e, 0),
      12,
    );
  });

  it("never trains on rows outside the range learnt from production's reference when the schema gives none", async () => {
    // x has no range in the schema; after the onset a quarter of the rows arrive in other units (×1000),
    // which ingestion cannot flag. Training must leave them out as it leaves out flagged rows.
    const schema = [
      { name: 'x', type: 'numeric' as const, nullable: false },
      { name: 'z', type: 'numeric' as const, nullable: false, min: 0, max: 1 },
    ];
    await db.store.model.create({
      data: { name: 'rescaled', task: 'binary', featureSchema: schema, labels: ['0', '1'] },
    });
    const rng = new Random(21);
    const sample = (n: number) =>
      Array.from({ length: n }, () => ({ x: rng.uniform(0, 1), z: rng.uniform(0, 1) }));
    const reference = sample(400);
    await registerVersion(db.store, 'rescaled', {
      train: { trainer: 'logistic-regression', options: { steps: 100 } },
      data: { rows: reference, labels: reference.map((r) => (r.x > 0.5 ? 1 : 0)) },
    });
    await changeDeployment(db.store, 'rescaled', { production: 1, reason: 'first', actor: 'human:test' });
    const rescaledId = (await db.store.model.findUniqueOrThrow({ where: { name: 'rescaled' } })).id;
    const at = (i: number) => new Date(Date.parse(TRIAL) + i * 1000);
    const rows = sample(400).map((r, i) => ({ ...r, x: i % 4 === 0 ? r.x * 1000 : r.x }));
    await db.store.prediction.createMany({
      data: rows.map((features, i) => ({
        id: `rescaled-${i}`,
        modelId: rescaledId,
        source: 'logged',
        features,
        output: { prediction: '0' },
        predictedAt: at(i),
        receivedAt: at(i),
      })),
    });
    await db.store.label.createMany({
      data: rows.map((r, i) => ({
        modelId: rescaledId,
        predictionId: `rescaled-${i}`,
        value: String(r.x > 0.5 && r.x < 1 ? 1 : 0),
        observedAt: at(i),
      })),
    });
    const trained = await acts().trainCandidate({
      modelName: 'rescaled',
      key: 'rescaled:retrain',
      incidentId: null,
      since: TRIAL,
      minRows: 100,
      holdoutShare: 0.3,
      alpha: 0.05,
      // No more rows will come: the candidate is judged on these 300, better or not.
      maxRows: 300,
      materialGain: 0.02,
    });
    if (trained.status !== 'trained') throw new Error(`not trained: ${JSON.stringify(trained)}`);
    // 300 rows in range: 90 tested out of time, the registered candidate trained on the 255 before its segment.
    expect([trained.trainRows, trained.holdoutRows]).toEqual([255, 90]);
  }, 60_000);

  it("judges a segment incident's candidate against the segment's fallback route, and trains it on the other segments' earlier rows too", async () => {
    await db.store.model.update({ where: { name: 'credit' }, data: { segments: [{ by: 'channel' }] } });
    const deploy = (change: Parameters<typeof changeDeployment>[2]) =>
      changeDeployment(db.store, 'credit', change);
    try {
      const web = 'channel=web';
      const segmentRequest = (key: string) => ({ ...request(key), segment: web });
      // Without a route, a segment incident's retrain is judged against production alone, but learns from
      // the other channels' labelled, clean rows before the onset as well (refit-evidence.ts priorRowsWanted).
      const plain = await acts().trainCandidate(request('retrain:segment-plain'));
      const unrouted = await acts().trainCandidate(segmentRequest('retrain:segment-unrouted'));
      if (plain.status !== 'trained' || unrouted.status !== 'trained') throw new Error('not trained');
      expect(unrouted.route).toBeUndefined();
      const old = await db.store.prediction.findMany({
        where: { modelId, receivedAt: { lt: new Date(ONSET) }, label: { isNot: null } },
        select: { features: true, quality: true },
      });
      const prior = old.filter(
        (r) => r.quality === null && (r.features as FeatureRow).channel !== 'web',
      ).length;
      expect(prior).toBeGreaterThan(10);
      expect(unrouted.trainRows - plain.trainRows).toBe(prior);

      // The web rows routed to a fallback that already knows the new world (trained on every row since the
      // onset, the tested ones included): no refit beats it on the web rows, so the candidate is not better.
      const strong = await registerVersion(db.store, 'credit', {
        train: { trainer: 'logistic-regression', options: { steps: 200 } },
        data: { rows: usable.map((r) => r.features), labels: usable.map((r) => r.label!) },
      });
      await deploy({
        fallback: strong.version,
        fallbackSegments: [web],
        reason: 'route',
        actor: 'human:test',
      });
      const lost = await acts().trainCandidate(segmentRequest('retrain:segment-route-lost'));
      if (lost.status !== 'trained') throw new Error('not trained');
      expect(lost.candidate).toBeGreaterThan(lost.production); // it beat production on every tested row
      expect(lost.better).toBe(false);
      expect(lost.route).toMatchObject({ segment: web, metric: 'accuracy' });
      expect(lost.route!.rows).toBeGreaterThan(10);
      expect(lost.route!.route).toBeGreaterThanOrEqual(lost.route!.candidate);
      expect(lost.route!.rows + lost.route!.others.rows).toBe(lost.holdoutRows);
      // Answered again from the store under its key, route and all.
      expect(await acts().trainCandidate(segmentRequest('retrain:segment-route-lost'))).toEqual(lost);

      // Routed to a fallback of the old world: the refit beats it on the web rows and production elsewhere.
      const oldWorld = await registerVersion(db.store, 'credit', {
        train: { trainer: 'logistic-regression', options: { steps: 200 } },
        data: creditData(1000, 12),
      });
      await deploy({ fallback: oldWorld.version, reason: 'old-world fallback', actor: 'human:test' });
      const won = await acts().trainCandidate(segmentRequest('retrain:segment-route-won'));
      if (won.status !== 'trained') throw new Error('not trained');
      expect(won.better).toBe(true);
      expect(won.route!.candidate).toBeGreaterThan(won.route!.route);
      expect(won.route!.others.candidate).toBeGreaterThanOrEqual(won.route!.others.production - 0.02);
      // Its reference profile is of the rows since the onset (live traffic's mix), not of the prior rows.
      const registered = await db.store.modelVersion.findFirstOrThrow({
        where: { modelId, version: won.version },
        select: { referenceStats: true },
      });
      expect((registered.referenceStats as { rows: number }).rows).toBe(won.trainRows - prior);
    } finally {
      await deploy({ fallbackSegments: [], reason: 'route lifted', actor: 'human:test' });
      await db.store.model.update({ where: { name: 'credit' }, data: { segments: [] } });
    }
  }, 120_000);
});
