// The worker process. It brings the database schema up to date, makes sure every registered model has
// its agent running, then serves workflow and activity tasks until SIGINT/SIGTERM, when it finishes
// in-flight activities (within the grace time) and exits.
import { NativeConnection } from '@temporalio/worker';
import { createStore } from '../lib/db/client.ts';
import { resolveDatabaseConfig } from '../lib/db/config.ts';
import { migrateDatabase } from '../lib/db/migrate.ts';
import { logger } from '../lib/log.ts';
import { egressPolicyAtStart } from '../lib/net/egress.ts';
import { agentOptionsFromEnv, connectClient, ensureAgent, temporalSettings } from '../lib/temporal.ts';
import { createHomeostatWorker } from './worker.ts';

egressPolicyAtStart((message) => logger.fatal(message));
const db = resolveDatabaseConfig();
await migrateDatabase(db, (line) => logger.info(line));
const store = await createStore(db);
const settings = temporalSettings();
const connection = await NativeConnection.connect({ address: settings.address });
const worker = await createHomeostatWorker({
  connection,
  namespace: settings.namespace,
  taskQueue: settings.taskQueue,
  store,
});

const client = await connectClient();
const models = await store.model.findMany({ select: { name: true } });
for (const { name } of models) await ensureAgent(client, name, agentOptionsFromEnv());
logger.info({ taskQueue: settings.taskQueue, agents: models.length, db: db.provider }, 'worker started');

// Worker.run() resolves once a shutdown signal has drained the worker (Temporal installs the handlers).
await worker.run();
await Promise.all([connection.close(), client.connection.close(), store.$disconnect()]);
logger.info('worker stopped');
