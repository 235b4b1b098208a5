// The finding rules as units (lib/brain/findings): the registry covers every kind with that kind's rule,
// the evidence each rule's observe writes is the evidence decide receives for the kind (checked by the
// compiler below, and at run time by the rule's margins reading what detect wrote), and the rules carry
// the decide- and agent-facing facts the docs state.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { baselineFor } from '../../lib/brain/baseline.ts';
import { evidenceStrength } from '../../lib/brain/decide.ts';
import { DEFAULT_DETECT_SETTINGS, detect, initialDetectorState } from '../../lib/brain/detect.ts';
import { featureDrifted } from '../../lib/brain/findings/data-drift.ts';
import { FINDING_RULES, type FindingRule, findingOf, holdUntil } from '../../lib/brain/findings/index.ts';
import type { Observation } from '../../lib/brain/findings/rule.ts';
import type {
  DetectorState,
  EvidenceByKind,
  Finding,
  FindingOf,
  WindowSummary,
} from '../../lib/brain/types.ts';
import { FINDING_KINDS, type FindingKind } from '../../lib/domain.ts';
import { DEFAULT_POLICY } from '../../lib/policy/policy.ts';
import { segmentPart } from '../helpers/brain.ts';

type Registry = typeof FINDING_RULES;

/** A healthy window: 500 predictions, 450 labelled at accuracy 0.9, a reference, nothing wrong. */
function win(seq: number, over: Partial<WindowSummary> = {}): WindowSummary {
  const labelled = over.labelled ?? 450;
  const accuracy = over.accuracy === undefined ? 0.9 : over.accuracy;
  return {
    seq,
    startAt: new Date(seq * 100_000).toISOString(),
    endAt: new Date((seq + 1) * 100_000).toISOString(),
    count: 500,
    labelled,
    correct: accuracy === null ? 0 : Math.round(labelled * accuracy),
    accuracy,
    reference: 'used',
    task: 'binary',
    referenceAccuracy: 0.9,
    failureRate: 0.002,
    latencyP95Ms: 60 + (seq % 3),
    throughputPerMinute: 300 + (seq % 2) * 6,
    labelDelayP95Seconds: 150,
    featuresJudged: 2,
    drift: ['income', 'age'].map((name) => ({
      name,
      test: 'kolmogorov_smirnov',
      statistic: 0.02,
      pValue: 0.6,
      adjustedPValue: 0.9,
      psi: 0.01,
    })),
    quality: [],
    segments: ['a', 'b', 'c'].map((name) => segmentPart(name, 0.9)),
    ...over,
  };
}

/** What turns a healthy window into a bad one for each kind. */
const BAD: Record<FindingKind, Partial<WindowSummary>> = {
  data_drift: {
    drift: [
      {
        name: 'income',
        test: 'kolmogorov_smirnov',
        statistic: 0.3,
        pValue: 1e-9,
        adjustedPValue: 1e-8,
        psi: 0.5,
      },
    ],
  },
  concept_drift: { accuracy: 0.6 },
  anomaly: { count: 1000, throughputPerMinute: 600 },
  data_quality: {
    quality: [
      {
        name: 'income',
        invalidRate: 0.3,
        mainProblem: 'out_of_range',
        nullRate: 0,
        referenceNullRate: 0,
        nullRateChangePValue: null,
        constant: false,
      },
    ],
  },
  latency: { latencyP95Ms: 200 },
  failures: { failureRate: 0.2 },
  stale_data: { count: 0, labelled: 0, accuracy: null, drift: undefined, quality: undefined },
  custom: {
    custom: [
      { rule: 'approval-rate', judged: true, bad: true, severity: 'warning', summary: 'low', margin: 1.5 },
    ],
  },
  segment: { segments: [segmentPart('a', 0.9), segmentPart('b', 0.55), segmentPart('c', 0.9)] },
};

/** The findings after six healthy windows and two of the kind's bad ones. */
function confirmedAfter(kind: FindingKind): Finding[] {
  let state: DetectorState = initialDetectorState();
  let findings: Finding[] = [];
  for (let seq = 0; seq < 8; seq++) {
    const r = detect(win(seq, seq >= 6 ? BAD[kind] : {}), state);
    state = r.state;
    findings = r.findings;
  }
  return findings;
}

describe('finding rules', () => {
  it('the registry holds one rule for every FindingKind, filed under its own kind', () => {
    // In FINDING_KINDS' order: detect reports the kinds judged on their own in the registry's order.
    expect(Object.keys(FINDING_RULES)).toEqual([...FINDING_KINDS]);
    for (const kind of FINDING_KINDS) expect(FINDING_RULES[kind].kind).toBe(kind);
    // The compiler's half: the registry maps each kind to that kind's rule.
    expectTypeOf<Registry>().toExtend<{ [K in FindingKind]: FindingRule<K> }>();
  });

  it("each rule's evidence is the evidence decide receives for its kind", () => {
    type Observed<K extends FindingKind> = ReturnType<Registry[K]['observe']>['evidence'];
    type Weighed<K extends FindingKind> = Parameters<Registry[K]['margins']>[0];
    type Received<K extends FindingKind> = Extract<Finding, { kind: K }>;
    expectTypeOf<Observed<'concept_drift'>>().toEqualTypeOf<Received<'concept_drift'>['evidence']>();
    expectTypeOf<Observed<'data_drift'>>().toEqualTypeOf<Received<'data_drift'>['evidence']>();
    expectTypeOf<Observed<'data_quality'>>().toEqualTypeOf<Received<'data_quality'>['evidence']>();
    expectTypeOf<Observed<'latency'>>().toEqualTypeOf<Received<'latency'>['evidence']>();
    expectTypeOf<Observed<'failures'>>().toEqualTypeOf<Received<'failures'>['evidence']>();
    expectTypeOf<Observed<'stale_data'>>().toEqualTypeOf<Received<'stale_data'>['evidence']>();
    expectTypeOf<Observed<'anomaly'>>().toEqualTypeOf<Received<'anomaly'>['evidence']>();
    expectTypeOf<Weighed<'concept_drift'>>().toEqualTypeOf<FindingOf<'concept_drift'>>();
    expectTypeOf<Received<'latency'>>().toEqualTypeOf<FindingOf<'latency'>>();
    expectTypeOf<Observation<'failures'>['evidence']>().toEqualTypeOf<EvidenceByKind['failures']>();

    // At run time: a confirmed finding, as detect wrote it, is past its thresholds by its own rule's
    // margins (a field detect wrote under another name than the rule reads would leave no margin).
    for (const kind of FINDING_KINDS) {
      const f = confirmedAfter(kind).find((x) => x.kind === kind);
      expect(f?.state, kind).toBe('confirmed');
      const margins = FINDING_RULES[kind].margins(f as never, DEFAULT_POLICY);
      expect(Math.max(...margins.map((m) => m ?? 0)), kind).toBeGreaterThanOrEqual(1);
      expect(evidenceStrength(f!, DEFAULT_POLICY), kind).toBeGreaterThanOrEqual(0.667);
    }
  });

  it('priorities put root causes first, each kind at its own rank', () => {
    const byPriority = [...FINDING_KINDS].sort(
      (a, b) => FINDING_RULES[a].priority - FINDING_RULES[b].priority,
    );
    expect(byPriority).toEqual([
      'segment',
      'data_quality',
      'failures',
      'latency',
      'concept_drift',
      'data_drift',
      'stale_data',
      'anomaly',
      'custom',
    ]);
    expect(new Set(FINDING_KINDS.map((k) => FINDING_RULES[k].priority)).size).toBe(FINDING_KINDS.length);
  });

  it('each kind says where its failure lies: the remedies that can help follow from it', () => {
    expect(Object.fromEntries(FINDING_KINDS.map((k) => [k, FINDING_RULES[k].origin]))).toEqual({
      data_drift: 'model',
      concept_drift: 'model',
      anomaly: 'traffic',
      data_quality: 'inputs',
      latency: 'serving',
      failures: 'serving',
      stale_data: 'traffic',
      custom: 'model',
      segment: 'model',
    });
  });

  it('a protective remedy waits for clean inputs, a working server, or (the model at fault) the repair', () => {
    expect(Object.fromEntries(FINDING_KINDS.map((k) => [k, holdUntil(k)]))).toEqual({
      data_drift: null,
      concept_drift: null,
      anomaly: null,
      data_quality: 'inputs-clear',
      latency: null,
      failures: 'probe',
      stale_data: 'inputs-clear',
      custom: null,
      segment: null,
    });
  });

  it('only accuracy and failures have a collapse, and only past their floors', () => {
    expect(FINDING_KINDS.filter((k) => 'collapse' in FINDING_RULES[k])).toEqual([
      'concept_drift',
      'failures',
    ]);
    const collapsed = findingOf(confirmedAfter('concept_drift'), 'concept_drift')!;
    expect(FINDING_RULES.concept_drift.collapse?.(collapsed, DEFAULT_POLICY)).toBeNull();
    const floor = { ...DEFAULT_POLICY, floors: { ...DEFAULT_POLICY.floors, accuracy: 0.7 } };
    expect(FINDING_RULES.concept_drift.collapse?.(collapsed, floor)).toBe(
      'accuracy 0.600 is below the floor 0.7',
    );
  });

  it('baselineFor answers with the rule of the kind', () => {
    let state = initialDetectorState();
    for (let seq = 0; seq < 6; seq++) state = detect(win(seq), state).state;
    for (const kind of FINDING_KINDS)
      expect(baselineFor(kind, state, win(6))).toEqual(
        FINDING_RULES[kind].verificationBaseline(state, win(6)),
      );
    expect(baselineFor('latency', state, win(6))?.metric).toBe('latencyP95Ms');
    expect(baselineFor('failures', state, win(6))?.metric).toBe('failureRate');
    expect(baselineFor('stale_data', state, win(6))).toBeNull();
    expect(baselineFor('data_drift', state, win(6))).toMatchObject({ metric: 'accuracy', value: 0.9 });
  });
});

describe('the data drift rule', () => {
  const observe = (over: Partial<WindowSummary>) =>
    FINDING_RULES.data_drift.observe({
      window: win(3, over),
      state: initialDetectorState(),
      settings: DEFAULT_DETECT_SETTINGS,
      brokenFeatures: new Set(),
    });
  const { minRows } = DEFAULT_DETECT_SETTINGS;
  const drifted = (name: string, psi: number) => ({
    name,
    test: 'kolmogorov_smirnov' as const,
    statistic: 0.3,
    pValue: 1e-9,
    adjustedPValue: 1e-8,
    psi,
  });

  it('judges a window of minRows rows or more, with a reference profile', () => {
    expect(observe({ count: minRows - 1 })).toMatchObject({
      kind: 'data_drift',
      judged: false,
      summary: `window too small to judge (${minRows - 1} rows)`,
      evidence: { window: 3, rows: minRows - 1 },
    });
    expect(observe({ count: minRows })).toMatchObject({ judged: true });
    expect(observe({ drift: undefined })).toMatchObject({
      kind: 'data_drift',
      judged: false,
      summary: 'no reference profile to compare the inputs with',
    });
  });

  it('names each drifted feature with its PSI, or says the inputs match', () => {
    expect(observe({})).toMatchObject({ judged: true, bad: false, summary: 'inputs match the reference' });
    expect(observe({ drift: [drifted('income', 0.5), drifted('age', 0.3)] })).toMatchObject({
      bad: true,
      summary: 'input drift in income (PSI 0.50), age (PSI 0.30)',
    });
  });

  it('without a reference size, the KS gate is the minimum effect itself', () => {
    const { ks } = DEFAULT_DETECT_SETTINGS.detection.minEffect;
    const feature = { ...drifted('income', 0), statistic: ks, currentN: 500 };
    expect(featureDrifted(feature, DEFAULT_DETECT_SETTINGS)).toBe(true);
    expect(featureDrifted({ ...feature, statistic: ks - 0.001 }, DEFAULT_DETECT_SETTINGS)).toBe(false);
  });
});
