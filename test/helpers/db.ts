// Fresh, migrated databases for tests: a temporary SQLite file, or a new PostgreSQL database on the
// server TEST_POSTGRES_URL names (default: the local server on 127.0.0.1:5432 with trust auth).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe } from 'vitest';
import { createStore, type Store } from '../../lib/db/client.ts';
import type { DatabaseConfig, DatabaseProvider } from '../../lib/db/config.ts';
import { migrateDatabase } from '../../lib/db/migrate.ts';
import { PROVIDERS } from '../../scripts/db-schemas.ts';

export const TEST_POSTGRES_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** HOMEOSTAT_TEST_SKIP_POSTGRES=1: there is no PostgreSQL server here, so its tests are skipped. */
const POSTGRES_SKIPPED = process.env.HOMEOSTAT_TEST_SKIP_POSTGRES === '1';

/**
 * A describe block that needs PostgreSQL. Without it the block is still declared, marked skipped with the
 * reason in its title, so that the run's "N skipped" counts the tests it did not run instead of losing them.
 */
export function describeOnPostgres(title: string, body: () => void): void {
  describe.skipIf(POSTGRES_SKIPPED)(
    POSTGRES_SKIPPED ? `${title} (skipped: HOMEOSTAT_TEST_SKIP_POSTGRES=1)` : title,
    body,
  );
}

/** describe.each over every database provider (`%s` in the title names it). */
export function describeEachProvider(title: string, body: (provider: DatabaseProvider) => void): void {
  for (const provider of PROVIDERS) {
    const named = title.replace('%s', provider);
    if (provider === 'postgresql') describeOnPostgres(named, () => body(provider));
    else describe(named, () => body(provider));
  }
}

export interface TestDatabase {
  config: DatabaseConfig;
  store: Store;
  drop(): Promise<void>;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** An empty database of the provider, not yet migrated. */
export async function createEmptyDatabase(provider: DatabaseProvider): Promise<{
  config: DatabaseConfig;
  drop(): Promise<void>;
}> {
  if (provider === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homeostat-test-'));
    return {
      config: { provider, url: path.join(dir, 'test.db') },
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `homeostat_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    config: { provider, url: url.toString() },
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

export async function createTestDatabase(provider: DatabaseProvider = 'sqlite'): Promise<TestDatabase> {
  const empty = await createEmptyDatabase(provider);
  await migrateDatabase(empty.config);
  const store = await createStore(empty.config);
  return {
    config: empty.config,
    store,
    async drop() {
      await store.$disconnect();
      await empty.drop();
    },
  };
}

/** Rows of the tables traffic writes to: tests compare them before and after a refused request. */
export async function trafficCounts(store: Store): Promise<{ predictions: number; labels: number }> {
  return { predictions: await store.prediction.count(), labels: await store.label.count() };
}

/** Runs SQL as someone with direct access to the database would (bypassing the audited path). */
export async function tamper(config: DatabaseConfig, sql: string): Promise<void> {
  if (config.provider === 'sqlite') {
    const db = new Database(config.url);
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: config.url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
