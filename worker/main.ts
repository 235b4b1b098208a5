// The worker process. It brings the database schema up to date, makes sure every registered model has
// its agent running (at start and then periodically, see reconcile.ts), then serves workflow and activity
// tasks until SIGINT/SIGTERM, when it finishes in-flight activities (within the grace time) and exits.
import { NativeConnection } from '@temporalio/worker';
import { createStore } from '../lib/db/client.ts';
import { resolveDatabaseConfig } from '../lib/db/config.ts';
import { migrateDatabase } from '../lib/db/migrate.ts';
import { findingRulesFromEnv } from '../lib/extensions/finding-rules.ts';
import { logger } from '../lib/log.ts';
import { egressPolicyAtStart } from '../lib/net/egress.ts';
import { searchAttributesAtStart } from '../lib/search-attributes-admin.ts';
import { agentOptionsFromEnv, lazyClient, temporalSettings } from '../lib/temporal.ts';
import { reconcileIntervalFromEnv, startReconciler } from './reconcile.ts';
import { workerTuningFromEnv } from './tuning.ts';
import { createHomeostatWorker } from './worker.ts';
import { workflowBundleFromEnv } from './workflow-bundle.ts';

egressPolicyAtStart((message) => logger.fatal(message));
const db = resolveDatabaseConfig();
await migrateDatabase(db, (line) => logger.info(line));
const store = await createStore(db);
const settings = temporalSettings();
const tuning = workerTuningFromEnv();
const workflowBundle = (() => {
  try {
    return workflowBundleFromEnv();
  } catch (error) {
    logger.fatal((error as Error).message);
    process.exit(1);
  }
})();
const attributes = await searchAttributesAtStart(
  settings.address,
  settings.namespace,
  process.env.HOMEOSTAT_REGISTER_SEARCH_ATTRIBUTES === '1',
);
if (attributes.status === 'missing') {
  logger.fatal(
    { missing: attributes.names, namespace: settings.namespace },
    'the namespace lacks Homeostat search attributes, so every agent would fail: register them with `npm run temporal:search-attributes` (docs/operations.md), or set HOMEOSTAT_REGISTER_SEARCH_ATTRIBUTES=1',
  );
  process.exit(1);
}
if (attributes.status === 'unchecked')
  logger.warn({ why: attributes.why }, 'could not list search attributes; assuming they are registered');
if (attributes.status === 'registered')
  logger.info({ added: attributes.names }, 'registered search attributes');
// The user's own finding rules (HOMEOSTAT_FINDING_RULES): a module that cannot be used stops the worker
// here, with its reason, rather than leaving the agents to judge without it.
const findingRules = await findingRulesFromEnv().catch((error: Error) => {
  logger.fatal(error.message);
  process.exit(1);
});
if (findingRules.length > 0)
  logger.info({ rules: findingRules.map((r) => r.name) }, 'custom finding rules loaded');
const connection = await NativeConnection.connect({ address: settings.address });
const worker = await createHomeostatWorker({
  tuning,
  connection,
  namespace: settings.namespace,
  taskQueue: settings.taskQueue,
  store,
  extensions: { findingRules },
  ...(workflowBundle ? { workflowBundle } : {}),
});

const client = lazyClient();
const reconciler = startReconciler(client, store, agentOptionsFromEnv(), reconcileIntervalFromEnv());
await reconciler.firstRound;
logger.info(
  {
    taskQueue: settings.taskQueue,
    db: db.provider,
    tuning,
    workflowBundle: workflowBundle?.codePath ?? 'bundled at start',
  },
  'worker started',
);

// Worker.run() resolves once a shutdown signal has drained the worker (Temporal installs the handlers).
await worker.run();
reconciler.stop();
await Promise.all([connection.close(), client.connection.close(), store.$disconnect()]);
logger.info('worker stopped');
