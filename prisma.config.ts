// Prisma CLI configuration. The CLI runs its WebAssembly schema engine through a driver adapter
// (engine: 'js'), so `migrate deploy`, `migrate diff` and `db push` need no native engine download.
// DATABASE_URL picks the provider, its schema and its migration set.
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';
import { prismaDirFor, resolveDatabaseConfig } from './lib/db/config.ts';

const db = resolveDatabaseConfig();
const dir = prismaDirFor(db.provider);

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join(dir, 'schema.prisma'),
  migrations: { path: path.join(dir, 'migrations') },
  async adapter() {
    return db.provider === 'postgresql'
      ? new PrismaPg({ connectionString: db.url })
      : new PrismaBetterSQLite3({ url: db.url });
  },
});
