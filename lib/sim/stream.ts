// Turns a demo model and a scenario into a stream of prediction events, as a deployment would log them:
// what the model received, when, how long it took, whether it failed, and when (if ever) the label came
// back. The stream is a plain iterable, so the file writers, a backtest and a live driver of the HTTP API
// all consume the same events.
import type { FeatureRow } from '../domain.ts';
import type { DemoModel } from './demo-models.ts';
import { Random } from './random.ts';
import type { Scenario, ScenarioTransform } from './scenarios.ts';
import { checkInteger, childSeeds } from './synthetic/stream.ts';

export interface SimEvent {
  /** Position in the stream, from 0; scenario onsets count in it. */
  seq: number;
  /** When the prediction was made, ISO 8601. */
  ts: string;
  predictionId: string;
  /** What the model received, after any pipeline corruption. */
  features: FeatureRow;
  /** Ground truth for the true row (0/1 for the classifier, units for the regressor); null if it never arrives. */
  label: number | null;
  /** When the label arrives, ISO 8601; null if it never does. */
  labelTs: string | null;
  latencyMs: number;
  failed: boolean;
}

export const DEFAULT_START_TIME = '2025-01-01T00:00:00.000Z';
export const DEFAULT_RATE_PER_SECOND = 5;

export interface StreamOptions {
  model: DemoModel;
  scenario: Scenario;
  /** Integer in [0, 2^32); the same seed always gives the same stream. */
  seed: number;
  count: number;
  /** ISO 8601; the first event arrives shortly after. */
  startTime?: string;
  /** Mean arrival rate of healthy traffic; arrivals are Poisson. */
  ratePerSecond?: number;
}

// Each concern draws from its own generator, so a scenario that changes one concern leaves the draws of
// the others alone: a pipeline break delivers exactly the steady stream's rows, corrupted, and a
// latency regression changes nothing but latency. Append new concerns at the end to keep old streams.
const CONCERNS = ['rows', 'scenario', 'labels', 'serving', 'arrivals', 'feedback'] as const;
type Generators = Record<(typeof CONCERNS)[number], Random>;

const INACTIVE: ScenarioTransform = {};

/**
 * A reusable stream: every iteration replays the same events from the start. Throws at once, not on
 * first iteration, when the options are invalid.
 */
export function generateStream(options: StreamOptions): Iterable<SimEvent> {
  const { model, scenario, seed, count, startTime = DEFAULT_START_TIME } = options;
  const ratePerSecond = options.ratePerSecond ?? DEFAULT_RATE_PER_SECOND;
  if (!scenario.models.includes(model.name)) {
    throw new RangeError(
      `scenario "${scenario.id}" does not apply to model "${model.name}" (it applies to ${scenario.models.join(', ')})`,
    );
  }
  checkInteger('seed', seed, 0, 0xffffffff);
  checkInteger('count', count, 0);
  if (!(ratePerSecond > 0 && Number.isFinite(ratePerSecond))) {
    throw new RangeError(`ratePerSecond must be a positive number, got ${ratePerSecond}`);
  }
  const startMs = Date.parse(startTime);
  if (Number.isNaN(startMs)) throw new RangeError(`startTime must be an ISO 8601 time, got "${startTime}"`);
  return { [Symbol.iterator]: () => events(model, scenario, seed, count, startMs, ratePerSecond) };
}

function* events(
  model: DemoModel,
  scenario: Scenario,
  seed: number,
  count: number,
  startMs: number,
  ratePerSecond: number,
): Generator<SimEvent> {
  const seeds = childSeeds(seed, CONCERNS.length);
  const rng = Object.fromEntries(CONCERNS.map((name, i) => [name, new Random(seeds[i]!)])) as Generators;
  const { onset, duration } = scenario;
  const logLatency = Math.log(model.latency.medianMs);
  const logLabelDelay = Math.log(model.labelDelay.medianSeconds);
  let clockMs = startMs;

  for (let seq = 0; seq < count; seq++) {
    const sinceOnset = seq - onset;
    const active = sinceOnset >= 0 && (duration === undefined || sinceOnset < duration);
    const t = active ? scenario.transform : INACTIVE;
    const ctx = { model, sinceOnset, rng: rng.scenario };

    if (sinceOnset === 0) clockMs += 1000 * (t.pauseSeconds ?? 0);
    clockMs += 1000 * rng.arrivals.exponential(ratePerSecond * (t.rateFactor ?? 1));

    const features = model.sampleRow(rng.rows);
    t.population?.(features, ctx);
    const truth = (t.label ?? model.label)(features, rng.labels);
    t.pipeline?.(features, ctx);

    const latencyMs = rng.serving.lognormal(logLatency, model.latency.sigma) * (t.latencyFactor ?? 1);
    const failed = rng.serving.bernoulli(t.failureRate ?? model.failureRate);

    // Both feedback draws happen for every event to keep the feedback generator aligned across scenarios.
    const labelled = !rng.feedback.bernoulli(t.labelMissingRate ?? model.labelDelay.missingRate);
    const labelDelaySeconds =
      rng.feedback.lognormal(logLabelDelay, model.labelDelay.sigma) * (t.labelDelayFactor ?? 1);

    yield {
      seq,
      ts: new Date(Math.round(clockMs)).toISOString(),
      predictionId: `${model.name}-${scenario.id}-${seed}-${seq}`,
      features,
      label: labelled ? truth : null,
      labelTs: labelled ? new Date(Math.round(clockMs + 1000 * labelDelaySeconds)).toISOString() : null,
      latencyMs: Math.round(latencyMs * 100) / 100,
      failed,
    };
  }
}
