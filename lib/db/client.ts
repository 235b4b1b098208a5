// One Prisma client per process, built for the configured provider. Both generated clients come from
// the same models (prisma/models.prisma), so the SQLite client's type describes either of them.
import type { PrismaClient } from '../../generated/prisma-sqlite/client.ts';
import { type DatabaseConfig, resolveDatabaseConfig } from './config.ts';

export type Store = PrismaClient;

/** SQLite waits this long for a lock held by another process (API and worker share the file). */
const SQLITE_BUSY_TIMEOUT_MS = 10_000;

export async function createStore(config: DatabaseConfig = resolveDatabaseConfig()): Promise<Store> {
  if (config.provider === 'postgresql') {
    const [{ PrismaClient: PgClient }, { PrismaPg }] = await Promise.all([
      import('../../generated/prisma-postgresql/client.ts'),
      import('@prisma/adapter-pg'),
    ]);
    // The two clients differ only in their provider; their model APIs are generated from one source.
    return new PgClient({ adapter: new PrismaPg({ connectionString: config.url }) }) as unknown as Store;
  }
  const [{ PrismaClient: SqliteClient }, { PrismaBetterSQLite3 }] = await Promise.all([
    import('../../generated/prisma-sqlite/client.ts'),
    import('@prisma/adapter-better-sqlite3'),
  ]);
  return new SqliteClient({
    adapter: new PrismaBetterSQLite3({ url: config.url, timeout: SQLITE_BUSY_TIMEOUT_MS }),
  });
}
