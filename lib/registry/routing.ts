// Which version answers a prediction, given the model's current deployment. Pure and deterministic: the
// canary split depends only on the prediction id and the server's routing secret, so a retried request
// (same id) is served by the same version, and a client cannot choose ids that hit or avoid the canary.
import { createHmac } from 'node:crypto';
import type { FeatureRow, ServingMode } from '../domain.ts';
import { inSegment, type Segment } from '../segments/segment.ts';

export const DISABLED_RESPONSES = ['unavailable', 'fallback'] as const;
/** Per model: what a disabled model answers — 503 with Retry-After, or its fallback version if it has one. */
export type DisabledResponse = (typeof DISABLED_RESPONSES)[number];

export interface ServingVersion {
  id: string;
  version: number;
}

/** A deployment revision with its versions resolved. */
export interface ServingDeployment {
  revision: number;
  mode: ServingMode;
  production: ServingVersion | null;
  fallback: ServingVersion | null;
  canary: ServingVersion | null;
  canaryShare: number;
  shadow: ServingVersion | null;
  /** The segments whose rows the fallback answers while the mode is serving (a segment's remedy). */
  fallbackSegments: readonly Segment[];
}

export type Route = 'production' | 'canary' | 'fallback';
export type RouteDecision = { route: Route; version: ServingVersion } | { route: 'unavailable' };

/**
 * A uniform number in [0, 1) from the prediction id: the first 32 bits of its HMAC-SHA256 under the
 * server's routing secret (lib/registry/routing-secret.ts). Keyed, because a client that could compute the
 * number could pick ids that all reach the canary, or none; cryptographic, because ids are often sequential
 * (`req-1`, `req-2`…), which cheap hashes spread unevenly.
 */
export function routingShare(secret: string, predictionId: string): number {
  return createHmac('sha256', secret).update(predictionId).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * The versions whose answers a deployment revision's traffic gets: every route chooseRoute can take under
 * it. A remedy's verification judges only their answers (activities/evidence.ts): for a second after a
 * change the gateway may still serve from the revision before (lib/registry/serving-state.ts).
 */
export function answeringVersionIds(
  revision: {
    mode: string;
    productionVersionId: string | null;
    fallbackVersionId: string | null;
    canaryVersionId: string | null;
    fallbackSegments?: unknown;
  },
  disabledResponse: DisabledResponse,
): string[] {
  const { mode, productionVersionId, fallbackVersionId, canaryVersionId } = revision;
  const fallback = fallbackVersionId ? [fallbackVersionId] : [];
  const segmentsOnFallback = ((revision.fallbackSegments as string[] | null) ?? []).length > 0;
  if (mode === 'serving')
    return [
      ...(productionVersionId ? [productionVersionId] : fallback),
      ...(canaryVersionId ? [canaryVersionId] : []),
      ...(productionVersionId && segmentsOnFallback ? fallback : []),
    ];
  if (mode === 'fallback' || disabledResponse === 'fallback') return fallback;
  return [];
}

/**
 * The route of a request whose routing share is `share()` (routingShare of its id), with features
 * `features`. The share is asked only when the deployment splits traffic: its HMAC was the dearest step of
 * routing a gateway request. A row of a segment the fallback serves goes to the fallback, canary or not:
 * its segment is being protected.
 */
export function chooseRoute(
  deployment: ServingDeployment,
  share: () => number,
  disabledResponse: DisabledResponse,
  features: FeatureRow = {},
): RouteDecision {
  const fallback = deployment.fallback
    ? ({ route: 'fallback', version: deployment.fallback } as const)
    : ({ route: 'unavailable' } as const);
  switch (deployment.mode) {
    case 'disabled':
      return disabledResponse === 'fallback' ? fallback : { route: 'unavailable' };
    case 'fallback':
      return fallback;
    case 'serving':
      if (deployment.fallback && deployment.fallbackSegments.some((s) => inSegment(features, s)))
        return fallback;
      if (deployment.canary && share() < deployment.canaryShare) {
        return { route: 'canary', version: deployment.canary };
      }
      return deployment.production ? { route: 'production', version: deployment.production } : fallback;
  }
}
