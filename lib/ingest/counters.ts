// Counters of inputs the gateway and the ingestion endpoints turned away, and of invalid values they
// accepted and flagged, per model, endpoint and reason: the data-quality signal of input that never
// reaches the store. They live in memory and start from zero with the process, as Prometheus counters
// do (the /metrics exporter reads `ingestCounters()`); flagged values are also stored with their
// predictions (Prediction.quality), so monitoring does not depend on these counters.
//
// Units: a feature problem counts once per offending field; a problem with an id (duplicate, unknown,
// already stored) once per id; a problem with the request as a whole (invalid body, batch too large)
// once per request.
import type { QualityProblem } from './validate.ts';

export type IngestEndpoint = 'predict' | 'predictions' | 'labels';

export type RejectionReason =
  | QualityProblem
  | 'invalid_request'
  | 'batch_too_large'
  | 'duplicate_id'
  | 'prediction_exists'
  | 'unknown_prediction'
  | 'label_exists'
  | 'invalid_label'
  | 'invalid_prediction'
  | 'unknown_version';

export interface CounterSample<Reason extends string> {
  model: string;
  endpoint: IngestEndpoint;
  reason: Reason;
  count: number;
}

export interface IngestCounters {
  stored: { modelId: string; versionId: string; source: string; count: number }[];
  rejected: CounterSample<RejectionReason>[];
  flagged: CounterSample<QualityProblem>[];
  /** Shadow copies not scored because too many were in flight (see api/routes/gateway.ts). */
  shadowSkipped: { model: string; count: number }[];
}

const SEP = '\u0000';
const stored = new Map<string, number>();
const rejected = new Map<string, number>();
const flagged = new Map<string, number>();
const shadowSkipped = new Map<string, number>();

function add(map: Map<string, number>, key: string, n: number): void {
  if (n > 0) map.set(key, (map.get(key) ?? 0) + n);
}

/** Predictions committed to the store, by model id, version id ('none' for logged ones without) and source. */
export function countStored(modelId: string, versionId: string | null, source: string, n = 1): void {
  add(stored, [modelId, versionId ?? 'none', source].join(SEP), n);
}

export function countRejected(model: string, endpoint: IngestEndpoint, reason: RejectionReason, n = 1): void {
  add(rejected, [model, endpoint, reason].join(SEP), n);
}

export function countFlagged(model: string, endpoint: IngestEndpoint, problem: QualityProblem, n = 1): void {
  add(flagged, [model, endpoint, problem].join(SEP), n);
}

export function countShadowSkipped(model: string, n = 1): void {
  add(shadowSkipped, model, n);
}

function samples<Reason extends string>(map: Map<string, number>): CounterSample<Reason>[] {
  return [...map].map(([key, count]) => {
    const [model, endpoint, reason] = key.split(SEP) as [string, IngestEndpoint, Reason];
    return { model, endpoint, reason, count };
  });
}

/** A copy of every counter. */
export function ingestCounters(): IngestCounters {
  return {
    stored: [...stored].map(([key, count]) => {
      const [modelId, versionId, source] = key.split(SEP) as [string, string, string];
      return { modelId, versionId, source, count };
    }),
    rejected: samples<RejectionReason>(rejected),
    flagged: samples<QualityProblem>(flagged),
    shadowSkipped: [...shadowSkipped].map(([model, count]) => ({ model, count })),
  };
}

/** The count of one (model, endpoint, reason), 0 if never counted; tests read it. */
export function rejectedCount(model: string, endpoint: IngestEndpoint, reason: RejectionReason): number {
  return rejected.get([model, endpoint, reason].join(SEP)) ?? 0;
}

export function flaggedCount(model: string, endpoint: IngestEndpoint, problem: QualityProblem): number {
  return flagged.get([model, endpoint, problem].join(SEP)) ?? 0;
}
