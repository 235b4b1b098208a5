// Drives a live Homeostat API with a simulated stream: requests at a chosen rate, then each label a
// little later, as a serving stack and a labelling pipeline would. Used by the demo and the simulator's
// live mode. Events are re-timed to the wall clock; label delays are compressed to `labelDelayMs`.
//
// Two ways in, as for real users: through the inference gateway (`POST /predict`: Homeostat serves the
// model and logs what it answered), or as predictions logged by a serving stack elsewhere
// (`POST /predictions`, scored here by `score`).
import type { JsonCall } from '../api-client.ts';
import type { FeatureRow } from '../domain.ts';
import type { DemoModel } from './demo-models.ts';
import type { SimEvent } from './stream.ts';

/** What a served model answered for one row. */
export interface ServedPrediction {
  prediction: string | number;
  confidence?: number;
}

export type Scorer = (features: FeatureRow) => ServedPrediction;

/** The demo model's own ground truth as a scorer: a perfect model of the world before any drift. */
export function oracleScorer(model: DemoModel): Scorer {
  if (model.task === 'regression') return (row) => ({ prediction: model.expectedLabel(row) });
  return (row) => {
    const p = model.expectedLabel(row);
    return { prediction: p > 0.5 ? '1' : '0', confidence: Math.max(p, 1 - p) };
  };
}

export interface DriveOptions {
  call: JsonCall;
  modelName: string;
  /** The stream to send; the driver pulls from it until it ends or the signal aborts. */
  events: Iterator<SimEvent>;
  /** 'gateway' sends rows to POST /predict; a Scorer logs its own predictions through POST /predictions. */
  serve: 'gateway' | Scorer;
  ratePerSecond: number;
  labelDelayMs: number;
  /** Prefix of prediction ids, unique per run so that a restarted demo never collides with stored ids. */
  idPrefix: string;
  signal: AbortSignal;
  tickMs?: number;
  onError?: (message: string) => void;
  /** Ids of the predictions the API acknowledged (answered 2xx): stored, and owed to the caller. */
  onAcknowledged?: (ids: string[]) => void;
}

export interface DriveStats {
  predictions: number;
  labels: number;
}

/**
 * Waits `ms`, or until the signal aborts. A timer of its own: Node's AbortSignal.timeout holds its signal
 * only weakly, so a wait on nothing but such a signal never ends once a garbage collection has taken it.
 */
export const quietFor = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal.addEventListener('abort', wake, { once: true });
  });

export async function drive(options: DriveOptions, stats: DriveStats = { predictions: 0, labels: 0 }) {
  const { call, modelName, events, serve, signal } = options;
  const tickMs = options.tickMs ?? 1000;
  const pendingLabels: { due: number; predictionId: string; label: number | string }[] = [];
  let carry = 0;
  let exhausted = false;

  while (!signal.aborted && !(exhausted && pendingLabels.length === 0)) {
    const tickStart = Date.now();
    carry += (options.ratePerSecond * tickMs) / 1000;
    const batch: SimEvent[] = [];
    while (!exhausted && batch.length < Math.floor(carry)) {
      const next = events.next();
      if (next.done) exhausted = true;
      else batch.push(next.value);
    }
    carry -= batch.length;

    // The gateway serves a real model, so the simulated inference failures only apply to logged traffic.
    const served = serve === 'gateway' ? batch : batch.filter((e) => !e.failed);
    if (served.length) {
      const id = (e: SimEvent) => `${options.idPrefix}-${e.seq}`;
      const res =
        serve === 'gateway'
          ? await call('POST', `/v1/models/${modelName}/predict`, {
              rows: served.map((e) => ({ id: id(e), features: e.features })),
            })
          : await call('POST', `/v1/models/${modelName}/predictions`, {
              predictions: served.map((e) => ({
                id: id(e),
                features: e.features,
                latencyMs: e.latencyMs,
                ...serve(e.features),
              })),
            });
      if (res.status === 200 || res.status === 202) {
        stats.predictions += served.length;
        options.onAcknowledged?.(served.map(id));
        for (const e of served) {
          if (e.label !== null)
            pendingLabels.push({
              due: Date.now() + options.labelDelayMs,
              predictionId: id(e),
              label: e.label,
            });
        }
      } else {
        options.onError?.(`predictions rejected (${res.status}): ${res.body?.error?.message ?? ''}`);
      }
    }

    const now = Date.now();
    const due = pendingLabels.filter((l) => l.due <= now);
    if (due.length) {
      pendingLabels.splice(0, pendingLabels.length, ...pendingLabels.filter((l) => l.due > now));
      const labels = due.map(({ predictionId, label }) => ({ predictionId, label }));
      const res = await call('POST', `/v1/models/${modelName}/labels`, { labels });
      if (res.status === 202) stats.labels += labels.length;
      else options.onError?.(`labels rejected (${res.status}): ${res.body?.error?.message ?? ''}`);
    }
    await quietFor(Math.max(0, tickMs - (Date.now() - tickStart)), signal);
  }
  return stats;
}
