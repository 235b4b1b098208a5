// Once per `vitest run`: a directory the run's test files share (test/helpers/temporal.ts keeps the one
// workflow bundle of the run there), removed at the end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const SHARED_DIR_ENV = 'HOMEOSTAT_TEST_SHARED_DIR';

export default function setup(): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homeostat-test-run-'));
  // Test files run in forks of this process, which inherit its environment.
  process.env[SHARED_DIR_ENV] = dir;
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
