// The role matrix, generated: every route the app mounts (read from Express's router) × every caller —
// no key, a revoked key, a key of each role, and an admin key scoped to another model — against the one
// access-rule table (api/auth.ts). A refused call gets 401/403 and changes nothing in the store (every
// table compared before and after), also when its path is spelled as Express still routes it (upper case,
// trailing slash); an allowed call is not refused by auth (it may still fail validation). Refused bodies
// are valid ones, so that a missing refusal would show as a change.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApi } from '../../api/app.ts';
import { ACCESS_RULES, type AccessRule, PUBLIC_ROUTES } from '../../api/auth.ts';
import { mountedRoutes } from '../../api/openapi.ts';
import { type JsonCall, jsonClient } from '../../lib/api-client.ts';
import { revokeApiKey, rotateApiKey } from '../../lib/auth/keys.ts';
import { GRANTS, ROLES, type Role } from '../../lib/domain.ts';
import { changeDeployment } from '../../lib/registry/revisions.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase } from '../helpers/db.ts';
import { registerTestModel } from '../helpers/traffic.ts';

type Caller = 'no key' | 'revoked key' | Role | 'admin scoped to another model';
const CALLERS: Caller[] = ['no key', 'revoked key', ...ROLES, 'admin scoped to another model'];

/** What auth answers the caller on a route under the rule: a refusal status, or null (let through). */
function expectedRefusal(caller: Caller, rule: AccessRule): 401 | 403 | null {
  if (caller === 'no key' || caller === 'revoked key') return 401;
  if (caller === 'admin scoped to another model') return rule.models === 'answer' ? null : 403;
  return GRANTS[caller].includes(rule.role) ? null : 403;
}

const ROWS = Array.from({ length: 20 }, (_, i) => ({ x: i }));
/** Valid requests: each would change the store (or call Temporal) if it were let through. */
const VALID_BODIES: Record<string, unknown> = {
  'POST /v1/models': {
    name: 'newcomer',
    task: 'regression',
    featureSchema: [{ name: 'x', type: 'numeric' }],
  },
  'PATCH /v1/models/{model}': { onInvalid: 'reject' },
  'PUT /v1/models/{model}/segments': { segments: [{ name: 'high', feature: 'x', op: 'gt', value: 5 }] },
  'POST /v1/models/{model}/predict': { id: 'served-1', features: { x: 1 } },
  'POST /v1/models/{model}/predictions': {
    predictions: [{ id: 'logged-1', features: { x: 1 }, prediction: 'yes' }],
  },
  'POST /v1/models/{model}/labels': { labels: [{ predictionId: 'p-1', label: 'yes' }] },
  'POST /v1/models/{model}/agent/pause': { reason: 'matrix' },
  'POST /v1/models/{model}/agent/resume': { reason: 'matrix' },
  'POST /v1/models/{model}/agent/approve': { approvalId: 'a-1', reason: 'matrix' },
  'POST /v1/models/{model}/agent/reject': { approvalId: 'a-1', reason: 'matrix' },
  'POST /v1/models/{model}/agent/acknowledge': { incidentId: 'i-1', reason: 'matrix' },
  'POST /v1/models/{model}/agent/revert': { actionId: 'x-1', reason: 'matrix' },
  'PUT /v1/models/{model}/agent/policy': { policy: {}, reason: 'matrix' },
  'POST /v1/models/{model}/remedies/{delivery}/result': { outcome: 'succeeded' },
  'POST /v1/models/{model}/versions': {
    train: { trainer: 'logistic-regression' },
    data: { rows: ROWS, labels: ROWS.map((r) => (r.x > 9 ? 'yes' : 'no')) },
  },
  'PATCH /v1/models/{model}/versions/{version}': { status: 'retired' },
  'POST /v1/models/{model}/deployment': { production: 1, reason: 'matrix' },
  'POST /v1/models/{model}/revisions/{revision}/restore': { reason: 'matrix' },
  'POST /v1/keys': { name: 'newcomer', role: 'admin', models: '*' },
};
/** What an allowed call sends: refused by validation (strict schemas), so it touches neither store nor Temporal. */
const INVALID_BODY = { 'not-a-field': true };

const STATE_CHANGING = Object.keys(ACCESS_RULES).filter((route) => !route.startsWith('GET '));

describeEachProvider('the role matrix on %s', (provider) => {
  let db: TestDatabase;
  let api: TestApi;
  const as = {} as Record<Caller, JsonCall>;
  let incidentId: string;

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    api = await startTestApi(db.store);
    const credit = await registerTestModel(db.store, 'credit');
    await registerTestModel(db.store, 'other');
    for (const version of [1, 2]) {
      await db.store.modelVersion.create({
        data: { modelId: credit.id, version, status: 'candidate', artifact: { kind: 'none' } },
      });
    }
    for (const production of [1, 2]) {
      await changeDeployment(db.store, 'credit', { production, reason: 'seed', actor: 'human:test' });
    }
    await db.store.prediction.create({
      data: { id: 'p-1', modelId: credit.id, source: 'logged', features: { x: 1 }, predictedAt: new Date() },
    });
    incidentId = (
      await db.store.incident.create({
        data: { modelId: credit.id, status: 'open', kind: 'data_drift', severity: 'high', summary: 'seed' },
      })
    ).id;
    await rotateApiKey(db.store, 'victim', 'ingest');
    const key = async (name: string, role: Role, models: string[] | '*' = '*') =>
      jsonClient(api.url, { authorization: `Bearer ${await rotateApiKey(db.store, name, role, models)}` });
    as['no key'] = jsonClient(api.url);
    as['revoked key'] = await key('matrix-revoked', 'admin');
    await revokeApiKey(db.store, 'matrix-revoked');
    for (const role of ROLES) as[role] = await key(`matrix-${role}`, role);
    as['admin scoped to another model'] = await key('matrix-scoped', 'admin', ['other']);
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  /** Every row of every table, in a stable order. */
  async function snapshot(): Promise<string> {
    const s = db.store;
    const tables = await Promise.all([
      s.model.findMany(),
      s.modelVersion.findMany(),
      s.deploymentRevision.findMany(),
      s.prediction.findMany(),
      s.label.findMany(),
      s.metricWindow.findMany(),
      s.finding.findMany(),
      s.incident.findMany(),
      s.decision.findMany(),
      s.action.findMany(),
      s.policyVersion.findMany(),
      s.apiKey.findMany(),
    ]);
    return JSON.stringify(tables.map((rows) => rows.map((r) => JSON.stringify(r)).sort()));
  }

  const concrete = (route: string) =>
    route
      .split(' ')[1]!
      .replace('{model}', 'credit')
      .replace('{version}', '1')
      .replace('{revision}', '1')
      .replace('{id}', incidentId)
      .replace('{name}', 'victim')
      .replace('{delivery}', 'agent:credit:i-1:1:webhook');

  it('covers every mounted route with a rule, and every rule with a route', () => {
    const { app } = createApi({
      store: db.store,
      temporal: {} as never,
      agentOptions: { taskQueue: 'test' },
    });
    const routes = mountedRoutes(app).filter((r) => r.includes(' /v1/') && !PUBLIC_ROUTES.includes(r));
    expect(routes.filter((r) => !(r in ACCESS_RULES))).toEqual([]);
    expect(Object.keys(ACCESS_RULES).filter((r) => !routes.includes(r))).toEqual([]);
    // The 18 state-changing routes (key routes included) are all in the matrix, each with a body.
    expect(STATE_CHANGING.length).toBeGreaterThanOrEqual(18);
    for (const route of STATE_CHANGING)
      expect(VALID_BODIES[route] ?? route.startsWith('DELETE ')).toBeTruthy();
  });

  for (const route of Object.keys(ACCESS_RULES).sort()) {
    const rule = ACCESS_RULES[route]!;
    const method = route.split(' ')[0]!;
    it(`${route} (${rule.role}, scope by ${rule.models})`, async () => {
      const path = concrete(route);
      // Spelled as Express still routes it: another case and a trailing slash.
      const variant = `${path.replace('/v1/', '/V1/')}/`;
      const body = method === 'GET' ? undefined : VALID_BODIES[route];
      for (const caller of CALLERS) {
        const refusal = expectedRefusal(caller, rule);
        if (refusal === null) continue;
        for (const spelled of [path, variant]) {
          const before = await snapshot();
          const res = await as[caller](method, spelled, body);
          expect([caller, spelled, res.status]).toEqual([caller, spelled, refusal]);
          expect(await snapshot()).toBe(before);
        }
      }
      for (const caller of CALLERS) {
        if (expectedRefusal(caller, rule) !== null) continue;
        const res = await as[caller](method, path, method === 'GET' ? undefined : INVALID_BODY);
        expect(res.status === 401 || res.status === 403, `${caller}: ${JSON.stringify(res.body)}`).toBe(
          false,
        );
      }
    }, 120_000);
  }
});
