// One Prisma client per process, built for the configured provider. Both generated clients come from
// the same models (prisma/models.prisma), so the SQLite client's type describes either of them.
import type { PrismaClient } from '../../generated/prisma-sqlite/client.ts';
import { databaseTimeoutMs } from './availability.ts';
import { type DatabaseConfig, resolveDatabaseConfig } from './config.ts';

export type Store = PrismaClient;

/**
 * Interactive transactions may wait for their turn and run for longer than the database wait itself.
 * Prisma's defaults (2 s and 5 s) were shorter than SQLite's busy wait, so a transaction queued behind
 * another process's write was cancelled as "expired" and its request answered 500 on a loaded machine.
 */
function transactionOptions(timeoutMs: number) {
  return { maxWait: timeoutMs + 5_000, timeout: 3 * timeoutMs };
}

/**
 * `timeoutMs` bounds the wait for the database: a PostgreSQL connection, or a SQLite lock held by another
 * process (API and worker share the file). Past it the query fails as unavailable (api answers 503).
 */
export async function createStore(
  config: DatabaseConfig = resolveDatabaseConfig(),
  timeoutMs = databaseTimeoutMs(),
): Promise<Store> {
  if (config.provider === 'postgresql') {
    const [{ PrismaClient: PgClient }, { PrismaPg }] = await Promise.all([
      import('../../generated/prisma-postgresql/client.ts'),
      import('@prisma/adapter-pg'),
    ]);
    // The two clients differ only in their provider; their model APIs are generated from one source.
    return new PgClient({
      adapter: new PrismaPg({ connectionString: config.url, connectionTimeoutMillis: timeoutMs }),
      transactionOptions: transactionOptions(timeoutMs),
    }) as unknown as Store;
  }
  const [{ PrismaClient: SqliteClient }, { PrismaBetterSQLite3 }] = await Promise.all([
    import('../../generated/prisma-sqlite/client.ts'),
    import('@prisma/adapter-better-sqlite3'),
  ]);
  return new SqliteClient({
    adapter: new PrismaBetterSQLite3({ url: config.url, timeout: timeoutMs }),
    transactionOptions: transactionOptions(timeoutMs),
  });
}
