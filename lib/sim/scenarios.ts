// The failure scenarios Homeostat is tested and benchmarked against. Each scenario perturbs a demo
// model's world from an onset event on, and states what the agent should make of it: the finding it
// should raise and the response it should choose. The benchmarks score the agent against `expected`,
// so a scenario's transform and its expectation must describe the same failure.
import type { ActionType, FeatureRow, FindingKind } from '../domain.ts';
import type { SegmentDefinition } from '../segments/definition.ts';
import {
  CREDIT_REFERENCE_POPULATION,
  creditDefaultLogit,
  DEMO_MODEL_NAMES,
  type DemoModel,
  type DemoModelName,
  demandLogMean,
  drawUnits,
  sampleApplicant,
  sigmoid,
} from './demo-models.ts';
import { Random } from './random.ts';

export type ExpectedFinding = FindingKind | 'none';
/** An action the agent takes on its own, or 'escalate': hand the incident to a human. */
export type ExpectedResponse = ActionType | 'escalate';

export interface TransformContext {
  model: DemoModel;
  /** Events since the onset: 0 for the first affected event. */
  sinceOnset: number;
  /** The scenario's own random stream, so that a scenario never shifts the draws of the base stream. */
  rng: Random;
}

/**
 * What a scenario changes while it is active. The stages follow the path of a real event, and the
 * stage a failure belongs to decides what the label sees:
 * - `population`: the world changes (who applies, what they look like). Runs before labelling, so the
 *   label follows the changed row and P(label | features) is unchanged — covariate shift.
 * - `label`: the rule from features to label changes — concept drift.
 * - `pipeline`: the data pipeline corrupts the row on its way to the model. Runs after labelling, so
 *   the label still reflects the true row, which the model no longer sees.
 * - the numbers: serving and feedback change; factors multiply the model's healthy profile, rates replace it.
 */
export interface ScenarioTransform {
  population?(row: FeatureRow, ctx: TransformContext): void;
  label?(row: FeatureRow, rng: Random): number;
  pipeline?(row: FeatureRow, ctx: TransformContext): void;
  latencyFactor?: number;
  /** Replaces the model's failure rate. */
  failureRate?: number;
  /** Multiplies the arrival rate. */
  rateFactor?: number;
  /** Seconds without any traffic before the first affected event. */
  pauseSeconds?: number;
  labelDelayFactor?: number;
  /** Replaces the model's share of labels that never arrive. */
  labelMissingRate?: number;
}

export interface Scenario {
  id: string;
  title: string;
  description: string;
  models: readonly DemoModelName[];
  /** Index of the first affected event. */
  onset: number;
  /** Number of affected events; the scenario lasts to the end of the stream when absent. */
  duration?: number;
  transform: ScenarioTransform;
  /** The model's segments (PUT /v1/models/{model}/segments), where the scenario needs them; absent: none. */
  segments?: readonly SegmentDefinition[];
  expected: { finding: ExpectedFinding; response: ExpectedResponse; rationale: string };
}

/** Onset of the scenarios that need no other: a run of 5000 events, the CLI's default, splits in half. */
const ONSET = 2500;

const GRADUAL_ONSET = 1500;
/** Events from the onset of the gradual shift to its full extent. */
export const GRADUAL_RAMP = 3000;
/** Log-odds of default added per unit of debt-to-income above 0.3 once rates rise. */
const RATE_SHOCK = 20;
/**
 * What the re-ranging does to expected sales: the shrinking grocery aisle sells this share of what it
 * did, the growing household and personal-care aisles this many times as much. It moves sales between
 * rows more than it scales them, so the noise of the counts — and with it the RMSE a perfect model
 * reaches — stays about where it was (test/unit/sim-recoverability.test.ts checks that a refit gets back
 * to the baseline).
 */
const RERANGE = { shrink: 0.2, grow: 2.2 };

function rerangeFactor(row: FeatureRow): number {
  if (row.product_category === 'grocery') return RERANGE.shrink;
  if (row.product_category === 'household' || row.product_category === 'personal_care') return RERANGE.grow;
  return 1;
}
/**
 * Log-odds of default added to web applicants once their stated incomes go unverified: the web segment's
 * default rate rises from about 27 % to 68 %, and an oracle of the old world falls from 0.88 to about
 * 0.55 of accuracy there — a fall the 60-odd labelled web rows of a scenario window show at once, among
 * the three channels large enough to judge (Benjamini–Hochberg).
 */
const UNVERIFIED_WEB_SHOCK = 4;
/** Relative standard deviation of the noise blip's jitter. */
const BLIP_JITTER = 0.05;
/** Seed of the one request a misbehaving client replays; any fixed value gives a plausible row. */
const REPLAYED_REQUEST_SEED = 20_240_611;

/** The upstream switched units, so every value arrives multiplied by `factor`. */
function unitChange(feature: string, factor: number): ScenarioTransform['pipeline'] {
  return (row) => {
    const v = row[feature];
    // toPrecision drops the binary-float residue (63.4 * 1000 = 63400.00000000001) a real upstream would not send.
    if (typeof v === 'number') row[feature] = Number((v * factor).toPrecision(12));
  };
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'steady',
    title: 'Steady state',
    description: 'The reference world throughout: no failure, only the noise a healthy model lives with.',
    models: DEMO_MODEL_NAMES,
    onset: 0,
    transform: {},
    expected: {
      finding: 'none',
      response: 'none',
      rationale: 'Nothing is wrong; any finding here is a false alarm.',
    },
  },
  {
    id: 'gradual-covariate-shift',
    title: 'Gradual covariate shift: an economic slowdown',
    description: `From event ${GRADUAL_ONSET}, over ${GRADUAL_RAMP} events, applicant incomes fall by a quarter and credit lines fill up; the rule from features to default is unchanged.`,
    models: ['credit-default'],
    onset: GRADUAL_ONSET,
    transform: {
      population(row, { sinceOnset, rng }) {
        const k = Math.min(1, sinceOnset / GRADUAL_RAMP);
        const incomeMedian = CREDIT_REFERENCE_POPULATION.incomeMedian * (1 - 0.25 * k);
        Object.assign(
          row,
          sampleApplicant(rng, { ...CREDIT_REFERENCE_POPULATION, incomeMedian, utilizationShift: 0.6 * k }),
        );
      },
    },
    expected: {
      finding: 'data_drift',
      response: 'alert',
      rationale:
        'The population moves while the rule from features to default holds, so the model is still right where applicants now are: accuracy slips only because more of them are borderline, and a refit on recent rows does no better (test/unit/sim-recoverability.test.ts). Tell the operator; there is nothing to repair.',
    },
  },
  {
    id: 'abrupt-covariate-shift',
    title: 'Abrupt covariate shift: a new broker partnership',
    description:
      'At the onset a broker starts sending half of all applications: younger applicants with lower incomes and shorter employment; debt, credit and loan features are unchanged.',
    models: ['credit-default'],
    onset: ONSET,
    transform: {
      population(row, { rng }) {
        Object.assign(
          row,
          sampleApplicant(rng, {
            ...CREDIT_REFERENCE_POPULATION,
            ageMean: 31,
            incomeMedian: 44,
            channelWeights: [0.1, 0.2, 0.2, 0.5],
          }),
        );
      },
    },
    expected: {
      finding: 'data_drift',
      response: 'alert',
      rationale:
        'A riskier segment arrives in a step and accuracy falls by several points, but the model is still right about it: a refit on its labelled rows does no better (test/unit/sim-recoverability.test.ts). The agent may try a retrain; once a refit is shown unable to do materially better, the lower level is the new baseline. Tell the operator; there is nothing to repair and nothing to page a person for.',
    },
  },
  {
    id: 'concept-drift',
    title: 'Concept drift: a rate rise hits indebted borrowers',
    description:
      'Inputs keep their distribution, but after the onset applicants with a debt-to-income ratio above 0.3 default much more often than before.',
    models: ['credit-default'],
    onset: ONSET,
    transform: {
      label(row, rng) {
        const debtToIncome = row.debt_to_income as number;
        const z = creditDefaultLogit(row) + RATE_SHOCK * Math.max(0, debtToIncome - 0.3);
        return rng.bernoulli(sigmoid(z)) ? 1 : 0;
      },
    },
    expected: {
      finding: 'concept_drift',
      response: 'retrain',
      rationale:
        'The same applicant is now riskier; only fresh labels show it, and only a model retrained on them follows it.',
    },
  },
  {
    id: 'segment-failure',
    title: 'Concept change in one segment: web incomes go unverified',
    description:
      'The income check of the web form fails open at the onset: web applicants state incomes nobody verifies, and at the same stated features they default far more often; branch, mobile and broker applicants are unchanged. The model has one segment per channel.',
    models: ['credit-default'],
    onset: ONSET,
    segments: [{ by: 'channel' }],
    transform: {
      label(row, rng) {
        const shock = row.channel === 'web' ? UNVERIFIED_WEB_SHOCK : 0;
        return rng.bernoulli(sigmoid(creditDefaultLogit(row) + shock)) ? 1 : 0;
      },
    },
    expected: {
      finding: 'segment',
      response: 'fallback',
      rationale:
        "Only the web segment is wrong, and the other channels must not pay for it: route the web rows to the fallback first, while production serves the rest. The fallback learnt the same world before the change, so verification on the web rows finds it short of their old level; the next rung retrains on the recent rows (with the other channels' earlier rows, whose world held) and, when the refit beats the route on the web rows and production on the others, promotes it and lifts the route in the same revision, verified on the web rows against their own old level.",
    },
  },
  {
    id: 'upstream-nulls',
    title: 'Upstream break: nulls in a feature',
    description:
      'The credit bureau feed starts timing out, so credit_utilization arrives null for 60 % of applicants instead of the usual 5 %.',
    models: ['credit-default'],
    onset: ONSET,
    transform: {
      pipeline(row, { rng }) {
        if (rng.bernoulli(0.6)) row.credit_utilization = null;
      },
    },
    expected: {
      finding: 'data_quality',
      response: 'fallback',
      rationale:
        'A top predictor is imputed for most traffic; serve the fallback until the feed is fixed, and never retrain on the gap.',
    },
  },
  {
    id: 'unit-change',
    title: 'Upstream break: income arrives in dollars, not thousands',
    description:
      'A form change makes income arrive in USD instead of thousands of USD: every value is 1000 times larger.',
    models: ['credit-default'],
    onset: ONSET,
    transform: { pipeline: unitChange('income', 1000) },
    expected: {
      finding: 'data_quality',
      response: 'fallback',
      rationale:
        'Every prediction uses an impossible income; serve the fallback, alert the pipeline owner, never retrain on corrupted input.',
    },
  },
  {
    id: 'renamed-categories',
    title: 'Upstream break: renamed categories',
    description: 'A front-end release renames the channels "web" and "mobile" to "online" and "app".',
    models: ['credit-default'],
    onset: ONSET,
    transform: {
      pipeline(row) {
        if (row.channel === 'web') row.channel = 'online';
        else if (row.channel === 'mobile') row.channel = 'app';
      },
    },
    expected: {
      finding: 'data_quality',
      response: 'alert',
      rationale:
        'A weak feature falls back to "unknown" for two-thirds of traffic; predictions barely move, so the fix is an upstream mapping, not a model change.',
    },
  },
  {
    id: 'constant-column',
    title: 'Upstream break: a constant column',
    description:
      'The join to the delinquency table fails silently and fills its default: late_payments_12m is 0 for every applicant.',
    models: ['credit-default'],
    onset: ONSET,
    transform: {
      pipeline(row) {
        row.late_payments_12m = 0;
      },
    },
    expected: {
      finding: 'data_quality',
      response: 'fallback',
      rationale:
        'The strongest risk signal is gone and every applicant looks clean, so the model under-predicts default; serve the fallback until the join is fixed.',
    },
  },
  {
    id: 'latency-regression',
    title: 'Latency regression',
    description:
      'From the onset every inference takes three times as long; inputs and traffic are unchanged.',
    models: DEMO_MODEL_NAMES,
    onset: ONSET,
    transform: { latencyFactor: 3 },
    expected: {
      finding: 'latency',
      response: 'rollback',
      rationale:
        'Latency triples in a step with inputs and traffic unchanged, which points at the serving version; restore the last good revision.',
    },
  },
  {
    id: 'inference-failures',
    title: 'Inference failures',
    description: 'From the onset 15 % of inference calls fail instead of 0.2 %.',
    models: DEMO_MODEL_NAMES,
    onset: ONSET,
    transform: { failureRate: 0.15 },
    expected: {
      finding: 'failures',
      response: 'fallback',
      rationale:
        'Users are getting errors now; the fallback answers them while verification decides whether a human is needed.',
    },
  },
  {
    id: 'traffic-stop',
    title: 'Traffic stops',
    description: 'No prediction arrives for two hours from the onset, then traffic resumes as before.',
    models: DEMO_MODEL_NAMES,
    onset: ONSET,
    transform: { pauseSeconds: 7200 },
    expected: {
      finding: 'stale_data',
      response: 'escalate',
      rationale:
        'Silence is not health, and no model change can bring back a dead upstream; a human has to look.',
    },
  },
  {
    id: 'label-delay',
    title: 'Label delay',
    description:
      'From the onset labels take 30 times longer to come back and half of them never do; predictions are unaffected.',
    models: DEMO_MODEL_NAMES,
    onset: ONSET,
    transform: { labelDelayFactor: 30, labelMissingRate: 0.5 },
    expected: {
      finding: 'stale_data',
      response: 'alert',
      rationale:
        'Performance can no longer be measured; say so and keep serving, but do not retrain or roll back on missing evidence.',
    },
  },
  {
    id: 'traffic-spike',
    title: 'Traffic spike from a replaying client',
    description:
      'For 400 events a misbehaving client floods the endpoint: the request rate is eight times normal and 70 % of requests are the same application replayed.',
    models: DEMO_MODEL_NAMES,
    onset: ONSET,
    duration: 400,
    transform: {
      rateFactor: 8,
      population(row, { model, rng }) {
        if (rng.bernoulli(0.7)) Object.assign(row, model.sampleRow(new Random(REPLAYED_REQUEST_SEED)));
      },
    },
    expected: {
      finding: 'anomaly',
      response: 'alert',
      rationale:
        'A short burst that ends by itself and that the model handles correctly; tell the operator, leave the model alone.',
    },
  },
  {
    id: 'noise-blip',
    title: 'Noise blip',
    description: `For 40 events every numeric feature is jittered by about ${BLIP_JITTER * 100} %, then the stream is back to normal.`,
    models: DEMO_MODEL_NAMES,
    onset: ONSET,
    duration: 40,
    transform: {
      pipeline(row, { model, rng }) {
        for (const spec of model.schema) {
          const v = row[spec.name];
          if (spec.type !== 'numeric' || typeof v !== 'number') continue;
          const jittered = Math.round(v * (1 + rng.normal(0, BLIP_JITTER)) * 1000) / 1000;
          row[spec.name] = Math.min(spec.max ?? jittered, Math.max(spec.min ?? jittered, jittered));
        }
      },
    },
    expected: {
      finding: 'none',
      response: 'none',
      rationale: 'A few dozen slightly odd rows are noise; acting on them would be a false alarm.',
    },
  },
  {
    id: 'demand-concept-drift',
    title: 'Concept drift: the store is re-ranged',
    description: `Grocery shelf space shrinks and household and personal care take it: from the onset grocery items sell ${100 * RERANGE.shrink} % of what they did and household and personal-care items ${RERANGE.grow}× as much; inputs are unchanged.`,
    models: ['demand'],
    onset: ONSET,
    transform: {
      label(row, rng) {
        return drawUnits(Math.exp(demandLogMean(row)) * rerangeFactor(row), rng);
      },
    },
    expected: {
      finding: 'concept_drift',
      response: 'retrain',
      rationale:
        'The rule from inputs to sales moved while the inputs did not; a model refit on recent sales learns the new category effects, and the inputs give no warning.',
    },
  },
  {
    id: 'demand-price-in-cents',
    title: 'Upstream break: price arrives in cents',
    description:
      'The ERP export switches price to cents: every price is 100 times larger; competitor prices are unchanged.',
    models: ['demand'],
    onset: ONSET,
    transform: { pipeline: unitChange('price', 100) },
    expected: {
      finding: 'data_quality',
      response: 'fallback',
      rationale:
        'The model sees every product as a hundred times dearer and forecasts near-zero sales; serve the fallback until the export is fixed.',
    },
  },
];

export function findScenario(id: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.id === id);
}
