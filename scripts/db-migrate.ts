// `npm run db:migrate`: applies pending migrations to the database DATABASE_URL names (SQLite by default).
import { resolveDatabaseConfig } from '../lib/db/config.ts';
import { migrateDatabase } from '../lib/db/migrate.ts';

const config = resolveDatabaseConfig();
const applied = await migrateDatabase(config, (line) => console.log(line));
console.log(
  applied.length ? `database ready (${config.provider})` : `database already up to date (${config.provider})`,
);
