// Homeostat's search attributes reach a Temporal server both ways a user gets them: a dev server started
// as the demo and the tests start it (--search-attribute), and a running server without them, through the
// registration script (scripts/search-attributes.ts, what `bootstrap.sh --search-attributes` runs).

import proto from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { TestWorkflowEnvironment as Environment } from '@temporalio/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../lib/search-attributes.ts';
import { temporalCliPath } from '../../lib/temporal-binaries.ts';
import { registerSearchAttributes } from '../../scripts/search-attributes.ts';
import { startDevServer } from '../helpers/temporal.ts';

const { IndexedValueType } = proto.temporal.api.enums.v1;
const NAMES = Object.values(SEARCH_ATTRIBUTES).map((key) => key.name);
const servers: TestWorkflowEnvironment[] = [];
afterAll(() => Promise.all(servers.map((s) => s.teardown())));

async function customAttributes(env: TestWorkflowEnvironment) {
  const { customAttributes } = await env.connection.operatorService.listSearchAttributes({
    namespace: env.namespace ?? 'default',
  });
  return customAttributes ?? {};
}

describe('search attributes', () => {
  it('a dev server started as the demo and the tests start it has every one, as a keyword', {
    timeout: 120_000,
  }, async () => {
    const env = await startDevServer();
    servers.push(env);
    const registered = await customAttributes(env);
    for (const name of NAMES)
      expect(registered[name], name).toBe(IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
  });

  it('the script registers them on a server without them, and leaves them alone the second time', {
    timeout: 120_000,
  }, async () => {
    const env = await Environment.createLocal({
      server: {
        executable: { type: 'existing-path', path: temporalCliPath() },
        extraArgs: ['--log-level', 'error'],
      },
    });
    servers.push(env);
    const before = await customAttributes(env);
    for (const name of NAMES) expect(before[name], name).toBeUndefined();

    expect((await registerSearchAttributes(env.address, 'default')).sort()).toEqual([...NAMES].sort());
    expect(await registerSearchAttributes(env.address, 'default')).toEqual([]);
    const after = await customAttributes(env);
    for (const name of NAMES) expect(after[name], name).toBe(IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
  });
});
