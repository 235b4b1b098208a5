// Replays every committed history against the current workflow code. Compatible histories must replay;
// the deliberately incompatible one must fail with a determinism violation.

import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { agentWorkflowId } from '../../lib/temporal.ts';
import { workflowBundle } from '../helpers/temporal.ts';

const dir = path.join(import.meta.dirname, '..', 'histories');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

async function replay(file: string) {
  const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
  // Child workflow ids derive from the agent's own id, so a history with remedies replays only under it.
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const input = payload?.data ? JSON.parse(Buffer.from(payload.data).toString('utf8')) : null;
  const workflowId = input?.modelName ? agentWorkflowId(input.modelName) : `replay-${file}`;
  return Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
}

describe('committed histories', () => {
  it('include at least two compatible histories and one incompatible one', () => {
    expect(files.filter((f) => !f.startsWith('incompatible-')).length).toBeGreaterThanOrEqual(2);
    expect(files.filter((f) => f.startsWith('incompatible-')).length).toBeGreaterThanOrEqual(1);
  });

  it.each(files.filter((f) => !f.startsWith('incompatible-')))('%s replays', async (file) => {
    await expect(replay(file)).resolves.toBeUndefined();
  });

  it.each(files.filter((f) => f.startsWith('incompatible-')))('%s fails to replay', async (file) => {
    await expect(replay(file)).rejects.toThrow(DeterminismViolationError);
  });
});
