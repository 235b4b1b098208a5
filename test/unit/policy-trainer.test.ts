// retrain.trainer: a model's policy names who trains its candidates, and nothing else is accepted.
import { describe, expect, it } from 'vitest';
import { pythonPipelineOf } from '../../lib/models/trainers.ts';
import { parsePolicy } from '../../lib/policy/policy.ts';

const trainerOf = (trainer: unknown) => parsePolicy({ retrain: { trainer } });

describe('retrain.trainer', () => {
  it('is the built-in trainer unless the policy names another', () => {
    const parsed = parsePolicy({});
    expect(parsed.ok && parsed.policy.retrain.trainer).toBe('built-in');
    expect(pythonPipelineOf('built-in')).toBeNull();
    expect(pythonPipelineOf(undefined)).toBeNull(); // retrains started before the field existed
  });

  it('names a pipeline of the Python worker', () => {
    const parsed = trainerOf('python:xgboost');
    expect(parsed.ok && pythonPipelineOf(parsed.policy.retrain.trainer)).toBe('xgboost');
  });

  it.each([
    ['an unknown pipeline', 'python:pytorch'],
    ['a training command (it would run on the worker)', { type: 'command', command: '/bin/sh' }],
    [
      "a training webhook (not yet: setting where the worker connects must be an admin's decision)",
      { type: 'webhook', url: 'https://x.test' },
    ],
  ])('refuses %s', (_, trainer) => {
    const parsed = trainerOf(trainer);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.issues.every((i) => i.path.startsWith('retrain.trainer'))).toBe(true);
  });
});
