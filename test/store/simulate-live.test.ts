// The simulator's live mode drives a running API as a user would: predictions (through the gateway or
// logged), then their labels.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/db/config.ts';
import { creditDefault } from '../../lib/sim/demo-models.ts';
import { authHeader, startTestApi, type TestApi } from '../helpers/api.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const run = promisify(execFile);
let db: TestDatabase;
let api: TestApi;
let key: string;

beforeAll(async () => {
  db = await createTestDatabase('sqlite');
  api = await startTestApi(db.store);
  const registered = await api.call('POST', '/v1/models', {
    name: 'credit-default',
    task: 'binary',
    labels: ['0', '1'],
    featureSchema: creditDefault.schema,
  });
  expect(registered.status).toBe(201);
  key = (await authHeader(db.store, 'ingest')).authorization!.slice('Bearer '.length);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const simulate = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/simulate.ts', ...args], {
    cwd: REPO_ROOT,
    timeout: 60_000,
  });

describe('simulate --api', () => {
  it('logs predictions and then their labels through the API', async () => {
    const { stderr } = await simulate(
      '--scenario',
      'steady',
      '--model',
      'credit-default',
      '--count',
      '60',
      '--rate',
      '200',
      '--api',
      api.url,
      '--key',
      key,
      '--via',
      'logged',
      '--label-delay-ms',
      '100',
    );
    const predictions = await db.store.prediction.count({ where: { source: 'logged' } });
    const labels = await db.store.label.count();
    expect(predictions).toBeGreaterThan(50); // a few simulated inference failures are not logged
    expect(labels).toBeGreaterThan(0);
    expect(labels).toBeLessThanOrEqual(predictions);
    expect(stderr).toMatch(new RegExp(`sent ${predictions} predictions and ${labels} labels`));
  }, 60_000);

  it('says precisely what is wrong with the target', async () => {
    const refused = simulate(
      '--scenario',
      'steady',
      '--model',
      'credit-default',
      '--api',
      api.url,
      '--key',
      'hs_wrong',
    );
    await expect(refused).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/refused the key/),
    });
    const unknown = simulate(
      '--scenario',
      'steady',
      '--model',
      'credit-default',
      '--api',
      api.url,
      '--key',
      key,
      '--as',
      'nope',
    );
    await expect(unknown).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/"nope" is not registered/),
    });
    const both = simulate('--scenario', 'steady', '--out', '/tmp/x.jsonl', '--api', api.url);
    await expect(both).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/either --out <file> or --api <url>/),
    });
  }, 60_000);
});
