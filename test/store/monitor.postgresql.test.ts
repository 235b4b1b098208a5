// Monitor and Detect over the store on PostgreSQL (the suite is in monitor-suite.ts).
import { describeOnPostgres } from '../helpers/db.ts';
import { monitorAndDetectSuite } from './monitor-suite.ts';

describeOnPostgres('PostgreSQL', () => monitorAndDetectSuite('postgresql'));
