// The two demo models the simulator, the benchmarks and the dashboard demo run on. Each one is a small,
// self-contained world: a feature schema, a reference population to draw rows from, the ground truth
// that links features to labels, and the serving profile (latency, failures, label feedback) of a healthy
// deployment. Scenarios (scenarios.ts) perturb these worlds; nothing here knows about scenarios.
import type { FeatureRow, FeatureSchema, Task } from '../domain.ts';
import type { Random } from './random.ts';

/** Latency of a healthy deployment, lognormal: heavy right tail, as real serving latency has. */
export interface LatencyModel {
  medianMs: number;
  /** Standard deviation of log latency. */
  sigma: number;
}

/**
 * When ground truth comes back. Real delays are days (demand) to months (credit default); they are
 * compressed to minutes so that a simulated run of a few thousand events exercises the label join.
 */
export interface LabelDelayModel {
  medianSeconds: number;
  sigma: number;
  /** Share of predictions whose label never arrives. */
  missingRate: number;
}

export const DEMO_MODEL_NAMES = ['credit-default', 'demand'] as const;
export type DemoModelName = (typeof DEMO_MODEL_NAMES)[number];

export interface DemoModel {
  name: DemoModelName;
  task: Task;
  description: string;
  schema: FeatureSchema;
  /** One row from the reference (training-time) population. */
  sampleRow(rng: Random): FeatureRow;
  /** What a perfect model predicts: P(label = 1 | row) for a classifier, E[label | row] for a regressor. */
  expectedLabel(row: FeatureRow): number;
  /** The observed label: expectedLabel plus the world's irreducible noise. */
  label(row: FeatureRow, rng: Random): number;
  latency: LatencyModel;
  /** Probability that one inference call fails. */
  failureRate: number;
  labelDelay: LabelDelayModel;
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function clamp(x: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, x));
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

// Label functions read the true rows the samplers produced, so a value of the wrong type is a bug here.
function numberOf(row: FeatureRow, name: string): number {
  const v = row[name];
  if (typeof v !== 'number')
    throw new TypeError(`feature ${name} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function nullableNumberOf(row: FeatureRow, name: string): number | null {
  return row[name] === null ? null : numberOf(row, name);
}

// ---------------------------------------------------------------------------------------------------
// credit-default: will a consumer-loan applicant default within 12 months? (binary, positive = default)

export const CHANNELS = ['branch', 'web', 'mobile', 'broker'] as const;
const TERMS = ['36m', '60m'] as const;
const CREDIT_REGIONS = ['northeast', 'midwest', 'south', 'west'] as const;
const HOME_OWNERSHIP = ['rent', 'own', 'with_family'] as const;

const CREDIT_SCHEMA: FeatureSchema = [
  { name: 'age', type: 'numeric', min: 18, max: 90, nullable: false },
  /** Annual income in thousands of USD, as the application form asks for it. */
  { name: 'income', type: 'numeric', min: 5, max: 1000, nullable: false },
  /** Null when the applicant did not state it (self-employed, between jobs). */
  { name: 'employment_years', type: 'numeric', min: 0, max: 60, nullable: true },
  { name: 'debt_to_income', type: 'numeric', min: 0, max: 1.5, nullable: false },
  /** Null for thin-file applicants with no revolving credit to measure. */
  { name: 'credit_utilization', type: 'numeric', min: 0, max: 1, nullable: true },
  { name: 'num_open_accounts', type: 'numeric', min: 0, max: 40, nullable: false },
  { name: 'late_payments_12m', type: 'numeric', min: 0, max: 12, nullable: false },
  /** Requested amount in USD. */
  { name: 'loan_amount', type: 'numeric', min: 500, max: 100_000, nullable: false },
  { name: 'term', type: 'categorical', categories: [...TERMS], nullable: false },
  { name: 'region', type: 'categorical', categories: [...CREDIT_REGIONS], nullable: false },
  { name: 'home_ownership', type: 'categorical', categories: [...HOME_OWNERSHIP], nullable: false },
  { name: 'has_mortgage', type: 'boolean', nullable: false },
  { name: 'channel', type: 'categorical', categories: [...CHANNELS], nullable: false },
];

/** The knobs of the applicant population that covariate-shift scenarios turn. */
export interface CreditPopulation {
  ageMean: number;
  /** Median income of a 42-year-old, thousands of USD. */
  incomeMedian: number;
  /** Added to the logit of credit utilisation: positive means fuller credit lines. */
  utilizationShift: number;
  /** Weights of CHANNELS, in order. */
  channelWeights: readonly number[];
}

export const CREDIT_REFERENCE_POPULATION: CreditPopulation = {
  ageMean: 42,
  incomeMedian: 55,
  utilizationShift: 0,
  channelWeights: [0.25, 0.35, 0.3, 0.1],
};

export function sampleApplicant(rng: Random, population: CreditPopulation): FeatureRow {
  const age = clamp(Math.round(rng.normal(population.ageMean, 12)), 18, 90);
  const homeOwnership = rng.weighted(HOME_OWNERSHIP, [0.42, 0.48, 0.1]);
  return {
    age,
    // Income rises with age into the fifties; the slope keeps age and income correlated as in real books.
    income: round(
      clamp(rng.lognormal(Math.log(population.incomeMedian) + 0.01 * (age - 42), 0.5), 5, 1000),
      1,
    ),
    employment_years: rng.bernoulli(0.04) ? null : round(clamp(rng.exponential(1 / 7), 0, age - 18), 1),
    debt_to_income: round(clamp(rng.lognormal(Math.log(0.28), 0.5), 0, 1.5), 3),
    credit_utilization: rng.bernoulli(0.05)
      ? null
      : round(sigmoid(rng.normal(-0.5 + population.utilizationShift, 1.2)), 3),
    num_open_accounts: clamp(Math.round(rng.lognormal(Math.log(5), 0.55)), 0, 40),
    late_payments_12m: rng.bernoulli(0.78) ? 0 : Math.min(12, 1 + Math.floor(rng.exponential(0.8))),
    loan_amount: clamp(Math.round(rng.lognormal(Math.log(12_000), 0.7) / 100) * 100, 500, 100_000),
    term: rng.weighted(TERMS, [0.7, 0.3]),
    region: rng.weighted(CREDIT_REGIONS, [0.18, 0.21, 0.38, 0.23]),
    home_ownership: homeOwnership,
    has_mortgage: rng.bernoulli(homeOwnership === 'own' ? 0.7 : 0.02),
    channel: rng.weighted(CHANNELS, population.channelWeights),
  };
}

const REGION_RISK: Record<string, number> = { northeast: -0.1, midwest: 0, south: 0.15, west: -0.05 };
const HOME_RISK: Record<string, number> = { rent: 0.25, own: 0, with_family: 0.15 };
const CHANNEL_RISK: Record<string, number> = { branch: 0, web: 0.15, mobile: 0.2, broker: 0.5 };

/**
 * Log-odds of default. Shaped like a scorecard (utilisation, delinquencies and debt load dominate; income,
 * tenure and age protect), with one non-linearity a linear model cannot see: maxed-out credit lines.
 * The final scale sets how much the features explain: about 27 % of applicants default and a perfect
 * model is right about 88 % of the time, as good real scorecards are.
 */
export function creditDefaultLogit(row: FeatureRow): number {
  const utilization = nullableNumberOf(row, 'credit_utilization');
  const employment = nullableNumberOf(row, 'employment_years');
  const z =
    -1.6 +
    3.2 * (numberOf(row, 'debt_to_income') - 0.3) +
    (utilization === null ? 0.4 : 3.6 * (utilization - 0.4) + (utilization > 0.9 ? 1.2 : 0)) +
    1.1 * Math.min(numberOf(row, 'late_payments_12m'), 5) -
    1.3 * Math.log(numberOf(row, 'income') / 55) -
    0.035 * (numberOf(row, 'age') - 42) +
    (employment === null ? 0.5 : -0.08 * Math.min(employment, 15)) +
    0.4 * Math.log(numberOf(row, 'loan_amount') / 12_000) +
    (row.term === '60m' ? 0.45 : 0) +
    (REGION_RISK[String(row.region)] ?? 0) +
    (HOME_RISK[String(row.home_ownership)] ?? 0) +
    (row.has_mortgage === true ? -0.2 : 0) +
    (CHANNEL_RISK[String(row.channel)] ?? 0);
  return 1.9 * z;
}

export const creditDefault: DemoModel = {
  name: 'credit-default',
  task: 'binary',
  description: 'Consumer-loan scorecard: probability that an applicant defaults within 12 months.',
  schema: CREDIT_SCHEMA,
  sampleRow: (rng) => sampleApplicant(rng, CREDIT_REFERENCE_POPULATION),
  expectedLabel: (row) => sigmoid(creditDefaultLogit(row)),
  label: (row, rng) => (rng.bernoulli(sigmoid(creditDefaultLogit(row))) ? 1 : 0),
  latency: { medianMs: 35, sigma: 0.35 },
  failureRate: 0.002,
  labelDelay: { medianSeconds: 60, sigma: 0.6, missingRate: 0.03 },
};

// ---------------------------------------------------------------------------------------------------
// demand: units of one product sold in one store on one day (regression)

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const DEMAND_REGIONS = ['north', 'south', 'east', 'west'] as const;
const PRODUCT_CATEGORIES = ['grocery', 'beverages', 'household', 'personal_care', 'snacks'] as const;

const DEMAND_SCHEMA: FeatureSchema = [
  /** Shelf price in USD. */
  { name: 'price', type: 'numeric', min: 0.5, max: 50, nullable: false },
  /** Null when the competitor scrape missed the product. */
  { name: 'competitor_price', type: 'numeric', min: 0.5, max: 60, nullable: true },
  { name: 'promo', type: 'boolean', nullable: false },
  /** Fraction off the shelf price; 0 outside promotions. */
  { name: 'discount', type: 'numeric', min: 0, max: 0.5, nullable: false },
  { name: 'day_of_week', type: 'categorical', categories: [...DAYS], nullable: false },
  { name: 'holiday', type: 'boolean', nullable: false },
  /** Daily mean, °C. */
  { name: 'temperature', type: 'numeric', min: -25, max: 45, nullable: false },
  /** Null when the weather feed has no station near the store. */
  { name: 'precipitation_mm', type: 'numeric', min: 0, max: 150, nullable: true },
  /** Sales floor, square metres. */
  { name: 'store_size', type: 'numeric', min: 150, max: 10_000, nullable: false },
  { name: 'region', type: 'categorical', categories: [...DEMAND_REGIONS], nullable: false },
  { name: 'product_category', type: 'categorical', categories: [...PRODUCT_CATEGORIES], nullable: false },
  { name: 'days_since_launch', type: 'numeric', min: 0, max: 3650, nullable: false },
];

function sampleStoreDay(rng: Random): FeatureRow {
  const price = round(clamp(rng.lognormal(Math.log(8), 0.4), 0.5, 50), 2);
  const promo = rng.bernoulli(0.2);
  return {
    price,
    competitor_price: rng.bernoulli(0.06) ? null : round(clamp(price * rng.lognormal(0, 0.1), 0.5, 60), 2),
    promo,
    discount: promo ? round(rng.uniform(0.1, 0.4), 2) : 0,
    day_of_week: rng.pick(DAYS),
    holiday: rng.bernoulli(0.03),
    temperature: round(clamp(rng.normal(14, 9), -25, 45), 1),
    precipitation_mm: rng.bernoulli(0.02)
      ? null
      : rng.bernoulli(0.65)
        ? 0
        : round(clamp(rng.exponential(1 / 5), 0, 150), 1),
    store_size: Math.round(clamp(rng.lognormal(Math.log(1200), 0.5), 150, 10_000)),
    region: rng.weighted(DEMAND_REGIONS, [0.3, 0.25, 0.25, 0.2]),
    product_category: rng.weighted(PRODUCT_CATEGORIES, [0.35, 0.2, 0.15, 0.1, 0.2]),
    days_since_launch: Math.round(clamp(rng.exponential(1 / 700), 0, 3650)),
  };
}

/** Own-price elasticity of the reference world: a 1 % price rise loses 1.3 % of units. */
const PRICE_ELASTICITY = -1.3;
/** Price at which the price terms of demandLogMean are zero. */
const REFERENCE_PRICE = 8;

const DAY_EFFECT: Record<string, number> = {
  mon: -0.1,
  tue: -0.1,
  wed: -0.05,
  thu: 0,
  fri: 0.12,
  sat: 0.3,
  sun: 0.2,
};
const DEMAND_REGION_EFFECT: Record<string, number> = { north: 0, south: 0.1, east: 0.05, west: -0.05 };
const CATEGORY_EFFECT: Record<string, number> = {
  grocery: 0.4,
  beverages: 0.2,
  household: -0.4,
  personal_care: -0.5,
  snacks: 0.1,
};

/** Log of expected units: a log-linear demand curve with promotions, calendar, weather and store effects. */
export function demandLogMean(row: FeatureRow): number {
  const price = numberOf(row, 'price');
  const competitor = nullableNumberOf(row, 'competitor_price');
  const temperatureSlope = row.product_category === 'beverages' ? 0.035 : 0.006;
  return (
    2.2 +
    PRICE_ELASTICITY * Math.log(price / REFERENCE_PRICE) +
    (competitor === null ? 0 : 0.8 * Math.log(competitor / price)) +
    (row.promo === true ? 0.25 + 1.8 * numberOf(row, 'discount') : 0) +
    (DAY_EFFECT[String(row.day_of_week)] ?? 0) +
    (row.holiday === true ? 0.35 : 0) +
    temperatureSlope * (numberOf(row, 'temperature') - 15) -
    0.015 * (nullableNumberOf(row, 'precipitation_mm') ?? 0) +
    0.55 * Math.log(numberOf(row, 'store_size') / 1200) +
    (DEMAND_REGION_EFFECT[String(row.region)] ?? 0) +
    (CATEGORY_EFFECT[String(row.product_category)] ?? 0) +
    0.4 * Math.exp(-numberOf(row, 'days_since_launch') / 60)
  );
}

const DAY_NOISE_SIGMA = 0.2;

/**
 * Units sold given the expected units: Poisson counts around a mean that itself varies from day to day
 * (unobserved local events), i.e. over-dispersed counts as real store sales are. The day factor has mean 1,
 * so `mean` stays the expected label.
 */
export function drawUnits(mean: number, rng: Random): number {
  const dayMean = mean * rng.lognormal(-(DAY_NOISE_SIGMA ** 2) / 2, DAY_NOISE_SIGMA);
  if (dayMean > 30) return Math.max(0, Math.round(rng.normal(dayMean, Math.sqrt(dayMean))));
  // Knuth's multiplication method; exact and fast for small means.
  const limit = Math.exp(-dayMean);
  let units = 0;
  for (let p = rng.next(); p > limit; p *= rng.next()) units++;
  return units;
}

export const demand: DemoModel = {
  name: 'demand',
  task: 'regression',
  description: 'Daily unit sales of one product in one store, from price, promotion, calendar and weather.',
  schema: DEMAND_SCHEMA,
  sampleRow: sampleStoreDay,
  expectedLabel: (row) => Math.exp(demandLogMean(row)),
  label: (row, rng) => drawUnits(Math.exp(demandLogMean(row)), rng),
  latency: { medianMs: 60, sigma: 0.4 },
  failureRate: 0.002,
  labelDelay: { medianSeconds: 120, sigma: 0.5, missingRate: 0.01 },
};

export const DEMO_MODELS: readonly DemoModel[] = [creditDefault, demand];

export function findDemoModel(name: string): DemoModel | undefined {
  return DEMO_MODELS.find((m) => m.name === name);
}
