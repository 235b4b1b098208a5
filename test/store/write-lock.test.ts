// Two processes on one SQLite file (the API and the worker): a transaction that reads, then writes after
// the other committed, fails with SQLITE_BUSY_SNAPSHOT; one that takes the write lock first makes the
// other wait instead, and both succeed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../../lib/db/client.ts';
import { takeWriteLock } from '../../lib/db/write-lock.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase;
let other: Store;
const model = (name: string) => ({ name, task: 'binary', featureSchema: [], labels: ['0', '1'] });

beforeAll(async () => {
  db = await createTestDatabase('sqlite');
  other = await createStore(db.config);
});
afterAll(async () => {
  await other?.$disconnect();
  await db?.drop();
});

describe('read-then-write transactions on SQLite', () => {
  it('fail when another process commits between the read and the write', async () => {
    const attempt = db.store.$transaction(async (tx) => {
      await tx.model.count();
      await other.model.create({ data: model('committed-between') });
      await tx.model.create({ data: model('stale-writer') });
    });
    await expect(attempt).rejects.toThrow(/database is locked|SQLITE_BUSY/);
  });

  it('succeed when they take the write lock first: the other process waits for it', async () => {
    let waiting: Promise<unknown> | undefined;
    await db.store.$transaction(async (tx) => {
      await takeWriteLock(tx);
      await tx.model.count();
      waiting = other.model.create({ data: model('waited') });
      await tx.model.create({ data: model('locked-writer') });
    });
    await waiting;
    const names = (await db.store.model.findMany({ select: { name: true } })).map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['locked-writer', 'waited']));
  });
});
