// Brings a scikit-learn model to Homeostat and lets the agent retrain it with the Python worker.
// See README.md beside this file. Needs a running stack (Temporal, `npm run worker`, `npm run api`,
// `npm run worker:python`) and an admin API key in HOMEOSTAT_API_KEY.
//
//   node --import tsx examples/sklearn-pipeline/run.ts [--api URL] [--pipeline NAME] [--name MODEL]
//                                                      [--rate N] [--no-drift]
import { parseArgs } from 'node:util';
import { jsonClient } from '../../lib/api-client.ts';
import { PYTHON_PIPELINES, PYTHON_TRAINER_PREFIX } from '../../lib/models/trainers.ts';
import { creditDefault } from '../../lib/sim/demo-models.ts';
import { drive } from '../../lib/sim/drive.ts';
import { findScenario } from '../../lib/sim/scenarios.ts';
import { setUpDemoModel } from '../../lib/sim/setup.ts';
import { generateStream } from '../../lib/sim/stream.ts';

const { values: args } = parseArgs({
  options: {
    api: { type: 'string', default: process.env.HOMEOSTAT_API_URL ?? 'http://127.0.0.1:3000' },
    pipeline: { type: 'string', default: 'sklearn-gradient-boosting' },
    name: { type: 'string', default: 'credit-sklearn' },
    rate: { type: 'string', default: '50' },
    'no-drift': { type: 'boolean', default: false },
  },
});
const pipeline = args.pipeline;
if (!(PYTHON_PIPELINES as readonly string[]).includes(pipeline)) {
  throw new Error(`--pipeline must be one of ${PYTHON_PIPELINES.join(', ')}`);
}
const key = process.env.HOMEOSTAT_API_KEY;
if (!key) throw new Error('set HOMEOSTAT_API_KEY to an admin key (npm run keys -- ensure-admin prints one)');
const call = jsonClient(args.api, { authorization: `Bearer ${key}` });
const say = (line: string) => console.log(`[sklearn-pipeline] ${line}`);

// 1. Register the model and two versions that the Python pipeline fitted and exported to ONNX (production
//    on 3,000 reference rows, the fallback on a tenth); deploy them; name the trainer in the policy.
say(`fitting ${pipeline} in Python and registering ${args.name} (ONNX)`);
const setup = await setUpDemoModel(call, creditDefault, {
  name: args.name,
  rows: 3000,
  pythonPipeline: pipeline,
  policy: {
    window: { minRows: 50 },
    retrain: {
      trainer: `${PYTHON_TRAINER_PREFIX}${pipeline}`,
      minRows: 1200,
      promotion: 'canary',
      canaryShare: 0.3,
      canaryMinRows: 400,
    },
  },
});
say(
  setup.production === null
    ? `${args.name} was already deployed: keeping it`
    : `serving v${setup.production} (fallback v${setup.fallback}); the agent retrains with ${PYTHON_TRAINER_PREFIX}${pipeline}`,
);
if (args['no-drift']) process.exit(0);

// 2. Live traffic through the gateway: healthy, then a concept drift (indebted borrowers default more).
//    Watch the agent on the dashboard or with GET /v1/models/<name>/incidents; Ctrl-C stops the traffic.
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
const scenario = { ...findScenario('concept-drift')!, onset: 1500 };
say(`sending traffic at ${args.rate}/s; the concept drift starts after ${scenario.onset} predictions`);
await drive({
  call,
  modelName: args.name,
  events: generateStream({ model: creditDefault, scenario, seed: 5, count: 1_000_000 })[Symbol.iterator](),
  serve: 'gateway',
  ratePerSecond: Number(args.rate),
  labelDelayMs: 500,
  idPrefix: args.name,
  signal: stop.signal,
  tickMs: 250,
});
