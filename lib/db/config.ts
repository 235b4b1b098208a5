// Which database Homeostat talks to. SQLite under ./data is the zero-setup default;
// a postgres:// or postgresql:// DATABASE_URL switches every component to PostgreSQL.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type DatabaseProvider = 'sqlite' | 'postgresql';

export interface DatabaseConfig {
  provider: DatabaseProvider;
  /** Connection string for PostgreSQL, absolute file path for SQLite. */
  url: string;
}

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_SQLITE_FILE = path.join(REPO_ROOT, 'data', 'homeostat.db');

export function resolveDatabaseConfig(databaseUrl = process.env.DATABASE_URL): DatabaseConfig {
  if (!databaseUrl) return { provider: 'sqlite', url: DEFAULT_SQLITE_FILE };
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return { provider: 'postgresql', url: databaseUrl };
  if (databaseUrl.startsWith('file:')) {
    return { provider: 'sqlite', url: path.resolve(REPO_ROOT, databaseUrl.slice('file:'.length)) };
  }
  throw new Error(
    `DATABASE_URL must start with postgres://, postgresql:// or file: (got "${databaseUrl.split(':')[0]}:...")`,
  );
}

/** Folder that holds a provider's generated schema.prisma and its migration set. */
export function prismaDirFor(provider: DatabaseProvider): string {
  return path.join(REPO_ROOT, 'prisma', provider);
}
