// Keeps Temporal's worker and core logs to warnings and errors, so test output shows what matters.
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';

Runtime.install({
  logger: new DefaultLogger('WARN'),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
});
process.env.LOG_LEVEL ??= 'error';
