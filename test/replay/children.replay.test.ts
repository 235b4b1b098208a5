// Replays every committed child-workflow history (the remedies, the canary and shadow trials, verify:
// workflows/remedies.ts) against the current workflow code. Child ids derive from the agent's own id
// and a retrain starts its canary or shadow under its own id plus a suffix, so each history replays
// under the workflow id it ran with, kept beside it in test/histories/children/workflow-ids.json.
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../helpers/temporal.ts';

const dir = path.join(import.meta.dirname, '..', 'histories', 'children');
const ids = JSON.parse(fs.readFileSync(path.join(dir, 'workflow-ids.json'), 'utf8')) as Record<
  string,
  string
>;
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json');

function load(file: string) {
  return historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
}

/** The workflow function a history ran. */
function typeOf(file: string): string | null | undefined {
  return load(file).events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
}

describe('committed child-workflow histories', () => {
  it('cover every child workflow, each with the workflow id it ran under', () => {
    expect(files.sort()).toEqual(Object.keys(ids).sort());
    expect(new Set(files.map(typeOf))).toEqual(
      new Set([
        'rollbackWorkflow',
        'fallbackWorkflow',
        'disableWorkflow',
        'retrainWorkflow',
        'canaryWorkflow',
        'shadowWorkflow',
        'verifyWorkflow',
      ]),
    );
  });

  it('all replay against the current workflow code', { timeout: 60_000 }, async () => {
    const histories = files.map((file) => ({ workflowId: ids[file]!, history: load(file) }));
    const failed: string[] = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: await workflowBundle() },
      histories,
    )) {
      if (result.error) failed.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failed).toEqual([]);
    expect(histories.length).toBe(files.length);
  });
});
