import { describe, expect, it } from 'vitest';
import { DEFAULT_LADDERS, DEFAULT_POLICY } from '../../lib/policy/defaults.ts';
import { parsePolicy, policySchema } from '../../lib/policy/policy.ts';

describe('policy', () => {
  it('fills every section from its defaults, so an empty policy is a sound one', () => {
    const parsed = parsePolicy({});
    expect(parsed).toEqual({ ok: true, policy: DEFAULT_POLICY });
    expect(DEFAULT_POLICY.detection.persistence).toEqual({ confirmM: 2, confirmN: 3, clearAfter: 2 });
    expect(DEFAULT_POLICY.ladders).toEqual(DEFAULT_LADDERS);
    // Safe by default: corrupted input is never answered with a retrain.
    expect(DEFAULT_POLICY.ladders.data_quality).not.toContain('retrain');
  });

  it('writes each default once: the schema fills `{}` with exactly the plain, zod-free defaults', () => {
    // The workflow bundle reads lib/policy/defaults.ts; the API and activities validate with the schema.
    expect(policySchema.parse({})).toStrictEqual(DEFAULT_POLICY);
    expect(policySchema.parse(DEFAULT_POLICY)).toStrictEqual(DEFAULT_POLICY);
  });

  it('keeps what was given and defaults the rest, field by field', () => {
    const parsed = parsePolicy({
      detection: { alpha: 0.05, minEffect: { psi: 0.1 } },
      ladders: { data_drift: ['alert', 'retrain'] },
      budgets: { retrain: { max: 1, per: '1 day' } },
      approvals: { retrain: { mode: 'approve' } },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    expect(parsed.policy.detection.alpha).toBe(0.05);
    expect(parsed.policy.detection.minEffect).toMatchObject({ psi: 0.1, ks: 0.1 });
    expect(parsed.policy.ladders.data_drift).toEqual(['alert', 'retrain']);
    expect(parsed.policy.ladders.concept_drift).toEqual(DEFAULT_LADDERS.concept_drift);
    expect(parsed.policy.budgets.retrain).toEqual({ max: 1, per: '1 day' });
    expect(parsed.policy.budgets.rollback).toEqual(DEFAULT_POLICY.budgets.rollback);
    expect(parsed.policy.approvals.retrain).toEqual({
      mode: 'approve',
      timeout: '30 minutes',
      onTimeout: 'fallback',
    });
  });

  it.each([
    [{ window: { kind: 'hourly' } }, 'window.kind'],
    [{ ladders: { concept_drift: ['pray'] } }, 'ladders.concept_drift.0'],
    [{ ladders: { nonsense: ['alert'] } }, 'ladders'],
    [{ cooldowns: { retrain: 'soon' } }, 'cooldowns.retrain'],
    [{ detection: { persistence: { confirmM: 4, confirmN: 3 } } }, 'detection.persistence.confirmM'],
    [{ confidence: { alertAbove: 0.9, actAbove: 0.5 } }, 'confidence.alertAbove'],
    [{ detection: { alpha: 0 } }, 'detection.alpha'],
    [{ detection: { errorRateMode: 'paranoid' } }, 'detection.errorRateMode'],
    [{ escalationWebhook: 'not a url' }, 'escalationWebhook'],
    [{ escalationWebhook: 'file:///etc/passwd' }, 'escalationWebhook'],
    [{ escalationWebhook: 'gopher://127.0.0.1:6379/' }, 'escalationWebhook'],
    [{ colour: 'red' }, '(policy)'],
  ])('rejects %j with an issue at %s', (input, path) => {
    const parsed = parsePolicy(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.issues.map((i) => i.path)).toContain(path);
  });
});
