// The canary split's key: generated once and stored, so every process and restart routes an id alike;
// or configured, and then long enough not to be guessed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadRoutingSecret, MIN_ROUTING_SECRET_LENGTH } from '../../lib/registry/routing-secret.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase } from '../helpers/db.ts';

describeEachProvider('routing secret on %s', (provider) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(provider);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('is generated once, by whichever process asks first, and stored for every other', async () => {
    const secrets = await Promise.all([0, 1, 2, 3].map(() => loadRoutingSecret(db.store, undefined)));
    expect(new Set(secrets).size).toBe(1);
    expect(secrets[0]!.length).toBeGreaterThanOrEqual(MIN_ROUTING_SECRET_LENGTH);
    expect(await db.store.serverSecret.findMany({ select: { name: true, value: true } })).toEqual([
      { name: 'canary-routing', value: secrets[0] },
    ]);
    expect(await loadRoutingSecret(db.store, '')).toBe(secrets[0]);
  });

  it('takes a configured secret instead, and refuses a short one', async () => {
    const configured = 'x'.repeat(MIN_ROUTING_SECRET_LENGTH);
    expect(await loadRoutingSecret(db.store, configured)).toBe(configured);
    await expect(loadRoutingSecret(db.store, 'short')).rejects.toThrow(/at least 32 characters/);
  });
});
