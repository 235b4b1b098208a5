// Keeps Temporal's worker and core logs to warnings and errors, so test output shows what matters.
// Imported (first) by ./temporal.ts, through which every test that runs a worker, a server or a replay
// goes; a test file that never touches Temporal then does not load its native runtime (seconds a file
// on a loaded machine).
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';

Runtime.install({
  logger: new DefaultLogger('WARN'),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
});
