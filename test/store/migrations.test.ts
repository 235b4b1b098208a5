// One data model, two migration sets: each set must build exactly what prisma/models.prisma describes,
// and the two must build the same schema.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '../../lib/db/client.ts';
import { type DatabaseConfig, type DatabaseProvider, REPO_ROOT } from '../../lib/db/config.ts';
import { migrateDatabase, readMigrations } from '../../lib/db/migrate.ts';
import { PROVIDERS, renderSchema, schemaFile } from '../../scripts/db-schemas.ts';
import { createEmptyDatabase, describeEachProvider, describeOnPostgres } from '../helpers/db.ts';
import { introspect, type NeutralSchema } from '../helpers/introspect.ts';

const run = promisify(execFile);
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(drops.map((d) => d()));
});

async function emptyDatabase(provider: DatabaseProvider) {
  const db = await createEmptyDatabase(provider);
  drops.push(db.drop);
  return db.config;
}

async function execute(config: DatabaseConfig, sql: string) {
  if (config.provider === 'sqlite') {
    const db = new Database(config.url);
    db.exec(sql);
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: config.url });
  await client.connect();
  await client.query(sql);
  await client.end();
}

/** The SQL Prisma itself derives from the provider's schema, for an empty database. */
async function prismaSqlFromModels(provider: DatabaseProvider, config: DatabaseConfig): Promise<string> {
  const placeholder = path.join(REPO_ROOT, 'node_modules', '.cache', 'homeostat', 'no-native-engine');
  const url = provider === 'sqlite' ? `file:${config.url}` : config.url;
  const { stdout } = await run(
    'npx',
    ['prisma', 'migrate', 'diff', '--from-empty', '--to-schema-datamodel', schemaFile(provider), '--script'],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        DATABASE_URL: url,
        PRISMA_SCHEMA_ENGINE_BINARY: placeholder,
        PRISMA_QUERY_ENGINE_LIBRARY: placeholder,
      },
    },
  );
  return stdout;
}

const migrated: Partial<Record<DatabaseProvider, NeutralSchema>> = {};

describe('schema files', () => {
  it.each(PROVIDERS)('prisma/%s/schema.prisma is generated from models.prisma', (provider) => {
    expect(fs.readFileSync(schemaFile(provider), 'utf8')).toBe(renderSchema(provider));
  });
});

describeEachProvider('%s migration set', (provider) => {
  it('applies once, then is a no-op, and records itself in Prisma’s ledger', async () => {
    const config = await emptyDatabase(provider);
    const first = await migrateDatabase(config);
    expect(first).toEqual(readMigrations(provider).map((m) => m.name));
    expect(await migrateDatabase(config)).toEqual([]);
    migrated[provider] = await introspect(config);
    expect(Object.keys(migrated[provider]!).sort()).toEqual(
      [
        'Action',
        'ApiKey',
        'AuditEntry',
        'AuditHead',
        'Decision',
        'DeploymentRevision',
        'Finding',
        'Incident',
        'Label',
        'MetricWindow',
        'Model',
        'ModelVersion',
        'PolicyVersion',
        'Prediction',
        'ServerSecret',
        'Session',
        'User',
      ].sort(),
    );
  });

  it('builds exactly the schema Prisma derives from the models', async () => {
    const config = await emptyDatabase(provider);
    await execute(config, await prismaSqlFromModels(provider, config));
    const fromModels = await introspect(config);
    const fromMigrations = migrated[provider] ?? (await introspect(await migratedCopy(provider)));
    expect(fromMigrations).toEqual(fromModels);
  }, 60_000);

  it('carries keys over as keys for every model, and labels over the new prediction key', async () => {
    const config = await emptyDatabase(provider);
    const all = readMigrations(provider);
    const index = all.findIndex((m) => m.name.endsWith('_key_scopes'));
    expect(index).toBeGreaterThan(0);
    await migrateDatabase(config, () => {}, all.slice(0, index));
    await execute(
      config,
      `INSERT INTO "Model" ("id", "name", "task", "featureSchema", "updatedAt")
         VALUES ('m1', 'credit', 'binary', '[]', CURRENT_TIMESTAMP);
       INSERT INTO "ApiKey" ("id", "name", "role", "hash", "prefix") VALUES ('k1', 'ops', 'operator', 'h', 'hs_x');
       INSERT INTO "Prediction" ("id", "modelId", "source", "features", "predictedAt")
         VALUES ('p1', 'm1', 'logged', '{}', CURRENT_TIMESTAMP);
       INSERT INTO "Label" ("id", "modelId", "predictionId", "value", "observedAt")
         VALUES ('l1', 'm1', 'p1', '"yes"', CURRENT_TIMESTAMP);`,
    );
    expect(await migrateDatabase(config)).toEqual(all.slice(index).map((m) => m.name));
    const store = await createStore(config);
    try {
      expect(await store.apiKey.findMany({ select: { name: true, models: true } })).toEqual([
        { name: 'ops', models: ['*'] },
      ]);
      const labels = await store.label.findMany({ include: { prediction: { select: { id: true } } } });
      expect(labels).toMatchObject([{ id: 'l1', predictionId: 'p1', prediction: { id: 'p1' } }]);
    } finally {
      await store.$disconnect();
    }
  });

  it('refuses a migration edited after it was applied', async () => {
    const config = await emptyDatabase(provider);
    await migrateDatabase(config);
    await execute(config, `UPDATE "_prisma_migrations" SET checksum = 'edited'`);
    await expect(migrateDatabase(config)).rejects.toThrow(/was changed after it was applied/);
  });
});

async function migratedCopy(provider: DatabaseProvider) {
  const config = await emptyDatabase(provider);
  await migrateDatabase(config);
  return config;
}

describeOnPostgres('both migration sets', () => {
  it('produce the same tables, columns, keys and indexes', async () => {
    const sqlite = migrated.sqlite ?? (await introspect(await migratedCopy('sqlite')));
    const postgres = migrated.postgresql ?? (await introspect(await migratedCopy('postgresql')));
    expect(sqlite).toEqual(postgres);
  });
});
