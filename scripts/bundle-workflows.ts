// `npm run worker:bundle -- <file>`: writes the workflow bundle a worker runs, so that workers started with
// HOMEOSTAT_WORKFLOW_BUNDLE=<file> skip bundling at start (docs/operations.md). Build it from the version
// the workers run: a bundle of other workflow code replays their histories differently.
import fs from 'node:fs';
import path from 'node:path';
import { buildWorkflowBundle } from '../worker/worker.ts';

const out = process.argv[2];
if (!out) {
  console.error('usage: npm run worker:bundle -- <file>');
  process.exit(2);
}
fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
fs.writeFileSync(out, await buildWorkflowBundle());
console.log(`wrote ${out}`);
