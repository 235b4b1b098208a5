// Read-then-write transactions on SQLite. SQLite runs in WAL mode (lib/db/migrate.ts), where a
// transaction that has read and then writes fails at once with SQLITE_BUSY_SNAPSHOT when another process
// (API or worker) committed in between — no busy timeout helps, since its snapshot is stale. Under live
// traffic that is near certain for a transaction that reads, computes for a while and then writes (a
// version's registration) and happens now and then to a short one (a deployment change: the occasional
// 500 on POST /deployment). Taking the write lock with the transaction's first statement turns the
// conflict into an ordinary wait on the lock, bounded by the busy timeout (lib/db/client.ts).
import type { Store } from './client.ts';

type Transaction = Pick<Store, '$executeRawUnsafe'>;

/**
 * Takes the database's write lock for the rest of the transaction: call it first. A write that matches
 * no row, so it changes nothing; on PostgreSQL, where rows are locked one by one, it is as harmless.
 */
export async function takeWriteLock(tx: Transaction): Promise<void> {
  await tx.$executeRawUnsafe('DELETE FROM "Model" WHERE 1 = 0');
}
