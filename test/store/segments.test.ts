// Segment definitions through the API on SQLite and PostgreSQL: stored as written, resolved against the
// model's schema, every kind of bad definition answered 422 with its path (a malformed body 400), and
// nothing changed then.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAX_SEGMENTS } from '../../lib/segments/definition.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { registerCreditModel } from '../helpers/credit-model.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase } from '../helpers/db.ts';

describeEachProvider('segments on %s', (provider) => {
  let db: TestDatabase;
  let api: TestApi;

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    api = await startTestApi(db.store);
    await registerCreditModel(api.call, 'credit');
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const stored = async () => (await db.store.model.findUniqueOrThrow({ where: { name: 'credit' } })).segments;

  it('a model has no segments until they are defined', async () => {
    const res = await api.call('GET', '/v1/models/credit/segments');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ definitions: [], segments: [] });
  });

  it('stores the definitions and resolves one segment per category and one per rule', async () => {
    const definitions = [
      { by: 'channel' },
      { name: 'large-loans', feature: 'loan_amount', op: 'ge', value: 50_000 },
      { name: 'renters', feature: 'home_ownership', op: 'eq', value: 'rent' },
    ];
    const res = await api.call('PUT', '/v1/models/credit/segments', { segments: definitions });
    expect(res.status).toBe(200);
    expect(res.body.definitions).toEqual(definitions);
    const names = res.body.segments.map((s: { name: string }) => s.name);
    expect(names).toEqual([
      'channel=branch',
      'channel=web',
      'channel=mobile',
      'channel=broker',
      'large-loans',
      'renters',
    ]);
    expect(res.body.segments[4]).toEqual({
      name: 'large-loans',
      feature: 'loan_amount',
      op: 'ge',
      value: 50_000,
    });
    expect(await stored()).toEqual(definitions);
    expect((await api.call('GET', '/v1/models/credit/segments')).body).toEqual(res.body);
  });

  it.each([
    [{ by: 'nope' }, 'body.segments.0.by', 'no feature "nope" in the schema'],
    [{ by: 'income' }, 'body.segments.0.by', '"income" is numeric'],
    [{ name: 's', feature: 'income', op: 'gt', value: 'high' }, 'body.segments.0.value', 'must be a number'],
    [{ name: 's', feature: 'region', op: 'lt', value: 'west' }, 'body.segments.0.op', 'only eq and ne'],
    [
      { name: 's', feature: 'region', op: 'eq', value: 'mars' },
      'body.segments.0.value',
      'has no category "mars"',
    ],
    [
      { name: 's', feature: 'has_mortgage', op: 'eq', value: 'yes' },
      'body.segments.0.value',
      'true or false',
    ],
  ])('refuses %j with a precise 422 and changes nothing', async (definition, path, message) => {
    const before = await stored();
    const res = await api.call('PUT', '/v1/models/credit/segments', { segments: [definition] });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('invalid_segments');
    expect(res.body.error.issues).toHaveLength(1);
    expect(res.body.error.issues[0].path).toBe(path);
    expect(res.body.error.issues[0].message).toContain(message);
    expect(await stored()).toEqual(before);
  });

  it('refuses a name used twice, too many segments, and malformed bodies', async () => {
    const before = await stored();
    const twice = await api.call('PUT', '/v1/models/credit/segments', {
      segments: [{ name: 'channel=web', feature: 'income', op: 'gt', value: 1 }, { by: 'channel' }],
    });
    expect(twice.status).toBe(422);
    expect(twice.body.error.issues[0].message).toBe('segment "channel=web" is defined twice');
    const many = Array.from({ length: MAX_SEGMENTS - 3 }, (_, i) => ({
      name: `s${i}`,
      feature: 'income',
      op: 'gt',
      value: i,
    }));
    const tooMany = await api.call('PUT', '/v1/models/credit/segments', {
      segments: [...many, { by: 'channel' }],
    });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.error.issues[0].message).toBe(
      `the definitions make ${MAX_SEGMENTS + 1} segments; a model has at most ${MAX_SEGMENTS}`,
    );
    for (const body of [
      {},
      { segments: [{ by: 'channel', extra: 1 }] },
      { segments: [{ name: 's', feature: 'x' }] },
    ]) {
      const res = await api.call('PUT', '/v1/models/credit/segments', body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect(await stored()).toEqual(before);
  });

  it('answers 404 for a model that does not exist', async () => {
    const res = await api.call('PUT', '/v1/models/ghost/segments', { segments: [] });
    expect(res.status).toBe(404);
  });

  it('an empty list removes every segment', async () => {
    const res = await api.call('PUT', '/v1/models/credit/segments', { segments: [] });
    expect(res.status).toBe(200);
    expect(res.body.segments).toEqual([]);
    expect(await stored()).toEqual([]);
  });
});
