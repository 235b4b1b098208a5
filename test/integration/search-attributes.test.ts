// Homeostat's search attributes reach a Temporal server both ways a user gets them: a dev server started
// as the demo and the tests start it (--search-attribute), and a running server without them, through the
// registration script (scripts/search-attributes.ts, what `bootstrap.sh --search-attributes` runs); and a
// worker starting on a namespace without them says so rather than failing every agent's workflow task.

import proto from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { TestWorkflowEnvironment as Environment } from '@temporalio/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../lib/search-attributes.ts';
import { registerSearchAttributes, searchAttributesAtStart } from '../../lib/search-attributes-admin.ts';
import { temporalCliPath } from '../../lib/temporal-binaries.ts';
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

/** A dev server started without Homeostat's attributes, as a cluster or someone else's server would be. */
async function serverWithoutAttributes(): Promise<TestWorkflowEnvironment> {
  const env = await Environment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      extraArgs: ['--log-level', 'error'],
    },
  });
  servers.push(env);
  return env;
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
    const env = await serverWithoutAttributes();
    const before = await customAttributes(env);
    for (const name of NAMES) expect(before[name], name).toBeUndefined();

    expect((await registerSearchAttributes(env.address, 'default')).sort()).toEqual([...NAMES].sort());
    expect(await registerSearchAttributes(env.address, 'default')).toEqual([]);
    const after = await customAttributes(env);
    for (const name of NAMES) expect(after[name], name).toBe(IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
  });

  it('a starting worker finds them missing on a namespace without them, or adds them when it may', {
    timeout: 120_000,
  }, async () => {
    const env = await serverWithoutAttributes();
    const missing = await searchAttributesAtStart(env.address, 'default', false);
    expect(missing.status).toBe('missing');
    expect(missing.status === 'missing' && missing.names.sort()).toEqual([...NAMES].sort());
    expect(Object.keys(await customAttributes(env)).filter((n) => NAMES.includes(n))).toEqual([]);

    const registered = await searchAttributesAtStart(env.address, 'default', true);
    expect(registered.status === 'registered' && registered.names.sort()).toEqual([...NAMES].sort());
    expect(await searchAttributesAtStart(env.address, 'default', false)).toEqual({ status: 'present' });
  });
});
