// Applies the provider's committed SQL migration set (prisma/<provider>/migrations) and records each
// migration in Prisma's own `_prisma_migrations` table, so a database set up here can later be managed
// by `prisma migrate deploy` too. We apply them ourselves because Prisma 6.19's WebAssembly schema
// engine cannot read PostgreSQL catalogs through @prisma/adapter-pg (prisma/prisma#27403), and the
// native engine it would otherwise use must be downloaded, which offline machines cannot do.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type DatabaseConfig, prismaDirFor, resolveDatabaseConfig } from './config.ts';

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(provider: DatabaseConfig['provider']): Migration[] {
  const dir = path.join(prismaDirFor(provider), 'migrations');
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

interface MigrationDriver {
  applied(): Promise<Map<string, string>>;
  apply(migration: Migration): Promise<void>;
  close(): Promise<void>;
}

const LEDGER_COLUMNS = `"id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMP,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMP,
  "started_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0`;

async function sqliteDriver(file: string): Promise<MigrationDriver> {
  const { default: Database } = await import('better-sqlite3');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, { timeout: 10_000 });
  // WAL lets the API read while the worker writes; it is a property of the file, set once here.
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (${LEDGER_COLUMNS})`);
  return {
    async applied() {
      const rows = db
        .prepare('SELECT migration_name, checksum FROM "_prisma_migrations" WHERE rolled_back_at IS NULL')
        .all() as { migration_name: string; checksum: string }[];
      return new Map(rows.map((r) => [r.migration_name, r.checksum]));
    },
    async apply(m) {
      // SQLite changes a table's keys by rebuilding it (create, copy, drop, rename). With foreign keys
      // on, dropping the old table would cascade to the rows that refer to it, and the pragma cannot
      // change inside a transaction: so it is off around it, and the keys are checked before the commit
      // (the procedure of sqlite.org/lang_altertable.html).
      db.pragma('foreign_keys = OFF');
      try {
        db.transaction(() => {
          db.exec(m.sql);
          const broken = db.pragma('foreign_key_check') as unknown[];
          if (broken.length > 0) {
            throw new Error(`migration ${m.name} leaves ${broken.length} row(s) with a broken foreign key`);
          }
          db.prepare(
            `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count)
           VALUES (?, ?, ?, CURRENT_TIMESTAMP, 1)`,
          ).run(randomUUID(), m.checksum, m.name);
        })();
      } finally {
        db.pragma('foreign_keys = ON');
      }
    },
    async close() {
      db.close();
    },
  };
}

async function postgresDriver(url: string): Promise<MigrationDriver> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // Several processes may start at once (API, worker); the advisory lock serialises their migrators.
  await client.query('SELECT pg_advisory_lock(727274)');
  await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (${LEDGER_COLUMNS})`);
  return {
    async applied() {
      const { rows } = await client.query<{ migration_name: string; checksum: string }>(
        'SELECT migration_name, checksum FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
      );
      return new Map(rows.map((r) => [r.migration_name, r.checksum]));
    },
    async apply(m) {
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count)
           VALUES ($1, $2, $3, CURRENT_TIMESTAMP, 1)`,
          [randomUUID(), m.checksum, m.name],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    },
    async close() {
      await client.query('SELECT pg_advisory_unlock(727274)');
      await client.end();
    },
  };
}

/** Brings the database up to date. Returns the names of the migrations it applied. */
export async function migrateDatabase(
  config: DatabaseConfig = resolveDatabaseConfig(),
  log: (line: string) => void = () => {},
  /** The set to bring it to; a test passes the set as it was before a migration, to check that one on data. */
  migrations: Migration[] = readMigrations(config.provider),
): Promise<string[]> {
  const driver =
    config.provider === 'postgresql' ? await postgresDriver(config.url) : await sqliteDriver(config.url);
  try {
    const applied = await driver.applied();
    const done: string[] = [];
    for (const migration of migrations) {
      const checksum = applied.get(migration.name);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new Error(
            `migration ${migration.name} was changed after it was applied to this database; ` +
              'add a new migration instead of editing an applied one',
          );
        }
        continue;
      }
      log(`applying migration ${migration.name} (${config.provider})`);
      await driver.apply(migration);
      done.push(migration.name);
    }
    return done;
  } finally {
    await driver.close();
  }
}
