// The API process: PORT (default 3000) and HOST (default 127.0.0.1).
import type { AddressInfo } from 'node:net';
import { createStore } from '../lib/db/client.ts';
import { resolveDatabaseConfig } from '../lib/db/config.ts';
import { migrateDatabase } from '../lib/db/migrate.ts';
import { drainPredictionWriters } from '../lib/ingest/prediction-writer.ts';
import { logger } from '../lib/log.ts';
import { egressPolicyAtStart } from '../lib/net/egress.ts';
import { agentOptionsFromEnv, lazyClient } from '../lib/temporal.ts';
import { createApi } from './app.ts';

egressPolicyAtStart((message) => logger.fatal(message));
const db = resolveDatabaseConfig();
await migrateDatabase(db, (line) => logger.info(line));
const store = await createStore(db);
// Temporal is not needed to start: the gateway, ingestion and the registry work without it, and the
// routes that need it answer within their deadline while it is down.
const temporal = lazyClient();
const api = createApi({ store, temporal, agentOptions: agentOptionsFromEnv() });
const server = api.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address() as AddressInfo;
  logger.info({ url: `http://${address}:${port}` }, 'api listening');
});

/** HOMEOSTAT_SHUTDOWN_MS (default 10 000): how long a stop may take before the process exits anyway. */
const SHUTDOWN_MS = Number(process.env.HOMEOSTAT_SHUTDOWN_MS ?? 10_000);

function shutdown(signal: string) {
  logger.info({ signal }, 'api stopping');
  // Keep-alive connections and a database that does not answer would otherwise hold the stop for ever.
  setTimeout(() => {
    logger.error({ ms: SHUTDOWN_MS }, 'api did not stop in time: exiting');
    process.exit(1);
  }, SHUTDOWN_MS).unref();
  server.closeIdleConnections();
  server.close(async () => {
    await drainPredictionWriters(); // shadow predictions still being written
    await Promise.all([store.$disconnect(), temporal.connection.close()]);
    process.exit(0);
  });
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
