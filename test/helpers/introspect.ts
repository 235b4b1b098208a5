// Reads a database's schema into one provider-neutral shape, so the SQLite and PostgreSQL migration
// sets can be compared table by table, column by column.
import Database from 'better-sqlite3';
import pg from 'pg';
import type { DatabaseConfig } from '../../lib/db/config.ts';

export interface NeutralColumn {
  type: 'text' | 'int' | 'float' | 'datetime' | 'json' | 'bool';
  nullable: boolean;
  hasDefault: boolean;
}
export interface NeutralTable {
  columns: Record<string, NeutralColumn>;
  primaryKey: string[];
  /** Unique indexes and plain indexes, each as its column list. */
  uniques: string[][];
  indexes: string[][];
  foreignKeys: string[];
}
export type NeutralSchema = Record<string, NeutralTable>;

const SQLITE_TYPES: Record<string, NeutralColumn['type']> = {
  TEXT: 'text',
  INTEGER: 'int',
  REAL: 'float',
  DATETIME: 'datetime',
  JSONB: 'json',
  BOOLEAN: 'bool',
};
const PG_TYPES: Record<string, NeutralColumn['type']> = {
  text: 'text',
  integer: 'int',
  'double precision': 'float',
  'timestamp without time zone': 'datetime',
  jsonb: 'json',
  boolean: 'bool',
};

function neutralType(map: Record<string, NeutralColumn['type']>, raw: string): NeutralColumn['type'] {
  const type = map[raw];
  if (!type) throw new Error(`no neutral type for column type ${raw}`);
  return type;
}

const sortLists = (lists: string[][]) =>
  lists
    .map((l) => l.join(','))
    .sort()
    .map((l) => l.split(','));
const isLedger = (table: string) => table === '_prisma_migrations';

function introspectSqlite(file: string): NeutralSchema {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as { name: string }[];
    const schema: NeutralSchema = {};
    for (const { name } of tables.filter((t) => !isLedger(t.name))) {
      const cols = db.prepare(`PRAGMA table_info("${name}")`).all() as {
        name: string;
        type: string;
        notnull: number;
        dflt_value: string | null;
        pk: number;
      }[];
      const indexes = db.prepare(`PRAGMA index_list("${name}")`).all() as {
        name: string;
        unique: number;
        origin: string;
      }[];
      const columnsOf = (index: string) =>
        (db.prepare(`PRAGMA index_info("${index}")`).all() as { name: string }[]).map((c) => c.name);
      const fks = db.prepare(`PRAGMA foreign_key_list("${name}")`).all() as {
        table: string;
        from: string;
        to: string;
        on_delete: string;
      }[];
      schema[name] = {
        columns: Object.fromEntries(
          cols.map((c) => [
            c.name,
            {
              type: neutralType(SQLITE_TYPES, c.type),
              nullable: c.notnull === 0 && c.pk === 0,
              hasDefault: c.dflt_value !== null,
            },
          ]),
        ),
        primaryKey: cols
          .filter((c) => c.pk > 0)
          .sort((a, b) => a.pk - b.pk)
          .map((c) => c.name),
        uniques: sortLists(
          indexes.filter((i) => i.unique && i.origin !== 'pk').map((i) => columnsOf(i.name)),
        ),
        indexes: sortLists(indexes.filter((i) => !i.unique).map((i) => columnsOf(i.name))),
        foreignKeys: fks
          .map((f) => `${f.from}->${f.table}.${f.to} on delete ${f.on_delete.toLowerCase()}`)
          .sort(),
      };
    }
    return schema;
  } finally {
    db.close();
  }
}

async function introspectPostgres(url: string): Promise<NeutralSchema> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: cols } = await client.query<{
      table_name: string;
      column_name: string;
      data_type: string;
      is_nullable: string;
      column_default: string | null;
    }>(
      `SELECT table_name, column_name, data_type, is_nullable, column_default
       FROM information_schema.columns WHERE table_schema = 'public' ORDER BY ordinal_position`,
    );
    const { rows: indexes } = await client.query<{
      table: string;
      unique: boolean;
      primary: boolean;
      columns: string[];
    }>(
      `SELECT t.relname::text AS table, ix.indisunique AS unique, ix.indisprimary AS primary,
              array_agg(a.attname::text ORDER BY k.n) AS columns
       FROM pg_index ix
       JOIN pg_class t ON t.oid = ix.indrelid
       JOIN pg_namespace ns ON ns.oid = t.relnamespace AND ns.nspname = 'public'
       CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n)
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
       GROUP BY t.relname, ix.indexrelid, ix.indisunique, ix.indisprimary`,
    );
    const { rows: fks } = await client.query<{
      table: string;
      from: string;
      to_table: string;
      to: string;
      on_delete: string;
    }>(
      // From the catalog, column pair by column pair: information_schema pairs every column of a
      // composite key with every referenced column.
      `SELECT cl.relname::text AS table, a.attname::text AS from, rt.relname::text AS to_table,
              ra.attname::text AS to,
              CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'r' THEN 'RESTRICT'
                                 WHEN 'd' THEN 'SET DEFAULT' ELSE 'NO ACTION' END AS on_delete
       FROM pg_constraint c
       JOIN pg_class cl ON cl.oid = c.conrelid
       JOIN pg_namespace ns ON ns.oid = cl.relnamespace AND ns.nspname = 'public'
       JOIN pg_class rt ON rt.oid = c.confrelid
       CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(col, ref)
       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col
       JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.ref
       WHERE c.contype = 'f'`,
    );
    const schema: NeutralSchema = {};
    for (const c of cols.filter((c) => !isLedger(c.table_name))) {
      schema[c.table_name] ??= { columns: {}, primaryKey: [], uniques: [], indexes: [], foreignKeys: [] };
      schema[c.table_name]!.columns[c.column_name] = {
        type: neutralType(PG_TYPES, c.data_type),
        nullable: c.is_nullable === 'YES',
        hasDefault: c.column_default !== null,
      };
    }
    for (const ix of indexes.filter((i) => !isLedger(i.table))) {
      const table = schema[ix.table]!;
      if (ix.primary) table.primaryKey = ix.columns;
      else (ix.unique ? table.uniques : table.indexes).push(ix.columns);
    }
    for (const f of fks.filter((f) => !isLedger(f.table))) {
      schema[f.table]!.foreignKeys.push(
        `${f.from}->${f.to_table}.${f.to} on delete ${f.on_delete.toLowerCase()}`,
      );
    }
    for (const table of Object.values(schema)) {
      table.uniques = sortLists(table.uniques);
      table.indexes = sortLists(table.indexes);
      table.foreignKeys.sort();
    }
    return schema;
  } finally {
    await client.end();
  }
}

export function introspect(config: DatabaseConfig): Promise<NeutralSchema> {
  return config.provider === 'sqlite'
    ? Promise.resolve(introspectSqlite(config.url))
    : introspectPostgres(config.url);
}
