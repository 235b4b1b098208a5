// The agent's setPolicy update on the time-skipping server, with the real activities and a SQLite store:
// the workflow bundle carries no schema, so an invalid document is refused by the savePolicy activity
// (InvalidPolicy, not retried) and the update fails with its issues; a valid one becomes the next version.

import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentWorkflowId } from '../../lib/temporal.ts';
import { createHomeostatWorker } from '../../worker/worker.ts';
import { setPolicyUpdate } from '../../workflows/messages.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import {
  agentStatus,
  startTimeSkippingServer,
  waitForFirstCycle,
  workflowBundle,
} from '../helpers/temporal.ts';
import { registerTestModel } from '../helpers/traffic.ts';

let env: TestWorkflowEnvironment;
let db: TestDatabase;

beforeAll(async () => {
  [env, db] = await Promise.all([startTimeSkippingServer(), createTestDatabase('sqlite')]);
});
afterAll(async () => {
  await Promise.all([env?.teardown(), db?.drop()]);
});

describe('agent setPolicy update', () => {
  it('fails with the issues of an invalid policy and changes nothing; takes a valid one', {
    timeout: 60_000,
  }, async () => {
    const name = 'policy-update';
    await registerTestModel(db.store, name);
    const taskQueue = 'agent-policy-test';
    const worker = await createHomeostatWorker({
      connection: env.nativeConnection,
      taskQueue,
      store: db.store,
      workflowBundle: await workflowBundle(),
    });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('agentWorkflow', {
        workflowId: agentWorkflowId(name),
        taskQueue,
        args: [{ modelName: name, cycleInterval: '1 minute' }],
      });
      // Running: its first cycle found its window open (no traffic).
      await waitForFirstCycle(agentStatus(env, name));
      const request = { actor: 'alice', reason: 'tighter alerts' };

      const refused = await handle
        .executeUpdate(setPolicyUpdate, { args: [{ ...request, policy: { window: { kind: 'hourly' } } }] })
        .then(
          () => null,
          (error: unknown) => error,
        );
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      const cause = (refused as WorkflowUpdateFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect(cause).toMatchObject({ type: 'InvalidPolicy' });
      expect(cause?.message).toMatch(/^the policy is invalid: window\.kind: /);
      expect((await agentStatus(env, name)()).policy?.version).toBe(0);
      expect(await db.store.policyVersion.count()).toBe(0);

      const accepted = await handle.executeUpdate(setPolicyUpdate, {
        args: [{ ...request, policy: { detection: { alpha: 0.05 } } }],
      });
      expect(accepted.policy?.version).toBe(1);
      expect(accepted.policy?.document.detection.alpha).toBe(0.05);
      await handle.terminate('test over');
    });
  });
});
