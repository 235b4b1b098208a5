// Rows and bytes per table of a Homeostat database, indexes counted with their table: bench:fleet turns
// them into rows and bytes per model-day.
import type { Store } from '../lib/db/client.ts';
import type { DatabaseProvider } from '../lib/db/config.ts';

export interface TableFootprint {
  name: string;
  rows: number;
  /** Table and index pages; null where the database cannot tell (SQLite built without dbstat). */
  bytes: number | null;
}

async function rowsOf(store: Store, tables: string[]) {
  const counts = new Map<string, number>();
  for (const name of tables) {
    const [row] = await store.$queryRawUnsafe<{ n: bigint | number }[]>(
      `SELECT COUNT(*) AS n FROM "${name}"`,
    );
    counts.set(name, Number(row?.n ?? 0));
  }
  return counts;
}

export async function databaseFootprint(
  store: Store,
  provider: DatabaseProvider,
): Promise<{ tables: TableFootprint[]; totalBytes: number }> {
  if (provider === 'sqlite') {
    const tables = (
      await store.$queryRawUnsafe<{ name: string }[]>(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_%' ESCAPE '\\'`,
      )
    ).map((t) => t.name);
    const counts = await rowsOf(store, tables);
    const bytes = new Map<string, number>();
    try {
      const pages = await store.$queryRawUnsafe<{ tbl: string; bytes: bigint | number }[]>(
        `SELECT m.tbl_name AS tbl, SUM(d.pgsize) AS bytes FROM dbstat d JOIN sqlite_master m ON m.name = d.name GROUP BY m.tbl_name`,
      );
      for (const p of pages) bytes.set(p.tbl, Number(p.bytes));
    } catch {
      // no dbstat in this SQLite build: per-table bytes stay unknown, the total is still known
    }
    const [size] = await store.$queryRawUnsafe<{ bytes: bigint | number }[]>(
      'SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()',
    );
    return {
      tables: tables.map((name) => ({ name, rows: counts.get(name) ?? 0, bytes: bytes.get(name) ?? null })),
      totalBytes: Number(size?.bytes ?? 0),
    };
  }
  const tables = (
    await store.$queryRawUnsafe<{ name: string; bytes: bigint | number }[]>(
      `SELECT tablename AS name, pg_total_relation_size(quote_ident(tablename)) AS bytes FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE '\\_%'`,
    )
  ).map((t) => ({ name: t.name, bytes: Number(t.bytes) }));
  const counts = await rowsOf(
    store,
    tables.map((t) => t.name),
  );
  const [size] = await store.$queryRawUnsafe<{ bytes: bigint | number }[]>(
    'SELECT pg_database_size(current_database()) AS bytes',
  );
  return {
    tables: tables.map((t) => ({ ...t, rows: counts.get(t.name) ?? 0 })),
    totalBytes: Number(size?.bytes ?? 0),
  };
}
