// The versions a deployment revision answers with (what verification judges) must be exactly the ones the
// gateway's router can pick under it: checked against chooseRoute itself over many prediction ids, for
// every serving mode and disabled response.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SERVING_MODES } from '../../lib/domain.ts';
import {
  answeringVersionIds,
  chooseRoute,
  DISABLED_RESPONSES,
  routingShare,
  type ServingDeployment,
} from '../../lib/registry/routing.ts';

const PRODUCTION = { id: 'v-production', version: 1 };
const FALLBACK = { id: 'v-fallback', version: 2 };
const CANARY = { id: 'v-canary', version: 3 };
const IDS = Array.from({ length: 2000 }, (_, i) => `request-${i}`);
const SECRET = 'a-routing-secret-of-at-least-32-characters';

/** Every version chooseRoute gives some request under the deployment. */
function routed(deployment: ServingDeployment, response: (typeof DISABLED_RESPONSES)[number]): string[] {
  const ids = new Set<string>();
  for (const id of IDS) {
    const route = chooseRoute(deployment, () => routingShare(SECRET, id), response);
    if (route.route !== 'unavailable') ids.add(route.version.id);
  }
  return [...ids].sort();
}

describe('answeringVersionIds', () => {
  const shapes = [
    { production: PRODUCTION, fallback: FALLBACK, canary: CANARY },
    { production: PRODUCTION, fallback: FALLBACK, canary: null },
    { production: PRODUCTION, fallback: null, canary: null },
    { production: null, fallback: FALLBACK, canary: null },
    { production: null, fallback: null, canary: null },
  ];
  for (const mode of SERVING_MODES)
    for (const response of DISABLED_RESPONSES)
      for (const shape of shapes)
        it(`${mode}, disabled answers ${response}, ${Object.entries(shape)
          .filter(([, v]) => v)
          .map(([k]) => k)
          .join(' + ')}`, () => {
          const deployment: ServingDeployment = {
            revision: 1,
            mode,
            ...shape,
            canaryShare: shape.canary ? 0.2 : 0,
            shadow: null,
            fallbackSegments: [],
          };
          const revision = {
            mode,
            productionVersionId: shape.production?.id ?? null,
            fallbackVersionId: shape.fallback?.id ?? null,
            canaryVersionId: shape.canary?.id ?? null,
          };
          expect([...answeringVersionIds(revision, response)].sort()).toEqual(routed(deployment, response));
        });
});

describe('routingShare', () => {
  it('is keyed: ids a client picks from the unkeyed hash reach the canary at its share, not at will', () => {
    // What a client could do with an unkeyed split: keep the ids whose SHA-256 puts them under a 20 %
    // canary share (or over it, to avoid the canary).
    const unkeyed = (id: string) => createHash('sha256').update(id).digest().readUInt32BE(0) / 2 ** 32;
    const chosen = IDS.filter((id) => unkeyed(id) < 0.2);
    expect(chosen.length).toBeGreaterThan(300);
    const hits = chosen.filter((id) => routingShare(SECRET, id) < 0.2).length / chosen.length;
    // Four binomial standard deviations around the share itself; the unkeyed split would give 1.
    expect(Math.abs(hits - 0.2)).toBeLessThan(4 * Math.sqrt((0.2 * 0.8) / chosen.length));
  });

  it('gives an id the same share every time under one secret, and another share under another', () => {
    expect(routingShare(SECRET, 'request-7')).toBe(routingShare(SECRET, 'request-7'));
    const differ = IDS.filter((id) => routingShare(SECRET, id) !== routingShare(`${SECRET}-2`, id));
    expect(differ.length).toBe(IDS.length);
  });
});

describe('a segment served by the fallback', () => {
  const web = { name: 'channel=web', feature: 'channel', op: 'eq' as const, value: 'web' };
  const deployment: ServingDeployment = {
    revision: 2,
    mode: 'serving',
    production: PRODUCTION,
    fallback: FALLBACK,
    canary: CANARY,
    canaryShare: 0.2,
    shadow: null,
    fallbackSegments: [web],
  };
  const route = (id: string, channel: string | null) =>
    chooseRoute(deployment, () => routingShare(SECRET, id), 'unavailable', { channel });

  it('routes every row of the segment to the fallback, canary share or not, and no other row', () => {
    const versions = (channel: string | null) =>
      new Set(
        IDS.map((id) => {
          const r = route(id, channel);
          return r.route === 'unavailable' ? null : r.version.id;
        }),
      );
    expect([...versions('web')]).toEqual([FALLBACK.id]);
    expect([...versions('branch')].sort()).toEqual([CANARY.id, PRODUCTION.id].sort());
    // A row without the feature is in no segment: production's (or the canary's).
    expect(versions(null).has(FALLBACK.id)).toBe(false);
  });

  it('counts the fallback among the versions that answer', () => {
    const revision = {
      mode: 'serving',
      productionVersionId: PRODUCTION.id,
      fallbackVersionId: FALLBACK.id,
      canaryVersionId: CANARY.id,
      fallbackSegments: ['channel=web'],
    };
    expect(answeringVersionIds(revision, 'unavailable').sort()).toEqual(
      [CANARY.id, FALLBACK.id, PRODUCTION.id].sort(),
    );
    expect(answeringVersionIds({ ...revision, fallbackSegments: null }, 'unavailable')).not.toContain(
      FALLBACK.id,
    );
  });
});
