// ONNX models exported from Python (scripts/reference/onnx_models.py → test/fixtures/onnx-models.json):
// the adapter's answers against what the Python library that trained each model answers on the same rows.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/db/config.ts';
import type { FeatureRow } from '../../lib/domain.ts';
import {
  ArtifactError,
  builtInTrainerOf,
  loadModel,
  type ModelArtifact,
  parseModelArtifact,
  trainModel,
} from '../../lib/models/index.ts';

interface FixtureModel {
  name: string;
  task: 'binary' | 'regression';
  classes?: string[];
  schema: { name: string; type: string }[];
  onnx: string;
  rows: FeatureRow[];
  probabilities?: number[][];
  values?: number[];
}
const fixture: { models: FixtureModel[] } = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'onnx-models.json'), 'utf8'),
);
const byName = (name: string) => fixture.models.find((m) => m.name === name)!;

/** The artifact a user registers for the fixture's model: one input per column needs no feature list. */
function artifactOf(m: FixtureModel, overrides: Record<string, unknown> = {}): ModelArtifact {
  const columns = m.name === 'sklearn-pipeline-logistic';
  return parseModelArtifact({
    kind: 'onnx',
    task: m.task,
    model: m.onnx,
    ...(m.classes ? { classes: m.classes } : {}),
    ...(columns ? {} : { features: m.schema.map((f) => f.name) }),
    ...overrides,
  });
}

describe('ONNX models exported from Python', () => {
  it('has the three exported models, each with its check rows and the first row missing income', () => {
    expect(fixture.models.map((m) => m.name)).toEqual([
      'sklearn-pipeline-logistic',
      'xgboost-classifier',
      'sklearn-linear-regressor',
    ]);
    for (const m of fixture.models) {
      expect(m.rows).toHaveLength(40);
      expect(m.rows[0]!.income).toBeNull();
      expect((m.probabilities ?? m.values)!).toHaveLength(40);
    }
  });

  it.each(['sklearn-pipeline-logistic', 'xgboost-classifier'])(
    '%s: probabilities as the Python model gives them, prediction and confidence from them',
    async (name) => {
      const m = byName(name);
      const outputs = await loadModel(artifactOf(m)).predict(m.rows);
      expect(outputs).toHaveLength(m.rows.length);
      outputs.forEach((out, i) => {
        const expected = m.probabilities![i]!;
        // float32 inference against float64 (scikit-learn) or float32 (XGBoost): agreement to ~1e-6.
        m.classes!.forEach((c, k) => {
          expect(out.probabilities![c]).toBeCloseTo(expected[k]!, 5);
        });
        const best = expected[1]! > expected[0]! ? 1 : 0;
        expect(out.prediction).toBe(m.classes![best]);
        expect(out.confidence).toBeCloseTo(expected[best]!, 5);
      });
      // Both classes are predicted somewhere: the check rows exercise the decision, not one side of it.
      expect(new Set(outputs.map((o) => o.prediction)).size).toBe(2);
    },
  );

  it('a regressor: the values scikit-learn gives, missing income imputed by the pipeline', async () => {
    const m = byName('sklearn-linear-regressor');
    const outputs = await loadModel(artifactOf(m)).predict(m.rows);
    outputs.forEach((out, i) => {
      // Values of ~10^4 in float32: seven significant digits.
      expect(Math.abs((out.prediction as number) - m.values![i]!)).toBeLessThan(
        1e-6 * Math.abs(m.values![i]!) + 2e-3,
      );
      expect(out.confidence).toBeNull();
    });
  });

  it('feeds a single-input model in the artifact’s feature order, by name, whatever the row’s key order', async () => {
    const m = byName('xgboost-classifier');
    const model = loadModel(artifactOf(m));
    const reordered: FeatureRow[] = m.rows.map((r) => ({
      age: r.age!,
      debt_ratio: r.debt_ratio!,
      income: r.income!,
    }));
    expect(await model.predict(reordered)).toEqual(await model.predict(m.rows));
    const swapped = loadModel(artifactOf(m, { features: ['debt_ratio', 'income', 'age'] }));
    expect(await swapped.predict(m.rows)).not.toEqual(await model.predict(m.rows));
  });

  it('treats a missing, null or non-numeric value as missing, and ignores inherited properties', async () => {
    const m = byName('xgboost-classifier');
    const model = loadModel(artifactOf(m));
    const row = m.rows[1]!;
    const [missing] = await model.predict([{ debt_ratio: row.debt_ratio!, age: row.age! }]);
    const [asNull] = await model.predict([{ ...row, income: null }]);
    const [asText] = await model.predict([{ ...row, income: 'n/a' }]);
    const [present] = await model.predict([row]);
    expect(asNull).toEqual(missing);
    expect(asText).toEqual(missing);
    expect(present).not.toEqual(missing);
    const inherited = Object.create({ income: row.income }) as FeatureRow;
    Object.assign(inherited, { debt_ratio: row.debt_ratio, age: row.age });
    expect(await model.predict([inherited])).toEqual([missing]);
  });

  it('rejects artifacts that cannot work, before any row is scored', async () => {
    const m = byName('xgboost-classifier');
    expect(() => parseModelArtifact({ kind: 'onnx', task: 'binary', model: m.onnx })).toThrow(/classes/);
    expect(() =>
      parseModelArtifact({ kind: 'onnx', task: 'regression', model: m.onnx, classes: ['0', '1'] }),
    ).toThrow(/classes/);
    expect(() =>
      parseModelArtifact({ kind: 'onnx', task: 'binary', model: 'not base64!', classes: ['0', '1'] }),
    ).toThrow(/base64/);
    const cases: [ModelArtifact, RegExp][] = [
      [artifactOf(m, { model: Buffer.from('not an onnx file').toString('base64') }), /does not load/],
      [artifactOf(m, { features: undefined }), /give "features"/],
      [artifactOf(m, { features: ['income', 'age'] }), /3 columns, "features" names 2/],
      [artifactOf(m, { classes: ['a', 'b', 'c'] }), /2 probabilities a row; the artifact names 3 classes/],
      [
        artifactOf(byName('sklearn-linear-regressor'), { task: 'binary', classes: ['0', '1'] }),
        /probability output/,
      ],
    ];
    for (const [artifact, message] of cases) {
      const failure = await loadModel(artifact)
        .predict(m.rows.slice(1, 3))
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ArtifactError);
      expect((failure as Error).message).toMatch(message);
    }
  });

  it('has no built-in trainer: a retrain needs the pipeline that made it', async () => {
    expect(builtInTrainerOf(artifactOf(byName('xgboost-classifier')))).toBeNull();
    const m = byName('sklearn-linear-regressor');
    const schema = m.schema.map((f) => ({ name: f.name, type: 'numeric' as const, nullable: true }));
    const linear = await trainModel('linear-regression', 'regression', schema, {
      rows: m.rows.slice(1),
      labels: m.values!.slice(1),
    });
    expect(builtInTrainerOf(linear)).toEqual({ kind: 'linear-regression', options: {} });
  });
});
