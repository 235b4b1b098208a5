// Monitor and Detect over the store on SQLite (the suite is in monitor-suite.ts).
import { monitorAndDetectSuite } from './monitor-suite.ts';

monitorAndDetectSuite('sqlite');
