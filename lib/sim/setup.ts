// Puts a demo model into service through the API, as a user would: register it, train a production
// version and a simpler fallback version on reference data with the built-in trainers, and deploy both.
// The demo, the integration tests and the recovery benchmark all start from this state.
import type { JsonCall } from '../api-client.ts';
import type { FeatureRow } from '../domain.ts';
import { fitPythonPipeline } from '../models/python-fit.ts';
import { creditDefault, type DemoModel } from './demo-models.ts';
import { Random } from './random.ts';

export interface DemoModelSetup {
  /** Version numbers as registered; null when the model was already deployed (nothing was trained). */
  production: number | null;
  fallback: number | null;
  registered: boolean;
}

export interface SetupOptions {
  /** Name to register under (the demo model's own name by default). */
  name?: string;
  seed?: number;
  /** Reference rows for the production version; the fallback is trained on a tenth of them. */
  rows?: number;
  /** A policy document (lib/policy) for the model's agent, set through the agent once it runs. */
  policy?: Record<string, unknown>;
  /**
   * Versions fitted by this pipeline of the Python package (python/homeostat_trainer) and registered as
   * ONNX artifacts, instead of the built-in trainers' (needs the Python requirements installed).
   */
  pythonPipeline?: string;
}

/** Class labels as the registry stores them: the demo classifiers answer '0' or '1'. */
export function demoLabels(model: DemoModel): string[] | undefined {
  return model.task === 'regression' ? undefined : ['0', '1'];
}

function trainerFor(model: DemoModel, fallback: boolean): string {
  if (model.task === 'regression') return fallback ? 'linear-regression' : 'random-forest-regressor';
  return fallback ? 'random-forest-classifier' : 'logistic-regression';
}

/** Reference rows and their labels, drawn from the model's healthy world. */
export function referenceData(model: DemoModel, rows: number, seed: number) {
  const rng = new Random(seed);
  const data: FeatureRow[] = Array.from({ length: rows }, () => model.sampleRow(rng));
  const labels = data.map((row) => {
    const label = model.label(row, rng);
    return model.task === 'regression' ? label : String(label);
  });
  return { rows: data, labels };
}

/**
 * credit-default training data from a broken pipeline, the demo's bad release: reference rows whose four
 * strongest columns were misaligned (shuffled) before training. A model trained on it still answers
 * sensibly, just worse: accuracy falls by about a fifth, not to nothing.
 */
export function brokenPipelineData(rows = 2000, seed = 99) {
  const data = referenceData(creditDefault, rows, seed);
  const rng = new Random(seed);
  for (const column of ['income', 'debt_to_income', 'credit_utilization', 'late_payments_12m']) {
    const values = rng.shuffle(data.rows.map((row) => row[column]));
    data.rows.forEach((row, i) => {
      row[column] = values[i] ?? null;
    });
  }
  return data;
}

async function expectStatus(what: string, res: { status: number; body: unknown }, ok: number[]) {
  if (!ok.includes(res.status))
    throw new Error(`${what} failed (${res.status}): ${JSON.stringify(res.body)}`);
}

export async function setUpDemoModel(
  call: JsonCall,
  model: DemoModel,
  options: SetupOptions = {},
): Promise<DemoModelSetup> {
  const name = options.name ?? model.name;
  const registered = await call('POST', '/v1/models', {
    name,
    task: model.task,
    ...(demoLabels(model) ? { labels: demoLabels(model) } : {}),
    featureSchema: model.schema,
  });
  await expectStatus(`registering ${name}`, registered, [201, 409]);
  if (options.policy) await setPolicy(call, name, options.policy, 'initial policy');
  if ((await call('GET', `/v1/models/${name}/deployment`)).status !== 404) {
    return { production: null, fallback: null, registered: registered.status === 201 };
  }
  const rows = options.rows ?? 4000;
  const seed = options.seed ?? 7;
  const train = async (fallback: boolean) => {
    const data = referenceData(
      model,
      fallback ? Math.max(200, Math.floor(rows / 10)) : rows,
      seed + Number(fallback),
    );
    const res = await call(
      'POST',
      `/v1/models/${name}/versions`,
      options.pythonPipeline
        ? {
            artifact: await fitPythonPipeline(options.pythonPipeline, {
              task: model.task,
              schema: model.schema,
              data,
              classes: demoLabels(model),
            }),
            data,
          }
        : { train: { trainer: trainerFor(model, fallback) }, data },
    );
    await expectStatus(`training the ${fallback ? 'fallback' : 'production'} version`, res, [201]);
    return (res.body as { version: { version: number } }).version.version;
  };
  const production = await train(false);
  const fallback = await train(true);
  const deployed = await call('POST', `/v1/models/${name}/deployment`, {
    production,
    fallback,
    reason: 'first deployment: production and its fallback',
  });
  await expectStatus('deploying', deployed, [201]);
  return { production, fallback, registered: registered.status === 201 };
}

/** Sets a model's policy through its agent (a validated, audited workflow update); waits for a worker. */
export async function setPolicy(
  call: JsonCall,
  name: string,
  policy: Record<string, unknown>,
  reason: string,
) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await call('PUT', `/v1/models/${name}/agent/policy`, { policy, reason });
    if (res.status === 200) return;
    // 404/503: the agent is starting or no worker has picked it up yet.
    if (![404, 503].includes(res.status) || Date.now() > deadline) {
      await expectStatus(`setting the policy of ${name}`, res, [200]);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
