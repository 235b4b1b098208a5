// Verification evidence: what the traffic a model served since an instant shows for the metric an
// incident hurt, measured with the monitor's own definitions (lib/monitor: valid outputs, correctness,
// failures, latencies), so that a recovery is judged against the baseline by the same yardstick the
// windows that raised the incident used. Shadow copies are another version's answers, not the model's
// traffic, and are left out, as in the monitor; so are the answers of versions the current deployment
// does not serve (the replaced version's, which the gateway's cache may give for a second after the
// remedy's change and whose labels come first).

import type { Evidence, EvidenceRequest } from '../lib/brain/contracts.ts';
import type { Store } from '../lib/db/client.ts';
import type { FeatureRow, FeatureSchema } from '../lib/domain.ts';
import type { OutputRow, RawOutput } from '../lib/monitor/outputs.ts';
import { resolveClasses, tallyOutputs } from '../lib/monitor/outputs.ts';
import { latencyMetrics } from '../lib/monitor/system.ts';
import {
  addScore,
  emptyTotals,
  rowScorer,
  type ScoreTotals,
  scoredEvidence,
} from '../lib/recovery/outcomes.ts';
import { currentRevision } from '../lib/registry/revisions.ts';
import { answeringVersionIds, type DisabledResponse } from '../lib/registry/routing.ts';
import { modelShape } from '../lib/registry/versions.ts';
import { storedSegments } from '../lib/segments/definition.ts';
import { inSegment, type Segment } from '../lib/segments/segment.ts';
import { findModelOrFail } from './incidents.ts';

type Model = Awaited<ReturnType<typeof findModelOrFail>>;

/** The prediction fields an output row is read from, with the label's value. */
export const OUTPUT_FIELDS = {
  error: true,
  output: true,
  confidence: true,
  label: { select: { value: true } },
} as const;

/** A stored prediction as tallyOutputs reads it. */
export function outputRow(p: {
  error: string | null;
  output: unknown;
  confidence: number | null;
  label: { value: unknown } | null;
}): OutputRow {
  return {
    error: p.error,
    output: (p.output ?? null) as RawOutput | null,
    confidence: p.confidence,
    label: p.label ? { value: p.label.value as string | number } : null,
  };
}

/** The model's class labels (declared, else observed in `rows`), null for a regressor. */
export function classesOf(model: Model, rows: readonly OutputRow[]): string[] | null {
  const shape = modelShape(model);
  return resolveClasses(shape.task, shape.classes, function* () {
    for (const row of rows) {
      yield row.output?.prediction;
      yield row.label?.value;
    }
  });
}

/** Totals of the scorable rows among `rows` (rows without a valid output or label score nothing). */
export function scoreTotals(model: Model, rows: readonly OutputRow[]): ScoreTotals {
  const score = rowScorer(modelShape(model).task, classesOf(model, rows));
  const totals = emptyTotals();
  for (const row of rows) addScore(totals, score(row));
  return totals;
}

/**
 * The model's segment of that name. A segment's route keeps its definition from changing (PUT segments
 * answers segment_routed), so one a verification asks for is there unless a person lifted the route and
 * redefined the segments meanwhile: then nothing is measured and the verification ends without a verdict.
 */
function segmentNamed(model: Model, name: string): Segment {
  const found = storedSegments(model.segments, model.featureSchema as unknown as FeatureSchema).find(
    (s) => s.name === name,
  );
  // A comparison no row passes: the verification sees no rows.
  return found ?? { name, feature: '', op: 'eq', value: '' };
}

/** Evidence of a rate: `hits` of `rows`. */
function rate(metric: Evidence['metric'], hits: number, rows: number): Evidence {
  return { metric, rows, value: rows > 0 ? hits / rows : null, successes: hits };
}

export function createEvidenceActivities(store: Store) {
  return {
    /**
     * The metric over the model's own (non-shadow) predictions received at or after `since` and answered
     * by a version the current deployment serves (or by no recorded version, as logged predictions of an
     * external model): accuracy and RMSE on the labelled rows with a valid output; p95 latency over the
     * predictions with a latency; failure rate as the monitor counts it (errors plus unusable outputs: no
     * usable answer); quality rate as the share of predictions ingestion flagged (Prediction.quality).
     */
    async measureEvidence(req: EvidenceRequest): Promise<Evidence> {
      const model = await findModelOrFail(store, req.modelName);
      const revision = await currentRevision(store, model.id);
      const answering = revision
        ? answeringVersionIds(revision, model.disabledResponse as DisabledResponse)
        : null;
      const where = {
        modelId: model.id,
        source: { not: 'shadow' },
        receivedAt: { gte: new Date(req.since) },
        ...(answering ? { OR: [{ versionId: null }, { versionId: { in: answering } }] } : {}),
      };
      // A segment's verification reads its rows only: a row's segment is a function of its features.
      const segment = req.segment === undefined ? null : segmentNamed(model, req.segment);
      const features = segment !== null;
      const ofSegment = <T extends { features?: unknown }>(rows: T[]): T[] =>
        segment ? rows.filter((r) => inSegment(r.features as FeatureRow, segment)) : rows;
      switch (req.metric) {
        case 'accuracy':
        case 'rmse': {
          const rows = await store.prediction.findMany({
            where: { ...where, label: { isNot: null } },
            select: { ...OUTPUT_FIELDS, features },
          });
          return scoredEvidence(req.metric, scoreTotals(model, ofSegment(rows).map(outputRow)));
        }
        case 'latencyP95Ms': {
          const rows = ofSegment(
            await store.prediction.findMany({
              where: { ...where, latencyMs: { not: null } },
              select: { latencyMs: true, features },
            }),
          );
          // The monitor's filter (lib/monitor/window.ts): a latency is a finite, non-negative number.
          const latencies = rows.map((r) => r.latencyMs!).filter((ms) => Number.isFinite(ms) && ms >= 0);
          const metrics = latencyMetrics(latencies);
          return { metric: 'latencyP95Ms', rows: latencies.length, value: metrics?.p95 ?? null };
        }
        case 'failureRate': {
          const rows = ofSegment(
            await store.prediction.findMany({
              where,
              select: { error: true, output: true, confidence: true, features },
            }),
          ).map((p) => outputRow({ ...p, label: null }));
          const tally = tallyOutputs(modelShape(model).task, classesOf(model, rows), rows);
          const unusable = Object.values(tally.invalid).reduce((sum, n) => sum + n, tally.failed);
          return rate('failureRate', unusable, rows.length);
        }
        case 'qualityRate': {
          const rows = ofSegment(
            await store.prediction.findMany({ where, select: { quality: true, features } }),
          );
          return rate('qualityRate', rows.filter((r) => r.quality !== null).length, rows.length);
        }
      }
    },
  };
}
