// Monitor and Detect over the store on PostgreSQL (the suite is in monitor-suite.ts).
import { TEST_PROVIDERS } from '../helpers/db.ts';
import { monitorAndDetectSuite } from './monitor-suite.ts';

if (TEST_PROVIDERS.includes('postgresql')) monitorAndDetectSuite('postgresql');
