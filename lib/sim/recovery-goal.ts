// What the recovery benchmark (bench/recovery.ts) and the scenario tests count as "recovered", and the
// production model they put in front of each scenario. Both live here, beside the scenarios, because a
// scenario's expected response is only honest if that model can actually be recovered in its world —
// test/unit/sim-recoverability.test.ts checks exactly that with the same definitions.
import type { VerificationBaseline } from '../brain/types.ts';
import type { DemoModel } from './demo-models.ts';

/**
 * "Recovered to within 2 % of the baseline": 0.02 absolute for accuracy and for failure and quality
 * rates. A window's RMSE moves by more than 2 % between healthy windows (heavy-tailed errors), so RMSE
 * counts within 10 % relative. p95 latency counts within 10 % relative or within two of the healthy
 * windows' own standard deviations, whichever is wider: a p95 over a few dozen requests moves by 10–20 %
 * between healthy windows of the same server.
 */
export const RECOVERY_TOLERANCE = { absolute: 0.02, relative: 0.1, latencySpreads: 2 };

export function withinRecoveryTolerance(baseline: VerificationBaseline, value: number): boolean {
  switch (baseline.metric) {
    case 'accuracy':
      return value >= baseline.value - RECOVERY_TOLERANCE.absolute;
    case 'failureRate':
    case 'qualityRate':
      return value <= baseline.value + RECOVERY_TOLERANCE.absolute;
    case 'rmse':
      return value <= baseline.value * (1 + RECOVERY_TOLERANCE.relative);
    case 'latencyP95Ms': {
      const spread = RECOVERY_TOLERANCE.latencySpreads * (baseline.sd ?? 0);
      return value <= baseline.value + Math.max(baseline.value * RECOVERY_TOLERANCE.relative, spread);
    }
  }
}

/**
 * The production model of the scenario runs: one the agent can retrain (a built-in trainer) and simple
 * enough to train in a test — a logistic regression for the classifier, a linear regression for the
 * regressor.
 */
export function scenarioTrainer(model: DemoModel): 'logistic-regression' | 'linear-regression' {
  return model.task === 'regression' ? 'linear-regression' : 'logistic-regression';
}
